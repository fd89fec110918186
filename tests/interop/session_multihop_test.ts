import { assert, assertEquals } from "../assert.ts";
import { startBird } from "../harness/bird.ts";
import { Topology } from "../harness/topology.ts";
import { delay } from "../harness/wait.ts";
import { startEngine } from "./engine_runner.ts";

const FAST = { backoffBaseMs: 200, backoffMaxMs: 1000 };

Deno.test("eBGP through a routed hop fails with TTL 1 and works with multihop 2", async () => {
  await using topo = await Topology.create({ hosts: 1, farHosts: 1 });
  const [h1, f1] = [topo.host(1), topo.farHost(1)];
  // BIRD is passive so that only our TTL decides whether the session comes up.
  const bird = await startBird(topo, {
    host: f1,
    asn: 65002,
    neighbors: [{ address: h1.ipv4, peerAs: 65001, holdTime: 3, multihop: 2, passive: true }],
  });
  const config = {
    asn: 65001,
    routerId: h1.ipv4,
    holdTime: 3,
    neighbors: [{ address: f1.ipv4, asn: 65002 }],
    connectTimeoutMs: 1000,
    timing: FAST,
    desired: ["203.0.113.0/24"],
  };
  const singleHop = await startEngine(topo, h1, config, "single");
  await delay(2500);
  const down = await singleHop.status();
  assert(down !== undefined && down.peers[0].state !== "Established", JSON.stringify(down));
  assert((await bird.sessionState(h1.ipv4)) !== "established");
  await singleHop.process.stop();

  const multihop = await startEngine(topo, h1, { ...config, ebgpMultihop: 2 }, "multi");
  await multihop.waitEstablished(f1.ipv4);
  const routes = await bird.waitForRoutes("ipv4", (rs) => rs.length === 1);
  assertEquals(routes.map((r) => [r.prefix, r.nextHop, r.asPath]), [["203.0.113.0/24", h1.ipv4, [65001]]]);
});
