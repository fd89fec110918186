/**
 * The BFD service: one asynchronous-mode session (RFC 5880) per BGP neighbor that has BFD enabled, over
 * UDP single hop (RFC 5881) or multihop (RFC 5883). It owns the sockets and the timers, feeds packets and
 * timer expiries to the pure state machine (`session_fsm.ts`), carries out its actions, and tells the BGP
 * side when a session goes up or down (`onStateChange`).
 *
 * How the BGP side uses it (RFC 5882 §4.3, and what kube-ovn-speaker gets from GoBGP): when a session
 * leaves Up, tear the BGP session down at once; start or accept a BGP session only while
 * {@linkcode BfdService.isUp} is true. A session that goes down because the peer signalled AdminDown is
 * reported with diagnostic 3 like any other; {@linkcode BfdPeerStatus.remoteState} tells them apart.
 *
 * Counters follow kube-ovn-speaker's BFD metrics (§6.2 of the reference): per server the received,
 * dropped, errored, invalid and unknown-peer packets; per peer the packets sent and received, the packets
 * dropped and the failure transitions (Up to anything else).
 *
 * Permissions: `--allow-ffi` (UDP sockets through libc). Ports 3784/4784 need no privilege.
 *
 * @module
 */

import {
  type BfdState,
  decodeControlPacket,
  Diagnostic,
  type DiagnosticCode,
  diagnosticName,
  encodeControlPacket,
} from "./packet.ts";
import {
  type BfdSession,
  createSession,
  detectionTimeUs,
  type SessionAction,
  type SessionEvent,
  type SessionParameters,
  type SessionTimer,
  step,
  transmitIntervalUs,
} from "./session_fsm.ts";
import {
  type BfdDatagram,
  type BfdHopMode,
  BfdListener,
  BfdSender,
  MULTIHOP_PORT,
  SINGLE_HOP_PORT,
  type TransportDropReason,
} from "./transport.ts";
import { formatIp, type IpFamily, parseIp, type SocketEndpoint } from "../transport/socket_address.ts";
import type { ComponentLogger } from "../log/logger.ts";

/** One neighbor to run BFD with. */
export interface BfdPeerConfig {
  /** The neighbor's address, IPv4 or IPv6 (the BGP neighbor address). */
  readonly address: string;
  /** Our source address towards it; default: the kernel chooses by route. */
  readonly localAddress?: string;
  /** RFC 5883 multihop (port 4784) instead of single hop: for neighbors configured with eBGP multihop. */
  readonly multihop?: boolean;
  /** Multihop only: the lowest TTL accepted from this peer (default 1, no check). */
  readonly minTtl?: number;
  /** Timers for this peer; default the service's. */
  readonly parameters?: SessionParameters;
}

/** Options of {@linkcode BfdService.start}. */
export interface BfdServiceOptions {
  /** The timers of every session (from `--bfd-min-tx`, `--bfd-min-rx`, `--bfd-detection-multiplier`). */
  readonly parameters: SessionParameters;
  /** The neighbors with BFD enabled. */
  readonly peers: readonly BfdPeerConfig[];
  /**
   * Called when a session becomes Up (`up` true) or leaves Up (`up` false), with the local diagnostic
   * (1 detection time expired, 3 neighbor signaled down, 7 administratively down) and the details of the
   * change. `change.administrative` is true when the session left Up because either side took BFD
   * administratively down (RFC 5882 §3.2: not a path failure, the BGP session may stay). Exceptions it
   * throws are logged and otherwise ignored.
   */
  readonly onStateChange?: (
    peer: string,
    up: boolean,
    diagnostic: DiagnosticCode,
    change: BfdStateChange,
  ) => void;
  readonly logger?: Pick<ComponentLogger, "info" | "warn" | "debug">;
  /**
   * Local addresses to bind the listeners to (the node's addresses towards the neighbors); default the
   * wildcard of each family, which serves every interface.
   */
  readonly listenAddresses?: readonly string[];
  /** Listening and destination ports (tests only); default 3784 and 4784. */
  readonly ports?: { readonly single?: number; readonly multi?: number };
  /** Monotonic milliseconds; default `performance.now`. */
  readonly now?: () => number;
  /** Random numbers in [0, 1) for jitter, discriminators and ports; default `Math.random`. */
  readonly random?: () => number;
}

/** The details of a state change reported to `onStateChange`. */
export interface BfdStateChange {
  readonly from: BfdState;
  readonly to: BfdState;
  /** The peer's state as last heard. */
  readonly remoteState: BfdState;
  /** Left Up because of AdminDown on our side (diagnostic 7) or the peer's (it sent AdminDown). */
  readonly administrative: boolean;
}

/** kube-ovn-speaker's `bfd_peer_session_state` values: 0 unspecified, 1 up, 2 down, 3 admin_down, 4 init. */
export const BFD_STATE_METRIC_VALUES: Readonly<Record<BfdState, number>> = {
  Up: 1,
  Down: 2,
  AdminDown: 3,
  Init: 4,
};

/** Server-wide counters (kube-ovn-speaker's `kube_ovn_speaker_bfd_server_*`). */
export interface BfdServerCounters {
  /** Datagrams read from the BFD sockets. */
  readonly receivedPackets: number;
  /** Datagrams dropped before reaching a session state change: wrong TTL, truncated, discarded by a session. */
  readonly receivedDrop: number;
  /** Socket read errors. */
  readonly receivedError: number;
  /** Datagrams that failed the Control packet checks (RFC 5880 §6.8.6). */
  readonly invalidPacket: number;
  /** Valid packets that matched no session. */
  readonly unknownPeer: number;
}

/** One session as `/status` and the metrics see it. Intervals in milliseconds. */
export interface BfdPeerStatus {
  readonly peer: string;
  readonly localAddress?: string;
  readonly mode: BfdHopMode;
  readonly state: BfdState;
  readonly remoteState: BfdState;
  readonly up: boolean;
  readonly localDiagnostic: DiagnosticCode;
  readonly localDiagnosticText: string;
  readonly remoteDiagnostic: DiagnosticCode;
  readonly localDiscriminator: number;
  readonly remoteDiscriminator: number;
  /** Our configured timers. */
  readonly desiredMinTxMs: number;
  readonly requiredMinRxMs: number;
  readonly detectMult: number;
  /** What the peer last sent (0 before it is heard). */
  readonly remoteDesiredMinTxMs: number;
  readonly remoteRequiredMinRxMs: number;
  readonly remoteDetectMult: number;
  /** The negotiated interval of our periodic packets (before jitter); 0 when none are sent. */
  readonly transmitIntervalMs: number;
  /** The negotiated detection time; 0 before the peer is heard. */
  readonly detectionTimeMs: number;
  readonly pollActive: boolean;
  readonly packetsSent: number;
  readonly packetsReceived: number;
  readonly packetsDropped: number;
  readonly sendErrors: number;
  /** Transitions from Up to Down or Init that were not administrative (path failures). */
  readonly failureTransitions: number;
  /** Wall-clock time (ms since the epoch) of the last state change, 0 if none. */
  readonly lastStateChangeAt: number;
  /** Wall-clock time of the last packet accepted from the peer, 0 if none. */
  readonly lastReceivedAt: number;
}

/** A snapshot of the whole service. */
export interface BfdStatus {
  readonly server: BfdServerCounters;
  readonly peers: readonly BfdPeerStatus[];
}

/** Turns the speaker's flags (milliseconds) into session timers (microseconds). */
export function bfdParametersFromFlags(flags: {
  readonly bfdMinTxMs: number;
  readonly bfdMinRxMs: number;
  readonly bfdDetectionMultiplier: number;
}): SessionParameters {
  return {
    desiredMinTxUs: flags.bfdMinTxMs * 1000,
    requiredMinRxUs: flags.bfdMinRxMs * 1000,
    detectMult: flags.bfdDetectionMultiplier,
  };
}

interface PeerEntry {
  readonly config: BfdPeerConfig;
  readonly address: string;
  readonly family: IpFamily;
  readonly mode: BfdHopMode;
  readonly sender: BfdSender;
  session: BfdSession;
  timers: Partial<Record<SessionTimer, ReturnType<typeof setTimeout>>>;
  packetsSent: number;
  packetsReceived: number;
  packetsDropped: number;
  sendErrors: number;
  failureTransitions: number;
  lastStateChangeAt: number;
  lastReceivedAt: number;
}

function canonical(address: string): string {
  return formatIp(parseIp(address));
}

function familyOf(address: string): IpFamily {
  return address.includes(":") ? 6 : 4;
}

/**
 * Runs the BFD sessions of the speaker. Create it with {@linkcode BfdService.start}; stop it with
 * {@linkcode close}, which tells every peer AdminDown first.
 *
 * @example
 * ```ts ignore
 * const bfd = await BfdService.start({
 *   parameters: bfdParametersFromFlags(config),
 *   peers: config.neighbors.map((address) => ({ address })),
 *   onStateChange: (peer, up) => up ? speaker.allow(peer) : speaker.tearDown(peer),
 * });
 * bfd.status(); // for /status and the metrics
 * await bfd.close();
 * ```
 */
export class BfdService {
  readonly #options: BfdServiceOptions;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #peers = new Map<string, PeerEntry>();
  readonly #byDiscriminator = new Map<number, PeerEntry>();
  readonly #listeners = new Map<string, BfdListener>();
  #closed = false;
  #receivedPackets = 0;
  #receivedDrop = 0;
  #receivedError = 0;
  #invalidPacket = 0;
  #unknownPeer = 0;

  private constructor(options: BfdServiceOptions) {
    this.#options = options;
    this.#now = options.now ?? (() => performance.now());
    this.#random = options.random ?? Math.random;
  }

  /**
   * Opens the listeners and starts a session for every peer. Throws (and closes what it opened) when a
   * socket cannot be bound, e.g. port 3784 already taken by another BFD daemon in the same namespace.
   */
  static async start(options: BfdServiceOptions): Promise<BfdService> {
    const service = new BfdService(options);
    try {
      for (const peer of options.peers) service.addPeer(peer);
    } catch (error) {
      await service.close();
      throw error;
    }
    return service;
  }

  /** Starts a session with one more peer; throws if it already has one or a socket cannot be opened. */
  addPeer(config: BfdPeerConfig): void {
    if (this.#closed) throw new Error("BFD service is closed");
    const address = canonical(config.address);
    if (this.#peers.has(address)) throw new Error(`BFD session with ${address} already exists`);
    const family = familyOf(address);
    const mode: BfdHopMode = config.multihop ? "multi" : "single";
    this.#ensureListener(family, mode);
    const sender = BfdSender.open({ family, localAddress: config.localAddress, random: this.#random });
    const entry: PeerEntry = {
      config,
      address,
      family,
      mode,
      sender,
      session: createSession(this.#newDiscriminator(), config.parameters ?? this.#options.parameters),
      timers: {},
      packetsSent: 0,
      packetsReceived: 0,
      packetsDropped: 0,
      sendErrors: 0,
      failureTransitions: 0,
      lastStateChangeAt: 0,
      lastReceivedAt: 0,
    };
    this.#peers.set(address, entry);
    this.#byDiscriminator.set(entry.session.localDiscriminator, entry);
    this.#options.logger?.info("BFD session created", {
      peer: address,
      mode,
      localDiscriminator: entry.session.localDiscriminator,
    });
    this.#step(entry, { type: "adminUp" });
  }

  /** Ends the session with a peer, telling it AdminDown first; unknown peers are ignored. */
  async removePeer(address: string): Promise<void> {
    const entry = this.#peers.get(canonical(address));
    if (entry === undefined) return;
    this.#step(entry, { type: "adminDown" });
    await this.#forget(entry);
  }

  /** Takes a session administratively down (AdminDown is sent) or back up, without removing it. */
  setAdminDown(address: string, down: boolean): void {
    const entry = this.#peers.get(canonical(address));
    if (entry === undefined) throw new Error(`No BFD session with ${address}`);
    this.#step(entry, { type: down ? "adminDown" : "adminUp" });
  }

  /** True when the session with `address` is Up; false for an unknown peer. */
  isUp(address: string): boolean {
    return this.#peers.get(canonical(address))?.session.state === "Up";
  }

  /** A snapshot of the counters and every session, for `/status` and the metrics. */
  status(): BfdStatus {
    return {
      server: {
        receivedPackets: this.#receivedPackets,
        receivedDrop: this.#receivedDrop,
        receivedError: this.#receivedError,
        invalidPacket: this.#invalidPacket,
        unknownPeer: this.#unknownPeer,
      },
      peers: [...this.#peers.values()].map((e) => peerStatus(e)),
    };
  }

  /** Sends AdminDown to every peer, then closes every socket and timer. Safe to call twice. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const entries = [...this.#peers.values()];
    for (const entry of entries) this.#step(entry, { type: "adminDown" });
    await Promise.all(entries.map((e) => this.#forget(e)));
    await Promise.all([...this.#listeners.values()].map((l) => l.close()));
    this.#listeners.clear();
  }

  async #forget(entry: PeerEntry): Promise<void> {
    for (const timer of Object.values(entry.timers)) clearTimeout(timer);
    entry.timers = {};
    this.#peers.delete(entry.address);
    this.#byDiscriminator.delete(entry.session.localDiscriminator);
    await entry.sender.close();
  }

  #newDiscriminator(): number {
    // Random, so a restarted speaker does not reuse the discriminator the peer still remembers.
    for (;;) {
      const d = 1 + Math.floor(this.#random() * 0xfffffffe);
      if (!this.#byDiscriminator.has(d)) return d;
    }
  }

  #ensureListener(family: IpFamily, mode: BfdHopMode): void {
    const configured = this.#options.listenAddresses;
    const addresses = configured === undefined
      ? [undefined]
      : configured.map(canonical).filter((a) => familyOf(a) === family);
    if (addresses.length === 0) throw new Error(`No BFD listen address of IPv${family} is configured`);
    for (const address of addresses) this.#openListener(family, mode, address);
  }

  #openListener(family: IpFamily, mode: BfdHopMode, address: string | undefined): void {
    const key = `${family}/${mode}/${address ?? "*"}`;
    if (this.#listeners.has(key)) return;
    const ports = this.#options.ports ?? {};
    const listener = BfdListener.open({
      family,
      mode,
      address,
      port: mode === "single" ? ports.single ?? SINGLE_HOP_PORT : ports.multi ?? MULTIHOP_PORT,
      // Per-peer minimum TTLs are checked after demultiplexing.
      minTtl: 1,
      onDatagram: (d) => this.#receive(d),
      onDrop: (reason, source, ttl) => this.#transportDrop(reason, source, ttl),
      onError: (error) => {
        this.#receivedError++;
        this.#options.logger?.warn("BFD socket read failed", { error: error.message });
      },
    });
    this.#listeners.set(key, listener);
  }

  #transportDrop(reason: TransportDropReason, source: SocketEndpoint, ttl: number): void {
    this.#receivedPackets++;
    this.#receivedDrop++;
    const entry = this.#peers.get(source.address);
    if (entry !== undefined) entry.packetsDropped++;
    this.#options.logger?.debug("BFD packet dropped", { peer: source.address, reason, ttl });
  }

  #receive(d: BfdDatagram): void {
    this.#receivedPackets++;
    const decoded = decodeControlPacket(d.data);
    if (!decoded.ok) {
      this.#invalidPacket++;
      this.#options.logger?.debug("BFD packet invalid", {
        peer: d.source.address,
        error: decoded.error.message,
      });
      return;
    }
    const p = decoded.packet;
    // RFC 5880 §6.3: demultiplex by Your Discriminator, or by the source address while it is zero.
    const entry = p.yourDiscriminator !== 0
      ? this.#byDiscriminator.get(p.yourDiscriminator)
      : this.#peers.get(d.source.address);
    if (entry === undefined || entry.mode !== d.mode) {
      this.#unknownPeer++;
      this.#options.logger?.debug("BFD packet for no session", {
        peer: d.source.address,
        yourDiscriminator: p.yourDiscriminator,
      });
      return;
    }
    // A discriminator is not a password: the packet must also come from the configured neighbor.
    if (entry.address !== d.source.address) {
      this.#unknownPeer++;
      return;
    }
    if (d.mode === "multi" && d.ttl < (entry.config.minTtl ?? 1)) {
      this.#receivedDrop++;
      entry.packetsDropped++;
      return;
    }
    const actions = this.#step(entry, { type: "packetReceived", packet: p });
    if (!actions.some((a) => a.type === "discard")) {
      entry.packetsReceived++;
      entry.lastReceivedAt = Date.now();
    }
  }

  #step(entry: PeerEntry, event: SessionEvent): readonly SessionAction[] {
    const { session, actions } = step(entry.session, event, this.#now(), this.#random());
    entry.session = session;
    for (const action of actions) this.#apply(entry, action);
    return actions;
  }

  #apply(entry: PeerEntry, action: SessionAction): void {
    switch (action.type) {
      case "send": {
        const port = entry.mode === "single"
          ? this.#options.ports?.single ?? SINGLE_HOP_PORT
          : this.#options.ports?.multi ?? MULTIHOP_PORT;
        const errno = entry.sender.send(encodeControlPacket(action.packet), entry.address, port);
        if (errno === 0) entry.packetsSent++;
        else entry.sendErrors++;
        break;
      }
      case "armTimer": {
        clearTimeout(entry.timers[action.timer]);
        const timer = action.timer;
        entry.timers[timer] = setTimeout(() => {
          delete entry.timers[timer];
          if (this.#peers.get(entry.address) !== entry) return;
          try {
            this.#step(entry, { type: "timerExpired", timer });
          } catch (error) {
            // A timer callback must never take the process down.
            this.#options.logger?.warn("BFD timer handling failed", {
              peer: entry.address,
              error: error instanceof Error ? error.message : String(error),
            });
          }
        }, Math.max(0, action.at - this.#now()));
        break;
      }
      case "cancelTimer":
        clearTimeout(entry.timers[action.timer]);
        delete entry.timers[action.timer];
        break;
      case "stateChange":
        this.#stateChanged(entry, action.from, action.to, action.diagnostic);
        break;
      case "discard":
        this.#receivedDrop++;
        entry.packetsDropped++;
        break;
    }
  }

  #stateChanged(entry: PeerEntry, from: BfdState, to: BfdState, diagnostic: DiagnosticCode): void {
    entry.lastStateChangeAt = Date.now();
    // After a detection timeout: how long the peer had been silent, i.e. the detection time as measured.
    const silenceMs = diagnostic === Diagnostic.ControlDetectionTimeExpired && entry.lastReceivedAt !== 0
      ? entry.lastStateChangeAt - entry.lastReceivedAt
      : undefined;
    const fields = { peer: entry.address, from, to, diagnostic: diagnosticName(diagnostic), silenceMs };
    const remoteState = entry.session.remoteState;
    const administrative = to === "AdminDown" ||
      (diagnostic === Diagnostic.NeighborSignaledSessionDown && remoteState === "AdminDown");
    if (from === "Up") {
      // An administrative shutdown is not a failure of the path.
      if (!administrative) entry.failureTransitions++;
      this.#options.logger?.warn("BFD session down", fields);
    } else {
      this.#options.logger?.info("BFD session state changed", fields);
    }
    if (from !== "Up" && to !== "Up") return;
    try {
      this.#options.onStateChange?.(entry.address, to === "Up", diagnostic, {
        from,
        to,
        remoteState,
        administrative: to === "Up" ? false : administrative,
      });
    } catch (error) {
      this.#options.logger?.warn("BFD state change handler failed", {
        peer: entry.address,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }
}

function peerStatus(e: PeerEntry): BfdPeerStatus {
  const s = e.session;
  return {
    peer: e.address,
    localAddress: e.config.localAddress,
    mode: e.mode,
    state: s.state,
    remoteState: s.remoteState,
    up: s.state === "Up",
    localDiagnostic: s.localDiagnostic,
    localDiagnosticText: diagnosticName(s.localDiagnostic),
    remoteDiagnostic: s.remoteDiagnostic,
    localDiscriminator: s.localDiscriminator,
    remoteDiscriminator: s.remoteDiscriminator,
    desiredMinTxMs: s.parameters.desiredMinTxUs / 1000,
    requiredMinRxMs: s.parameters.requiredMinRxUs / 1000,
    detectMult: s.parameters.detectMult,
    remoteDesiredMinTxMs: s.remoteDesiredMinTxUs / 1000,
    remoteRequiredMinRxMs: s.remoteDetectMult === 0 ? 0 : s.remoteMinRxUs / 1000,
    remoteDetectMult: s.remoteDetectMult,
    transmitIntervalMs: (transmitIntervalUs(s) ?? 0) / 1000,
    detectionTimeMs: detectionTimeUs(s) / 1000,
    pollActive: s.pollActive,
    packetsSent: e.packetsSent,
    packetsReceived: e.packetsReceived,
    packetsDropped: e.packetsDropped,
    sendErrors: e.sendErrors,
    failureTransitions: e.failureTransitions,
    lastStateChangeAt: e.lastStateChangeAt,
    lastReceivedAt: e.lastReceivedAt,
  };
}
