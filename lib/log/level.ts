/**
 * Log levels and the mapping from klog's `-v` verbosity, so kube-ovn-speaker's `-v=3` and `-v=5`
 * keep meaning "more detail".
 *
 * @example
 * ```ts
 * import { levelForVerbosity } from "./level.ts";
 * levelForVerbosity(0); // "info"
 * levelForVerbosity(3); // "debug"
 * levelForVerbosity(5); // "trace"
 * ```
 *
 * @module
 */

/** Severity of a log line, most severe first. */
export type LogLevel = "error" | "warn" | "info" | "debug" | "trace";

/** All levels, most severe first. */
export const LOG_LEVELS: readonly LogLevel[] = ["error", "warn", "info", "debug", "trace"];

/** Rank of a level: lower is more severe. */
export function levelRank(level: LogLevel): number {
  return LOG_LEVELS.indexOf(level);
}

/**
 * The level for a klog verbosity. kube-ovn-speaker logs GoBGP debug output from `-v=3` and per-prefix
 * dumps from `-v=5`, so 3–4 map to debug and 5 and above to trace.
 */
export function levelForVerbosity(verbosity: number): LogLevel {
  if (verbosity >= 5) return "trace";
  if (verbosity >= 3) return "debug";
  return "info";
}
