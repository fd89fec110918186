import { assertEquals } from "../assert.ts";
import { requireTools } from "../harness/tools.ts";
import { Topology } from "../harness/topology.ts";
import { FrrBfdd } from "../bfd/bfd_peers.ts";
import { startBfdRunner } from "../bfd/bfd_runner.ts";

Deno.test("BFD multihop with FRR bfdd through a router: IPv4 and IPv6 sessions on port 4784 come Up and go down with the path", async () => {
  requireTools(["ip", "vtysh", "/usr/lib/frr/bgpd"]);
  await using topo = await Topology.create({ hosts: 1, farHosts: 1 });
  const [near, far] = [topo.host(1), topo.farHost(1)];
  const spec = { minRxMs: 300, minTxMs: 300, multiplier: 3, multihop: true };
  const frr = await FrrBfdd.start(topo, far, [
    { address: near.ipv4, localAddress: far.ipv4, ...spec },
    { address: near.ipv6, localAddress: far.ipv6, ...spec },
  ]);
  const bfd = await startBfdRunner(topo, near, {
    parameters: { desiredMinTxUs: 300_000, requiredMinRxUs: 300_000, detectMult: 3 },
    // One router in between: packets sent with TTL 255 arrive with 254.
    peers: [
      { address: far.ipv4, localAddress: near.ipv4, multihop: true, minTtl: 254 },
      { address: far.ipv6, localAddress: near.ipv6, multihop: true, minTtl: 254 },
    ],
  });
  const peers = [far.ipv4, far.ipv6];
  const up = await bfd.waitUp(peers);
  await frr.waitState(near.ipv4, "up");
  await frr.waitState(near.ipv6, "up");
  assertEquals(up.peers.map((p) => p.mode), ["multi", "multi"]);
  assertEquals((await frr.peers()).map((p) => p.multihop), [true, true]);
  assertEquals(up.server.receivedDrop, 0);

  await topo.cutLink(far);
  const down = await bfd.waitFor(
    "both sessions to go down",
    (s) => s.events.filter((e) => !e.up).length === 2,
    5_000,
  );
  assertEquals(down.events.filter((e) => !e.up).map((e) => e.diagnostic), [1, 1]);
  await topo.restoreLink(far);
  await bfd.waitUp(peers, 15_000);
});
