/**
 * Codec: folds the two codec benchmarks into the report: `bench/decode_vs_bgpdump.ts` (`speaker decode`
 * next to `bgpdump -m` on the largest corpus MRT file) and `bench/wire_bench.ts` (prefixes per second of
 * the wire codec), each run as its own `deno run` process.
 *
 * @module
 */

import { runCommand } from "../tests/harness/command.ts";
import { requireTools } from "../tests/harness/tools.ts";
import type { BenchContext, Benchmark } from "./benchmark.ts";
import type { Section, TargetCheck } from "./report.ts";

const DECODE_BENCH = new URL("./decode_vs_bgpdump.ts", import.meta.url).pathname;
const WIRE_BENCH = new URL("./wire_bench.ts", import.meta.url).pathname;

/** `label: value` lines of decode_vs_bgpdump.ts's output, in order. */
export function parseDecodeOutput(text: string): [string, string][] {
  const rows: [string, string][] = [];
  for (const line of text.split("\n")) {
    const m = /^([^:]+):\s+(.+)$/.exec(line.trim());
    if (m && !line.startsWith("file") && !line.startsWith("runs")) rows.push([m[1].trim(), m[2].trim()]);
  }
  return rows;
}

/** `name family count x /len rate M prefixes/s` lines of wire_bench.ts's output. */
export function parseWireOutput(text: string): [string, string, string][] {
  const rows: [string, string, string][] = [];
  for (const line of text.split("\n")) {
    const m = /^(\w+)\s+(IPv[46] \d+ x \/\d+)\s+([\d.]+) M prefixes\/s/.exec(line.trim());
    if (m) rows.push([m[1], m[2], m[3]]);
  }
  return rows;
}

/** The benchmark. */
export const codec: Benchmark = {
  id: "codec",
  title: "Codec",
  async run(context: BenchContext): Promise<Section> {
    requireTools(["bgpdump"]);
    const runs = context.quick ? 1 : 7;
    const decode = await runCommand([Deno.execPath(), "run", "-A", DECODE_BENCH, "--runs", String(runs)], {
      timeoutMs: 600_000,
    });
    const header = decode.stdout.split("\n").filter((l) => l.startsWith("file") || l.startsWith("runs"));
    const decodeRows = parseDecodeOutput(decode.stdout);
    context.log(
      `codec: ${decodeRows.find(([k]) => k === "ratio ours/bgpdump, wall")?.[1] ?? "?"}x bgpdump (wall)`,
    );
    const wire = await runCommand([Deno.execPath(), "run", "-A", WIRE_BENCH], { timeoutMs: 600_000 });
    const wireRows = parseWireOutput(wire.stdout);
    const wall = Number(decodeRows.find(([k]) => k === "ratio ours/bgpdump, wall")?.[1]);
    const cpu = Number(decodeRows.find(([k]) => k === "ratio ours/bgpdump, CPU")?.[1]);
    const targets: TargetCheck[] = [{
      target: "Codec: `speaker decode` ≤ 1.0x `bgpdump -m` (wall, start-up included)",
      measured: `${Number.isFinite(wall) ? wall.toFixed(2) : "?"}x wall, ${
        Number.isFinite(cpu) ? cpu.toFixed(2) : "?"
      }x CPU`,
      met: Number.isFinite(wall) ? wall <= 1.0 : undefined,
    }];
    return {
      title: "Codec",
      method: [
        `\`deno run -A bench/decode_vs_bgpdump.ts --runs ${runs}\`: ${
          header.join("; ")
        }. Each command runs as a ` +
        "fresh process, alternating, output to /dev/null; medians. `deno run -A bench/wire_bench.ts`: " +
        "prefixes per second through the wire codec, best of 5 windows (its own target: 20 M/s at 500).",
      ],
      tables: [
        { columns: ["decode_vs_bgpdump", "median"], rows: decodeRows },
        { columns: ["operation", "UPDATE", "M prefixes/s"], rows: wireRows },
      ],
      targets,
    };
  },
};
