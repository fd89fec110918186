import { assert, assertEquals } from "../assert.ts";
import { startBird } from "../harness/bird.ts";
import { startGobgpd } from "../harness/gobgpd.ts";
import { Topology } from "../harness/topology.ts";
import { delay, waitFor } from "../harness/wait.ts";
import { startEngine } from "./engine_runner.ts";

const FAST = { backoffBaseMs: 200, backoffMaxMs: 2000 };

Deno.test("passive mode accepts the configured router dialling in and rejects an unknown address", async () => {
  await using topo = await Topology.create({ hosts: 3 });
  const [h1, h2, h3] = [topo.host(1), topo.host(2), topo.host(3)];
  const engine = await startEngine(topo, h1, {
    asn: 65001,
    routerId: h1.ipv4,
    holdTime: 3,
    passive: true,
    listen: { addresses: ["::"], port: 179 },
    neighbors: [{ address: h2.ipv4, asn: 65002 }],
    timing: FAST,
    desired: ["203.0.113.0/24"],
  });
  const bird = await startBird(topo, {
    host: h2,
    asn: 65002,
    neighbors: [{ address: h1.ipv4, peerAs: 65001, holdTime: 3 }],
  });
  const stranger = await startGobgpd(topo, {
    host: h3,
    asn: 65003,
    neighbors: [{ address: h1.ipv4, peerAs: 65001, holdTime: 3 }],
  });
  await engine.waitEstablished(h2.ipv4);
  const routes = await bird.waitForRoutes("ipv4", (rs) => rs.length === 1);
  assertEquals(routes.map((r) => [r.prefix, r.nextHop, r.asPath]), [["203.0.113.0/24", h1.ipv4, [65001]]]);
  // The stranger's connections are closed with Cease / Connection Rejected, so it never gets further.
  await waitFor(
    "the engine to reject the unknown address",
    async () =>
      (await engine.process.logTail(20_000)).includes("connection from an unknown address rejected"),
    { timeoutMs: 10_000, diagnostics: () => engine.process.logTail(4000) },
  );
  await delay(1000);
  assert((await stranger.sessionState(h1.ipv4)) !== "established");
  const status = await engine.status();
  assertEquals(status?.peers.map((p) => p.address), [h2.ipv4]);
});

Deno.test("passive mode never connects by itself", async () => {
  await using topo = await Topology.create({ hosts: 2 });
  const [h1, h2] = [topo.host(1), topo.host(2)];
  // BIRD is passive too: neither side dials, so the session must stay down.
  await startBird(topo, {
    host: h2,
    asn: 65002,
    neighbors: [{ address: h1.ipv4, peerAs: 65001, holdTime: 3, passive: true }],
  });
  const engine = await startEngine(topo, h1, {
    asn: 65001,
    routerId: h1.ipv4,
    holdTime: 3,
    passive: true,
    listen: { addresses: ["::"], port: 179 },
    neighbors: [{ address: h2.ipv4, asn: 65002 }],
    timing: FAST,
  });
  await waitFor("engine status", () => engine.status(), { timeoutMs: 10_000 });
  await delay(1500);
  const status = await engine.status();
  assertEquals(status?.peers[0].state, "Active");
});
