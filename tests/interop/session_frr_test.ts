import { assert, assertEquals } from "../assert.ts";
import { startFrr } from "../harness/frr.ts";
import { Topology } from "../harness/topology.ts";
import { waitFor } from "../harness/wait.ts";
import { startEngine } from "./engine_runner.ts";

const FAST = { backoffBaseMs: 200, backoffMaxMs: 2000 };

Deno.test("FRR holds our IPv6 prefixes over eBGP with a 4-octet peer AS", async () => {
  await using topo = await Topology.create({ hosts: 2 });
  const [h1, h2] = [topo.host(1), topo.host(2)];
  const frr = await startFrr(topo, {
    host: h2,
    asn: 4200000001,
    neighbors: [{ address: h1.ipv6, peerAs: 65001, holdTime: 3 }],
  });
  const engine = await startEngine(topo, h1, {
    asn: 65001,
    routerId: h1.ipv4,
    holdTime: 3,
    neighbors: [{ address: h2.ipv6, asn: 4200000001 }],
    timing: FAST,
    desired: ["2001:db8:1::/48", "2001:db8:2::1/128", "203.0.113.0/24"],
  });
  const status = await engine.waitEstablished(h2.ipv6);
  assertEquals(status.negotiated?.fourOctetAs, true);
  const routes = await frr.waitForRoutes("ipv6", (rs) => rs.length === 2);
  assertEquals(
    routes.map((r) => [r.prefix, r.nextHop, r.asPath, r.localPref, r.origin]).sort(),
    [
      ["2001:db8:1::/48", h1.ipv6, [65001], undefined, "igp"],
      ["2001:db8:2::1/128", h1.ipv6, [65001], undefined, "igp"],
    ],
  );
  // The IPv4 prefix is not sent: no extended next hop on this session.
  assertEquals(await frr.routes("ipv4"), []);
});

Deno.test("FRR receives IPv4 prefixes over an IPv6 session with the extended next hop", async () => {
  await using topo = await Topology.create({ hosts: 2 });
  const [h1, h2] = [topo.host(1), topo.host(2)];
  const frr = await startFrr(topo, {
    host: h2,
    asn: 65002,
    neighbors: [{
      address: h1.ipv6,
      peerAs: 65001,
      holdTime: 3,
      extendedNextHop: true,
      families: ["ipv4", "ipv6"],
    }],
  });
  const engine = await startEngine(topo, h1, {
    asn: 65001,
    routerId: h1.ipv4,
    holdTime: 3,
    extendedNextHop: true,
    neighbors: [{ address: h2.ipv6, asn: 65002 }],
    timing: FAST,
    desired: ["203.0.113.0/24", "2001:db8:1::/48"],
  });
  const status = await engine.waitEstablished(h2.ipv6);
  assertEquals(status.negotiated?.extendedNextHop, true);
  const v4 = await frr.waitForRoutes("ipv4", (rs) => rs.length === 1);
  assertEquals(v4.map((r) => [r.prefix, r.nextHop, r.asPath]), [["203.0.113.0/24", h1.ipv6, [65001]]]);
  const v6 = await frr.waitForRoutes("ipv6", (rs) => rs.length === 1);
  assertEquals(v6.map((r) => [r.prefix, r.nextHop, r.asPath]), [["2001:db8:1::/48", h1.ipv6, [65001]]]);
});

Deno.test("FRR keeps our routes stale after SIGKILL with graceful restart, refreshed after our End-of-RIB", async () => {
  await using topo = await Topology.create({ hosts: 2 });
  const [h1, h2] = [topo.host(1), topo.host(2)];
  const frr = await startFrr(topo, {
    host: h2,
    asn: 65002,
    neighbors: [{ address: h1.ipv4, peerAs: 65001, holdTime: 9, gracefulRestart: { restartTime: 60 } }],
  });
  const config = {
    asn: 65001,
    routerId: h1.ipv4,
    holdTime: 9,
    gracefulRestart: { restartTime: 60 },
    neighbors: [{ address: h2.ipv4, asn: 65002 }],
    timing: FAST,
    desired: ["203.0.113.0/24", "198.51.100.0/24"],
  };
  const engine = await startEngine(topo, h1, config);
  const status = await engine.waitEstablished(h2.ipv4);
  assertEquals(status.negotiated?.gracefulRestart, true);
  await frr.waitForRoutes("ipv4", (rs) => rs.length === 2 && rs.every((r) => !r.stale));
  await engine.process.kill();
  // FRR sees the TCP session end without NOTIFICATION: it keeps the routes, marked stale.
  const stale = await frr.waitForRoutes("ipv4", (rs) => rs.length === 2 && rs.every((r) => r.stale));
  assertEquals(stale.map((r) => r.prefix).sort(), ["198.51.100.0/24", "203.0.113.0/24"]);
  // The restarted speaker wants one prefix less: after our End-of-RIB FRR drops it and clears the marks.
  const again = await startEngine(topo, h1, { ...config, desired: ["203.0.113.0/24"] }, "engine2");
  await again.waitEstablished(h2.ipv4);
  const fresh = await frr.waitForRoutes("ipv4", (rs) => rs.length === 1 && !rs[0].stale);
  assertEquals(fresh.map((r) => [r.prefix, r.nextHop, r.asPath, r.stale]), [
    ["203.0.113.0/24", h1.ipv4, [65001], false],
  ]);
});

Deno.test("FRR withdraws our routes at once when we stop without graceful restart", async () => {
  await using topo = await Topology.create({ hosts: 2 });
  const [h1, h2] = [topo.host(1), topo.host(2)];
  const frr = await startFrr(topo, {
    host: h2,
    asn: 65001,
    neighbors: [{ address: h1.ipv4, peerAs: 65001, holdTime: 30 }],
  });
  const engine = await startEngine(topo, h1, {
    asn: 65001,
    routerId: h1.ipv4,
    holdTime: 30,
    neighbors: [{ address: h2.ipv4, asn: 65001 }],
    timing: FAST,
    desired: ["203.0.113.0/24"],
  });
  await engine.waitEstablished(h2.ipv4);
  // iBGP: empty AS_PATH and LOCAL_PREF 100.
  const routes = await frr.waitForRoutes("ipv4", (rs) => rs.length === 1);
  assertEquals(routes.map((r) => [r.prefix, r.nextHop, r.asPath, r.localPref]), [
    ["203.0.113.0/24", h1.ipv4, [], 100],
  ]);
  engine.process.signal("SIGTERM");
  const exit = await engine.process.status;
  assertEquals(exit.code, 0);
  // Cease / Administrative Shutdown: gone well before the 30 s hold time.
  const started = Date.now();
  await frr.waitForRoutes("ipv4", (rs) => rs.length === 0, 5_000);
  assert(Date.now() - started < 5_000);
  const neighbor = await frr.vtysh(`show bgp neighbors ${h1.ipv4}`);
  assert(/Administrative Shutdown|administratively shut down|Cease/i.test(neighbor), neighbor);
});

Deno.test("a ROUTE-REFRESH from FRR gets the whole table again, framed by BoRR and EoRR", async () => {
  await using topo = await Topology.create({ hosts: 2 });
  const [h1, h2] = [topo.host(1), topo.host(2)];
  const frr = await startFrr(topo, {
    host: h2,
    asn: 65002,
    neighbors: [{ address: h1.ipv4, peerAs: 65001, holdTime: 9 }],
  });
  const engine = await startEngine(topo, h1, {
    asn: 65001,
    routerId: h1.ipv4,
    holdTime: 9,
    neighbors: [{ address: h2.ipv4, asn: 65002 }],
    timing: FAST,
    desired: ["203.0.113.0/24", "198.51.100.0/24"],
  });
  const status = await engine.waitEstablished(h2.ipv4);
  assertEquals(status.negotiated?.enhancedRouteRefresh, true);
  await frr.waitForRoutes("ipv4", (rs) => rs.length === 2);
  const updatesBefore = status.messagesSent.update;
  await frr.vtysh(`clear bgp ipv4 unicast ${h1.ipv4} soft in`);
  const after = await waitFor("the engine to answer the ROUTE-REFRESH", async () => {
    const p = (await engine.status())?.peers[0];
    // BoRR and EoRR are ROUTE-REFRESH messages; the table is one more UPDATE.
    return p && p.messagesReceived.routeRefresh >= 1 && p.messagesSent.routeRefresh >= 2 ? p : undefined;
  }, { timeoutMs: 5_000, diagnostics: () => engine.process.logTail(3000) });
  assert(after.messagesSent.update > updatesBefore);
  assertEquals(after.state, "Established");
  const routes = await frr.waitForRoutes("ipv4", (rs) => rs.length === 2);
  assertEquals(routes.map((r) => [r.prefix, r.nextHop, r.asPath]).sort(), [
    ["198.51.100.0/24", h1.ipv4, [65001]],
    ["203.0.113.0/24", h1.ipv4, [65001]],
  ]);
});

Deno.test("with graceful restart, SIGTERM closes without NOTIFICATION and FRR keeps our routes stale", async () => {
  await using topo = await Topology.create({ hosts: 2 });
  const [h1, h2] = [topo.host(1), topo.host(2)];
  const frr = await startFrr(topo, {
    host: h2,
    asn: 65002,
    neighbors: [{ address: h1.ipv6, peerAs: 65001, holdTime: 9, gracefulRestart: { restartTime: 60 } }],
  });
  const engine = await startEngine(topo, h1, {
    asn: 65001,
    routerId: h1.ipv4,
    holdTime: 9,
    gracefulRestart: { restartTime: 60 },
    neighbors: [{ address: h2.ipv6, asn: 65002 }],
    timing: FAST,
    desired: ["2001:db8:9::/48"],
  });
  await engine.waitEstablished(h2.ipv6);
  await frr.waitForRoutes("ipv6", (rs) => rs.length === 1 && !rs[0].stale);
  engine.process.signal("SIGTERM");
  assertEquals((await engine.process.status).code, 0);
  const stale = await frr.waitForRoutes("ipv6", (rs) => rs.length === 1 && rs[0].stale);
  assertEquals(stale.map((r) => [r.prefix, r.nextHop, r.asPath]), [["2001:db8:9::/48", h1.ipv6, [65001]]]);
  // The session ended by the TCP close alone: no NOTIFICATION was sent.
  const log = await engine.process.logTail(100_000);
  assert(log.includes("speaker stopped") && !log.includes("sending NOTIFICATION"), log);
});
