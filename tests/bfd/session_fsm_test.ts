import { assert, assertEquals } from "../assert.ts";
import { type ControlPacket, Diagnostic, EMPTY_CONTROL_PACKET } from "../../lib/bfd/packet.ts";
import {
  type BfdSession,
  createSession,
  detectionTimeUs,
  jitteredDelayMs,
  type SessionAction,
  type SessionEvent,
  type SessionParameters,
  step,
  type StepResult,
  transmitIntervalUs,
} from "../../lib/bfd/session_fsm.ts";

const FAST: SessionParameters = { desiredMinTxUs: 300_000, requiredMinRxUs: 300_000, detectMult: 3 };
const LOCAL = 11;
const REMOTE = 22;

/** A packet from the peer: discriminator 22, fast timers, addressed to us unless said otherwise. */
function peer(fields: Partial<ControlPacket>): ControlPacket {
  return {
    ...EMPTY_CONTROL_PACKET,
    myDiscriminator: REMOTE,
    yourDiscriminator: fields.state === "Down" || fields.state === "AdminDown" ? 0 : LOCAL,
    desiredMinTxUs: 300_000,
    requiredMinRxUs: 300_000,
    detectMult: 3,
    ...fields,
  };
}

function received(packet: ControlPacket): SessionEvent {
  return { type: "packetReceived", packet };
}

const EXPIRED_TX: SessionEvent = { type: "timerExpired", timer: "transmit" };
const EXPIRED_DETECT: SessionEvent = { type: "timerExpired", timer: "detection" };

function sends(actions: readonly SessionAction[]): ControlPacket[] {
  return actions.flatMap((a) => a.type === "send" ? [a.packet] : []);
}

function stateChanges(actions: readonly SessionAction[]): [string, string, number][] {
  return actions.flatMap((a) => a.type === "stateChange" ? [[a.from, a.to, a.diagnostic]] : []) as [
    string,
    string,
    number,
  ][];
}

function armed(actions: readonly SessionAction[], timer: "transmit" | "detection"): number | undefined {
  const a = actions.findLast((x) => (x.type === "armTimer" || x.type === "cancelTimer") && x.timer === timer);
  return a?.type === "armTimer" ? a.at : undefined;
}

/** Steps with random 0.5 (jitter factor 0.875). */
function run(s: BfdSession, event: SessionEvent, now: number, random = 0.5): StepResult {
  return step(s, event, now, random);
}

function started(parameters = FAST): BfdSession {
  return run(createSession(LOCAL, parameters), { type: "adminUp" }, 0).session;
}

/** A session brought Up by the three-way handshake, with the Poll Sequence of the Up transition answered. */
function upSession(parameters = FAST): BfdSession {
  let s = started(parameters);
  s = run(s, received(peer({ state: "Down" })), 10).session;
  s = run(s, received(peer({ state: "Up" })), 20).session;
  s = run(s, received(peer({ state: "Up", final: true })), 30).session;
  assertEquals(s.state, "Up");
  assertEquals(s.pollActive, false);
  return s;
}

Deno.test("createSession() starts Down and silent; adminUp sends the first packet at once", () => {
  const s = createSession(LOCAL, FAST);
  assertEquals([s.state, s.remoteDiscriminator, s.transmitAt, s.detectAt], ["Down", 0, undefined, undefined]);
  const r = run(s, { type: "adminUp" }, 5);
  assertEquals(r.actions, [{ type: "armTimer", timer: "transmit", at: 5 }]);
});

Deno.test("createSession() refuses discriminator 0 and out-of-range timers", () => {
  for (
    const bad of [
      () => createSession(0, FAST),
      () => createSession(1, { ...FAST, detectMult: 0 }),
      () => createSession(1, { ...FAST, desiredMinTxUs: 0 }),
    ]
  ) {
    let threw = false;
    try {
      bad();
    } catch (error) {
      threw = error instanceof RangeError;
    }
    assert(threw);
  }
});

Deno.test("step() sends Down packets at the slow rate of 1 s with 75-100 % jitter before the peer is heard", () => {
  const s = started();
  const r = run(s, EXPIRED_TX, 0, 0);
  const [packet] = sends(r.actions);
  assertEquals(packet, {
    ...EMPTY_CONTROL_PACKET,
    state: "Down",
    myDiscriminator: LOCAL,
    yourDiscriminator: 0,
    desiredMinTxUs: 1_000_000,
    requiredMinRxUs: 300_000,
    detectMult: 3,
  });
  assertEquals(armed(r.actions, "transmit"), 750);
  assertEquals(armed(run(s, EXPIRED_TX, 0, 0.999999).actions, "transmit")! > 999, true);
});

Deno.test("jitteredDelayMs() keeps 75-90 % of the interval when Detect Mult is 1", () => {
  assertEquals(jitteredDelayMs(1_000_000, 1, 0), 750);
  assertEquals(jitteredDelayMs(1_000_000, 1, 1), 900);
  assertEquals(jitteredDelayMs(1_000_000, 3, 0), 750);
  assertEquals(jitteredDelayMs(1_000_000, 3, 1), 1000);
  const s = started({ ...FAST, detectMult: 1 });
  assertEquals(armed(run(s, EXPIRED_TX, 0, 0.999999).actions, "transmit")! <= 900, true);
});

Deno.test("step() moves Down to Init on a Down packet, answers at once and arms the detection timer", () => {
  const r = run(started(), received(peer({ state: "Down" })), 100);
  assertEquals(stateChanges(r.actions), [["Down", "Init", Diagnostic.None]]);
  const [packet] = sends(r.actions);
  assertEquals([packet.state, packet.yourDiscriminator, packet.desiredMinTxUs], ["Init", REMOTE, 1_000_000]);
  // 3 × max(our 300 ms, its 300 ms).
  assertEquals(armed(r.actions, "detection"), 100 + 900);
  assertEquals(r.session.remoteDiscriminator, REMOTE);
});

Deno.test("step() moves Down to Up on an Init packet", () => {
  const r = run(started(), received(peer({ state: "Init" })), 100);
  assertEquals(stateChanges(r.actions), [["Down", "Up", Diagnostic.None]]);
});

Deno.test("step() moves Init to Up on an Init or Up packet, and stays Init on a Down packet", () => {
  const init = run(started(), received(peer({ state: "Down" })), 100).session;
  assertEquals(stateChanges(run(init, received(peer({ state: "Up" })), 200).actions), [["Init", "Up", 0]]);
  assertEquals(stateChanges(run(init, received(peer({ state: "Init" })), 200).actions), [["Init", "Up", 0]]);
  const stay = run(init, received(peer({ state: "Down" })), 200);
  assertEquals([stay.session.state, stateChanges(stay.actions)], ["Init", []]);
});

Deno.test("step() stays Down when a peer that still believes it is Up sends Up", () => {
  // RFC 5880 §6.8.6: Down moves only on Down or Init; an Up from a peer that missed our going down is
  // answered with Down, so the peer restarts the three-way handshake.
  const r = run(started(), received(peer({ state: "Up", yourDiscriminator: LOCAL })), 100);
  assertEquals([r.session.state, stateChanges(r.actions), r.session.remoteState], ["Down", [], "Up"]);
  const next = run(r.session, EXPIRED_TX, r.session.transmitAt!);
  assertEquals([sends(next.actions)[0].state, sends(next.actions)[0].yourDiscriminator], ["Down", REMOTE]);
});

Deno.test("step() going Up switches to the configured rate and starts a Poll Sequence", () => {
  const init = run(started(), received(peer({ state: "Down" })), 100).session;
  const r = run(init, received(peer({ state: "Up" })), 200);
  const [packet] = sends(r.actions);
  assertEquals([packet.state, packet.poll, packet.final, packet.desiredMinTxUs], [
    "Up",
    true,
    false,
    300_000,
  ]);
  assertEquals(r.session.pollActive, true);
  // A faster rate applies at once: max(300 ms, its 300 ms) × 0.875.
  assertEquals(transmitIntervalUs(r.session), 300_000);
  assertEquals(armed(r.actions, "transmit"), 200 + 262.5);
  // Periodic packets carry P until the Final arrives.
  const next = run(r.session, EXPIRED_TX, 462.5);
  assertEquals(sends(next.actions)[0].poll, true);
  const done = run(next.session, received(peer({ state: "Up", final: true })), 500);
  assertEquals(done.session.pollActive, false);
  assertEquals(sends(run(done.session, EXPIRED_TX, 800).actions)[0].poll, false);
});

Deno.test("step() answers a Poll at once with Final set and Poll clear, in any state", () => {
  for (const s of [started(), upSession()]) {
    const state = s.state === "Up" ? "Up" : "Down";
    const r = run(s, received(peer({ state, poll: true })), 1_000);
    const finals = sends(r.actions).filter((p) => p.final);
    assertEquals(finals.length, 1);
    assertEquals(finals[0].poll, false);
  }
});

Deno.test("step() takes Up down with diagnostic 3 when the peer says Down or AdminDown", () => {
  for (const state of ["Down", "AdminDown"] as const) {
    const r = run(upSession(), received(peer({ state })), 1_000);
    assertEquals(stateChanges(r.actions), [["Up", "Down", Diagnostic.NeighborSignaledSessionDown]]);
    // Back to the slow rate of 1 s.
    assertEquals(sends(r.actions)[0].desiredMinTxUs, 1_000_000);
    assertEquals(r.session.txInEffectUs, 1_000_000);
  }
});

Deno.test("step() takes Init down on a peer's AdminDown and leaves Down alone", () => {
  const init = run(started(), received(peer({ state: "Down" })), 100).session;
  assertEquals(stateChanges(run(init, received(peer({ state: "AdminDown" })), 200).actions), [[
    "Init",
    "Down",
    Diagnostic.NeighborSignaledSessionDown,
  ]]);
  const down = run(started(), received(peer({ state: "AdminDown" })), 200);
  assertEquals([down.session.state, down.session.localDiagnostic, stateChanges(down.actions)], [
    "Down",
    0,
    [],
  ]);
});

Deno.test("step() declares Up down with diagnostic 1 when the detection time passes in silence", () => {
  const up = run(upSession(), received(peer({ state: "Up" })), 1_000);
  const deadline = armed(up.actions, "detection")!;
  assertEquals(deadline, 1_000 + 900);
  const r = run(up.session, EXPIRED_DETECT, deadline);
  assertEquals(stateChanges(r.actions), [["Up", "Down", Diagnostic.ControlDetectionTimeExpired]]);
  assertEquals([r.session.remoteDiscriminator, r.session.remoteState, r.session.detectAt], [
    0,
    "Down",
    undefined,
  ]);
  const [packet] = sends(r.actions);
  assertEquals([packet.state, packet.diagnostic, packet.yourDiscriminator, packet.poll], [
    "Down",
    1,
    0,
    false,
  ]);
});

Deno.test("step() declares Init down when the detection time passes", () => {
  const init = run(started(), received(peer({ state: "Down" })), 100).session;
  const r = run(init, EXPIRED_DETECT, 1_000);
  assertEquals(stateChanges(r.actions), [["Init", "Down", Diagnostic.ControlDetectionTimeExpired]]);
});

Deno.test("step() only forgets the peer when the detection time passes while Down", () => {
  let s = started();
  // Down packets that are not answered with Init keep a Down session: simulate by an AdminDown peer.
  s = run(s, received(peer({ state: "AdminDown" })), 100).session;
  const r = run(s, EXPIRED_DETECT, 100 + 900);
  assertEquals([r.session.state, r.session.remoteDiscriminator, stateChanges(r.actions)], ["Down", 0, []]);
});

Deno.test("step() ignores a detection timer that fires before its deadline and re-arms it", () => {
  const up = run(upSession(), received(peer({ state: "Up" })), 1_000).session;
  const r = run(up, EXPIRED_DETECT, 1_500);
  assertEquals(r.session.state, "Up");
  assertEquals(r.actions, [{ type: "armTimer", timer: "detection", at: 1_900 }]);
  const early = run(up, EXPIRED_TX, up.transmitAt! - 5);
  assertEquals(early.actions, [{ type: "armTimer", timer: "transmit", at: up.transmitAt! }]);
});

Deno.test("step() restarts the detection timer on every packet", () => {
  const s = upSession();
  const a = run(s, received(peer({ state: "Up" })), 1_000);
  const b = run(a.session, received(peer({ state: "Up" })), 1_200);
  assertEquals([armed(a.actions, "detection"), armed(b.actions, "detection")], [1_900, 2_100]);
});

Deno.test("step() negotiates the transmit interval as max(our Desired Min TX, their Required Min RX)", () => {
  const s = upSession();
  const slowPeer = run(s, received(peer({ state: "Up", requiredMinRxUs: 500_000 })), 1_000).session;
  assertEquals(transmitIntervalUs(slowPeer), 500_000);
  const fastPeer = run(s, received(peer({ state: "Up", requiredMinRxUs: 50_000 })), 1_000).session;
  assertEquals(transmitIntervalUs(fastPeer), 300_000);
});

Deno.test("step() computes the detection time from the peer's Detect Mult and max(our RX, its TX)", () => {
  const s = upSession();
  const r = run(s, received(peer({ state: "Up", detectMult: 5, desiredMinTxUs: 400_000 })), 1_000);
  assertEquals(detectionTimeUs(r.session), 5 * 400_000);
  assertEquals(armed(r.actions, "detection"), 1_000 + 2_000);
  const r2 = run(s, received(peer({ state: "Up", detectMult: 2, desiredMinTxUs: 100_000 })), 1_000);
  assertEquals(detectionTimeUs(r2.session), 2 * 300_000);
});

Deno.test("step() stops periodic packets when the peer's Required Min RX is 0", () => {
  const s = upSession();
  const r = run(s, received(peer({ state: "Up", requiredMinRxUs: 0 })), 1_000);
  assertEquals(r.session.transmitAt, undefined);
  assertEquals(r.actions.some((a) => a.type === "cancelTimer" && a.timer === "transmit"), true);
  // It resumes when the peer asks again.
  const again = run(r.session, received(peer({ state: "Up", requiredMinRxUs: 300_000 })), 1_100);
  assertEquals(armed(again.actions, "transmit") !== undefined, true);
});

Deno.test("step() stops periodic packets while the peer runs Demand mode and both sides are Up", () => {
  const r = run(upSession(), received(peer({ state: "Up", demand: true })), 1_000);
  assertEquals(transmitIntervalUs(r.session), undefined);
  assertEquals(r.session.transmitAt, undefined);
});

Deno.test("step() discards a packet for another discriminator", () => {
  const s = upSession();
  const r = run(s, received(peer({ state: "Up", yourDiscriminator: 99 })), 1_000);
  assertEquals(r.actions, [{ type: "discard", reason: "Your Discriminator 99 is not ours" }]);
  assertEquals(r.session, s);
});

Deno.test("step() adminDown sends AdminDown with diagnostic 7, discards packets, and adminUp returns to Down", () => {
  const down = run(upSession(), { type: "adminDown" }, 1_000);
  assertEquals(stateChanges(down.actions), [["Up", "AdminDown", Diagnostic.AdministrativelyDown]]);
  const [packet] = sends(down.actions);
  assertEquals([packet.state, packet.diagnostic, packet.desiredMinTxUs], ["AdminDown", 7, 1_000_000]);
  assertEquals(down.session.detectAt, undefined);
  const ignored = run(down.session, received(peer({ state: "Up" })), 1_100);
  assertEquals(ignored.actions, [{ type: "discard", reason: "session is administratively down" }]);
  // Periodic AdminDown packets continue at the slow rate.
  assertEquals(sends(run(down.session, EXPIRED_TX, down.session.transmitAt!).actions)[0].state, "AdminDown");
  const up = run(down.session, { type: "adminUp" }, 2_000);
  assertEquals(stateChanges(up.actions), [["AdminDown", "Down", Diagnostic.None]]);
  assertEquals(armed(up.actions, "transmit"), 2_000);
});

Deno.test("step() holds a higher Desired Min TX back until the Poll Sequence ends", () => {
  const s = upSession();
  const r = run(s, { type: "configure", parameters: { ...FAST, desiredMinTxUs: 600_000 } }, 1_000);
  assertEquals([r.session.desiredMinTxUs, r.session.txInEffectUs, r.session.pollActive], [
    600_000,
    300_000,
    true,
  ]);
  assertEquals(transmitIntervalUs(r.session), 300_000);
  const tx = run(r.session, EXPIRED_TX, r.session.transmitAt!);
  const [packet] = sends(tx.actions);
  assertEquals([packet.poll, packet.desiredMinTxUs], [true, 600_000]);
  const fin = run(tx.session, received(peer({ state: "Up", final: true })), 1_400);
  assertEquals([fin.session.pollActive, transmitIntervalUs(fin.session)], [false, 600_000]);
});

Deno.test("step() applies a lower Desired Min TX at once, still with a Poll Sequence", () => {
  const r = run(upSession(), { type: "configure", parameters: { ...FAST, desiredMinTxUs: 100_000 } }, 1_000);
  // Its Required Min RX (300 ms) still bounds the interval.
  assertEquals([r.session.txInEffectUs, r.session.pollActive, transmitIntervalUs(r.session)], [
    100_000,
    true,
    300_000,
  ]);
});

Deno.test("step() keeps the old Required Min RX in the detection time until the Poll Sequence ends", () => {
  const s = upSession();
  const r = run(s, { type: "configure", parameters: { ...FAST, requiredMinRxUs: 100_000 } }, 1_000);
  const heard = run(r.session, received(peer({ state: "Up", desiredMinTxUs: 100_000 })), 1_100);
  assertEquals(detectionTimeUs(heard.session), 3 * 300_000);
  const fin = run(
    heard.session,
    received(peer({ state: "Up", desiredMinTxUs: 100_000, final: true })),
    1_200,
  );
  assertEquals(detectionTimeUs(fin.session), 3 * 100_000);
  assertEquals(armed(fin.actions, "detection"), 1_200 + 300);
});

Deno.test("step() applies a higher Required Min RX at once", () => {
  const r = run(upSession(), { type: "configure", parameters: { ...FAST, requiredMinRxUs: 900_000 } }, 1_000);
  assertEquals(r.session.rxInEffectUs, 900_000);
  assertEquals(r.session.pollActive, true);
});

Deno.test("step() starts another Poll Sequence when timers change during one", () => {
  const s = upSession();
  const first = run(s, { type: "configure", parameters: { ...FAST, desiredMinTxUs: 400_000 } }, 1_000);
  const second = run(
    first.session,
    { type: "configure", parameters: { ...FAST, desiredMinTxUs: 500_000 } },
    1_010,
  );
  assertEquals([second.session.pollActive, second.session.pollPending], [true, true]);
  const fin1 = run(second.session, received(peer({ state: "Up", final: true })), 1_100);
  assertEquals([fin1.session.pollActive, fin1.session.pollPending], [true, false]);
  const fin2 = run(fin1.session, received(peer({ state: "Up", final: true })), 1_200);
  assertEquals([fin2.session.pollActive, fin2.session.txInEffectUs], [false, 500_000]);
});

Deno.test("step() ignores a Final when no Poll Sequence is running", () => {
  const s = upSession();
  const r = run(s, received(peer({ state: "Up", final: true })), 1_000);
  assertEquals([r.session.state, r.session.pollActive, stateChanges(r.actions)], ["Up", false, []]);
});

Deno.test("step() with the peer's 300 ms × 3 timers detects a silent peer within 900 ms of its last packet", () => {
  // Replays a session: packets every 300 ms until t=3000, then silence; timers fire exactly when armed.
  let s = upSession();
  let detectAt: number | undefined;
  for (let t = 300; t <= 3_000; t += 300) {
    const r = run(s, received(peer({ state: "Up" })), t);
    s = r.session;
    detectAt = armed(r.actions, "detection") ?? detectAt;
  }
  const r = run(s, EXPIRED_DETECT, detectAt!);
  assertEquals(r.session.state, "Down");
  assertEquals(detectAt! - 3_000, 900);
});
