/**
 * The check every fault case ends with: the peer holds exactly the desired routes (no more, no fewer,
 * none stale unless allowed), and the measured time to get there, printed for the report.
 *
 * @module
 */

import type { AddressFamily, PeerDaemon, PeerRoute } from "../harness/mod.ts";

/** Options of {@linkcode waitExactRoutes}. */
export interface ExactRoutesOptions {
  /** Bound, ms (default 30 000). */
  readonly timeoutMs?: number;
  /** Accept routes marked stale (graceful restart in progress); default false. */
  readonly allowStale?: boolean;
  /** The expected next hop of every route, when given. */
  readonly nextHop?: string;
}

/** Why the routes are not (yet) exactly the desired ones, or undefined when they are. */
export function routeMismatch(
  routes: readonly PeerRoute[],
  want: readonly string[],
  options: ExactRoutesOptions = {},
): string | undefined {
  const have = new Set(routes.map((r) => r.prefix));
  const wanted = new Set(want);
  const missing = want.filter((p) => !have.has(p));
  const extra = [...have].filter((p) => !wanted.has(p));
  const stale = options.allowStale ? [] : routes.filter((r) => r.stale).map((r) => r.prefix);
  const wrongHop = options.nextHop === undefined
    ? []
    : routes.filter((r) => r.nextHop !== options.nextHop).map((r) => `${r.prefix} via ${r.nextHop}`);
  if (missing.length + extra.length + stale.length + wrongHop.length === 0) return undefined;
  const list = (name: string, xs: string[]) =>
    xs.length > 0 ? `${name} ${xs.length} (${xs.slice(0, 5).join(" ")})` : "";
  return [
    list("missing", missing),
    list("extra", extra),
    list("stale", stale),
    list("wrong next hop", wrongHop),
  ]
    .filter((s) => s !== "").join("; ");
}

/**
 * Polls `peer` every 100 ms until it holds exactly `want` for `family` and returns the milliseconds it
 * took; throws with the last difference and the daemon's diagnostics after the timeout.
 */
export async function waitExactRoutes(
  peer: PeerDaemon,
  family: AddressFamily,
  want: readonly string[],
  options: ExactRoutesOptions = {},
): Promise<number> {
  const started = performance.now();
  const deadline = started + (options.timeoutMs ?? 30_000);
  let last = "no answer yet";
  for (;;) {
    try {
      const mismatch = routeMismatch(await peer.routes(family), want, options);
      if (mismatch === undefined) return Math.round(performance.now() - started);
      last = mismatch;
    } catch (error) {
      last = `reading routes failed: ${error instanceof Error ? error.message : String(error)}`;
    }
    if (performance.now() > deadline) {
      throw new Error(
        `${peer.kind}@${peer.host.name} does not hold exactly the ${want.length} desired ${family} routes: ${last}\n` +
          await peer.diagnostics(),
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Prints one measured convergence time in a line the report collects (`[faults] …`). */
export function reportTime(what: string, ms: number): void {
  console.log(`[faults] ${what}: peer holds exactly the desired routes after ${ms} ms`);
}
