import { assert, assertEquals } from "../assert.ts";
import {
  backoffDelay,
  type FsmAction,
  type FsmConfig,
  type FsmEvent,
  type FsmState,
  initialState,
  LARGE_HOLD_TIME_MS,
  negotiateHoldTime,
  resolveCollision,
  type SessionState,
  step,
} from "../../lib/session/fsm.ts";

const ACTIVE: FsmConfig = { holdTime: 90, passive: false, backoffBaseMs: 1000, backoffMaxMs: 8000 };

function run(state: FsmState, events: FsmEvent[], now = 0): { state: FsmState; actions: FsmAction[] } {
  let s = state;
  const actions: FsmAction[] = [];
  for (const e of events) {
    const r = step(s, e, now);
    s = r.state;
    actions.push(...r.actions);
  }
  return { state: s, actions };
}

function types(actions: readonly FsmAction[]): string[] {
  return actions.filter((a) => a.type !== "stateChange" && a.type !== "cancelTimer").map((a) =>
    a.type === "armTimer" ? `arm:${a.timer}` : a.type
  );
}

function notification(actions: readonly FsmAction[]): [number, number] | undefined {
  const n = actions.find((a) => a.type === "sendNotification");
  return n?.type === "sendNotification" ? [n.notification.code, n.notification.subcode] : undefined;
}

function established(config: FsmConfig = ACTIVE, peerHoldTime = 90): FsmState {
  return run(initialState(config), [
    { type: "ManualStart" },
    { type: "Tcp_CR_Acked" },
    { type: "BGPOpen", peerHoldTime },
    { type: "KeepAliveMsg" },
  ]).state;
}

function inState(state: SessionState): FsmState {
  const path: Record<SessionState, FsmEvent[]> = {
    Idle: [],
    Connect: [{ type: "ManualStart" }],
    Active: [],
    OpenSent: [{ type: "ManualStart" }, { type: "Tcp_CR_Acked" }],
    OpenConfirm: [{ type: "ManualStart" }, { type: "Tcp_CR_Acked" }, { type: "BGPOpen", peerHoldTime: 90 }],
    Established: [
      { type: "ManualStart" },
      { type: "Tcp_CR_Acked" },
      { type: "BGPOpen", peerHoldTime: 90 },
      { type: "KeepAliveMsg" },
    ],
  };
  if (state === "Active") {
    return run(initialState({ ...ACTIVE, passive: true }), [{ type: "ManualStart" }]).state;
  }
  const s = run(initialState(ACTIVE), path[state]).state;
  assertEquals(s.state, state);
  return s;
}

Deno.test("step() connects at once on ManualStart and arms the connect retry timer", () => {
  const { state, actions } = step(initialState(ACTIVE), { type: "ManualStart" }, 1000);
  assertEquals(state.state, "Connect");
  assert(actions.some((a) => a.type === "connect"));
  assert(actions.some((a) => a.type === "armTimer" && a.timer === "connectRetry" && a.at === 6000));
});

Deno.test("step() waits in Active without connecting when passive", () => {
  const { state, actions } = step(initialState({ ...ACTIVE, passive: true }), { type: "ManualStart" }, 0);
  assertEquals(state.state, "Active");
  assert(!actions.some((a) => a.type === "connect"));
  const r = step(state, { type: "ConnectRetryTimer_Expires" }, 10);
  assertEquals(r.state.state, "Active");
  assertEquals(step(state, { type: "TcpConnectionConfirmed" }, 0).state.state, "OpenSent");
});

Deno.test("step() retries the connection in Connect when the connect retry timer expires", () => {
  const s = inState("Connect");
  const { state, actions } = step(s, { type: "ConnectRetryTimer_Expires" }, 5000);
  assertEquals(state.state, "Connect");
  assertEquals(types(actions), ["dropConnection", "arm:connectRetry", "connect"]);
});

Deno.test("step() sends OPEN with a 4 minute hold timer once TCP is up", () => {
  for (const e of ["Tcp_CR_Acked", "TcpConnectionConfirmed"] as const) {
    const { state, actions } = step(inState("Connect"), { type: e }, 100);
    assertEquals(state.state, "OpenSent");
    assertEquals(types(actions), ["sendOpen", "arm:hold"]);
    assert(
      actions.some((a) => a.type === "armTimer" && a.timer === "hold" && a.at === 100 + LARGE_HOLD_TIME_MS),
    );
  }
});

Deno.test("step() ignores connections and messages in Idle but refuses incoming TCP", () => {
  const s = initialState(ACTIVE);
  for (
    const e of [
      { type: "KeepAliveMsg" },
      { type: "HoldTimer_Expires" },
      { type: "IdleHoldTimer_Expires" },
    ] as FsmEvent[]
  ) {
    const r = step(s, e, 0);
    assertEquals(r.state.state, "Idle");
    assertEquals(r.actions.length, 0);
  }
  const r = step(s, { type: "TcpConnectionConfirmed" }, 0);
  assertEquals(r.state.state, "Idle");
  assertEquals(types(r.actions), ["dropConnection"]);
});

Deno.test("step() goes OpenSent → OpenConfirm → Established with the negotiated timers", () => {
  const sent = inState("OpenSent");
  const r1 = step(sent, { type: "BGPOpen", peerHoldTime: 9 }, 1000);
  assertEquals(r1.state.state, "OpenConfirm");
  assertEquals(r1.state.holdTime, 9);
  assertEquals(types(r1.actions), ["sendKeepalive", "arm:keepalive", "arm:hold"]);
  assert(r1.actions.some((a) => a.type === "armTimer" && a.timer === "keepalive" && a.at === 4000));
  assert(r1.actions.some((a) => a.type === "armTimer" && a.timer === "hold" && a.at === 10000));
  const r2 = step(r1.state, { type: "KeepAliveMsg" }, 2000);
  assertEquals(r2.state.state, "Established");
  assert(r2.actions.some((a) => a.type === "sessionUp" && a.holdTime === 9 && a.keepaliveMs === 3000));
  assert(r2.actions.some((a) => a.type === "armTimer" && a.timer === "hold" && a.at === 11000));
});

Deno.test("step() negotiates hold time 0 as no keepalives and no hold timer", () => {
  const r = step(inState("OpenSent"), { type: "BGPOpen", peerHoldTime: 0 }, 0);
  assertEquals(r.state.holdTime, 0);
  assert(!r.actions.some((a) => a.type === "armTimer"));
  const up = step(r.state, { type: "KeepAliveMsg" }, 0);
  assertEquals(up.state.state, "Established");
  assert(!up.actions.some((a) => a.type === "armTimer"));
});

Deno.test("step() refuses a peer hold time of 1 or 2 with NOTIFICATION 2/6", () => {
  for (const peerHoldTime of [1, 2]) {
    const r = step(inState("OpenSent"), { type: "BGPOpen", peerHoldTime }, 0);
    assertEquals(r.state.state, "Idle");
    assertEquals(notification(r.actions), [2, 6]);
    assert(r.actions.some((a) => a.type === "dropConnection"));
  }
});

Deno.test("negotiateHoldTime() takes the smaller side and a third for keepalives", () => {
  assertEquals(negotiateHoldTime(90, 180), { ok: true, holdTime: 90, keepaliveMs: 30000 });
  assertEquals(negotiateHoldTime(90, 3), { ok: true, holdTime: 3, keepaliveMs: 1000 });
  assertEquals(negotiateHoldTime(0, 90), { ok: true, holdTime: 0, keepaliveMs: 0 });
  assertEquals(negotiateHoldTime(90, 1).ok, false);
  assertEquals(negotiateHoldTime(90, 2).ok, false);
});

Deno.test("step() restarts the hold timer on KEEPALIVE, UPDATE and ROUTE-REFRESH in Established", () => {
  const s = established(ACTIVE, 30);
  for (const type of ["KeepAliveMsg", "UpdateMsg", "RouteRefreshMsg"] as const) {
    const r = step(s, { type }, 5000);
    assertEquals(r.state.state, "Established");
    assertEquals(r.actions, [{ type: "armTimer", timer: "hold", at: 35000 }]);
  }
});

Deno.test("step() sends a KEEPALIVE and re-arms when the keepalive timer expires", () => {
  for (const st of ["OpenConfirm", "Established"] as const) {
    const r = step(inState(st), { type: "KeepaliveTimer_Expires" }, 1000);
    assertEquals(r.state.state, st);
    assertEquals(r.actions, [{ type: "sendKeepalive" }, { type: "armTimer", timer: "keepalive", at: 31000 }]);
  }
});

Deno.test("step() sends NOTIFICATION 4/0 when the hold timer expires after TCP is up", () => {
  for (const st of ["OpenSent", "OpenConfirm", "Established"] as const) {
    const r = step(inState(st), { type: "HoldTimer_Expires" }, 0);
    assertEquals(r.state.state, "Idle");
    assertEquals(notification(r.actions), [4, 0]);
    assertEquals(r.actions.some((a) => a.type === "sessionDown"), st === "Established");
  }
});

Deno.test("step() answers unexpected messages with the RFC 6608 FSM error subcode", () => {
  assertEquals(notification(step(inState("OpenSent"), { type: "KeepAliveMsg" }, 0).actions), [5, 1]);
  assertEquals(notification(step(inState("OpenConfirm"), { type: "UpdateMsg" }, 0).actions), [5, 2]);
  assertEquals(
    notification(step(inState("Established"), { type: "BGPOpen", peerHoldTime: 90 }, 0).actions),
    [5, 3],
  );
});

Deno.test("step() drops the session without NOTIFICATION when the peer sends one or TCP fails", () => {
  for (const st of ["OpenSent", "OpenConfirm", "Established"] as const) {
    for (const e of [{ type: "NotifMsg" }, { type: "TcpConnectionFails" }] as FsmEvent[]) {
      const r = step(inState(st), e, 0);
      assertEquals(r.state.state, "Idle");
      assertEquals(notification(r.actions), undefined);
      assert(r.actions.some((a) => a.type === "dropConnection"));
      assert(r.actions.some((a) => a.type === "armTimer" && a.timer === "idleHold"));
    }
  }
  const r = step(inState("Connect"), { type: "TcpConnectionFails", reason: "refused" }, 0);
  assertEquals(r.state.state, "Idle");
  assert(r.actions.some((a) => a.type === "stateChange" && a.reason === "TCP connection failed: refused"));
});

Deno.test("step() sends the NOTIFICATION carried by header, OPEN and UPDATE errors", () => {
  const n = { code: 2, subcode: 2 };
  assertEquals(
    notification(step(inState("OpenSent"), { type: "BGPOpenMsgErr", notification: n }, 0).actions),
    [
      2,
      2,
    ],
  );
  const h = { code: 1, subcode: 2 };
  assertEquals(
    notification(step(inState("Established"), { type: "BGPHeaderErr", notification: h }, 0).actions),
    [
      1,
      2,
    ],
  );
  const u = { code: 3, subcode: 1 };
  const r = step(inState("Established"), { type: "UpdateMsgErr", notification: u }, 0);
  assertEquals(notification(r.actions), [3, 1]);
  assert(r.actions.some((a) => a.type === "sessionDown"));
});

Deno.test("step() sends Cease 6/2 with the shutdown message on ManualStop, none when graceful", () => {
  const r = step(inState("Established"), { type: "ManualStop", shutdownMessage: "bye" }, 0);
  assertEquals(r.state.state, "Idle");
  assertEquals(r.state.started, false);
  const n = r.actions.find((a) => a.type === "sendNotification");
  assert(n?.type === "sendNotification" && n.notification.shutdownMessage === "bye");
  assertEquals(notification(r.actions), [6, 2]);
  assert(!r.actions.some((a) => a.type === "armTimer"));
  const g = step(inState("Established"), { type: "ManualStop", graceful: true }, 0);
  assertEquals(notification(g.actions), undefined);
  assert(g.actions.some((a) => a.type === "dropConnection"));
  assertEquals(step(inState("Connect"), { type: "ManualStop" }, 0).state.state, "Idle");
  assertEquals(notification(step(inState("Connect"), { type: "ManualStop" }, 0).actions), undefined);
});

Deno.test("step() does not restart after ManualStop when an idle hold timer fires late", () => {
  const stopped = step(inState("Established"), { type: "ManualStop" }, 0).state;
  const r = step(stopped, { type: "IdleHoldTimer_Expires" }, 10_000);
  assertEquals(r.state.state, "Idle");
  assertEquals(r.actions.length, 0);
});

Deno.test("step() restarts after the idle hold time with a backoff that grows with failures", () => {
  let s = inState("Connect");
  const delays: number[] = [];
  let now = 0;
  for (let i = 0; i < 6; i++) {
    const r = step(s, { type: "TcpConnectionFails" }, now);
    const arm = r.actions.find((a) => a.type === "armTimer" && a.timer === "idleHold");
    assert(arm?.type === "armTimer");
    delays.push(arm.at - now);
    now = arm.at;
    const again = step(r.state, { type: "IdleHoldTimer_Expires" }, now);
    assertEquals(again.state.state, "Connect");
    assert(again.actions.some((a) => a.type === "connect"));
    s = again.state;
  }
  // At once after the first failure, then base 1 s doubling up to the 8 s cap, minus at most 25 % jitter.
  const nominal = [0, 1000, 2000, 4000, 8000, 8000];
  delays.forEach((d, i) => assert(d <= nominal[i] && d >= nominal[i] * 0.75, `delay ${i}: ${d}`));
  assertEquals(s.failures, 6);
});

Deno.test("step() resets the backoff after a session that stayed up for the stable period", () => {
  let s = inState("Connect");
  for (let i = 0; i < 4; i++) {
    s = run(s, [{ type: "TcpConnectionFails" }, { type: "IdleHoldTimer_Expires" }]).state;
  }
  assertEquals(s.failures, 4);
  const up = run(s, [
    { type: "Tcp_CR_Acked" },
    { type: "BGPOpen", peerHoldTime: 90 },
    { type: "KeepAliveMsg" },
  ], 0).state;
  assertEquals(up.state, "Established");
  // A flap shortly after coming up keeps growing the backoff (damping).
  assertEquals(step(up, { type: "NotifMsg" }, 10_000).state.failures, 5);
  // A session that lasted the stable period (default 60 s) starts over.
  assertEquals(step(up, { type: "NotifMsg" }, 61_000).state.failures, 1);
});

Deno.test("backoffDelay() is capped and jittered by the injected random value", () => {
  assertEquals(backoffDelay(ACTIVE, 1, 0), 1000);
  assertEquals(backoffDelay(ACTIVE, 1, 0.999999), 750);
  assertEquals(backoffDelay(ACTIVE, 10, 0), 8000);
  assertEquals(backoffDelay(ACTIVE, 1000, 0), 8000);
});

Deno.test("step() is deterministic for a given seed", () => {
  const a = step(inState("Established"), { type: "NotifMsg" }, 0);
  const b = step(inState("Established"), { type: "NotifMsg" }, 0);
  assertEquals(a, b);
});

Deno.test("step() dumps a connection on collision with Cease 6/7", () => {
  for (const st of ["OpenSent", "OpenConfirm", "Established"] as const) {
    assertEquals(notification(step(inState(st), { type: "OpenCollisionDump" }, 0).actions), [6, 7]);
  }
});

Deno.test("resolveCollision() keeps the connection of the higher BGP identifier", () => {
  assertEquals(resolveCollision("10.0.0.2", "10.0.0.1"), "locallyInitiated");
  assertEquals(resolveCollision("10.0.0.1", "10.0.0.2"), "remotelyInitiated");
  // Identifiers compare as unsigned integers, not as text.
  assertEquals(resolveCollision("200.0.0.1", "9.0.0.1"), "locallyInitiated");
  assertEquals(resolveCollision("128.0.0.0", "127.255.255.255"), "locallyInitiated");
});

Deno.test("step() ignores ManualStart when already started", () => {
  for (const st of ["Connect", "Active", "OpenSent", "OpenConfirm", "Established"] as const) {
    const s = inState(st);
    const r = step(s, { type: "ManualStart" }, 0);
    assertEquals(r.state, s);
    assertEquals(r.actions.length, 0);
  }
});

Deno.test("step() sends Cease / Administrative Reset (6/4) when stopping for a reset", () => {
  const r = step(inState("Established"), {
    type: "ManualStop",
    ceaseSubcode: 4,
    shutdownMessage: "BFD is down",
  }, 0);
  assertEquals(notification(r.actions), [6, 4]);
  assertEquals(step(r.state, { type: "ManualStart" }, 0).state.state, "Connect");
});
