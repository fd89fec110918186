import { assertEquals } from "../assert.ts";
import { startGobgpd } from "../harness/gobgpd.ts";
import { Topology } from "../harness/topology.ts";
import { startEngine } from "./engine_runner.ts";

const FAST = { backoffBaseMs: 200, backoffMaxMs: 2000 };

Deno.test("gobgpd holds our IPv4 prefixes over iBGP with an empty AS_PATH and LOCAL_PREF 100", async () => {
  await using topo = await Topology.create({ hosts: 2 });
  const [h1, h2] = [topo.host(1), topo.host(2)];
  const gobgpd = await startGobgpd(topo, {
    host: h2,
    asn: 65001,
    neighbors: [{ address: h1.ipv4, peerAs: 65001, holdTime: 3 }],
  });
  const engine = await startEngine(topo, h1, {
    asn: 65001,
    routerId: h1.ipv4,
    holdTime: 3,
    neighbors: [{ address: h2.ipv4, asn: 65001 }],
    timing: FAST,
    desired: ["203.0.113.0/24", "198.51.100.1/32"],
  });
  await engine.waitEstablished(h2.ipv4);
  const routes = await gobgpd.waitForRoutes("ipv4", (rs) => rs.length === 2);
  assertEquals(
    routes.map((r) => [r.prefix, r.nextHop, r.asPath, r.localPref, r.origin]).sort(),
    [
      ["198.51.100.1/32", h1.ipv4, [], 100, "igp"],
      ["203.0.113.0/24", h1.ipv4, [], 100, "igp"],
    ],
  );
});

Deno.test("gobgpd holds our IPv6 prefixes over eBGP from a 4-octet AS", async () => {
  await using topo = await Topology.create({ hosts: 2 });
  const [h1, h2] = [topo.host(1), topo.host(2)];
  const gobgpd = await startGobgpd(topo, {
    host: h2,
    asn: 65002,
    neighbors: [{ address: h1.ipv6, peerAs: 4200000001, holdTime: 3 }],
  });
  const engine = await startEngine(topo, h1, {
    asn: 4200000001,
    routerId: h1.ipv4,
    holdTime: 3,
    neighbors: [{ address: h2.ipv6, asn: 65002 }],
    timing: FAST,
    desired: ["2001:db8:5::/48"],
  });
  await engine.waitEstablished(h2.ipv6);
  const routes = await gobgpd.waitForRoutes("ipv6", (rs) => rs.length === 1);
  assertEquals(routes.map((r) => [r.prefix, r.nextHop, r.asPath, r.localPref, r.origin]), [
    ["2001:db8:5::/48", h1.ipv6, [4200000001], undefined, "igp"],
  ]);
});
