/**
 * `speaker decode` against `bgpdump -m` on the largest MRT file of the corpus, side by side.
 *
 * Runs each command several times (alternating, output to /dev/null) and prints the medians and the ratio
 * ours/bgpdump, process start-up included. Also times the in-process decode (read, decompress, decode and
 * format, no start-up) over the same file.
 *
 * Usage: deno run -A bench/decode_vs_bgpdump.ts [--runs N] [FILE]
 *
 * @module
 */

import { BgpdumpTextSink } from "../lib/mrt/bgpdump_format.ts";
import { decodeMrtStream } from "../lib/cli/decode.ts";
import { decompressedStream } from "../lib/mrt/reader.ts";
import { LineBuffer } from "../lib/mrt/line_buffer.ts";

const CORPUS = new URL("../../shared/corpus/mrt/", import.meta.url);
const DECODE_MODULE = new URL("../lib/cli/decode.ts", import.meta.url).pathname;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

async function largestCorpusFile(): Promise<string> {
  let best = "";
  let bestSize = -1;
  for await (const entry of Deno.readDir(CORPUS)) {
    if (!entry.isFile) continue;
    const path = new URL(entry.name, CORPUS).pathname;
    const size = (await Deno.stat(path)).size;
    if (size > bestSize) {
      best = path;
      bestSize = size;
    }
  }
  if (!best) throw new Error(`No MRT file in ${CORPUS.pathname}`);
  return best;
}

async function timeCommand(cmd: string, args: string[]): Promise<number> {
  const start = performance.now();
  const { code } = await new Deno.Command(cmd, { args, stdout: "null", stderr: "null" }).output();
  const elapsed = performance.now() - start;
  if (code !== 0) throw new Error(`${cmd} ${args.join(" ")} exited with ${code}`);
  return elapsed;
}

async function timeInProcess(file: string): Promise<{ ms: number; bytes: number }> {
  let bytes = 0;
  const sink = new BgpdumpTextSink(
    new LineBuffer((chunk) => {
      bytes += chunk.length;
    }),
  );
  const start = performance.now();
  const stream = await decompressedStream((await Deno.open(file)).readable);
  await decodeMrtStream(stream, sink, () => {});
  return { ms: performance.now() - start, bytes };
}

async function main(): Promise<void> {
  const args = [...Deno.args];
  let runs = 7;
  const at = args.indexOf("--runs");
  if (at !== -1) {
    runs = Number(args[at + 1]);
    args.splice(at, 2);
  }
  const file = args[0] ?? await largestCorpusFile();
  try {
    await new Deno.Command("bgpdump", { args: ["-T"], stdout: "null", stderr: "null" }).output();
  } catch {
    console.error("bgpdump is not installed: apt-get install -y bgpdump");
    Deno.exit(1);
  }
  const deno = Deno.execPath();
  const ours = ["run", "--allow-read", DECODE_MODULE, file];
  // Warm-up: compile and cache the module, load bgpdump and the file into the page cache.
  await timeCommand(deno, ours);
  await timeCommand("bgpdump", ["-q", "-m", file]).catch(() => timeCommand("bgpdump", ["-m", file]));
  const bgpdumpArgs = await timeCommand("bgpdump", ["-q", "-m", file]).then(() => ["-q", "-m", file])
    .catch(() => ["-m", file]);
  const oursMs: number[] = [];
  const theirsMs: number[] = [];
  for (let i = 0; i < runs; i++) {
    oursMs.push(await timeCommand(deno, ours));
    theirsMs.push(await timeCommand("bgpdump", bgpdumpArgs));
  }
  const inProcess: number[] = [];
  let outputBytes = 0;
  for (let i = 0; i < runs; i++) {
    const r = await timeInProcess(file);
    inProcess.push(r.ms);
    outputBytes = r.bytes;
  }
  const a = median(oursMs);
  const b = median(theirsMs);
  const c = median(inProcess);
  console.log(`file: ${file} (${(await Deno.stat(file)).size} bytes, ${outputBytes} bytes of output)`);
  console.log(`runs: ${runs} each, medians`);
  console.log(`speaker decode (deno run, start-up included): ${a.toFixed(1)} ms`);
  console.log(`bgpdump -m:                                    ${b.toFixed(1)} ms`);
  console.log(`ratio ours/bgpdump:                            ${(a / b).toFixed(2)}`);
  console.log(`in-process decode (no start-up):               ${c.toFixed(1)} ms`);
  console.log(`ratio in-process/bgpdump:                      ${(c / b).toFixed(2)}`);
}

if (import.meta.main) await main();
