/**
 * What every benchmark of `bench/run.ts` is: an id, a title, and a run that brings up its own namespaces
 * and peers through the harness, tears them down, and returns a report section.
 *
 * @module
 */

import type { BenchInputs } from "./bench_inputs.ts";
import type { Section } from "./report.ts";

/** What a benchmark gets from the runner. */
export interface BenchContext {
  /** Quick mode: the smallest sizes and one repetition, for a smoke run in CI. */
  readonly quick: boolean;
  /** Repetitions per measurement (medians are over these). */
  readonly reps: number;
  readonly inputs: BenchInputs;
  /** Progress output (one line per measurement). */
  log(line: string): void;
}

/** One benchmark. */
export interface Benchmark {
  /** Short id for `--only`. */
  readonly id: string;
  readonly title: string;
  run(context: BenchContext): Promise<Section>;
}
