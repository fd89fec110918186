/**
 * The BFD session state machine of RFC 5880 (§6.2 states, §6.8 procedures), asynchronous mode, as a pure
 * function: `step(session, event, now, random)` returns the next session value and the actions the shell
 * must carry out (send a packet, arm or cancel a timer, report a state change). Time (`now`, milliseconds
 * on any monotonic clock) and randomness (`random`, a number in [0, 1) used for the transmit jitter) are
 * passed in, so every transition can be replayed in a test.
 *
 * What it covers:
 * - states AdminDown, Down, Init, Up and the reception rules of §6.8.6;
 * - timer negotiation: the transmit interval is max(our Desired Min TX, their Required Min RX) (§6.8.7),
 *   the detection time their Detect Mult × max(our Required Min RX, their Desired Min TX) (§6.8.4);
 * - jitter of 75–100 % of the interval, 75–90 % when our Detect Mult is 1 (§6.8.7);
 * - the slow rate of at least 1 s while the session is not Up (§6.8.3);
 * - the Poll Sequence when timers change, with the held-back values of §6.8.3, and the immediate Final
 *   answer to a Poll (§6.5, §6.8.7);
 * - diagnostics: control detection time expired (1), neighbor signaled session down (3),
 *   administratively down (7).
 *
 * Not covered: Demand mode (we never ask for it, but honour a peer that does), the Echo function and
 * authentication.
 *
 * @module
 */

import {
  type BfdState,
  type ControlPacket,
  Diagnostic,
  type DiagnosticCode,
  EMPTY_CONTROL_PACKET,
} from "./packet.ts";

/** RFC 5880 §6.8.3: the minimum Desired Min TX Interval while the session is not Up (1 s). */
export const SLOW_TX_INTERVAL_US = 1_000_000;

/** The configured timers of a session, in microseconds as on the wire. */
export interface SessionParameters {
  /** Desired Min TX Interval once Up (`--bfd-min-tx` × 1000). */
  readonly desiredMinTxUs: number;
  /** Required Min RX Interval (`--bfd-min-rx` × 1000). */
  readonly requiredMinRxUs: number;
  /** Detect Mult (`--bfd-detection-multiplier`), 1..255. */
  readonly detectMult: number;
}

/** The two timers of a session. */
export type SessionTimer = "transmit" | "detection";

/**
 * One session's state variables (RFC 5880 §6.8.1) plus the deadlines of its timers. A plain immutable
 * value; {@linkcode step} returns a new one.
 */
export interface BfdSession {
  /** bfd.LocalDiscr, never 0. */
  readonly localDiscriminator: number;
  /** The configured timers. */
  readonly parameters: SessionParameters;
  /** bfd.SessionState. */
  readonly state: BfdState;
  /** bfd.RemoteSessionState. */
  readonly remoteState: BfdState;
  /** bfd.RemoteDiscr; 0 until the peer is heard, and again after a detection timeout. */
  readonly remoteDiscriminator: number;
  /** bfd.LocalDiag: why the state last changed. */
  readonly localDiagnostic: DiagnosticCode;
  /** The diagnostic the peer last sent. */
  readonly remoteDiagnostic: DiagnosticCode;
  /** bfd.DesiredMinTxInterval as advertised now (at least 1 s while not Up). */
  readonly desiredMinTxUs: number;
  /** bfd.RequiredMinRxInterval as advertised now. */
  readonly requiredMinRxUs: number;
  /** The Desired Min TX used for our transmit interval (an increase waits for the Poll Sequence). */
  readonly txInEffectUs: number;
  /** The Required Min RX used for the detection time (a decrease waits for the Poll Sequence). */
  readonly rxInEffectUs: number;
  /** bfd.RemoteMinRxInterval: the peer's last Required Min RX (1 before it is heard). */
  readonly remoteMinRxUs: number;
  /** The peer's last Desired Min TX Interval (0 before it is heard). */
  readonly remoteDesiredMinTxUs: number;
  /** The peer's last Detect Mult (0 before it is heard). */
  readonly remoteDetectMult: number;
  /** bfd.RemoteDemandMode. */
  readonly remoteDemand: boolean;
  /** A Poll Sequence is in progress: periodic packets carry P until a packet with F arrives. */
  readonly pollActive: boolean;
  /** Timers changed again during a Poll Sequence: another one starts when it ends. */
  readonly pollPending: boolean;
  /** When the transmit timer fires (ms), undefined when no periodic transmission is due. */
  readonly transmitAt: number | undefined;
  /** When the detection timer fires (ms), undefined when it is not running. */
  readonly detectAt: number | undefined;
}

/** What can happen to a session. */
export type SessionEvent =
  /** A packet that passed {@linkcode decodeControlPacket} and was demultiplexed to this session. */
  | { readonly type: "packetReceived"; readonly packet: ControlPacket }
  /** A timer armed by a previous action fired (a stale one is recognised and ignored). */
  | { readonly type: "timerExpired"; readonly timer: SessionTimer }
  /** Start (a new session) or re-enable (one in AdminDown). */
  | { readonly type: "adminUp" }
  /** Take the session administratively down (§6.8.16). */
  | { readonly type: "adminDown" }
  /** Change the timers at run time (starts a Poll Sequence). */
  | { readonly type: "configure"; readonly parameters: SessionParameters };

/** What the shell must do after a step, in order. */
export type SessionAction =
  /** Send this packet now (P or F set as needed). */
  | { readonly type: "send"; readonly packet: ControlPacket }
  /** (Re)arm a timer to fire at `at` (ms, same clock as `now`). */
  | { readonly type: "armTimer"; readonly timer: SessionTimer; readonly at: number }
  /** Stop a timer. */
  | { readonly type: "cancelTimer"; readonly timer: SessionTimer }
  /** The session changed state; `diagnostic` is the new bfd.LocalDiag. */
  | {
    readonly type: "stateChange";
    readonly from: BfdState;
    readonly to: BfdState;
    readonly diagnostic: DiagnosticCode;
  }
  /** A received packet was ignored by the session (counted as dropped). */
  | { readonly type: "discard"; readonly reason: string };

/** The result of {@linkcode step}. */
export interface StepResult {
  readonly session: BfdSession;
  readonly actions: readonly SessionAction[];
}

/**
 * A new session: Down, silent, no timers. Step it with `adminUp` to start transmitting.
 *
 * @example
 * ```ts
 * import { createSession, step } from "./session_fsm.ts";
 * const s = createSession(1, { desiredMinTxUs: 300_000, requiredMinRxUs: 300_000, detectMult: 3 });
 * const { actions } = step(s, { type: "adminUp" }, 0, Math.random());
 * // actions: [{ type: "armTimer", timer: "transmit", at: 0 }]
 * ```
 */
export function createSession(localDiscriminator: number, parameters: SessionParameters): BfdSession {
  if (!Number.isInteger(localDiscriminator) || localDiscriminator < 1 || localDiscriminator > 0xffffffff) {
    throw new RangeError(`BFD local discriminator must be 1..2^32-1, got ${localDiscriminator}`);
  }
  checkParameters(parameters);
  const desired = Math.max(parameters.desiredMinTxUs, SLOW_TX_INTERVAL_US);
  return {
    localDiscriminator,
    parameters,
    state: "Down",
    remoteState: "Down",
    remoteDiscriminator: 0,
    localDiagnostic: Diagnostic.None,
    remoteDiagnostic: Diagnostic.None,
    desiredMinTxUs: desired,
    requiredMinRxUs: parameters.requiredMinRxUs,
    txInEffectUs: desired,
    rxInEffectUs: parameters.requiredMinRxUs,
    // RFC 5880 §6.8.1: bfd.RemoteMinRxInterval starts at 1.
    remoteMinRxUs: 1,
    remoteDesiredMinTxUs: 0,
    remoteDetectMult: 0,
    remoteDemand: false,
    pollActive: false,
    pollPending: false,
    transmitAt: undefined,
    detectAt: undefined,
  };
}

function checkParameters(p: SessionParameters): void {
  if (!Number.isInteger(p.desiredMinTxUs) || p.desiredMinTxUs < 1 || p.desiredMinTxUs > 0xffffffff) {
    throw new RangeError(`BFD Desired Min TX must be 1..2^32-1 µs, got ${p.desiredMinTxUs}`);
  }
  if (!Number.isInteger(p.requiredMinRxUs) || p.requiredMinRxUs < 0 || p.requiredMinRxUs > 0xffffffff) {
    throw new RangeError(`BFD Required Min RX must be 0..2^32-1 µs, got ${p.requiredMinRxUs}`);
  }
  if (!Number.isInteger(p.detectMult) || p.detectMult < 1 || p.detectMult > 255) {
    throw new RangeError(`BFD Detect Mult must be 1..255, got ${p.detectMult}`);
  }
}

/**
 * The interval between our periodic packets before jitter (µs), or undefined when we must not send
 * periodically: the peer's Required Min RX is 0, or it runs Demand mode and both sides are Up with no
 * Poll Sequence in progress (RFC 5880 §6.8.7).
 */
export function transmitIntervalUs(s: BfdSession): number | undefined {
  if (s.remoteMinRxUs === 0) return undefined;
  if (s.remoteDemand && s.state === "Up" && s.remoteState === "Up" && !s.pollActive) return undefined;
  return Math.max(s.txInEffectUs, s.remoteMinRxUs);
}

/**
 * The detection time (µs): the peer's Detect Mult × the agreed remote transmit interval, max(our Required
 * Min RX, its Desired Min TX) (RFC 5880 §6.8.4); 0 before the peer is heard.
 */
export function detectionTimeUs(s: BfdSession): number {
  if (s.remoteDetectMult === 0) return 0;
  return s.remoteDetectMult * Math.max(s.rxInEffectUs, s.remoteDesiredMinTxUs);
}

/**
 * The delay to the next periodic packet (ms): the interval reduced by 0–25 % at random, and by 10–25 %
 * when our Detect Mult is 1 (RFC 5880 §6.8.7).
 */
export function jitteredDelayMs(intervalUs: number, detectMult: number, random: number): number {
  const r = Math.min(Math.max(random, 0), 1);
  const factor = detectMult === 1 ? 0.75 + 0.15 * r : 0.75 + 0.25 * r;
  return (intervalUs * factor) / 1000;
}

/** The packet this session sends now, with P or F as asked. */
export function controlPacketOf(s: BfdSession, flags: { poll: boolean; final: boolean }): ControlPacket {
  return {
    ...EMPTY_CONTROL_PACKET,
    diagnostic: s.localDiagnostic,
    state: s.state,
    // RFC 5880 §6.8.7: P and F are never both set.
    poll: flags.poll && !flags.final,
    final: flags.final,
    detectMult: s.parameters.detectMult,
    myDiscriminator: s.localDiscriminator,
    yourDiscriminator: s.remoteDiscriminator,
    desiredMinTxUs: s.desiredMinTxUs,
    requiredMinRxUs: s.requiredMinRxUs,
    requiredMinEchoRxUs: 0,
  };
}

/** A timer counts as due this close (ms) to its deadline, so a timer firing a hair early is not lost. */
const TIMER_SLACK_MS = 0.5;

/**
 * Applies one event to a session at time `now` (ms); `random` in [0, 1) draws the jitter of any transmit
 * timer armed. Returns the new session and the actions to carry out in order. Never throws for any event
 * on a valid session.
 *
 * @example
 * ```ts
 * import { createSession, step } from "./session_fsm.ts";
 * let s = createSession(1, { desiredMinTxUs: 300_000, requiredMinRxUs: 300_000, detectMult: 3 });
 * s = step(s, { type: "adminUp" }, 0, 0.5).session;
 * const r = step(s, { type: "timerExpired", timer: "transmit" }, 0, 0.5);
 * // r.actions: send a Down packet, then arm the transmit timer at 875 ms (1 s slow rate × 0.875)
 * ```
 */
export function step(session: BfdSession, event: SessionEvent, now: number, random: number): StepResult {
  const actions: SessionAction[] = [];
  let s = session;
  switch (event.type) {
    case "packetReceived":
      s = receive(s, event.packet, now, random, actions);
      break;
    case "timerExpired":
      s = event.timer === "transmit"
        ? transmitTimer(s, now, random, actions)
        : detectionTimer(s, now, random, actions);
      break;
    case "adminUp":
      s = adminUp(s, now, actions);
      break;
    case "adminDown":
      s = adminDown(s, now, random, actions);
      break;
    case "configure":
      checkParameters(event.parameters);
      s = advertise({ ...s, parameters: event.parameters }, s.state);
      s = rescheduleTransmit(s, now, random);
      break;
  }
  return { session: s, actions: [...actions, ...timerActions(session, s)] };
}

/** Arm/cancel actions for every timer whose deadline changed during a step. */
function timerActions(before: BfdSession, after: BfdSession): SessionAction[] {
  const out: SessionAction[] = [];
  for (
    const [timer, was, is] of [
      ["transmit", before.transmitAt, after.transmitAt],
      ["detection", before.detectAt, after.detectAt],
    ] as const
  ) {
    if (was === is) continue;
    out.push(is === undefined ? { type: "cancelTimer", timer } : { type: "armTimer", timer, at: is });
  }
  return out;
}

/**
 * Sets bfd.DesiredMinTxInterval and bfd.RequiredMinRxInterval for a session about to be in `state`
 * (slow rate unless Up) and starts a Poll Sequence when either changes (RFC 5880 §6.8.3).
 */
function advertise(s: BfdSession, state: BfdState): BfdSession {
  const desired = state === "Up"
    ? s.parameters.desiredMinTxUs
    : Math.max(s.parameters.desiredMinTxUs, SLOW_TX_INTERVAL_US);
  const required = s.parameters.requiredMinRxUs;
  if (desired === s.desiredMinTxUs && required === s.requiredMinRxUs) return s;
  const peerListening = s.remoteDiscriminator !== 0;
  // RFC 5880 §6.8.3: while Up, a higher Desired Min TX takes effect only when the Poll Sequence ends, and a
  // lower Required Min RX still counts for the detection time until then. With nobody to poll, at once.
  const hold = state === "Up" && peerListening;
  const txInEffectUs = hold && desired > s.txInEffectUs ? s.txInEffectUs : desired;
  const rxInEffectUs = hold && required < s.rxInEffectUs ? s.rxInEffectUs : required;
  return {
    ...s,
    desiredMinTxUs: desired,
    requiredMinRxUs: required,
    txInEffectUs,
    rxInEffectUs,
    // RFC 5880 §6.8.3: a change of either value starts a Poll Sequence; one already running is followed
    // by another, so the peer confirms the latest values too.
    pollActive: peerListening ? true : s.pollActive,
    pollPending: peerListening && s.pollActive ? true : s.pollPending,
  };
}

/** Ends a Poll Sequence: the held-back values take effect; a pending change starts the next one. */
function endPoll(s: BfdSession): BfdSession {
  return {
    ...s,
    txInEffectUs: s.desiredMinTxUs,
    rxInEffectUs: s.requiredMinRxUs,
    pollActive: s.pollPending,
    pollPending: false,
  };
}

/** Moves to `to` with diagnostic `diag`, adjusting the advertised timers and reporting the change. */
function changeState(
  s: BfdSession,
  to: BfdState,
  diag: DiagnosticCode,
  actions: SessionAction[],
): BfdSession {
  if (s.state === to) return s;
  actions.push({ type: "stateChange", from: s.state, to, diagnostic: diag });
  return { ...advertise(s, to), state: to, localDiagnostic: diag };
}

/**
 * After a state change the peer should hear about it without waiting a (possibly slow) interval: send a
 * packet now and restart the periodic schedule from here.
 */
function sendNow(
  s: BfdSession,
  now: number,
  random: number,
  actions: SessionAction[],
  final: boolean,
): BfdSession {
  actions.push({ type: "send", packet: controlPacketOf(s, { poll: s.pollActive, final }) });
  const interval = transmitIntervalUs(s);
  const transmitAt = interval === undefined
    ? undefined
    : now + jitteredDelayMs(interval, s.parameters.detectMult, random);
  return { ...s, transmitAt };
}

/**
 * Keeps the transmit timer consistent with the current interval: armed when periodic transmission is
 * allowed and was not scheduled, brought forward when the interval shrank, stopped when not allowed.
 */
function rescheduleTransmit(s: BfdSession, now: number, random: number): BfdSession {
  const interval = transmitIntervalUs(s);
  if (interval === undefined) return s.transmitAt === undefined ? s : { ...s, transmitAt: undefined };
  const next = now + jitteredDelayMs(interval, s.parameters.detectMult, random);
  if (s.transmitAt === undefined || next < s.transmitAt) return { ...s, transmitAt: next };
  return s;
}

function receive(
  session: BfdSession,
  p: ControlPacket,
  now: number,
  random: number,
  actions: SessionAction[],
): BfdSession {
  // RFC 5880 §6.8.6: in AdminDown every received packet is discarded.
  if (session.state === "AdminDown") {
    actions.push({ type: "discard", reason: "session is administratively down" });
    return session;
  }
  if (p.yourDiscriminator !== 0 && p.yourDiscriminator !== session.localDiscriminator) {
    actions.push({ type: "discard", reason: `Your Discriminator ${p.yourDiscriminator} is not ours` });
    return session;
  }
  let s: BfdSession = {
    ...session,
    remoteDiscriminator: p.myDiscriminator,
    remoteState: p.state,
    remoteDiagnostic: p.diagnostic,
    remoteDemand: p.demand,
    remoteMinRxUs: p.requiredMinRxUs,
    remoteDesiredMinTxUs: p.desiredMinTxUs,
    remoteDetectMult: p.detectMult,
  };
  // RFC 5880 §6.8.6: a Final answers our Poll Sequence, which ends here.
  if (p.final && s.pollActive) s = endPoll(s);
  const before = s.state;
  // RFC 5880 §6.8.6: the state transitions on reception.
  if (p.state === "AdminDown") {
    if (s.state !== "Down") s = changeState(s, "Down", Diagnostic.NeighborSignaledSessionDown, actions);
  } else if (s.state === "Down") {
    if (p.state === "Down") s = changeState(s, "Init", Diagnostic.None, actions);
    else if (p.state === "Init") s = changeState(s, "Up", Diagnostic.None, actions);
  } else if (s.state === "Init") {
    if (p.state === "Init" || p.state === "Up") s = changeState(s, "Up", Diagnostic.None, actions);
  } else if (p.state === "Down") {
    s = changeState(s, "Down", Diagnostic.NeighborSignaledSessionDown, actions);
  }
  // RFC 5880 §6.8.4: every valid packet restarts the detection time.
  const detection = detectionTimeUs(s);
  s = { ...s, detectAt: detection > 0 ? now + detection / 1000 : undefined };
  if (p.poll || s.state !== before) {
    // RFC 5880 §6.8.7: a Poll is answered at once with F set, whatever the timers and the state.
    s = sendNow(s, now, random, actions, p.poll);
  }
  return rescheduleTransmit(s, now, random);
}

function transmitTimer(s: BfdSession, now: number, random: number, actions: SessionAction[]): BfdSession {
  if (s.transmitAt === undefined) return s;
  if (now + TIMER_SLACK_MS < s.transmitAt) {
    // Fired early: the shell's timer is spent, so arm it again for the same deadline.
    actions.push({ type: "armTimer", timer: "transmit", at: s.transmitAt });
    return s;
  }
  const interval = transmitIntervalUs(s);
  if (interval === undefined) return { ...s, transmitAt: undefined };
  actions.push({ type: "send", packet: controlPacketOf(s, { poll: s.pollActive, final: false }) });
  return { ...s, transmitAt: now + jitteredDelayMs(interval, s.parameters.detectMult, random) };
}

function detectionTimer(
  session: BfdSession,
  now: number,
  random: number,
  actions: SessionAction[],
): BfdSession {
  if (session.detectAt === undefined) return session;
  if (now + TIMER_SLACK_MS < session.detectAt) {
    actions.push({ type: "armTimer", timer: "detection", at: session.detectAt });
    return session;
  }
  // RFC 5880 §6.8.1: bfd.RemoteDiscr is zeroed when a detection time passes in silence; the Poll
  // Sequence cannot be answered any more either.
  let s: BfdSession = {
    ...session,
    detectAt: undefined,
    remoteDiscriminator: 0,
    remoteState: "Down",
  };
  if (s.pollActive) s = endPoll({ ...s, pollPending: false });
  // RFC 5880 §6.8.4: in Init or Up the session has gone down.
  if (s.state === "Init" || s.state === "Up") {
    s = changeState(s, "Down", Diagnostic.ControlDetectionTimeExpired, actions);
    s = sendNow(s, now, random, actions, false);
  }
  return s;
}

function adminUp(s: BfdSession, now: number, actions: SessionAction[]): BfdSession {
  if (s.state === "AdminDown") {
    return { ...changeState(s, "Down", Diagnostic.None, actions), transmitAt: now };
  }
  // A new session: its first packet goes out now.
  if (s.state === "Down" && s.transmitAt === undefined && s.remoteDiscriminator === 0) {
    return { ...s, transmitAt: now };
  }
  return s;
}

function adminDown(s: BfdSession, now: number, random: number, actions: SessionAction[]): BfdSession {
  if (s.state === "AdminDown") return s;
  // RFC 5880 §6.8.16: AdminDown with diagnostic 7; packets keep telling the peer (at the slow rate).
  let next = changeState(s, "AdminDown", Diagnostic.AdministrativelyDown, actions);
  next = { ...next, detectAt: undefined, pollActive: false, pollPending: false };
  next = { ...next, txInEffectUs: next.desiredMinTxUs, rxInEffectUs: next.requiredMinRxUs };
  return sendNow(next, now, random, actions, false);
}
