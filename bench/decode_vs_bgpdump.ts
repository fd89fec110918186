/**
 * `speaker decode` against `bgpdump -m` on the largest MRT file of the corpus, side by side.
 *
 * Runs each command several times (alternating, output to /dev/null) and prints the medians and the ratio
 * ours/bgpdump, process start-up included. Also times the in-process decode (read, decompress, decode and
 * format, no start-up) over the same file.
 *
 * Usage: deno run -A bench/decode_vs_bgpdump.ts [--runs N] [--scale K] [FILE]
 * (`deno bench` of this file times the in-process decode alone.)
 *
 * With `--scale K` both tools read a temporary gzip file holding K copies of the MRT file one after the
 * other, to show how the two scale once start-up and JIT warm-up no longer dominate.
 *
 * @module
 */

import { BgpdumpTextSink } from "../lib/mrt/bgpdump_format.ts";
import { decodeMrtStream } from "../lib/cli/decode.ts";
import { openMrtFile } from "../lib/mrt/reader.ts";
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

/** Wall time of one run, and its CPU time (user + system) when /usr/bin/time can measure it. */
interface Timing {
  readonly wallMs: number;
  readonly cpuMs?: number;
}

let gnuTime: boolean | undefined;

async function timeCommand(cmd: string, args: string[], env?: Record<string, string>): Promise<Timing> {
  if (gnuTime === undefined) {
    gnuTime = await new Deno.Command("/usr/bin/time", {
      args: ["-f", "%U", "true"],
      stdout: "null",
      stderr: "null",
    })
      .output().then((r) => r.code === 0, () => false);
  }
  const report = gnuTime ? await Deno.makeTempFile() : "";
  const argv = gnuTime ? ["-f", "%U %S", "-o", report, cmd, ...args] : args;
  const start = performance.now();
  const { code } = await new Deno.Command(gnuTime ? "/usr/bin/time" : cmd, {
    args: argv,
    env,
    stdout: "null",
    stderr: "null",
  }).output();
  const wallMs = performance.now() - start;
  if (code !== 0) throw new Error(`${cmd} ${args.join(" ")} exited with ${code}`);
  if (!gnuTime) return { wallMs };
  const [user, system] = (await Deno.readTextFile(report)).trim().split(/\s+/).map(Number);
  await Deno.remove(report);
  return { wallMs, cpuMs: (user + system) * 1000 };
}

async function timeInProcess(file: string): Promise<{ ms: number; bytes: number }> {
  let bytes = 0;
  const out = new LineBuffer((chunk) => {
    bytes += chunk.length;
  });
  const start = performance.now();
  const stream = await openMrtFile(file);
  await decodeMrtStream(stream, new BgpdumpTextSink(out), () => {});
  out.flush();
  return { ms: performance.now() - start, bytes };
}

/** Writes a temporary gzip file holding `times` copies of the (decompressed) MRT file. */
async function repeated(path: string, times: number): Promise<string> {
  const { gunzipSync, gzipSync } = await import("node:zlib");
  let bytes = await Deno.readFile(path);
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = new Uint8Array(gunzipSync(bytes));
  const all = new Uint8Array(bytes.length * times);
  for (let i = 0; i < times; i++) all.set(bytes, i * bytes.length);
  const out = await Deno.makeTempFile({ suffix: ".mrt.gz" });
  await Deno.writeFile(out, gzipSync(all, { level: 1 }));
  globalThis.addEventListener("unload", () => Deno.removeSync(out));
  return out;
}

async function main(): Promise<void> {
  const args = [...Deno.args];
  let runs = 7;
  const at = args.indexOf("--runs");
  if (at !== -1) {
    runs = Number(args[at + 1]);
    args.splice(at, 2);
  }
  let scale = 1;
  const sc = args.indexOf("--scale");
  if (sc !== -1) {
    scale = Number(args[sc + 1]);
    args.splice(sc, 2);
  }
  const source = args[0] ?? await largestCorpusFile();
  const file = scale > 1 ? await repeated(source, scale) : source;
  try {
    await new Deno.Command("bgpdump", { args: ["-T"], stdout: "null", stderr: "null" }).output();
  } catch {
    console.error("bgpdump is not installed: apt-get install -y bgpdump");
    Deno.exit(1);
  }
  const deno = Deno.execPath();
  const ours = ["run", "--allow-read", DECODE_MODULE, file];
  const theirs = ["-q", "-m", file];
  // Warm-up: compile and cache the module, load bgpdump and the file into the page cache.
  await timeCommand(deno, ours);
  await timeCommand("bgpdump", theirs);
  // The same command with V8 limited to its Maglev tier: a short decode spends much of its CPU in
  // Turbofan compilation, which an operator can switch off for this one process.
  const maglevOnly = { DENO_V8_FLAGS: "--max-opt=2" };
  const oursRuns: Timing[] = [];
  const theirRuns: Timing[] = [];
  const maglevRuns: Timing[] = [];
  for (let i = 0; i < runs; i++) {
    oursRuns.push(await timeCommand(deno, ours));
    theirRuns.push(await timeCommand("bgpdump", theirs));
    maglevRuns.push(await timeCommand(deno, ours, maglevOnly));
  }
  // In this process: the first run pays for JIT compilation like a fresh process does, later ones do not.
  const inProcess: number[] = [];
  let outputBytes = 0;
  for (let i = 0; i < runs + 1; i++) {
    const r = await timeInProcess(file);
    inProcess.push(r.ms);
    outputBytes = r.bytes;
  }
  const wallOurs = median(oursRuns.map((t) => t.wallMs));
  const wallTheirs = median(theirRuns.map((t) => t.wallMs));
  const ms = (n: number) => `${n.toFixed(1)} ms`.padStart(10);
  console.log(
    `file: ${scale > 1 ? `${scale} copies of ${source} in ` : ""}${file} (${
      (await Deno.stat(file)).size
    } bytes, ` +
      `${outputBytes} bytes of bgpdump -m text)`,
  );
  console.log(`runs: ${runs} of each command, alternating; medians`);
  console.log(`speaker decode, wall (deno run, start-up included): ${ms(wallOurs)}`);
  console.log(`bgpdump -m, wall:                                   ${ms(wallTheirs)}`);
  console.log(`ratio ours/bgpdump, wall:                           ${(wallOurs / wallTheirs).toFixed(2)}`);
  if (oursRuns.every((t) => t.cpuMs !== undefined)) {
    const cpuOurs = median(oursRuns.map((t) => t.cpuMs!));
    const cpuTheirs = median(theirRuns.map((t) => t.cpuMs!));
    console.log(`speaker decode, CPU (user+system, all threads):      ${ms(cpuOurs)}`);
    console.log(`bgpdump -m, CPU:                                    ${ms(cpuTheirs)}`);
    console.log(`ratio ours/bgpdump, CPU:                            ${(cpuOurs / cpuTheirs).toFixed(2)}`);
  }
  const wallMaglev = median(maglevRuns.map((t) => t.wallMs));
  console.log(`with DENO_V8_FLAGS=--max-opt=2, wall:               ${ms(wallMaglev)}`);
  console.log(`ratio ours/bgpdump, wall, --max-opt=2:              ${(wallMaglev / wallTheirs).toFixed(2)}`);
  if (maglevRuns.every((t) => t.cpuMs !== undefined)) {
    const cpuMaglev = median(maglevRuns.map((t) => t.cpuMs!));
    const cpuTheirs = median(theirRuns.map((t) => t.cpuMs!));
    console.log(`with DENO_V8_FLAGS=--max-opt=2, CPU:                ${ms(cpuMaglev)}`);
    console.log(`ratio ours/bgpdump, CPU, --max-opt=2:               ${(cpuMaglev / cpuTheirs).toFixed(2)}`);
  }
  console.log(`in-process decode, first run (cold JIT):            ${ms(inProcess[0])}`);
  console.log(
    `in-process decode, warm (median of ${runs}):${" ".repeat(13 - String(runs).length)}${
      ms(median(inProcess.slice(1)))
    }`,
  );
}

if (import.meta.main) {
  await main();
} else {
  // Under `deno bench` (deno task bench): the in-process decode alone, warm, as a regular benchmark.
  const file = await largestCorpusFile().catch(() => undefined);
  if (file) {
    Deno.bench(`speaker decode in-process, ${file.split("/").pop()} (bgpdump -m text)`, async () => {
      await timeInProcess(file);
    });
  }
}
