import { assert, assertEquals } from "../assert.ts";
import { requireTools } from "../harness/tools.ts";
import { Topology } from "../harness/topology.ts";
import { BirdBfd } from "../bfd/bfd_peers.ts";
import { startBfdRunner } from "../bfd/bfd_runner.ts";

const TIMERS = { desiredMinTxUs: 300_000, requiredMinRxUs: 300_000, detectMult: 3 };
const DETECTION_MS = 900;
const SLACK_MS = 250;

Deno.test("BFD with BIRD: IPv4 and IPv6 sessions come Up, a cut link is detected within 3 x 300 ms, and they recover", async () => {
  requireTools(["ip", "bird", "birdc"]);
  await using topo = await Topology.create({ hosts: 2 });
  const [h1, h2] = [topo.host(1), topo.host(2)];
  const spec = { minRxMs: 300, minTxMs: 300, multiplier: 3 };
  const bird = await BirdBfd.start(topo, h2, [
    { address: h1.ipv4, localAddress: h2.ipv4, ...spec },
    { address: h1.ipv6, localAddress: h2.ipv6, ...spec },
  ]);
  const bfd = await startBfdRunner(topo, h1, {
    parameters: TIMERS,
    peers: [{ address: h2.ipv4, localAddress: h1.ipv4 }, { address: h2.ipv6, localAddress: h1.ipv6 }],
  });
  const peers = [h2.ipv4, h2.ipv6];

  await bfd.waitUp(peers);
  await bird.waitState(h1.ipv4, "up");
  await bird.waitState(h1.ipv6, "up");
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
    assertEquals([event.diagnostic, status.failureTransitions], [1, 1]);
    assert(silence >= DETECTION_MS - 5 && silence <= DETECTION_MS + SLACK_MS, `${silence} ms of silence`);
    assert(fromCut <= DETECTION_MS + SLACK_MS, `declared down ${fromCut} ms after the cut`);
  }

  await topo.restoreLink(h2);
  await bfd.waitUp(peers, 15_000);
  await bird.waitState(h1.ipv4, "up");
  await bird.waitState(h1.ipv6, "up");
});

Deno.test("BFD with BIRD: stopping our service sends AdminDown and BIRD takes its sessions down at once", async () => {
  requireTools(["ip", "bird", "birdc"]);
  await using topo = await Topology.create({ hosts: 2 });
  const [h1, h2] = [topo.host(1), topo.host(2)];
  const bird = await BirdBfd.start(topo, h2, [
    { address: h1.ipv4, localAddress: h2.ipv4, minRxMs: 1000, minTxMs: 1000, multiplier: 5 },
  ]);
  const bfd = await startBfdRunner(topo, h1, { parameters: TIMERS, peers: [{ address: h2.ipv4 }] });
  await bfd.waitUp([h2.ipv4]);
  await bird.waitState(h1.ipv4, "up");
  const stoppedAt = Date.now();
  await bfd.process.stop();
  // BIRD's own detection time is 5 s here: going down well before it proves the AdminDown was heard.
  await bird.waitState(h1.ipv4, "down", 2_000);
  console.log(`BIRD down ${Date.now() - stoppedAt} ms after our service stopped`);
});
