/**
 * The JSON document served at `/status` and read by `speaker status`: the speaker, its peers and the
 * prefixes it wants to announce with the objects that asked for them. It never holds a secret.
 *
 * @example
 * ```ts
 * import type { StatusReport } from "./status_report.ts";
 * const report: StatusReport = {
 *   speaker: {
 *     version: "0.1.0", nodeName: "node-1", routerId: "10.99.0.1", localAs: 65000,
 *     startedAt: "2026-11-21T06:00:00.000Z", uptimeSeconds: 12, ready: true, readyReasons: [],
 *   },
 *   peers: [],
 *   prefixes: [],
 * };
 * ```
 *
 * @module
 */
import type { BfdStatus } from "../bfd/bfd_service.ts";
import type { PeerStateForMetrics, PrefixSource } from "./metrics.ts";
import type { Readiness } from "./readiness.ts";

/** About the speaker itself. */
export interface SpeakerStatus {
  readonly version: string;
  readonly nodeName: string;
  readonly routerId: string;
  readonly localAs: number;
  /** ISO 8601 time the process started. */
  readonly startedAt: string;
  readonly uptimeSeconds: number;
  /** Same verdict as /readyz. */
  readonly ready: boolean;
  /** Why not ready (empty when ready). */
  readonly readyReasons: readonly string[];
}

/** One BGP neighbor. */
export interface PeerStatus {
  readonly address: string;
  readonly asn: number;
  readonly state: PeerStateForMetrics;
  /**
   * Seconds since the session came up (when Established) or went down (otherwise), as `gobgp neighbor`
   * shows in Up/Down; null when the session never came up.
   */
  readonly upDownSeconds: number | null;
  /** The last error: a NOTIFICATION sent or received, a hold-timer expiry, a connect failure. */
  readonly lastError: string | null;
  /** Capabilities negotiated with the peer (`4-octet-as`, `mp-ipv4-unicast`, `graceful-restart`...). */
  readonly capabilities: readonly string[];
  /** Prefixes currently announced to and received from the peer. */
  readonly prefixes: { readonly sent: number; readonly received: number };
  /** The local address of the session, when connected. */
  readonly localAddress?: string | null;
}

/** One desired prefix and where it comes from. */
export interface PrefixStatus {
  /** `203.0.113.5/32`, `2001:db8::/64`. */
  readonly prefix: string;
  readonly source: PrefixSource;
  /** The objects that want the prefix, as `kind namespace/name` (`pod default/web-0`, `subnet ovn-default`). */
  readonly objects: readonly string[];
  /** Peers the prefix is currently announced to. */
  readonly peers: readonly string[];
}

/** The whole `/status` document. */
export interface StatusReport {
  readonly speaker: SpeakerStatus;
  readonly peers: readonly PeerStatus[];
  readonly prefixes: readonly PrefixStatus[];
  /** BFD sessions and counters, with `--enable-bfd`. */
  readonly bfd?: BfdStatus;
}

/** What {@linkcode speakerStatus} needs. */
export interface SpeakerStatusInput {
  readonly version: string;
  readonly nodeName: string;
  readonly routerId: string;
  readonly localAs: number;
  /** Process start, milliseconds since the epoch. */
  readonly startedAtMs: number;
  /** The time of the request, milliseconds since the epoch. */
  readonly nowMs: number;
  readonly readiness: Readiness;
}

/** The `speaker` section of the report; time is passed in. */
export function speakerStatus(input: SpeakerStatusInput): SpeakerStatus {
  return {
    version: input.version,
    nodeName: input.nodeName,
    routerId: input.routerId,
    localAs: input.localAs,
    startedAt: new Date(input.startedAtMs).toISOString(),
    uptimeSeconds: Math.max(0, Math.floor((input.nowMs - input.startedAtMs) / 1000)),
    ready: input.readiness.ready,
    readyReasons: [...input.readiness.reasons],
  };
}
