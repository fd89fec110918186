import { assert, assertEquals } from "../assert.ts";
import { startBird } from "../harness/bird.ts";
import { Topology } from "../harness/topology.ts";
import { waitFor } from "../harness/wait.ts";
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

Deno.test("BIRD holds our IPv6 prefixes over iBGP from a 4-octet AS with LOCAL_PREF 100", async () => {
  await using topo = await Topology.create({ hosts: 2 });
  const [h1, h2] = [topo.host(1), topo.host(2)];
  const bird = await startBird(topo, {
    host: h2,
    asn: 4200000001,
    neighbors: [{ address: h1.ipv6, peerAs: 4200000001, holdTime: 3 }],
  });
  const engine = await startEngine(topo, h1, {
    asn: 4200000001,
    routerId: h1.ipv4,
    holdTime: 3,
    neighbors: [{ address: h2.ipv6, asn: 4200000001 }],
    timing: FAST,
    desired: ["2001:db8:10::/64", "2001:db8::1/128"],
  });
  const status = await engine.waitEstablished(h2.ipv6);
  assertEquals(status.negotiated?.internal, true);
  const routes = await bird.waitForRoutes("ipv6", (rs) => rs.length === 2);
  assertEquals(
    routes.map((r) => [r.prefix, r.nextHop, r.asPath, r.localPref, r.origin]).sort(),
    [
      ["2001:db8:10::/64", h1.ipv6, [], 100, "igp"],
      ["2001:db8::1/128", h1.ipv6, [], 100, "igp"],
    ],
  );
});

Deno.test("BIRD ends with exactly the desired routes after rapid changes", async () => {
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
    desired: Array.from({ length: 1000 }, (_, i) => `100.64.${i >> 8}.${i & 255}/32`),
  });
  await engine.waitEstablished(h2.ipv4);
  await bird.waitForRoutes("ipv4", (rs) => rs.length === 1000);
  for (let round = 0; round < 20; round++) {
    await engine.setDesired(Array.from({ length: 50 }, (_, i) => `100.65.${round}.${i}/32`));
  }
  await engine.setDesired(["203.0.113.0/24", "100.64.0.1/32"]);
  const routes = await bird.waitForRoutes("ipv4", (rs) => rs.length === 2);
  assertEquals(routes.map((r) => r.prefix).sort(), ["100.64.0.1/32", "203.0.113.0/24"]);
});

Deno.test("resetting a session sends Cease / Administrative Reset and BIRD gets the routes back", async () => {
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
    desired: ["203.0.113.0/24"],
  });
  const first = await engine.waitEstablished(h2.ipv4);
  await bird.waitForRoutes("ipv4", (rs) => rs.length === 1);
  await engine.resetPeer(h2.ipv4, "BFD is down");
  const again = await waitFor("the session to come back after the reset", async () => {
    const p = (await engine.status())?.peers[0];
    return p?.state === "Established" && p.establishedAt !== first.establishedAt ? p : undefined;
  }, { timeoutMs: 15_000, diagnostics: () => engine.process.logTail(3000) });
  assertEquals(again.flaps, 1);
  const log = await bird.diagnostics();
  assert(/Administrative reset/i.test(log), log);
  const routes = await bird.waitForRoutes("ipv4", (rs) => rs.length === 1);
  assertEquals(routes.map((r) => [r.prefix, r.nextHop, r.asPath]), [["203.0.113.0/24", h1.ipv4, [65001]]]);
});

Deno.test("the node IP replaces our pod IP as next hop (--node-ips)", async () => {
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
    podIps: [h1.ipv4],
    nodeIps: ["10.99.0.100", "fd99::100"],
    timing: FAST,
    desired: ["203.0.113.0/24"],
  });
  await engine.waitEstablished(h2.ipv4);
  const routes = await bird.waitForRoutes("ipv4", (rs) => rs.length === 1);
  assertEquals(routes.map((r) => [r.prefix, r.nextHop, r.asPath]), [["203.0.113.0/24", "10.99.0.100", [
    65001,
  ]]]);
});
