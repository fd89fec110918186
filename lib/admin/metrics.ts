/**
 * The speaker's metrics: kube-ovn-speaker's names and labels, so existing dashboards keep working,
 * plus what kube-ovn-speaker lacks (announced and desired prefix counts, event-to-wire latency, watch
 * restarts and sync times).
 *
 * Peer and prefix values are read at scrape time from {@linkcode SpeakerMetricsSources}; events that
 * happen between scrapes (a watch restart, a latency sample) are pushed with the methods of
 * {@linkcode SpeakerMetrics}.
 *
 * @example
 * ```ts
 * import { Registry } from "./prometheus_registry.ts";
 * import { SpeakerMetrics } from "./metrics.ts";
 * const registry = new Registry();
 * const metrics = new SpeakerMetrics(registry, "node-1", {
 *   peers: () => [],
 *   desiredPrefixes: () => ({ pod: 12, subnet: 1 }),
 * });
 * metrics.watchSynced("pods", Date.now());
 * await registry.expose(); // includes kube_ovn_speaker_desired_prefixes{node="node-1",source="pod"} 12
 * ```
 *
 * @module
 */
import type { Counter, Gauge, Histogram, Registry } from "./prometheus_registry.ts";
import type { LogCounts } from "../log/logger.ts";
import type { SessionState } from "../session/fsm.ts";

/** Message counter types, as kube-ovn-speaker labels them (GoBGP's message counters). */
export const MESSAGE_TYPES = [
  "open",
  "update",
  "keepalive",
  "notification",
  "refresh",
  "withdraw_update",
  "withdraw_prefix",
  "discarded",
  "total",
] as const;
/** One message counter type. */
export type MessageType = typeof MESSAGE_TYPES[number];

/** Message counts of one direction; missing types count as 0, a missing total as the sum of messages. */
export type MessageCounts = Readonly<Partial<Record<MessageType, number>>>;

/** Sources of desired prefixes. */
export const PREFIX_SOURCES = ["pod", "subnet", "service", "eip"] as const;
/** One source of desired prefixes. */
export type PrefixSource = typeof PREFIX_SOURCES[number];

/** A session state, or none known yet. */
export type PeerStateForMetrics = SessionState | "Unspecified";

/** The numbers kube-ovn-speaker exports for `..._session_state` (GoBGP's enum). */
export const SESSION_STATE_VALUES: Readonly<Record<PeerStateForMetrics, number>> = {
  Unspecified: 0,
  Idle: 1,
  Connect: 2,
  Active: 3,
  OpenSent: 4,
  OpenConfirm: 5,
  Established: 6,
};

/** What the metrics need to know about one peer at scrape time. */
export interface PeerMetrics {
  /** The neighbor address. */
  readonly peer: string;
  readonly peerAsn: number;
  readonly state: PeerStateForMetrics;
  /** Times the session left Established. */
  readonly flaps: number;
  /** Updates queued for sending. */
  readonly outQueue: number;
  readonly received: MessageCounts;
  readonly sent: MessageCounts;
  /** Prefixes currently announced to this peer (its Adj-RIB-Out), per family. */
  readonly announcedPrefixes: { readonly ipv4: number; readonly ipv6: number };
}

/** Callbacks read at every scrape. */
export interface SpeakerMetricsSources {
  /** Every configured peer. */
  peers(): readonly PeerMetrics[];
  /** Desired prefix claims per source. */
  desiredPrefixes(): Readonly<Partial<Record<PrefixSource, number>>>;
  /** Log lines per level (klog_lines_total); omit to leave those metrics out. */
  logCounts?(): LogCounts;
}

/** Latency buckets in seconds, from a sub-millisecond reaction to a stalled speaker. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

const PREFIX = "kube_ovn_speaker_";

/** Registers the speaker's metric families on a registry and keeps them current. */
export class SpeakerMetrics {
  #node: string;
  #eventToWire: Histogram;
  #watchRestarts: Counter;
  #objectsSkipped: Counter;
  #watchLastSync: Gauge;

  /** Registers every family on `registry`; peer and prefix values are read from `sources` per scrape. */
  constructor(registry: Registry, nodeName: string, sources: SpeakerMetricsSources) {
    this.#node = nodeName;
    const peerLabels = ["node", "peer", "peer_asn"];
    const up = registry.gauge(
      `${PREFIX}bgp_peer_up`,
      "Whether the BGP session is Established (1) or not (0)",
      peerLabels,
    );
    const state = registry.gauge(
      `${PREFIX}bgp_peer_session_state`,
      "BGP session state: 0 unspecified, 1 idle, 2 connect, 3 active, 4 opensent, 5 openconfirm, 6 established",
      peerLabels,
    );
    const flaps = registry.gauge(
      `${PREFIX}bgp_peer_flap_count`,
      "Times the BGP session left Established",
      peerLabels,
    );
    const outQueue = registry.gauge(
      `${PREFIX}bgp_peer_out_queue`,
      "UPDATE messages waiting to be sent",
      peerLabels,
    );
    const received = registry.gauge(
      `${PREFIX}bgp_peer_received_messages`,
      "BGP messages received, by type",
      ["node", "peer", "type"],
    );
    const sent = registry.gauge(`${PREFIX}bgp_peer_sent_messages`, "BGP messages sent, by type", [
      "node",
      "peer",
      "type",
    ]);
    const announced = registry.gauge(
      `${PREFIX}bgp_peer_announced_prefixes`,
      "Prefixes announced to the peer (its Adj-RIB-Out), by address family",
      ["node", "peer", "family"],
    );
    const desired = registry.gauge(
      `${PREFIX}desired_prefixes`,
      "Prefixes the Kubernetes objects ask to announce, by source kind",
      ["node", "source"],
    );
    this.#eventToWire = registry.histogram(
      `${PREFIX}event_to_wire_seconds`,
      "Time from a Kubernetes event to the UPDATE carrying its change being written to the socket",
      ["node"],
      LATENCY_BUCKETS,
    );
    this.#objectsSkipped = registry.counter(
      `${PREFIX}objects_skipped_total`,
      "Kubernetes objects skipped because they could not be read (missing fields, invalid IPs or CIDRs), " +
        "by source: watch (each event) or file (each load)",
      ["node", "source"],
    );
    this.#watchRestarts = registry.counter(
      `${PREFIX}watch_restarts_total`,
      "Times a Kubernetes watch was restarted, by resource",
      ["node", "resource"],
    );
    this.#watchLastSync = registry.gauge(
      `${PREFIX}watch_last_sync_timestamp_seconds`,
      "Unix time of the last complete list of a resource",
      ["node", "resource"],
    );
    const logLines = sources.logCounts
      ? registry.gauge("klog_lines_total", "Log lines written, by level", ["level"])
      : undefined;
    const logBytes = sources.logCounts
      ? registry.gauge("klog_bytes_total", "Log bytes written, by level", ["level"])
      : undefined;

    registry.onCollect(() => {
      const peers = sources.peers();
      const desiredCounts = sources.desiredPrefixes();
      // Rebuilt in one synchronous step, so vanished peers disappear and no scrape sees a half state.
      for (const family of [up, state, flaps, outQueue, received, sent, announced, desired]) family.reset();
      for (const p of peers) {
        const labels = { node: this.#node, peer: p.peer, peer_asn: String(p.peerAsn) };
        up.set(labels, p.state === "Established" ? 1 : 0);
        state.set(labels, SESSION_STATE_VALUES[p.state] ?? 0);
        flaps.set(labels, p.flaps);
        outQueue.set(labels, p.outQueue);
        for (const [gauge, counts] of [[received, p.received], [sent, p.sent]] as const) {
          for (const type of MESSAGE_TYPES) {
            gauge.set({ node: this.#node, peer: p.peer, type }, countOf(counts, type));
          }
        }
        announced.set({ node: this.#node, peer: p.peer, family: "ipv4" }, p.announcedPrefixes.ipv4);
        announced.set({ node: this.#node, peer: p.peer, family: "ipv6" }, p.announcedPrefixes.ipv6);
      }
      for (const source of PREFIX_SOURCES) {
        desired.set({ node: this.#node, source }, desiredCounts[source] ?? 0);
      }
      if (sources.logCounts && logLines && logBytes) {
        const counts = sources.logCounts();
        const byKlogLevel = { INFO: [0, 0], WARN: [0, 0], ERROR: [0, 0] };
        for (const [level, c] of Object.entries(counts)) {
          const key = level === "error" ? "ERROR" : level === "warn" ? "WARN" : "INFO";
          byKlogLevel[key][0] += c.lines;
          byKlogLevel[key][1] += c.bytes;
        }
        for (const [level, [lines, bytes]] of Object.entries(byKlogLevel)) {
          logLines.set({ level }, lines);
          logBytes.set({ level }, bytes);
        }
      }
    });
  }

  /** Records the delay between a Kubernetes event and the UPDATE it caused reaching the socket. */
  observeEventToWire(seconds: number): void {
    this.#eventToWire.observe({ node: this.#node }, seconds);
  }

  /** Counts `count` skipped objects from `source`: "watch" (the API server) or "file" (objects files). */
  objectsSkipped(source: "watch" | "file", count = 1): void {
    if (count > 0) this.#objectsSkipped.inc({ node: this.#node, source }, count);
  }

  /** Counts a restarted watch of `resource` (pods, subnets, services, iptables-eips). */
  watchRestarted(resource: string): void {
    this.#watchRestarts.inc({ node: this.#node, resource });
  }

  /** Records that `resource` was fully listed at `atMs` (milliseconds since the epoch). */
  watchSynced(resource: string, atMs: number): void {
    this.#watchLastSync.set({ node: this.#node, resource }, atMs / 1000);
  }
}

function countOf(counts: MessageCounts, type: MessageType): number {
  const value = counts[type];
  if (value !== undefined) return value;
  if (type !== "total") return 0;
  return (counts.open ?? 0) + (counts.update ?? 0) + (counts.keepalive ?? 0) + (counts.notification ?? 0) +
    (counts.refresh ?? 0);
}
