/**
 * Event-loop responsiveness for `/livez`: a timer reports how late it fired, and the verdict is "not
 * live" when recent lateness exceeds a limit. Pure: times are passed in; the timer lives in server.ts.
 *
 * @example
 * ```ts
 * import { EventLoopLagProbe } from "./event_loop_lag.ts";
 * const probe = new EventLoopLagProbe({ intervalMs: 500, maxLagMs: 2000 });
 * probe.record(1000, 1003); // fired 3 ms late
 * probe.verdict(1100); // { live: true, lagMs: 3 }
 * probe.record(1500, 4600); // the loop was blocked for 3 s
 * probe.verdict(4600).live; // false
 * ```
 *
 * @module
 */

/** Settings of a probe. */
export interface EventLoopLagOptions {
  /** How often the timer fires. */
  readonly intervalMs: number;
  /** Lateness above this means the loop is not responsive. */
  readonly maxLagMs: number;
  /** How long a bad sample counts against liveness; default 10 s. */
  readonly windowMs?: number;
}

/** The liveness verdict and the worst recent lateness. */
export interface LagVerdict {
  readonly live: boolean;
  readonly lagMs: number;
  readonly reason?: string;
}

/** Tracks timer lateness over a sliding window. */
export class EventLoopLagProbe {
  #intervalMs: number;
  #maxLagMs: number;
  #windowMs: number;
  #samples: Array<{ at: number; lag: number }> = [];
  #lastFiredAt: number | undefined;

  /** Creates a probe. */
  constructor(options: EventLoopLagOptions) {
    this.#intervalMs = options.intervalMs;
    this.#maxLagMs = options.maxLagMs;
    this.#windowMs = options.windowMs ?? 10_000;
  }

  /** The timer interval the shell should use. */
  get intervalMs(): number {
    return this.#intervalMs;
  }

  /** Records a timer due at `scheduledAt` that fired at `firedAt` (milliseconds). */
  record(scheduledAt: number, firedAt: number): void {
    this.#lastFiredAt = firedAt;
    this.#samples.push({ at: firedAt, lag: Math.max(0, firedAt - scheduledAt) });
    this.#prune(firedAt);
  }

  /** Whether the loop has been responsive recently, as of `now`. */
  verdict(now: number): LagVerdict {
    this.#prune(now);
    const recent = this.#samples.reduce((worst, s) => Math.max(worst, s.lag), 0);
    // A timer that has not fired for long means the loop is stuck right now (or was until this call).
    const overdue = this.#lastFiredAt === undefined
      ? 0
      : Math.max(0, now - this.#lastFiredAt - this.#intervalMs);
    const lagMs = Math.max(recent, overdue);
    if (lagMs > this.#maxLagMs) {
      return { live: false, lagMs, reason: `event loop lag ${lagMs} ms exceeds ${this.#maxLagMs} ms` };
    }
    return { live: true, lagMs };
  }

  #prune(now: number): void {
    while (this.#samples.length > 0 && this.#samples[0].at < now - this.#windowMs) this.#samples.shift();
  }
}
