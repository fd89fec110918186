import { assert, assertEquals } from "../assert.ts";
import { requireTools } from "../harness/tools.ts";
import { Topology } from "../harness/topology.ts";
import { FrrBfdd } from "../bfd/bfd_peers.ts";
import { startBfdRunner } from "../bfd/bfd_runner.ts";

const TIMERS = { desiredMinTxUs: 300_000, requiredMinRxUs: 300_000, detectMult: 3 };
/** 3 × 300 ms. */
const DETECTION_MS = 900;
/** Timer and scheduling latency allowed on top of the detection time (2 shared cores). */
const SLACK_MS = 250;

Deno.test("BFD with FRR bfdd: IPv4 and IPv6 sessions come Up, a cut link is detected within 3 x 300 ms, and they recover", async () => {
  requireTools(["ip", "vtysh", "/usr/lib/frr/bgpd"]);
  await using topo = await Topology.create({ hosts: 2 });
  const [h1, h2] = [topo.host(1), topo.host(2)];
  const spec = { minRxMs: 300, minTxMs: 300, multiplier: 3 };
  const frr = await FrrBfdd.start(topo, h2, [
    { address: h1.ipv4, localAddress: h2.ipv4, ...spec },
    { address: h1.ipv6, localAddress: h2.ipv6, ...spec },
  ]);
  const bfd = await startBfdRunner(topo, h1, {
    parameters: TIMERS,
    peers: [{ address: h2.ipv4 }, { address: h2.ipv6 }],
  });
  const peers = [h2.ipv4, h2.ipv6];

  const up = await bfd.waitUp(peers);
  await frr.waitState(h1.ipv4, "up");
  await frr.waitState(h1.ipv6, "up");
  const settled = await bfd.waitFor(
    "the Poll Sequences to end",
    (s) => s.peers.every((p) => !p.pollActive && p.remoteDesiredMinTxMs === 300),
  );
  for (const p of settled.peers) {
    assertEquals([p.state, p.remoteState, p.transmitIntervalMs, p.detectionTimeMs], [
      "Up",
      "Up",
      300,
      DETECTION_MS,
    ]);
  }
  assertEquals(up.events.map((e) => [e.peer, e.up]).sort(), peers.map((p) => [p, true]).sort());

  // Cut FRR's cable: both sessions must be declared down by our side within the detection time.
  const cutAt = Date.now();
  await topo.cutLink(h2);
  const down = await bfd.waitFor(
    "both sessions to go down",
    (s) => s.events.filter((e) => !e.up).length === 2,
    5_000,
  );
  for (const peer of peers) {
    const event = down.events.find((e) => e.peer === peer && !e.up)!;
    const status = down.peers.find((p) => p.peer === peer)!;
    const fromCut = event.at - cutAt;
    const silence = status.lastStateChangeAt - status.lastReceivedAt;
    console.log(
      `BFD ${peer}: down ${fromCut} ms after the cut, ${silence} ms after the last packet (detection time ${DETECTION_MS} ms)`,
    );
    assertEquals([event.diagnostic, status.localDiagnostic, status.failureTransitions], [1, 1, 1]);
    assert(silence >= DETECTION_MS - 5, `declared down after only ${silence} ms of silence`);
    assert(silence <= DETECTION_MS + SLACK_MS, `declared down after ${silence} ms of silence`);
    assert(fromCut <= DETECTION_MS + SLACK_MS, `declared down ${fromCut} ms after the cut`);
  }

  await topo.restoreLink(h2);
  const back = await bfd.waitUp(peers, 15_000);
  await frr.waitState(h1.ipv4, "up");
  await frr.waitState(h1.ipv6, "up");
  assertEquals(back.events.filter((e) => e.up).length, 4);
  for (const p of back.peers) assertEquals([p.failureTransitions, p.sendErrors >= 0], [1, true]);
});
