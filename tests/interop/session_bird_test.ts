import { assertEquals } from "../session/assert.ts";
import { startBird } from "../harness/bird.ts";
import { Topology } from "../harness/topology.ts";
import { startEngine } from "./engine_runner.ts";

const FAST = { backoffBaseMs: 200, backoffMaxMs: 2000 };

Deno.test("BIRD holds our IPv4 prefixes over eBGP with AS_PATH [our AS] and our next hop", async () => {
  await using topo = await Topology.create({ hosts: 2 });
  const [h1, h2] = [topo.host(1), topo.host(2)];
  const bird = await startBird(topo, {
    host: h2,
    asn: 65002,
    neighbors: [{ address: h1.ipv4, peerAs: 65001, holdTime: 3 }],
  });
  const engine = await startEngine(topo, h1, {
    asn: 65001,
    routerId: h1.ipv4,
    holdTime: 3,
    neighbors: [{ address: h2.ipv4, asn: 65002 }],
    timing: FAST,
    desired: ["203.0.113.0/24", "198.51.100.7/32"],
  });
  await engine.waitEstablished(h2.ipv4);
  const routes = await bird.waitForRoutes("ipv4", (rs) => rs.length === 2);
  assertEquals(
    routes.map((r) => [r.prefix, r.nextHop, r.asPath, r.localPref ?? 100, r.origin]).sort(),
    [
      ["198.51.100.7/32", h1.ipv4, [65001], 100, "igp"],
      ["203.0.113.0/24", h1.ipv4, [65001], 100, "igp"],
    ],
  );
  await engine.setDesired(["203.0.113.0/24", "198.51.100.8/32"]);
  const after = await bird.waitForRoutes("ipv4", (rs) => rs.some((r) => r.prefix === "198.51.100.8/32"));
  assertEquals(after.map((r) => r.prefix).sort(), ["198.51.100.8/32", "203.0.113.0/24"]);
});
