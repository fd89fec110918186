/**
 * The readiness verdict behind `/readyz`: ready once every Kubernetes cache the speaker waits for has
 * synced and nothing has declared the speaker unfit. kube-ovn-speaker always answers `ok`; here a
 * rollout waits until the new pod knows what to announce.
 *
 * @example
 * ```ts
 * import { ReadinessGate } from "./readiness.ts";
 * const gate = new ReadinessGate(["pods", "subnets"]);
 * gate.verdict(); // { ready: false, reasons: ["kubernetes caches not synced: pods, subnets"] }
 * gate.markSynced("pods");
 * gate.markSynced("subnets");
 * gate.verdict(); // { ready: true, reasons: [] }
 * ```
 *
 * @module
 */
/** The readiness verdict: ready, or the reasons why not. */
export interface Readiness {
  readonly ready: boolean;
  readonly reasons: readonly string[];
}

/** Tracks caches to sync and blocking conditions. */
export class ReadinessGate {
  #pending: Set<string>;
  #blockers = new Map<string, string>();

  /** Waits for each named cache (pods, subnets, services, iptables-eips, or objects files). */
  constructor(caches: readonly string[]) {
    this.#pending = new Set(caches);
  }

  /** Records that `cache` has completed its initial list. */
  markSynced(cache: string): void {
    this.#pending.delete(cache);
  }

  /** Makes the speaker not ready for `reason` until {@linkcode ReadinessGate.clear} with the same key. */
  block(key: string, reason: string): void {
    this.#blockers.set(key, reason);
  }

  /** Lifts the condition set with `key`. */
  clear(key: string): void {
    this.#blockers.delete(key);
  }

  /** The current verdict, for /readyz and /status. */
  verdict(): Readiness {
    const reasons: string[] = [];
    if (this.#pending.size > 0) {
      reasons.push(`kubernetes caches not synced: ${[...this.#pending].join(", ")}`);
    }
    reasons.push(...this.#blockers.values());
    return { ready: reasons.length === 0, reasons };
  }
}
