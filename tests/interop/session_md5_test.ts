import { assert, assertEquals } from "../assert.ts";
import { startBird } from "../harness/bird.ts";
import { startGobgpd } from "../harness/gobgpd.ts";
import { Topology } from "../harness/topology.ts";
import { delay } from "../harness/wait.ts";
import { startEngine } from "./engine_runner.ts";

const FAST = { backoffBaseMs: 200, backoffMaxMs: 1000 };

Deno.test("MD5 active: the right key connects, a wrong key never does", async () => {
  await using topo = await Topology.create({ hosts: 3 });
  const [h1, h2, h3] = [topo.host(1), topo.host(2), topo.host(3)];
  const good = await startBird(topo, {
    host: h2,
    asn: 65002,
    neighbors: [{ address: h1.ipv4, peerAs: 65001, holdTime: 3, password: "s3cret", passive: true }],
  });
  const bad = await startGobgpd(topo, {
    host: h3,
    asn: 65003,
    neighbors: [{ address: h1.ipv4, peerAs: 65001, holdTime: 3, password: "other", passive: true }],
  });
  const engine = await startEngine(topo, h1, {
    asn: 65001,
    routerId: h1.ipv4,
    holdTime: 3,
    md5Password: "s3cret",
    neighbors: [{ address: h2.ipv4, asn: 65002 }, { address: h3.ipv4, asn: 65003 }],
    connectTimeoutMs: 1000,
    timing: FAST,
    desired: ["203.0.113.0/24"],
  });
  await engine.waitEstablished(h2.ipv4);
  const routes = await good.waitForRoutes("ipv4", (rs) => rs.length === 1);
  assertEquals(routes.map((r) => [r.prefix, r.nextHop]), [["203.0.113.0/24", h1.ipv4]]);
  await delay(2500);
  assert((await bad.sessionState(h1.ipv4)) !== "established");
  const status = await engine.status();
  assert(status?.peers.find((p) => p.address === h3.ipv4)?.state !== "Established");
  // The password never shows in our logs or status.
  assert(!(await engine.process.logTail(100_000)).includes("s3cret"));
  assert(!JSON.stringify(status).includes("s3cret"));
});

Deno.test("MD5 passive: the right key connects through the listener, a wrong key never does", async () => {
  await using topo = await Topology.create({ hosts: 3 });
  const [h1, h2, h3] = [topo.host(1), topo.host(2), topo.host(3)];
  const engine = await startEngine(topo, h1, {
    asn: 65001,
    routerId: h1.ipv4,
    holdTime: 3,
    passive: true,
    listen: { addresses: ["::"], port: 179 },
    md5Password: "s3cret",
    neighbors: [{ address: h2.ipv6, asn: 65002 }, { address: h3.ipv6, asn: 65003 }],
    timing: FAST,
    desired: ["2001:db8::/32"],
  });
  const good = await startBird(topo, {
    host: h2,
    asn: 65002,
    neighbors: [{ address: h1.ipv6, peerAs: 65001, holdTime: 3, password: "s3cret" }],
  });
  const bad = await startBird(topo, {
    host: h3,
    asn: 65003,
    neighbors: [{ address: h1.ipv6, peerAs: 65001, holdTime: 3, password: "wrong" }],
  });
  await engine.waitEstablished(h2.ipv6);
  const routes = await good.waitForRoutes("ipv6", (rs) => rs.length === 1);
  assertEquals(routes.map((r) => [r.prefix, r.nextHop]), [["2001:db8::/32", h1.ipv6]]);
  await delay(2500);
  assert((await bad.sessionState(h1.ipv6)) !== "established");
  assertEquals((await engine.status())?.peers.find((p) => p.address === h3.ipv6)?.state, "Active");
});
