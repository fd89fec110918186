/**
 * The BGP finite state machine of RFC 4271 §8, as a pure function.
 *
 * `step(state, event, now)` returns the next state and the actions the shell must perform (connect, send a
 * message, arm or cancel a timer at an absolute deadline, drop the connection, report the session up or
 * down). It never reads a clock, a socket or a global: time comes in as `now` (milliseconds), and the
 * jitter of the connect retry backoff comes from a seeded generator carried in the state.
 *
 * Differences from the letter of RFC 4271 §8.2.2, chosen for a speaker that only originates routes:
 * - Every failure goes back to Idle and restarts after the IdleHoldTimer (§8.1.1 DampPeerOscillations),
 *   whose delay grows exponentially with consecutive failures (with jitter, capped) and resets once a
 *   session stayed Established for `stablePeriodMs`.
 * - The first connection attempt after ManualStart happens at once, and so does the first restart after a
 *   stable session failed; the next ones wait base·2^(n−2) (n consecutive failures).
 * - DelayOpen, AllowAutomaticStop and the optional TCP events 14/15 are not used.
 *
 * @example
 * ```ts
 * import { initialState, step } from "./fsm.ts";
 * const s0 = initialState({ holdTime: 90, passive: false }, 42);
 * const { state, actions } = step(s0, { type: "ManualStart" }, 0);
 * // state.state === "Connect"; actions include { type: "connect" }
 * ```
 *
 * @module
 */

import { ErrorCode } from "../wire/types.ts";

/** The six states of RFC 4271 §8.2.2. */
export type SessionState = "Idle" | "Connect" | "Active" | "OpenSent" | "OpenConfirm" | "Established";

/** The timers the FSM drives (RFC 4271 §8.1.1 / §10). */
export type TimerName = "connectRetry" | "hold" | "keepalive" | "idleHold";

/** A NOTIFICATION to send, as code, subcode, optional data and an RFC 9003 shutdown communication. */
export interface NotificationToSend {
  /** Error code (RFC 4271 §4.5). */
  readonly code: number;
  /** Error subcode. */
  readonly subcode: number;
  /** Data field; empty when undefined. */
  readonly data?: Uint8Array;
  /** RFC 9003 shutdown communication of a Cease 2 or 4. */
  readonly shutdownMessage?: string;
}

/**
 * FSM events, named after RFC 4271 §8.1 (event numbers in comments).
 * `BGPOpen` carries the peer's hold time; the OPEN was already validated by the OPEN policy, whose
 * failure arrives as `BGPOpenMsgErr` with the NOTIFICATION to send.
 */
export type FsmEvent =
  // Event 1: ManualStart (event 4, passive, is chosen by `config.passive`).
  | { readonly type: "ManualStart" }
  // Event 2: ManualStop. `graceful` closes without NOTIFICATION (RFC 4724 §4: the peer keeps our routes).
  | {
    readonly type: "ManualStop";
    readonly graceful?: boolean;
    readonly shutdownMessage?: string;
    /** Cease subcode: 2 Administrative Shutdown (default) or 4 Administrative Reset (RFC 4486). */
    readonly ceaseSubcode?: number;
  }
  // Event 9
  | { readonly type: "ConnectRetryTimer_Expires" }
  // Event 10
  | { readonly type: "HoldTimer_Expires" }
  // Event 11
  | { readonly type: "KeepaliveTimer_Expires" }
  // Event 13
  | { readonly type: "IdleHoldTimer_Expires" }
  // Event 16: our outgoing connection is up.
  | { readonly type: "Tcp_CR_Acked" }
  // Event 17: an incoming connection from the peer is up.
  | { readonly type: "TcpConnectionConfirmed" }
  // Event 18
  | { readonly type: "TcpConnectionFails"; readonly reason?: string }
  // Event 19
  | { readonly type: "BGPOpen"; readonly peerHoldTime: number }
  // Event 21
  | { readonly type: "BGPHeaderErr"; readonly notification: NotificationToSend; readonly reason?: string }
  // Event 22
  | { readonly type: "BGPOpenMsgErr"; readonly notification: NotificationToSend; readonly reason?: string }
  // Event 23: collision detection (§6.8) decided to dump this connection.
  | { readonly type: "OpenCollisionDump" }
  // Event 24
  | { readonly type: "NotifMsgVerErr"; readonly reason?: string }
  // Event 25
  | { readonly type: "NotifMsg"; readonly reason?: string }
  // Event 26
  | { readonly type: "KeepAliveMsg" }
  // Event 27
  | { readonly type: "UpdateMsg" }
  // Event 28: an UPDATE error whose RFC 7606 action is session reset.
  | { readonly type: "UpdateMsgErr"; readonly notification: NotificationToSend; readonly reason?: string }
  // RFC 2918: a ROUTE-REFRESH is a message from a live peer; it restarts the hold timer like an UPDATE.
  | { readonly type: "RouteRefreshMsg" };

/** What the shell must do after a step, in order. */
export type FsmAction =
  | { readonly type: "connect" }
  | { readonly type: "dropConnection" }
  | { readonly type: "sendOpen" }
  | { readonly type: "sendKeepalive" }
  | { readonly type: "sendNotification"; readonly notification: NotificationToSend }
  | { readonly type: "armTimer"; readonly timer: TimerName; readonly at: number }
  | { readonly type: "cancelTimer"; readonly timer: TimerName }
  | { readonly type: "sessionUp"; readonly holdTime: number; readonly keepaliveMs: number }
  | { readonly type: "sessionDown"; readonly reason: string }
  | {
    readonly type: "stateChange";
    readonly from: SessionState;
    readonly to: SessionState;
    readonly reason: string;
  };

/** Static parameters of one neighbor's FSM. Durations in milliseconds unless named in seconds. */
export interface FsmConfig {
  /** Our configured hold time in seconds (0 = no keepalives, else ≥ 3). */
  readonly holdTime: number;
  /** Passive: never connect, wait in Active for the peer (RFC 4271 event 4). */
  readonly passive: boolean;
  /** ConnectRetryTime: how long one outgoing attempt may take before retrying. Default 5 s. */
  readonly connectRetryMs?: number;
  /** The IdleHoldTime after the second consecutive failure (the first restarts at once). Default 1 s. */
  readonly backoffBaseMs?: number;
  /** The largest IdleHoldTime. Default 60 s. */
  readonly backoffMaxMs?: number;
  /** The fraction of the delay removed at random, in [0, 1). Default 0.25. */
  readonly jitter?: number;
  /** A session Established this long counts as stable and resets the backoff. Default 60 s. */
  readonly stablePeriodMs?: number;
}

/** The FSM state: plain data, replaced (never mutated) by each step. */
export interface FsmState {
  /** The RFC 4271 state. */
  readonly state: SessionState;
  /** The neighbor's static parameters. */
  readonly config: FsmConfig;
  /** False after ManualStop: no automatic restart. */
  readonly started: boolean;
  /** Consecutive failures since the last stable session; drives the backoff. */
  readonly failures: number;
  /** When the session became Established, or undefined. */
  readonly establishedAt?: number;
  /** The negotiated hold time in seconds (valid from OpenConfirm on). */
  readonly holdTime: number;
  /** The seed of the jitter generator (mulberry32). */
  readonly seed: number;
}

/** The hold time used in OpenSent, RFC 4271 §8.2.2: "a large value ... suggested 4 minutes". */
export const LARGE_HOLD_TIME_MS = 240_000;

const DEFAULTS = {
  connectRetryMs: 5_000,
  backoffBaseMs: 1_000,
  backoffMaxMs: 60_000,
  jitter: 0.25,
  stablePeriodMs: 60_000,
};

/** Creates the Idle state of a neighbor; `seed` makes the jitter reproducible. */
export function initialState(config: FsmConfig, seed = 1): FsmState {
  return { state: "Idle", config, started: false, failures: 0, holdTime: 0, seed: seed >>> 0 };
}

/** The outcome of hold time negotiation: the negotiated seconds, or the NOTIFICATION to send. */
export type HoldTimeNegotiation =
  | { readonly ok: true; readonly holdTime: number; readonly keepaliveMs: number }
  | { readonly ok: false; readonly notification: NotificationToSend };

/**
 * Negotiates the hold time (RFC 4271 §4.2): the smaller of both sides; 0 disables keepalives; a peer
 * proposing 1 or 2 seconds is refused with OPEN Message Error / Unacceptable Hold Time (2/6).
 * The keepalive interval is a third of the hold time (§10).
 */
export function negotiateHoldTime(ours: number, theirs: number): HoldTimeNegotiation {
  if (theirs === 1 || theirs === 2 || theirs < 0 || theirs > 0xffff || !Number.isInteger(theirs)) {
    return { ok: false, notification: { code: ErrorCode.OPEN_MESSAGE, subcode: 6 } };
  }
  const holdTime = Math.min(ours, theirs);
  return { ok: true, holdTime, keepaliveMs: Math.floor(holdTime * 1000 / 3) };
}

/**
 * Collision detection, RFC 4271 §6.8: of two connections with the same peer, the one initiated by the
 * speaker with the higher BGP identifier survives. Identifiers compare as unsigned 32-bit integers.
 * Returns which connection to keep.
 */
export function resolveCollision(
  localId: string,
  remoteId: string,
): "locallyInitiated" | "remotelyInitiated" {
  return idToNumber(localId) > idToNumber(remoteId) ? "locallyInitiated" : "remotelyInitiated";
}

function idToNumber(id: string): number {
  const p = id.split(".");
  return ((+p[0] << 24) >>> 0) + (+p[1] << 16) + (+p[2] << 8) + +p[3];
}

/** mulberry32: a tiny seeded generator; returns a value in [0, 1) and the next seed. */
function nextRandom(seed: number): [number, number] {
  const next = (seed + 0x6d2b79f5) >>> 0;
  let t = next;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return [((t ^ (t >>> 14)) >>> 0) / 4294967296, next];
}

/**
 * The IdleHoldTime after `failures` consecutive failures (≥ 1): base·2^(failures−1), capped, minus a
 * random fraction up to `jitter` so that many speakers restarted together do not reconnect in lockstep.
 */
export function backoffDelay(config: FsmConfig, failures: number, random: number): number {
  const base = config.backoffBaseMs ?? DEFAULTS.backoffBaseMs;
  const max = config.backoffMaxMs ?? DEFAULTS.backoffMaxMs;
  const jitter = config.jitter ?? DEFAULTS.jitter;
  const raw = Math.min(max, base * 2 ** Math.min(30, Math.max(0, failures - 1)));
  return Math.round(raw * (1 - jitter * random));
}

/** The result of one step. */
export interface StepResult {
  /** The next state. */
  readonly state: FsmState;
  /** What the shell must do, in order. */
  readonly actions: readonly FsmAction[];
}

const ALL_TIMERS: readonly TimerName[] = ["connectRetry", "hold", "keepalive", "idleHold"];

/** RFC 6608 FSM error subcodes: unexpected message in OpenSent (1), OpenConfirm (2), Established (3). */
function fsmErrorSubcode(state: SessionState): number {
  return state === "OpenSent" ? 1 : state === "OpenConfirm" ? 2 : state === "Established" ? 3 : 0;
}

/**
 * Advances the FSM by one event at time `now` (ms). Pure: the same inputs give the same outputs.
 */
export function step(s: FsmState, event: FsmEvent, now: number): StepResult {
  const actions: FsmAction[] = [];
  const cfg = s.config;
  const connectRetryMs = cfg.connectRetryMs ?? DEFAULTS.connectRetryMs;

  const to = (state: SessionState, reason: string, patch: Partial<FsmState> = {}): StepResult => {
    if (state !== s.state) actions.push({ type: "stateChange", from: s.state, to: state, reason });
    return { state: { ...s, ...patch, state }, actions };
  };

  // Leaves the current state on an error: optional NOTIFICATION, drop, Idle, backoff before restart.
  const fail = (reason: string, notification?: NotificationToSend): StepResult => {
    if (notification) actions.push({ type: "sendNotification", notification });
    for (const timer of ALL_TIMERS) actions.push({ type: "cancelTimer", timer });
    actions.push({ type: "dropConnection" });
    if (s.state === "Established") actions.push({ type: "sessionDown", reason });
    const stable = s.establishedAt !== undefined &&
      now - s.establishedAt >= (cfg.stablePeriodMs ?? DEFAULTS.stablePeriodMs);
    const failures = stable ? 1 : s.failures + 1;
    const [random, seed] = nextRandom(s.seed);
    // The first failure after a stable session restarts at once (a passive speaker is listening again
    // before the peer retries); repeated failures back off.
    const delay = failures <= 1 ? 0 : backoffDelay(cfg, failures - 1, random);
    actions.push({ type: "armTimer", timer: "idleHold", at: now + delay });
    return to("Idle", reason, { failures, seed, establishedAt: undefined, holdTime: 0 });
  };

  // Starts (or restarts) the session: connect at once, or wait for the peer when passive.
  const start = (reason: string): StepResult => {
    actions.push({ type: "cancelTimer", timer: "idleHold" });
    if (cfg.passive) return to("Active", reason, { started: true });
    actions.push({ type: "armTimer", timer: "connectRetry", at: now + connectRetryMs });
    actions.push({ type: "connect" });
    return to("Connect", reason, { started: true });
  };

  // A TCP connection (ours or the peer's) completed: send OPEN and wait with a large hold time.
  const connected = (reason: string): StepResult => {
    actions.push({ type: "cancelTimer", timer: "connectRetry" });
    actions.push({ type: "sendOpen" });
    actions.push({ type: "armTimer", timer: "hold", at: now + LARGE_HOLD_TIME_MS });
    return to("OpenSent", reason);
  };

  const stop = (e: { graceful?: boolean; shutdownMessage?: string; ceaseSubcode?: number }): StepResult => {
    const connectedStates: SessionState[] = ["OpenSent", "OpenConfirm", "Established"];
    if (!e.graceful && connectedStates.includes(s.state)) {
      // RFC 8203/9003: Cease / Administrative Shutdown with a communication.
      actions.push({
        type: "sendNotification",
        notification: {
          code: ErrorCode.CEASE,
          subcode: e.ceaseSubcode ?? 2,
          shutdownMessage: e.shutdownMessage,
        },
      });
    }
    for (const timer of ALL_TIMERS) actions.push({ type: "cancelTimer", timer });
    if (s.state !== "Idle") actions.push({ type: "dropConnection" });
    if (s.state === "Established") actions.push({ type: "sessionDown", reason: "administrative stop" });
    return to("Idle", "ManualStop", { started: false, failures: 0, establishedAt: undefined, holdTime: 0 });
  };

  // Restarts the hold timer on a message from the peer (RFC 4271 §8.2.2, Established, events 26/27).
  const rearmHold = (): void => {
    if (s.holdTime > 0) actions.push({ type: "armTimer", timer: "hold", at: now + s.holdTime * 1000 });
  };
  const keepaliveMs = Math.floor(s.holdTime * 1000 / 3);

  if (event.type === "ManualStop") return stop(event);

  if (s.state === "Idle") {
    switch (event.type) {
      case "ManualStart":
        return start("ManualStart");
      case "IdleHoldTimer_Expires":
        // §8.1.1 AutomaticStart after the damping delay, unless stopped meanwhile.
        return s.started ? start("IdleHoldTimer_Expires") : { state: s, actions };
      case "Tcp_CR_Acked":
      case "TcpConnectionConfirmed":
        // §8.2.2 Idle: connections are refused until the session is started.
        actions.push({ type: "dropConnection" });
        return { state: s, actions };
      default:
        return { state: s, actions };
    }
  }
  if (s.state === "Connect" || s.state === "Active") {
    switch (event.type) {
      case "ManualStart":
        return { state: s, actions };
      case "ConnectRetryTimer_Expires":
        if (cfg.passive) return { state: s, actions };
        // §8.2.2 Connect, event 9: drop the attempt, restart the timer, try again.
        actions.push({ type: "dropConnection" });
        actions.push({ type: "armTimer", timer: "connectRetry", at: now + connectRetryMs });
        actions.push({ type: "connect" });
        return to("Connect", "ConnectRetryTimer_Expires");
      case "Tcp_CR_Acked":
        return connected("Tcp_CR_Acked");
      case "TcpConnectionConfirmed":
        return connected("TcpConnectionConfirmed");
      case "TcpConnectionFails":
        return fail(`TCP connection failed${event.reason ? `: ${event.reason}` : ""}`);
      case "IdleHoldTimer_Expires":
        return { state: s, actions };
      case "BGPHeaderErr":
      case "BGPOpenMsgErr":
        return fail(event.reason ?? event.type, event.notification);
      default:
        // §8.2.2 Connect/Active, "any other event": FSM error, back to Idle.
        return fail(`unexpected ${event.type} in ${s.state}`);
    }
  }
  if (s.state === "OpenSent") {
    switch (event.type) {
      case "ManualStart":
      case "IdleHoldTimer_Expires":
        return { state: s, actions };
      case "BGPOpen": {
        const n = negotiateHoldTime(cfg.holdTime, event.peerHoldTime);
        if (!n.ok) return fail(`unacceptable hold time ${event.peerHoldTime}`, n.notification);
        actions.push({ type: "cancelTimer", timer: "connectRetry" });
        actions.push({ type: "sendKeepalive" });
        if (n.holdTime > 0) {
          actions.push({ type: "armTimer", timer: "keepalive", at: now + n.keepaliveMs });
          actions.push({ type: "armTimer", timer: "hold", at: now + n.holdTime * 1000 });
        } else {
          actions.push({ type: "cancelTimer", timer: "keepalive" });
          actions.push({ type: "cancelTimer", timer: "hold" });
        }
        return to("OpenConfirm", "BGPOpen", { holdTime: n.holdTime });
      }
      case "HoldTimer_Expires":
        return fail("hold timer expired", { code: ErrorCode.HOLD_TIMER_EXPIRED, subcode: 0 });
      case "TcpConnectionFails":
        return fail(`TCP connection failed${event.reason ? `: ${event.reason}` : ""}`);
      case "BGPHeaderErr":
      case "BGPOpenMsgErr":
        return fail(event.reason ?? event.type, event.notification);
      case "OpenCollisionDump":
        return fail("connection collision", { code: ErrorCode.CEASE, subcode: 7 });
      case "NotifMsgVerErr":
      case "NotifMsg":
        return fail(event.reason ?? "NOTIFICATION received");
      default:
        return fail(`unexpected ${event.type} in OpenSent`, {
          code: ErrorCode.FSM,
          subcode: fsmErrorSubcode(s.state),
        });
    }
  }
  if (s.state === "OpenConfirm") {
    switch (event.type) {
      case "ManualStart":
      case "IdleHoldTimer_Expires":
        return { state: s, actions };
      case "KeepAliveMsg":
        rearmHold();
        actions.push({ type: "sessionUp", holdTime: s.holdTime, keepaliveMs });
        return to("Established", "KeepAliveMsg", { establishedAt: now });
      case "KeepaliveTimer_Expires":
        actions.push({ type: "sendKeepalive" });
        actions.push({ type: "armTimer", timer: "keepalive", at: now + keepaliveMs });
        return { state: s, actions };
      case "HoldTimer_Expires":
        return fail("hold timer expired", { code: ErrorCode.HOLD_TIMER_EXPIRED, subcode: 0 });
      case "TcpConnectionFails":
        return fail(`TCP connection failed${event.reason ? `: ${event.reason}` : ""}`);
      case "BGPHeaderErr":
      case "BGPOpenMsgErr":
        return fail(event.reason ?? event.type, event.notification);
      case "OpenCollisionDump":
        return fail("connection collision", { code: ErrorCode.CEASE, subcode: 7 });
      case "NotifMsgVerErr":
      case "NotifMsg":
        return fail(event.reason ?? "NOTIFICATION received");
      default:
        return fail(`unexpected ${event.type} in OpenConfirm`, {
          code: ErrorCode.FSM,
          subcode: fsmErrorSubcode(s.state),
        });
    }
  }
  {
    // Established
    switch (event.type) {
      case "ManualStart":
      case "IdleHoldTimer_Expires":
        return { state: s, actions };
      case "KeepAliveMsg":
      case "UpdateMsg":
      case "RouteRefreshMsg":
        rearmHold();
        return { state: s, actions };
      case "KeepaliveTimer_Expires":
        actions.push({ type: "sendKeepalive" });
        actions.push({ type: "armTimer", timer: "keepalive", at: now + keepaliveMs });
        return { state: s, actions };
      case "HoldTimer_Expires":
        return fail("hold timer expired", { code: ErrorCode.HOLD_TIMER_EXPIRED, subcode: 0 });
      case "TcpConnectionFails":
        return fail(`TCP connection failed${event.reason ? `: ${event.reason}` : ""}`);
      case "UpdateMsgErr":
      case "BGPHeaderErr":
      case "BGPOpenMsgErr":
        return fail(event.reason ?? event.type, event.notification);
      case "OpenCollisionDump":
        return fail("connection collision", { code: ErrorCode.CEASE, subcode: 7 });
      case "NotifMsgVerErr":
      case "NotifMsg":
        return fail(event.reason ?? "NOTIFICATION received");
      default:
        return fail(`unexpected ${event.type} in Established`, {
          code: ErrorCode.FSM,
          subcode: fsmErrorSubcode(s.state),
        });
    }
  }
}
