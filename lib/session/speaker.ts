/**
 * The BGP speaker: every configured neighbor as its own session, one shared desired prefix set, and in
 * passive mode one listener that accepts configured neighbors only.
 *
 * @example
 * ```ts ignore
 * const speaker = new BgpSpeaker({
 *   asn: 65001,
 *   routerId: "10.99.0.1",
 *   neighbors: [{ address: "10.99.0.2", asn: 65002 }],
 * });
 * await speaker.start();
 * speaker.setDesired(["203.0.113.0/24"]);
 * // ... on SIGTERM:
 * await speaker.shutdown();
 * ```
 *
 * @module
 */

import { listenPeers, type NeighborTransport, type PeerListener } from "../transport/listen.ts";
import type { Family, Prefix } from "../wire/types.ts";
import { type DesiredDelta, DesiredSet } from "./adj_rib_out.ts";
import type { FsmConfig } from "./fsm.ts";
import type { LocalOpenConfig } from "./open_policy.ts";
import { type NeighborConfig, Peer, type PeerStatus, type SessionLogger } from "./peer.ts";

export type { NeighborConfig, PeerStatus, SessionLogger };

/** The speaker's configuration (the integrator maps the command-line flags onto it). */
export interface SpeakerConfig {
  /** Our AS (`--cluster-as`). */
  readonly asn: number;
  /** Our BGP identifier (`--router-id`), dotted IPv4. */
  readonly routerId: string;
  /** Hold time in seconds (`--holdtime`, default 90; 0 or ≥ 3). */
  readonly holdTime?: number;
  /** IPv4 and IPv6 neighbors, each its own session; the family follows from the address. */
  readonly neighbors: readonly NeighborConfig[];
  /** `--passivemode`: never connect, accept configured neighbors on the listener. */
  readonly passive?: boolean;
  /** Listener addresses and port in passive mode (default `::`, dual-stack, and 179). */
  readonly listen?: { readonly addresses?: readonly string[]; readonly port?: number };
  /** `--auth-password`, for every neighbor that has none of its own. Never logged. */
  readonly md5Password?: string;
  /** `--ebgp-multihop`: TTL of eBGP sessions (default 1). */
  readonly ebgpMultihop?: number;
  /** `--graceful-restart` with `--graceful-restart-time` in seconds. */
  readonly gracefulRestart?: { readonly restartTime: number };
  /** `--extended-nexthop`: IPv4 prefixes over IPv6 sessions (RFC 8950). */
  readonly extendedNextHop?: boolean;
  /** RFC 8654 extended messages (default true). */
  readonly extendedMessage?: boolean;
  /** The node name, sent in the FQDN capability. */
  readonly hostname?: string;
  /** `--node-ips`: replaces our pod IP of the same family as next hop. */
  readonly nodeIps?: readonly string[];
  /** `POD_IPS`: the addresses that `nodeIps` replace. */
  readonly podIps?: readonly string[];
  /** Connect timeout per attempt in ms (default 5000). */
  readonly connectTimeoutMs?: number;
  /** Reconnect backoff and damping. */
  readonly timing?: Omit<FsmConfig, "holdTime" | "passive">;
  /** Structured events: state changes with reasons, announce/withdraw summaries. */
  readonly logger?: SessionLogger;
}

/** A snapshot of the speaker. */
export interface SpeakerStatus {
  /** Our BGP identifier. */
  readonly routerId: string;
  /** Our AS. */
  readonly asn: number;
  /** Size of the desired set, by family. */
  readonly desired: { readonly ipv4: number; readonly ipv6: number };
  /** Every session, in configuration order. */
  readonly peers: readonly PeerStatus[];
}

/** The outcome of {@linkcode BgpSpeaker.setDesired}. */
export interface DesiredUpdate {
  /** Prefixes that became desired. */
  readonly added: number;
  /** Prefixes no longer desired. */
  readonly removed: number;
  /** Inputs that are not prefixes (ignored). */
  readonly invalid: readonly string[];
}

const IPV4_UNICAST: Family = { afi: 1, safi: 1 };
const IPV6_UNICAST: Family = { afi: 2, safi: 1 };

function sameFamily(a: string, b: string): boolean {
  return a.includes(":") === b.includes(":");
}

/** Canonical form of an address for lookups (IPv4-mapped IPv6 as IPv4, lower case). */
function canonical(address: string): string {
  const a = address.toLowerCase();
  return a.startsWith("::ffff:") && a.includes(".") ? a.slice(7) : a;
}

/**
 * The next hop announced on a session whose local address is `local`: that address, unless it is one of
 * our pod IPs, in which case the node IP of the same family replaces it (kube-ovn-speaker's `--node-ips`).
 *
 * @example
 * ```ts
 * nextHopFor("10.16.0.5", ["10.16.0.5"], ["192.168.1.10", "fd00::10"]); // "192.168.1.10"
 * nextHopFor("192.168.1.10", ["10.16.0.5"], ["192.168.1.11"]); // "192.168.1.10"
 * ```
 */
export function nextHopFor(local: string, podIps: readonly string[], nodeIps: readonly string[]): string {
  const address = canonical(local);
  if (!podIps.some((p) => canonical(p) === address)) return local;
  return nodeIps.find((n) => sameFamily(n, address)) ?? local;
}

/** The BGP speaker: sessions with every neighbor, fed from one desired prefix set. */
export class BgpSpeaker {
  #config: SpeakerConfig;
  #desired = new DesiredSet();
  #peers: Peer[] = [];
  #byAddress = new Map<string, Peer>();
  #listeners: PeerListener[] = [];
  #held = new Set<Peer>();
  #log: SessionLogger;
  #started = false;

  /** Builds the sessions (nothing connects before {@linkcode BgpSpeaker.start}). */
  constructor(config: SpeakerConfig) {
    this.#config = config;
    this.#log = config.logger ?? (() => {});
    const holdTime = config.holdTime ?? 90;
    for (const n of config.neighbors) {
      const v6 = n.address.includes(":");
      // RFC 8950: with extended next hop, an IPv6 session also carries IPv4 unicast.
      const families = v6
        ? (config.extendedNextHop ? [IPV6_UNICAST, IPV4_UNICAST] : [IPV6_UNICAST])
        : [IPV4_UNICAST];
      const local: LocalOpenConfig = {
        asn: config.asn,
        routerId: config.routerId,
        holdTime,
        families,
        gracefulRestart: config.gracefulRestart
          ? { restartTime: config.gracefulRestart.restartTime, restarting: true, forwarding: true }
          : undefined,
        extendedNextHop: v6 && !!config.extendedNextHop,
        extendedMessage: config.extendedMessage ?? true,
        hostname: config.hostname,
      };
      const ebgp = n.asn !== config.asn;
      const neighbor: NeighborConfig = {
        ...n,
        md5Password: n.md5Password ?? config.md5Password,
        // eBGP single-hop sends with TTL 1 (as GoBGP does); iBGP keeps the OS default.
        ttl: n.ttl ?? (ebgp ? config.ebgpMultihop ?? 1 : undefined),
      };
      const peer = new Peer({
        neighbor,
        local,
        passive: !!config.passive,
        desired: this.#desired,
        nextHopFor: (address) => this.#nextHopFor(address),
        connectTimeoutMs: config.connectTimeoutMs,
        timing: config.timing,
        logger: this.#log,
      });
      this.#peers.push(peer);
      this.#byAddress.set(canonical(n.address), peer);
    }
  }

  /** The shared desired set (read-only use). */
  get desired(): DesiredSet {
    return this.#desired;
  }

  /** Opens the listener in passive mode and starts every session. */
  start(): Promise<void> {
    if (this.#started) return Promise.resolve();
    this.#started = true;
    if (this.#config.passive) {
      const neighbors = new Map<string, NeighborTransport>();
      for (const n of this.#config.neighbors) {
        const ebgp = n.asn !== this.#config.asn;
        neighbors.set(n.address, {
          md5Password: n.md5Password ?? this.#config.md5Password,
          ttl: n.ttl ?? (ebgp ? this.#config.ebgpMultihop ?? 1 : undefined),
        });
      }
      for (const address of this.#config.listen?.addresses ?? ["::"]) {
        try {
          const listener = listenPeers({
            address,
            port: this.#config.listen?.port ?? 179,
            neighbors,
            onConnection: (conn) => {
              const peer = this.#byAddress.get(canonical(conn.remoteAddress));
              if (peer && !this.#held.has(peer)) peer.attach(conn);
              else conn.destroy();
            },
            onRejected: (remote) =>
              this.#log("warn", "connection from an unknown address rejected", { remote }),
            onError: (err) => this.#log("warn", "listener error", { error: err.message }),
          });
          this.#listeners.push(listener);
          this.#log("info", "listening for BGP connections", {
            address: listener.address,
            port: listener.port,
          });
        } catch (err) {
          // One address that cannot be bound must not keep the others from working.
          this.#log("error", "cannot listen for BGP connections", {
            address,
            error: err instanceof Error ? err.message : String(err),
          });
        }
      }
    }
    for (const p of this.#peers) if (!this.#held.has(p)) p.start();
    return Promise.resolve();
  }

  /**
   * Holds the session with `address` down, e.g. while BFD reports the path dead: the session stops at once
   * (Cease / Administrative Shutdown with `reason`, which a dead path will not deliver) and stays Idle, and
   * in passive mode its connections are refused, until {@linkcode BgpSpeaker.releasePeer}. A neighbor held
   * before {@linkcode BgpSpeaker.start} does not connect at start. Returns false for an unknown neighbor.
   */
  holdPeer(address: string, reason: string): boolean {
    const peer = this.#byAddress.get(canonical(address));
    if (!peer) return false;
    if (this.#held.has(peer)) return true;
    this.#held.add(peer);
    this.#log("warn", "holding session down", { peer: address, reason });
    if (this.#started) void peer.stop({ graceful: false, shutdownMessage: reason });
    return true;
  }

  /** Lets a session held by {@linkcode BgpSpeaker.holdPeer} connect again. Returns false for an unknown neighbor. */
  releasePeer(address: string): boolean {
    const peer = this.#byAddress.get(canonical(address));
    if (!peer) return false;
    if (!this.#held.delete(peer)) return true;
    this.#log("info", "releasing session", { peer: address });
    if (this.#started) peer.start();
    return true;
  }

  /**
   * Replaces the desired prefix set (CIDR text or {@linkcode Prefix} values) and sends every peer what it
   * lacks or must lose. Cheap to call often: only changed prefixes are compared, and changes not yet sent
   * coalesce.
   */
  setDesired(prefixes: Iterable<string | Prefix>): DesiredUpdate {
    return this.#noteDelta(this.#desired.replace(prefixes));
  }

  /**
   * Adds and removes desired prefixes (CIDR text or {@linkcode Prefix} values): the incremental form of
   * {@linkcode BgpSpeaker.setDesired}, whose cost follows the size of the change, not of the set.
   */
  changeDesired(added: Iterable<string | Prefix>, removed: Iterable<string | Prefix>): DesiredUpdate {
    return this.#noteDelta(this.#desired.apply(added, removed));
  }

  #noteDelta(delta: DesiredDelta): DesiredUpdate {
    for (const p of this.#peers) p.noteChanged(delta);
    let added = 0;
    for (const k of delta.v4) if (this.#desired.hasV4(k)) added++;
    for (const k of delta.v6) if (this.#desired.hasV6(k)) added++;
    const removed = delta.v4.length + delta.v6.length - added;
    if (added + removed > 0 || delta.invalid.length > 0) {
      this.#log("info", "desired prefixes changed", {
        added,
        removed,
        ipv4: this.#desired.sizeV4,
        ipv6: this.#desired.sizeV6,
        invalid: delta.invalid.slice(0, 10),
      });
    }
    return { added, removed, invalid: delta.invalid };
  }

  /**
   * Resets the session with `address` (Cease / Administrative Reset with `message`), e.g. when BFD
   * reports the path down. Returns false for an unknown neighbor.
   */
  resetPeer(address: string, message: string): boolean {
    const peer = this.#byAddress.get(canonical(address));
    if (!peer) return false;
    this.#log("warn", "resetting session", { peer: address, reason: message });
    peer.reset(message);
    return true;
  }

  /** The neighbors that currently hold `prefix` from us (for the status page). */
  peersAnnouncing(prefix: string | Prefix): string[] {
    return this.#peers.filter((p) => p.announces(prefix)).map((p) => p.address);
  }

  /** A snapshot of the speaker and every session. */
  status(): SpeakerStatus {
    const now = Date.now();
    return {
      routerId: this.#config.routerId,
      asn: this.#config.asn,
      desired: { ipv4: this.#desired.sizeV4, ipv6: this.#desired.sizeV6 },
      peers: this.#peers.map((p) => p.status(now)),
    };
  }

  /**
   * Stops every session and the listener. With graceful restart configured (and negotiated per peer), the
   * TCP sessions close without NOTIFICATION so peers keep forwarding to us; otherwise each peer gets
   * Cease / Administrative Shutdown with `shutdownMessage` and withdraws our routes at once.
   */
  async shutdown(opts: { shutdownMessage?: string } = {}): Promise<void> {
    const graceful = !!this.#config.gracefulRestart;
    const message = opts.shutdownMessage ?? "speaker shutting down";
    await Promise.all(this.#listeners.map((l) => l.close()));
    this.#listeners = [];
    await Promise.all(this.#peers.map((p) => p.stop({ graceful, shutdownMessage: message })));
    this.#log("info", "speaker stopped", { graceful });
  }

  #nextHopFor(local: string): string {
    return nextHopFor(local, this.#config.podIps ?? [], this.#config.nodeIps ?? []);
  }
}
