/**
 * The routes a {@linkcode RawBgpPeer} receives, applied as they arrive: the current IPv4 and IPv6 unicast
 * prefixes, every withdrawal ever seen (a fault test asserts there was none), End-of-RIB, and how the
 * session ended. It reads the peer's messages itself, so nothing else may call `next()` on that peer.
 *
 * @example
 * ```ts ignore
 * const tracker = new RouteTracker(peer);
 * await tracker.waitFor((t) => t.endOfRib, 5_000);
 * tracker.prefixes; // Set { "203.0.113.1/32", … }
 * ```
 *
 * @module
 */

import { prefixToString } from "../../lib/wire/nlri.ts";
import type { UpdateMessage } from "../../lib/wire/types.ts";
import type { RawBgpPeer, ReceivedNotification } from "./raw_bgp_peer.ts";

/** Reads and applies every UPDATE a peer receives. */
export class RouteTracker {
  /** The prefixes currently announced to the peer. */
  readonly prefixes: Set<string> = new Set();
  /** Every prefix withdrawn so far, in order (with repeats). */
  readonly withdrawals: string[] = [];
  /** UPDATE messages received. */
  updates = 0;
  /** Every distinct NEXT_HOP (or first MP_REACH_NLRI next hop) of the announcements. */
  readonly nextHops: Set<string> = new Set();
  /** Every distinct AS_PATH of the announcements, as JSON. */
  readonly asPaths: Set<string> = new Set();
  /** True once the IPv4 unicast End-of-RIB arrived. */
  endOfRib = false;
  /** The NOTIFICATION that ended the session, if any. */
  notification: ReceivedNotification | undefined;
  /** True once the connection closed. */
  closed = false;
  readonly #peer: RawBgpPeer;
  readonly #done: Promise<void>;
  #stopped = false;

  /** Starts reading `peer` (already Established). */
  constructor(peer: RawBgpPeer) {
    this.#peer = peer;
    this.#done = this.#run();
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      const f = await this.#peer.next(500);
      if (f === "timeout") continue;
      if (f === "closed") {
        this.closed = true;
        return;
      }
      if (f.type === 3) {
        const m = this.#peer.decode(f);
        if (m.type === 3) {
          this.notification = {
            code: m.code,
            subcode: m.subcode,
            data: m.data,
            shutdownMessage: m.shutdownMessage,
          };
        }
        continue;
      }
      if (f.type !== 2) continue;
      const u = this.#peer.decode(f) as UpdateMessage;
      this.updates++;
      const a = u.attributes;
      if (u.nlri.length === 0 && u.withdrawn.length === 0 && Object.keys(a).length === 0) {
        this.endOfRib = true;
        continue;
      }
      for (const p of [...u.withdrawn, ...(a.mpUnreach?.withdrawn ?? [])]) {
        const text = prefixToString(p);
        this.withdrawals.push(text);
        this.prefixes.delete(text);
      }
      const announced = [...u.nlri, ...(a.mpReach?.nlri ?? [])];
      for (const p of announced) this.prefixes.add(prefixToString(p));
      if (announced.length > 0) {
        this.nextHops.add(a.nextHop ?? a.mpReach?.nextHops[0] ?? "none");
        this.asPaths.add(JSON.stringify(a.asPath ?? []));
      }
    }
  }

  /** The current prefixes, sorted. */
  sorted(): string[] {
    return [...this.prefixes].sort();
  }

  /** Waits until `predicate` holds (checked every 50 ms); throws after `timeoutMs` with `what`. */
  async waitFor(
    predicate: (t: RouteTracker) => boolean,
    timeoutMs: number,
    what = "the routes",
  ): Promise<number> {
    const started = performance.now();
    while (!predicate(this)) {
      if (performance.now() - started > timeoutMs) {
        throw new Error(
          `Timed out after ${timeoutMs} ms waiting for ${what}: ${this.prefixes.size} prefixes, ` +
            `${this.withdrawals.length} withdrawals, closed ${this.closed}, notification ${
              JSON.stringify(this.notification)
            }`,
        );
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    return Math.round(performance.now() - started);
  }

  /** Waits until the peer holds exactly `want`; returns the milliseconds it took. */
  waitExact(want: readonly string[], timeoutMs: number): Promise<number> {
    const wanted = new Set(want);
    return this.waitFor(
      (t) => t.prefixes.size === wanted.size && [...t.prefixes].every((p) => wanted.has(p)),
      timeoutMs,
      `exactly ${want.length} prefixes (${want.slice(0, 3).join(" ")}…)`,
    );
  }

  /** Stops reading (the peer is left as it is). */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#done;
  }
}
