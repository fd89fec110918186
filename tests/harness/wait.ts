/**
 * Bounded polling, the only way the harness waits for another process to reach a state.
 *
 * @module
 */

/** Options of {@linkcode waitFor}. */
export interface WaitOptions {
  /** Give up after this many milliseconds (default 10 000). */
  readonly timeoutMs?: number;
  /** Pause between two probes in milliseconds (default 100). */
  readonly intervalMs?: number;
  /** Called on timeout; its text is appended to the error message (for example a daemon's log tail). */
  readonly diagnostics?: () => Promise<string> | string;
  /** Checked before every probe: a returned reason ends the wait at once with an error (e.g. "process exited"). */
  readonly giveUp?: () => string | undefined;
}

/** Thrown by {@linkcode waitFor} when the condition did not hold in time. */
export class WaitTimeoutError extends Error {
  /** Creates the error; `message` already carries the diagnostics. */
  constructor(message: string) {
    super(message);
    this.name = "WaitTimeoutError";
  }
}

/**
 * Polls `probe` until it returns a value other than `undefined`/`false`, and returns that value.
 *
 * The loop is bounded in time (`timeoutMs`) and therefore in count. A probe that throws counts as "not yet";
 * the last thrown error is reported on timeout.
 *
 * @example
 * ```ts
 * const routes = await waitFor("bird to learn 203.0.113.10/32", async () => {
 *   const rs = await bird.routes("ipv4");
 *   return rs.some((r) => r.prefix === "203.0.113.10/32") ? rs : undefined;
 * }, { timeoutMs: 5_000 });
 * ```
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  options: WaitOptions = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const intervalMs = options.intervalMs ?? 100;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  let gaveUp: string | undefined;
  for (;;) {
    gaveUp = options.giveUp?.();
    if (gaveUp !== undefined) break;
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) break;
    await delay(Math.min(intervalMs, Math.max(0, deadline - Date.now())));
  }
  let message = gaveUp !== undefined
    ? `Gave up waiting for ${what}: ${gaveUp}`
    : `Timed out after ${timeoutMs} ms waiting for ${what}`;
  if (lastError !== undefined) {
    message += `\nlast probe error: ${lastError instanceof Error ? lastError.message : String(lastError)}`;
  }
  if (options.diagnostics) {
    try {
      message += `\n${await options.diagnostics()}`;
    } catch (error) {
      message += `\n(diagnostics failed: ${error instanceof Error ? error.message : String(error)})`;
    }
  }
  throw new WaitTimeoutError(message);
}

/** Resolves after `ms` milliseconds. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
