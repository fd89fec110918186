/**
 * The benchmark suite: `deno run -A bench/run.ts [--quick] [--only ID,…] [--reps N] [--out PATH]`.
 *
 * Runs every benchmark of {@linkcode BENCHMARKS} in turn (each brings up its own namespaces and real peers
 * through the test harness and tears them down), prints the report and writes it to `bench/RESULTS.md`
 * (or `--out`). Needs root and the peers the interop tests use. `--quick` runs the smallest sizes once,
 * a smoke run for CI; the default is a full run with medians over 3 repetitions.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { BenchInputs } from "./bench_inputs.ts";
import type { Benchmark } from "./benchmark.ts";
import { describeMachine } from "./machine.ts";
import { renderReport, type Section } from "./report.ts";
import { churn } from "./churn.ts";
import { codec } from "./codec.ts";
import { footprint } from "./footprint.ts";
import { inboundFlood } from "./inbound_flood.ts";
import { reaction } from "./reaction.ts";
import { tableTransfer } from "./table_transfer.ts";

/** Every benchmark, in the order they run. */
export const BENCHMARKS: readonly Benchmark[] = [
  tableTransfer,
  churn,
  reaction,
  footprint,
  inboundFlood,
  codec,
];

/** The repository's deno.json (its fmt settings apply to the report). */
const CONFIG_PATH = new URL("../deno.json", import.meta.url).pathname;

/** The report's default path. */
export const RESULTS_PATH = new URL("./RESULTS.md", import.meta.url).pathname;

/** Runs the suite with command-line `args`; returns the exit code (1 when a benchmark failed). */
export async function runSuite(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      quick: { type: "boolean", default: false },
      only: { type: "string" },
      reps: { type: "string" },
      out: { type: "string" },
    },
  });
  const quick = values.quick ?? false;
  const reps = values.reps !== undefined ? Number(values.reps) : quick ? 1 : 3;
  if (!Number.isInteger(reps) || reps < 1 || reps > 20) {
    console.error(`--reps must be 1..20, got ${values.reps}`);
    return 2;
  }
  const only = values.only?.split(",").map((s) => s.trim()).filter((s) => s !== "");
  const unknown = (only ?? []).filter((id) => !BENCHMARKS.some((b) => b.id === id));
  if (unknown.length > 0) {
    console.error(
      `Unknown benchmark(s): ${unknown.join(", ")}; known: ${BENCHMARKS.map((b) => b.id).join(", ")}`,
    );
    return 2;
  }
  const date = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  const machine = await describeMachine();
  const sections: Section[] = [];
  let failed = false;
  {
    await using inputs = await BenchInputs.create();
    for (const b of BENCHMARKS) {
      if (only && !only.includes(b.id)) continue;
      console.error(`== ${b.title}`);
      const started = performance.now();
      try {
        const section = await b.run({ quick, reps, inputs, log: (l) => console.error(`  ${l}`) });
        if (section.error) failed = true;
        sections.push(section);
      } catch (error) {
        failed = true;
        const message = error instanceof Error ? error.message : String(error);
        console.error(`  FAILED: ${message}`);
        sections.push({ title: b.title, method: [], tables: [], error: message.split("\n")[0] });
      }
      console.error(`  (${((performance.now() - started) / 1000).toFixed(0)} s)`);
    }
  }
  const markdown = renderReport({
    title: "Benchmark results",
    date,
    mode: quick ? "quick" : "full",
    machine,
    preamble: [
      `Medians over ${reps} repetition(s) per row. Ratios are ours / theirs: below 1.00x we are faster or ` +
      "smaller. Regenerate with `./denow task bench` (root, the peers from apt); `--quick` for a smoke run.",
    ],
    sections,
  });
  const out = values.out ?? RESULTS_PATH;
  await Deno.writeTextFile(out, markdown);
  // The repository's `deno fmt --check` covers RESULTS.md: write it formatted (tables aligned).
  await new Deno.Command(Deno.execPath(), {
    args: ["fmt", "--quiet", "--config", CONFIG_PATH, out],
    stdout: "null",
    stderr: "null",
  }).output().catch(() => undefined);
  console.log(await Deno.readTextFile(out));
  console.error(`Report written to ${out}`);
  return failed ? 1 : 0;
}

if (import.meta.main) {
  Deno.exit(await runSuite(Deno.args));
}
