/**
 * One neighbor: the shell around the pure FSM, OPEN policy and Adj-RIB-Out. It owns the real timers, the
 * connection (active through `connectPeer`, or handed over by the speaker's listener in passive mode),
 * the framing of incoming bytes and the sending of the table with socket backpressure.
 *
 * @module
 */

import { connectPeer } from "../transport/connect.ts";
import type { BgpConnection } from "../transport/connection.ts";
import { decodeMessage, encodeMessage, endOfRib, frameLength, KEEPALIVE } from "../wire/message.ts";
import { packUpdateMessages } from "../wire/packer.ts";
import { encodePathAttributes } from "../wire/attributes.ts";
import type {
  BgpError,
  DecodeContext,
  Family,
  Message,
  NotificationMessage,
  PathAttributes,
  Prefix,
  UpdateMessage,
} from "../wire/types.ts";
import { DEFAULT_DECODE_CONTEXT, ErrorCode, MessageType } from "../wire/types.ts";
import {
  AdjRibOut,
  changesAsPrefixes,
  type DesiredDelta,
  type DesiredSet,
  type PeerRouteContext,
} from "./adj_rib_out.ts";
import {
  type FsmAction,
  type FsmConfig,
  type FsmEvent,
  type FsmState,
  initialState,
  type NotificationToSend,
  type SessionState,
  step,
  type TimerName,
} from "./fsm.ts";
import { ipv4UpdateMessages } from "./ipv4_updates.ts";
import { buildOpen, type LocalOpenConfig, type Negotiated, validateOpen } from "./open_policy.ts";

/** Log levels of the injected logger. */
export type SessionLogLevel = "error" | "warn" | "info" | "debug";

/** The injected structured logger: `(level, message, fields)`. Passwords are never passed to it. */
export type SessionLogger = (level: SessionLogLevel, msg: string, fields: Record<string, unknown>) => void;

/** One configured neighbor. */
export interface NeighborConfig {
  /** The neighbor's address (IPv4 or IPv6). */
  readonly address: string;
  /** The neighbor's AS. */
  readonly asn: number;
  /** Remote port (default 179). */
  readonly port?: number;
  /** Source address to bind for active connections. */
  readonly localAddress?: string;
  /** RFC 2385 TCP MD5 password. */
  readonly md5Password?: string;
  /**
   * TTL of our packets: eBGP single-hop sends 1, `--ebgp-multihop N` sends N; undefined on iBGP leaves the
   * OS default.
   */
  readonly ttl?: number;
}

/** Everything a peer needs besides its neighbor entry. */
export interface PeerOptions {
  /** The neighbor. */
  readonly neighbor: NeighborConfig;
  /** Our OPEN parameters for this neighbor (families decide what we offer). */
  readonly local: LocalOpenConfig;
  /** Passive: never connect; connections arrive through {@linkcode Peer.attach}. */
  readonly passive: boolean;
  /** The shared desired set. */
  readonly desired: DesiredSet;
  /** Maps this session's local address to the next hop to announce (`--node-ips` replacing the pod IP). */
  readonly nextHopFor?: (localAddress: string) => string;
  /** Connect timeout per attempt (default 5 s; an MD5 mismatch shows as this timeout). */
  readonly connectTimeoutMs?: number;
  /** Backoff and damping of the FSM. */
  readonly timing?: Omit<FsmConfig, "holdTime" | "passive">;
  /** Seed of the reconnect jitter (default: random). */
  readonly seed?: number;
  /** Structured events (state changes, announcements); never given passwords. */
  readonly logger?: SessionLogger;
  /** Called when the session goes up or down (the speaker uses it to drop the R bit after the first OPEN). */
  readonly onStateChange?: (peer: Peer, state: SessionState) => void;
  /** Prefix changes per batch taken from the Adj-RIB-Out (default 16384). */
  readonly batchSize?: number;
}

const MESSAGE_NAMES = ["", "open", "update", "notification", "keepalive", "routeRefresh"] as const;

/** Per-type message counters. */
export interface MessageCounters {
  /** OPEN messages. */
  open: number;
  /** UPDATE messages (End-of-RIB included). */
  update: number;
  /** NOTIFICATION messages. */
  notification: number;
  /** KEEPALIVE messages. */
  keepalive: number;
  /** ROUTE-REFRESH messages (BoRR and EoRR included). */
  routeRefresh: number;
}

/** A snapshot of one neighbor for status pages and metrics. */
export interface PeerStatus {
  /** The neighbor's address. */
  readonly address: string;
  /** The neighbor's configured AS. */
  readonly asn: number;
  /** The FSM state. */
  readonly state: SessionState;
  /** Milliseconds since Established, or 0. */
  readonly uptimeMs: number;
  /** When the session became Established, in ms since the epoch. */
  readonly establishedAt?: number;
  /** How many times an Established session went down. */
  readonly flaps: number;
  /** Why the session last went to Idle (hold timer expired, NOTIFICATION 6/2 received, connect failure…). */
  readonly lastError?: string;
  /** The session's local address, when connected. */
  readonly localAddress?: string;
  /** What the OPENs negotiated, while Established. */
  readonly negotiated?: {
    readonly holdTime: number;
    readonly peerRouterId: string;
    readonly internal: boolean;
    readonly families: readonly Family[];
    readonly fourOctetAs: boolean;
    readonly routeRefresh: boolean;
    readonly enhancedRouteRefresh: boolean;
    readonly extendedNextHop: boolean;
    readonly gracefulRestart: boolean;
    readonly peerCapabilities: readonly number[];
  };
  /** Messages sent, by type. */
  readonly messagesSent: Readonly<MessageCounters>;
  /** Messages received, by type. */
  readonly messagesReceived: Readonly<MessageCounters>;
  /** Prefixes the peer holds from us, by family. */
  readonly prefixesSent: { readonly ipv4: number; readonly ipv6: number };
  /** NLRI counted in received UPDATEs (not kept): announced and withdrawn per family. */
  readonly prefixesReceived: {
    readonly ipv4: { readonly announced: number; readonly withdrawn: number };
    readonly ipv6: { readonly announced: number; readonly withdrawn: number };
  };
  /** UPDATEs treated as withdraw (RFC 7606). */
  readonly updatesTreatedAsWithdraw: number;
  /** When the last End-of-RIB of the initial table went out, in ms since the epoch. */
  readonly endOfRibSentAt?: number;
  /** When the session last left Established, in ms since the epoch. */
  readonly downSince?: number;
  /** Bytes written to the connection and not yet handed to the kernel. */
  readonly outQueueBytes: number;
  /** Whether prefix changes are waiting to be sent. */
  readonly changesPending: boolean;
}

function counters(): MessageCounters {
  return { open: 0, update: 0, notification: 0, keepalive: 0, routeRefresh: 0 };
}

const TIMER_EVENTS: Record<TimerName, FsmEvent["type"]> = {
  connectRetry: "ConnectRetryTimer_Expires",
  hold: "HoldTimer_Expires",
  keepalive: "KeepaliveTimer_Expires",
  idleHold: "IdleHoldTimer_Expires",
};

/** One BGP neighbor with its session. */
export class Peer {
  #opts: PeerOptions;
  #log: SessionLogger;
  #fsm: FsmState;
  #conn: BgpConnection | undefined;
  #connectAbort: AbortController | undefined;
  #timers = new Map<TimerName, { at: number; handle: ReturnType<typeof setTimeout> | undefined }>();
  #ctx: DecodeContext = DEFAULT_DECODE_CONTEXT;
  #negotiated: Negotiated | undefined;
  #rib: AdjRibOut | undefined;
  #pending: Uint8Array | undefined;
  #sending = false;
  #sendAgain = false;
  #eorSent = false;
  #v4AttrsFor: PathAttributes | undefined;
  #v4AttrBytes: Uint8Array = new Uint8Array(0);
  #eorFamilies: Family[] = [];
  #refreshFamilies: Family[] = [];
  #flaps = 0;
  #lastError: string | undefined;
  #sent = counters();
  #received = counters();
  #rx = { ipv4: { announced: 0, withdrawn: 0 }, ipv6: { announced: 0, withdrawn: 0 } };
  #treatAsWithdraw = 0;
  #endOfRibSentAt: number | undefined;
  // RFC 4724 §3: the Restart State bit goes on the first OPEN after the process started only.
  #firstOpen = true;
  #downSince: number | undefined;

  /** Creates the peer in Idle; call {@linkcode Peer.start}. */
  constructor(opts: PeerOptions) {
    this.#opts = opts;
    this.#log = opts.logger ?? (() => {});
    this.#fsm = initialState(
      { ...opts.timing, holdTime: opts.local.holdTime, passive: opts.passive },
      opts.seed ?? Math.floor(Math.random() * 2 ** 32),
    );
  }

  /** The neighbor's address. */
  get address(): string {
    return this.#opts.neighbor.address;
  }

  /** The FSM state. */
  get state(): SessionState {
    return this.#fsm.state;
  }

  /** Starts the session (RFC 4271 ManualStart). */
  start(): void {
    this.#dispatch({ type: "ManualStart" });
  }

  /**
   * Stops the session (ManualStop). With graceful restart negotiated and `graceful` set, the TCP session is
   * closed without NOTIFICATION so the peer keeps our routes (RFC 4724 §4); otherwise Cease /
   * Administrative Shutdown (6/2) with `shutdownMessage` makes it withdraw them at once. Resolves when the
   * connection is closed.
   */
  stop(opts: { graceful?: boolean; shutdownMessage?: string } = {}): Promise<void> {
    const graceful = !!opts.graceful && !!this.#negotiated?.gracefulRestart &&
      this.#fsm.state === "Established";
    const conn = this.#conn;
    this.#dispatch({ type: "ManualStop", graceful, shutdownMessage: opts.shutdownMessage });
    if (!conn) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(resolve, 3000);
      conn.onClose(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  /**
   * Resets the session (for example when BFD declares the path down): Cease / Administrative Reset (6/4)
   * with `message`, then a fresh start.
   */
  reset(message: string): void {
    this.#dispatch({ type: "ManualStop", ceaseSubcode: 4, shutdownMessage: message });
    this.#lastError = message;
    this.#dispatch({ type: "ManualStart" });
  }

  /**
   * Hands over an incoming connection from this neighbor (passive mode, from the speaker's listener).
   * Refused (closed) unless the FSM waits for one.
   */
  attach(conn: BgpConnection): void {
    if (this.#conn !== undefined || (this.#fsm.state !== "Active" && this.#fsm.state !== "Connect")) {
      this.#log("info", "incoming connection refused", { peer: this.address, state: this.#fsm.state });
      conn.destroy();
      return;
    }
    this.#connectAbort?.abort();
    this.#adopt(conn);
    this.#dispatch({ type: "TcpConnectionConfirmed" });
  }

  /** Whether the peer currently holds `prefix` from us (it was sent on the live session). */
  announces(prefix: string | Prefix): boolean {
    return this.#fsm.state === "Established" && (this.#rib?.holds(prefix) ?? false);
  }

  /** Tells the peer which desired prefixes changed; they are sent as soon as the socket allows. */
  noteChanged(delta: DesiredDelta): void {
    if (!this.#rib) return;
    this.#rib.noteChanged(delta);
    this.#kickSender();
  }

  /** A snapshot for status and metrics. */
  status(now = Date.now()): PeerStatus {
    const n = this.#negotiated;
    const est = this.#fsm.establishedAt;
    return {
      address: this.address,
      asn: this.#opts.neighbor.asn,
      state: this.#fsm.state,
      uptimeMs: est !== undefined ? now - est : 0,
      establishedAt: est,
      flaps: this.#flaps,
      lastError: this.#lastError,
      localAddress: this.#conn?.localAddress,
      negotiated: n && this.#fsm.state === "Established"
        ? {
          holdTime: n.holdTime,
          peerRouterId: n.peerRouterId,
          internal: n.internal,
          families: n.families,
          fourOctetAs: n.decodeContext.fourOctetAs,
          routeRefresh: n.routeRefresh,
          enhancedRouteRefresh: n.enhancedRouteRefresh,
          extendedNextHop: n.extendedNextHop,
          gracefulRestart: n.gracefulRestart,
          peerCapabilities: n.peerCapabilities,
        }
        : undefined,
      messagesSent: { ...this.#sent },
      messagesReceived: { ...this.#received },
      prefixesSent: { ipv4: this.#rib?.sentV4 ?? 0, ipv6: this.#rib?.sentV6 ?? 0 },
      prefixesReceived: { ipv4: { ...this.#rx.ipv4 }, ipv6: { ...this.#rx.ipv6 } },
      updatesTreatedAsWithdraw: this.#treatAsWithdraw,
      endOfRibSentAt: this.#endOfRibSentAt,
      downSince: this.#downSince,
      outQueueBytes: this.#conn?.bufferedAmount ?? 0,
      changesPending: this.#rib?.pending ?? false,
    };
  }

  // ----------------------------------------------------------------------------------------------------
  // FSM plumbing

  #dispatch(event: FsmEvent): void {
    const { state, actions } = step(this.#fsm, event, Date.now());
    this.#fsm = state;
    for (const a of actions) {
      try {
        this.#perform(a);
      } catch (err) {
        // Bad input never kills the process: an action that cannot be carried out (a value that cannot be
        // encoded) is logged, and the connection is dropped so the FSM starts over.
        this.#internalError(`${a.type} failed`, err);
      }
    }
  }

  #internalError(what: string, err: unknown): void {
    const reason = `${what}: ${err instanceof Error ? err.message : String(err)}`;
    this.#log("error", "session error", { peer: this.address, reason });
    if (this.#conn !== undefined) {
      queueMicrotask(() => this.#dispatch({ type: "TcpConnectionFails", reason }));
    }
  }

  #perform(a: FsmAction): void {
    switch (a.type) {
      case "connect":
        this.#connect();
        return;
      case "dropConnection":
        this.#drop();
        return;
      case "sendOpen": {
        const local = this.#opts.local;
        const gr = local.gracefulRestart;
        const open = buildOpen(
          gr ? { ...local, gracefulRestart: { ...gr, restarting: this.#firstOpen } } : local,
        );
        this.#firstOpen = false;
        this.#send(encodeMessage(open, DEFAULT_DECODE_CONTEXT), MessageType.OPEN);
        return;
      }
      case "sendKeepalive":
        this.#send(KEEPALIVE, MessageType.KEEPALIVE);
        return;
      case "sendNotification":
        this.#sendNotification(a.notification);
        return;
      case "armTimer":
        this.#arm(a.timer, a.at);
        return;
      case "cancelTimer":
        this.#cancel(a.timer);
        return;
      case "sessionUp":
        this.#sessionUp();
        return;
      case "sessionDown":
        this.#flaps++;
        this.#downSince = Date.now();
        this.#rib = undefined;
        this.#log("warn", "session down", { peer: this.address, reason: a.reason });
        return;
      case "stateChange":
        this.#log(
          a.to === "Established" || a.from === "Established" ? "info" : "debug",
          "session state change",
          {
            peer: this.address,
            from: a.from,
            to: a.to,
            reason: a.reason,
          },
        );
        if (a.to === "Idle" && a.reason !== "ManualStop") this.#lastError = a.reason;
        this.#opts.onStateChange?.(this, a.to);
        return;
    }
  }

  // Timers keep an absolute deadline; a timeout that fires early (the deadline moved) re-arms itself, so
  // restarting the hold timer on every message costs no clearTimeout/setTimeout pair.
  #arm(timer: TimerName, at: number): void {
    const t = this.#timers.get(timer);
    if (t !== undefined) {
      if (at >= t.at) {
        t.at = at;
        return;
      }
      clearTimeout(t.handle);
    }
    const entry: { at: number; handle: ReturnType<typeof setTimeout> | undefined } = {
      at,
      handle: undefined,
    };
    const fire = () => {
      const cur = this.#timers.get(timer);
      if (cur !== entry) return;
      const left = entry.at - Date.now();
      if (left > 0) {
        entry.handle = setTimeout(fire, left);
        return;
      }
      this.#timers.delete(timer);
      this.#dispatch({ type: TIMER_EVENTS[timer] } as FsmEvent);
    };
    entry.handle = setTimeout(fire, Math.max(0, at - Date.now()));
    this.#timers.set(timer, entry);
  }

  #cancel(timer: TimerName): void {
    const t = this.#timers.get(timer);
    if (t === undefined) return;
    clearTimeout(t.handle);
    this.#timers.delete(timer);
  }

  // ----------------------------------------------------------------------------------------------------
  // Connection

  #connect(): void {
    this.#connectAbort?.abort();
    const abort = new AbortController();
    this.#connectAbort = abort;
    const n = this.#opts.neighbor;
    connectPeer({
      remoteAddress: n.address,
      remotePort: n.port,
      localAddress: n.localAddress,
      md5Password: n.md5Password,
      ttl: n.ttl,
      timeoutMs: this.#opts.connectTimeoutMs ?? 5000,
      signal: abort.signal,
    }).then((conn) => {
      if (abort.signal.aborted || this.#conn !== undefined || this.#fsm.state !== "Connect") {
        conn.destroy();
        return;
      }
      this.#connectAbort = undefined;
      this.#adopt(conn);
      this.#dispatch({ type: "Tcp_CR_Acked" });
    }, (err: unknown) => {
      if (abort.signal.aborted) return;
      this.#connectAbort = undefined;
      if (this.#fsm.state !== "Connect") return;
      const reason = err instanceof Error ? err.message : String(err);
      this.#dispatch({ type: "TcpConnectionFails", reason });
    });
  }

  #adopt(conn: BgpConnection): void {
    this.#conn = conn;
    this.#ctx = DEFAULT_DECODE_CONTEXT;
    this.#pending = undefined;
    this.#negotiated = undefined;
    conn.onData((chunk) => this.#onData(conn, chunk));
    conn.onClose((err) => {
      if (this.#conn !== conn) return;
      this.#conn = undefined;
      this.#dispatch({ type: "TcpConnectionFails", reason: err ? err.message : "connection closed by peer" });
    });
  }

  #drop(): void {
    this.#connectAbort?.abort();
    this.#connectAbort = undefined;
    const conn = this.#conn;
    this.#conn = undefined;
    this.#rib = undefined;
    this.#pending = undefined;
    // close() flushes what is queued (a NOTIFICATION) before FIN.
    conn?.close();
  }

  #send(bytes: Uint8Array, type: number): boolean {
    const conn = this.#conn;
    if (!conn || conn.closed) return true;
    const name = MESSAGE_NAMES[type];
    if (name) this.#sent[name]++;
    return conn.write(bytes);
  }

  #sendNotification(n: NotificationToSend): void {
    const msg: NotificationMessage = {
      type: 3,
      code: n.code,
      subcode: n.subcode,
      data: n.data ?? new Uint8Array(0),
      shutdownMessage: n.shutdownMessage,
    };
    this.#log("info", "sending NOTIFICATION", {
      peer: this.address,
      code: n.code,
      subcode: n.subcode,
      shutdownMessage: n.shutdownMessage,
    });
    this.#send(encodeMessage(msg, this.#ctx), MessageType.NOTIFICATION);
  }

  // ----------------------------------------------------------------------------------------------------
  // Receiving

  #onData(conn: BgpConnection, chunk: Uint8Array): void {
    try {
      this.#receive(conn, chunk);
    } catch (err) {
      this.#internalError("receiving failed", err);
    }
  }

  #receive(conn: BgpConnection, chunk: Uint8Array): void {
    let buf = chunk;
    if (this.#pending !== undefined) {
      const joined = new Uint8Array(this.#pending.length + chunk.length);
      joined.set(this.#pending);
      joined.set(chunk, this.#pending.length);
      buf = joined;
      this.#pending = undefined;
    }
    let at = 0;
    while (this.#conn === conn) {
      const len = frameLength(buf, at, this.#ctx.maxMessageSize);
      if (typeof len !== "number") {
        // A header error (bad marker, length or type): RFC 4271 §6.1.
        this.#dispatch({
          type: "BGPHeaderErr",
          notification: { code: len.code, subcode: len.subcode, data: len.data },
          reason: len.reason,
        });
        return;
      }
      // Wait for the rest of the message (frameLength only needs the header).
      if (len === 0 || at + len > buf.length) break;
      const msg = buf.subarray(at, at + len);
      at += len;
      this.#onMessage(msg);
    }
    if (this.#conn === conn && at < buf.length) this.#pending = buf.slice(at);
  }

  #onMessage(bytes: Uint8Array): void {
    const nonFatal: BgpError[] = [];
    const decoded = decodeMessage(bytes, this.#ctx, nonFatal);
    if (!decoded.ok) {
      const e = decoded.error;
      const notification = { code: e.code, subcode: e.subcode, data: e.data };
      if (e.code === ErrorCode.MESSAGE_HEADER) {
        this.#dispatch({ type: "BGPHeaderErr", notification, reason: e.reason });
      } else if (e.code === ErrorCode.OPEN_MESSAGE) {
        this.#dispatch({ type: "BGPOpenMsgErr", notification, reason: e.reason });
      } else {
        this.#dispatch({ type: "UpdateMsgErr", notification, reason: e.reason });
      }
      return;
    }
    const m: Message = decoded.value;
    const name = MESSAGE_NAMES[m.type];
    if (name) this.#received[name]++;
    switch (m.type) {
      case 1: {
        if (this.#fsm.state !== "OpenSent") {
          this.#dispatch({ type: "BGPOpen", peerHoldTime: m.holdTime });
          return;
        }
        const v = validateOpen(m, this.#opts.local, { peerAsn: this.#opts.neighbor.asn });
        if (!v.ok) {
          this.#dispatch({ type: "BGPOpenMsgErr", notification: v.notification, reason: v.reason });
          return;
        }
        this.#negotiated = v.negotiated;
        this.#ctx = v.negotiated.decodeContext;
        this.#dispatch({ type: "BGPOpen", peerHoldTime: m.holdTime });
        return;
      }
      case 2: {
        // RFC 7606 §2: treat-as-withdraw keeps the session; the announced prefixes count as withdrawn.
        const withdraw = nonFatal.find((e) => e.action === "treat-as-withdraw");
        if (withdraw) {
          this.#treatAsWithdraw++;
          this.#log("warn", "UPDATE treated as withdraw", { peer: this.address, reason: withdraw.reason });
        }
        this.#countUpdate(m, !!withdraw);
        this.#dispatch({ type: "UpdateMsg" });
        return;
      }
      case 3: {
        const reason = `NOTIFICATION ${m.code}/${m.subcode} received` +
          (m.shutdownMessage ? `: ${m.shutdownMessage}` : "");
        this.#log("warn", "NOTIFICATION received", {
          peer: this.address,
          code: m.code,
          subcode: m.subcode,
          shutdownMessage: m.shutdownMessage,
        });
        this.#dispatch({ type: "NotifMsg", reason });
        return;
      }
      case 4:
        this.#dispatch({ type: "KeepAliveMsg" });
        return;
      case 5:
        this.#dispatch({ type: "RouteRefreshMsg" });
        // RFC 2918 §4: a refresh for a family that was not negotiated is ignored.
        if (
          this.#fsm.state === "Established" && m.subtype === 0 &&
          this.#negotiated?.families.some((f) => f.afi === m.afi && f.safi === m.safi)
        ) {
          this.#routeRefresh({ afi: m.afi, safi: m.safi });
        }
        return;
    }
  }

  #countUpdate(m: UpdateMessage, asWithdraw: boolean): void {
    const kind = asWithdraw ? "withdrawn" : "announced";
    this.#rx.ipv4[kind] += m.nlri.length;
    this.#rx.ipv4.withdrawn += m.withdrawn.length;
    const reach = m.attributes.mpReach;
    if (reach) (reach.afi === 1 ? this.#rx.ipv4 : this.#rx.ipv6)[kind] += reach.nlri.length;
    const unreach = m.attributes.mpUnreach;
    if (unreach) (unreach.afi === 1 ? this.#rx.ipv4 : this.#rx.ipv6).withdrawn += unreach.withdrawn.length;
  }

  // ----------------------------------------------------------------------------------------------------
  // Sending the table

  #sessionUp(): void {
    const n = this.#negotiated!;
    const conn = this.#conn!;
    const local = conn.localAddress;
    const nextHop = this.#opts.nextHopFor?.(local) ?? local;
    const v6 = local.includes(":");
    const has = (afi: number) => n.families.some((f) => f.afi === afi && f.safi === 1);
    const ctx: PeerRouteContext = {
      internal: n.internal,
      localAsn: this.#opts.local.asn,
      ipv4: has(1),
      ipv6: has(2),
      nextHopV4: v6 ? undefined : nextHop,
      nextHopV6: v6 ? nextHop : undefined,
      extendedNextHop: n.extendedNextHop,
    };
    this.#rib = new AdjRibOut(ctx);
    this.#rib.startFullSync(this.#opts.desired);
    this.#eorSent = false;
    this.#eorFamilies = n.families.filter((f) => f.safi === 1);
    this.#refreshFamilies = [];
    this.#log("info", "session established", {
      peer: this.address,
      localAddress: local,
      nextHop,
      holdTime: n.holdTime,
      internal: n.internal,
      families: n.families.map((f) => `${f.afi}/${f.safi}`),
      gracefulRestart: n.gracefulRestart,
      extendedNextHop: n.extendedNextHop,
      peerRouterId: n.peerRouterId,
    });
    this.#kickSender();
  }

  /**
   * Writes UPDATEs, coalescing messages that are contiguous views of one chunk into one write. Returns
   * true when the connection's buffer is full (the caller awaits drained()).
   */
  #writeMessages(conn: BgpConnection, messages: Iterable<Uint8Array>): boolean {
    let full = false;
    let run: Uint8Array | undefined;
    let runStart = 0;
    let runEnd = 0;
    const flush = () => {
      if (run !== undefined && !conn.write(new Uint8Array(run.buffer, runStart, runEnd - runStart))) {
        full = true;
      }
      run = undefined;
    };
    for (const bytes of messages) {
      this.#sent.update++;
      if (run !== undefined && bytes.buffer === run.buffer && bytes.byteOffset === runEnd) {
        runEnd += bytes.length;
        continue;
      }
      flush();
      run = bytes;
      runStart = bytes.byteOffset;
      runEnd = bytes.byteOffset + bytes.length;
    }
    flush();
    return full;
  }

  #routeRefresh(family: Family): void {
    const rib = this.#rib;
    if (!rib) return;
    const n = this.#negotiated!;
    // RFC 7313 §4: with enhanced route refresh, the resent table is framed by BoRR and EoRR.
    if (n.enhancedRouteRefresh) {
      this.#send(encodeMessage({ type: 5, afi: family.afi, safi: family.safi, subtype: 1 }, this.#ctx), 5);
      this.#refreshFamilies.push(family);
    }
    this.#log("info", "ROUTE-REFRESH received, resending the table", { peer: this.address });
    rib.startFullSync(this.#opts.desired);
    this.#kickSender();
  }

  #kickSender(): void {
    if (this.#sending) {
      this.#sendAgain = true;
      return;
    }
    this.#sending = true;
    queueMicrotask(() =>
      this.#sendLoop()
        .catch((err) => this.#internalError("sending routes failed", err))
        .finally(() => (this.#sending = false))
    );
  }

  async #sendLoop(): Promise<void> {
    const batch = this.#opts.batchSize ?? 16384;
    for (;;) {
      this.#sendAgain = false;
      const rib = this.#rib;
      const conn = this.#conn;
      if (!rib || !conn || this.#fsm.state !== "Established") return;
      let announced = 0;
      let withdrawn = 0;
      while (rib.pending && this.#rib === rib) {
        const changes = rib.take(this.#opts.desired, batch);
        for (const f of [changes.v4, changes.v6]) {
          announced += f?.announce.length ?? 0;
          withdrawn += f?.withdraw.length ?? 0;
        }
        let full = false;
        const v4 = changes.v4;
        if (v4 && !changes.v4Mp) {
          // The hot path: IPv4 NLRI written straight from the compact keys.
          if (this.#v4AttrsFor !== v4.attributes) {
            this.#v4AttrsFor = v4.attributes;
            this.#v4AttrBytes = encodePathAttributes(v4.attributes, this.#ctx);
          }
          const msgs = ipv4UpdateMessages(
            this.#v4AttrBytes,
            v4.announce,
            v4.withdraw,
            this.#ctx.maxMessageSize,
          );
          if (this.#writeMessages(conn, msgs)) full = true;
        }
        if (changes.v6 || (v4 && changes.v4Mp)) {
          const { groups, withdrawals } = changesAsPrefixes({
            ...changes,
            v4: changes.v4Mp ? v4 : undefined,
          });
          const msgs = packUpdateMessages({ groups, withdrawals }, {
            ...this.#ctx,
            ipv4NextHopIsIpv6: changes.v4Mp,
          });
          if (this.#writeMessages(conn, msgs)) full = true;
        }
        if (this.#rib !== rib) return;
        if (full) await conn.drained();
        if (this.#rib !== rib || conn.closed) return;
      }
      if (announced + withdrawn > 0) {
        this.#log("debug", "routes sent", { peer: this.address, announced, withdrawn });
      }
      if (!this.#eorSent) {
        // RFC 4724 §2: End-of-RIB per family once the initial table is out.
        for (const f of this.#eorFamilies) this.#send(endOfRib(f), MessageType.UPDATE);
        this.#eorSent = true;
        this.#endOfRibSentAt = Date.now();
        this.#log("info", "initial table sent", {
          peer: this.address,
          ipv4: rib.sentV4,
          ipv6: rib.sentV6,
        });
      }
      for (const f of this.#refreshFamilies.splice(0)) {
        this.#send(encodeMessage({ type: 5, afi: f.afi, safi: f.safi, subtype: 2 }, this.#ctx), 5);
      }
      if (!this.#sendAgain) return;
    }
  }
}
