import { assert, assertEquals } from "../assert.ts";
import { requireTools } from "../harness/tools.ts";
import { startFrr } from "../harness/frr.ts";
import { Topology } from "../harness/topology.ts";
import { waitFor } from "../harness/wait.ts";
import { FrrBfdd } from "../bfd/bfd_peers.ts";
import { startBfdRunner } from "../bfd/bfd_runner.ts";
import { startEngine } from "./engine_runner.ts";

const HOLD_TIME_S = 90;

Deno.test("FRR's BGP session with BFD goes down within the detection time of a cut link, far below the hold time, and comes back", async () => {
  requireTools(["ip", "vtysh", "/usr/lib/frr/bgpd", "/usr/lib/frr/zebra"]);
  await using topo = await Topology.create({ hosts: 2 });
  const [h1, h2] = [topo.host(1), topo.host(2)];
  // FRR with zebra, so bgpd's `neighbor … bfd` reaches bfdd; FRR's default BFD timers are 300 ms × 3.
  const frr = await startFrr(topo, {
    host: h2,
    asn: 65002,
    zebra: true,
    neighbors: [{ address: h1.ipv4, peerAs: 65001, holdTime: HOLD_TIME_S }],
    extraConfig: `router bgp 65002\n neighbor ${h1.ipv4} bfd\n!`,
  });
  const bfdd = await FrrBfdd.start(topo, h2, [], frr);
  const bfd = await startBfdRunner(topo, h1, {
    parameters: { desiredMinTxUs: 300_000, requiredMinRxUs: 300_000, detectMult: 3 },
    peers: [{ address: h2.ipv4 }],
  });
  await startEngine(topo, h1, {
    asn: 65001,
    routerId: h1.ipv4,
    holdTime: HOLD_TIME_S,
    neighbors: [{ address: h2.ipv4, asn: 65002 }],
    timing: { backoffBaseMs: 200, backoffMaxMs: 1000 },
    desired: ["203.0.113.0/24"],
  });
  await frr.waitEstablished(h1.ipv4);
  await bfd.waitUp([h2.ipv4]);
  await bfdd.waitState(h1.ipv4, "up");
  await frr.waitForRoutes("ipv4", (rs) => rs.some((r) => r.prefix === "203.0.113.0/24"));

  const cutAt = Date.now();
  await topo.cutLink(h1);
  await waitFor(
    "FRR's BGP session to go down",
    async () => (await frr.sessionState(h1.ipv4)) !== "established",
    {
      timeoutMs: 5_000,
      intervalMs: 20,
    },
  );
  const bgpDownMs = Date.now() - cutAt;
  const ours = await bfd.waitFor("our BFD session to go down", (s) => s.events.some((e) => !e.up), 5_000);
  const bfdDownMs = ours.events.find((e) => !e.up)!.at - cutAt;
  console.log(
    `link cut: FRR's BGP session down after ${bgpDownMs} ms (hold time ${HOLD_TIME_S} s), ` +
      `our BFD session down after ${bfdDownMs} ms (detection time 900 ms)`,
  );
  // Polling vtysh adds up to a few tens of milliseconds to what FRR itself took.
  assert(bgpDownMs < 2_000, `FRR's BGP session went down only ${bgpDownMs} ms after the cut`);
  assert(bfdDownMs <= 900 + 250, `our BFD session went down ${bfdDownMs} ms after the cut`);

  await topo.restoreLink(h1);
  await bfd.waitUp([h2.ipv4], 15_000);
  await frr.waitEstablished(h1.ipv4, 30_000);
  const routes = await frr.waitForRoutes("ipv4", (rs) => rs.some((r) => r.prefix === "203.0.113.0/24"));
  assertEquals(routes.map((r) => r.prefix), ["203.0.113.0/24"]);
});
