import { assert, assertEquals } from "../assert.ts";
import { startExabgp } from "../harness/exabgp.ts";
import { Topology } from "../harness/topology.ts";
import { waitFor } from "../harness/wait.ts";
import { startEngine } from "./engine_runner.ts";

const FAST = { backoffBaseMs: 200, backoffMaxMs: 2000 };

Deno.test("ExaBGP holds our IPv4 and IPv6 prefixes, and the routes it sends us are counted, not kept", async () => {
  await using topo = await Topology.create({ hosts: 2 });
  const [h1, h2] = [topo.host(1), topo.host(2)];
  const exabgp = await startExabgp(topo, {
    host: h2,
    asn: 65002,
    neighbors: [
      { address: h1.ipv4, peerAs: 4200000001, holdTime: 3 },
      { address: h1.ipv6, peerAs: 4200000001, holdTime: 3 },
    ],
  });
  const engine = await startEngine(topo, h1, {
    asn: 4200000001,
    routerId: h1.ipv4,
    holdTime: 9,
    neighbors: [{ address: h2.ipv4, asn: 65002 }, { address: h2.ipv6, asn: 65002 }],
    timing: FAST,
    desired: ["203.0.113.0/24", "2001:db8:7::/48"],
  });
  const v4 = await engine.waitEstablished(h2.ipv4);
  // The smaller hold time wins.
  assertEquals(v4.negotiated?.holdTime, 3);
  await engine.waitEstablished(h2.ipv6);
  const routes4 = await exabgp.waitForRoutes("ipv4", (rs) => rs.length === 1);
  assertEquals(routes4.map((r) => [r.prefix, r.nextHop, r.asPath, r.localPref]), [
    ["203.0.113.0/24", h1.ipv4, [4200000001], undefined],
  ]);
  const routes6 = await exabgp.waitForRoutes("ipv6", (rs) => rs.length === 1);
  assertEquals(routes6.map((r) => [r.prefix, r.nextHop, r.asPath]), [["2001:db8:7::/48", h1.ipv6, [
    4200000001,
  ]]]);

  await exabgp.send(`neighbor ${h1.ipv4} announce route 198.51.100.0/24 next-hop ${h2.ipv4}`);
  await exabgp.send(`neighbor ${h1.ipv4} announce route 198.51.100.128/25 next-hop ${h2.ipv4}`);
  const peerStatus = async () => (await engine.status())?.peers.find((x) => x.address === h2.ipv4);
  const diagnostics = async () => JSON.stringify(await peerStatus()) + "\n" + await exabgp.diagnostics();
  await waitFor("the engine to count two announced routes", async () => {
    const p = await peerStatus();
    return p?.prefixesReceived.ipv4.announced === 2;
  }, { timeoutMs: 5_000, diagnostics });
  await exabgp.send(`neighbor ${h1.ipv4} withdraw route 198.51.100.128/25`);
  const counted = await waitFor("the engine to count the withdrawn route", async () => {
    const p = await peerStatus();
    return p?.prefixesReceived.ipv4.withdrawn === 1 ? p : undefined;
  }, { timeoutMs: 5_000, diagnostics });
  assertEquals(counted.state, "Established");
  assertEquals(counted.updatesTreatedAsWithdraw, 0);
  // We never pass a received route on: ExaBGP's IPv6 session still sees only our own prefix.
  assert((await exabgp.routes("ipv6")).every((r) => r.prefix === "2001:db8:7::/48"));
});
