/**
 * `speaker decode [--json] FILE...`: prints the routes of MRT files (plain or gzip) one per line, in the
 * exact `bgpdump -m` format or as JSON Lines. A thin shell around the pure MRT modules: it reads files,
 * writes stdout in large blocks, and reports damaged records on stderr without stopping.
 *
 * @module
 */

import { BgpdumpTextSink, JsonLinesSink, type RouteSink } from "../mrt/bgpdump_format.ts";
import { BgpdumpRouteLister, type RecordWarning } from "../mrt/bgpdump_routes.ts";
import { LineBuffer } from "../mrt/line_buffer.ts";
import { decompressedStream, MrtFramer, openMrtFile } from "../mrt/reader.ts";

const USAGE = `Usage: speaker decode [--json] FILE...
Prints every route of the MRT files (RFC 6396; plain or gzip) one per line, in the "bgpdump -m" format,
or with --json as one JSON object per line. A FILE of "-" is read from standard input.`;

/** The reader of stdout went away (e.g. `speaker decode FILE | head`): decoding stops quietly. */
export class OutputClosed extends Error {
  constructor() {
    super("Standard output was closed");
  }
}

/** Writes all of `bytes` to a synchronous writer (stdout), looping over partial writes. */
function writeAll(out: { writeSync(p: Uint8Array): number }, bytes: Uint8Array): void {
  try {
    while (bytes.length > 0) bytes = bytes.subarray(out.writeSync(bytes));
  } catch (e) {
    if (e instanceof Deno.errors.BrokenPipe) throw new OutputClosed();
    throw e;
  }
}

/**
 * Decodes one MRT stream into the sink. Returns the number of warnings. Damaged records are reported and
 * skipped; a record cut short at the end of the file (or an impossible record length, after which the
 * file cannot be resynchronised) ends the file with a warning.
 *
 * @example
 * ```ts
 * const out = new LineBuffer((bytes) => Deno.stdout.writeSync(bytes));
 * await decodeMrtStream(await openMrtFile("updates.gz"), new BgpdumpTextSink(out), console.error);
 * out.flush();
 * ```
 */
export async function decodeMrtStream(
  stream: ReadableStream<Uint8Array>,
  sink: RouteSink,
  warn: (text: string) => void,
): Promise<number> {
  let warnings = 0;
  const lister = new BgpdumpRouteLister(sink, (w: RecordWarning) => {
    warnings++;
    warn(`record at offset ${w.offset}: ${w.reason}`);
  });
  const framer = new MrtFramer();
  const reader = stream.getReader();
  try {
    while (true) {
      const { value, done } = await reader.read();
      if (done) break;
      framer.push(value);
      for (let record = framer.next(); record; record = framer.next()) {
        try {
          lister.add(record);
        } catch (e) {
          if (e instanceof OutputClosed) throw e;
          // The decoders return errors as values; this only guards the process against a bug in them.
          warnings++;
          warn(`record at offset ${record.offset}: ${e instanceof Error ? e.message : e}`);
        }
      }
      if (framer.damaged) break;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  const truncation = framer.finish();
  if (truncation) {
    warnings++;
    warn(
      `record at offset ${truncation.offset}: incomplete record (${truncation.available} bytes left, ` +
        `${truncation.expected} expected); stopping`,
    );
  }
  return warnings;
}

/**
 * Runs `speaker decode`. Exit status: 0 on success (warnings included, and when the reader of stdout
 * stops early), 1 when a file cannot be read, 2 for a usage error.
 *
 * @example
 * ```ts
 * // main.ts: `speaker decode --json updates.gz`
 * if (Deno.args[0] === "decode") Deno.exit(await decodeCommand(Deno.args.slice(1)));
 * ```
 */
export async function decodeCommand(args: string[]): Promise<number> {
  let json = false;
  const files: string[] = [];
  let options = true;
  for (const arg of args) {
    if (options && arg === "--") options = false;
    else if (options && arg === "--json") json = true;
    else if (options && (arg === "--help" || arg === "-h")) {
      console.log(USAGE);
      return 0;
    } else if (options && arg.startsWith("-") && arg !== "-") {
      console.error(`speaker decode: unknown option ${arg}\n${USAGE}`);
      return 2;
    } else files.push(arg);
  }
  if (files.length === 0) {
    console.error(`speaker decode: no MRT file given\n${USAGE}`);
    return 2;
  }
  const out = new LineBuffer((bytes) => writeAll(Deno.stdout, bytes));
  const sink = json ? new JsonLinesSink(out) : new BgpdumpTextSink(out);
  let status = 0;
  for (const file of files) {
    let stream: ReadableStream<Uint8Array>;
    try {
      stream = file === "-" ? await decompressedStream(Deno.stdin.readable) : await openMrtFile(file);
    } catch (e) {
      // The executable's permissions allow reads under /etc/speaker only; standard input always works.
      const hint = e instanceof Deno.errors.NotCapable
        ? ` (read it from standard input: speaker decode - < ${file})`
        : "";
      console.error(`speaker decode: cannot open ${file}: ${e instanceof Error ? e.message : e}${hint}`);
      status = 1;
      continue;
    }
    try {
      await decodeMrtStream(stream, sink, (text) => {
        out.flush();
        console.error(`speaker decode: ${file}: ${text}`);
      });
    } catch (e) {
      if (e instanceof OutputClosed) return status;
      try {
        out.flush();
      } catch (closed) {
        if (closed instanceof OutputClosed) return status;
        throw closed;
      }
      console.error(`speaker decode: cannot read ${file}: ${e instanceof Error ? e.message : e}`);
      status = 1;
    }
  }
  try {
    out.flush();
  } catch (e) {
    if (!(e instanceof OutputClosed)) throw e;
  }
  return status;
}

if (import.meta.main) {
  Deno.exit(await decodeCommand(Deno.args));
}
