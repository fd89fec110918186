import { assertEquals } from "../assert.ts";
import { requireTools } from "../harness/tools.ts";
import { Topology } from "../harness/topology.ts";
import { startBfdRunner } from "../bfd/bfd_runner.ts";
import { packetSenderArgv } from "../bfd/packet_sender.ts";

Deno.test("BFD single hop discards packets sent with TTL 254 and accepts the same packets with TTL 255", async () => {
  requireTools(["ip"]);
  await using topo = await Topology.create({ hosts: 2 });
  const [h1, h2] = [topo.host(1), topo.host(2)];
  const bfd = await startBfdRunner(topo, h1, {
    parameters: { desiredMinTxUs: 300_000, requiredMinRxUs: 300_000, detectMult: 3 },
    peers: [{ address: h2.ipv4 }, { address: h2.ipv6 }],
  });
  const down = {
    state: "Down" as const,
    myDiscriminator: 4242,
    desiredMinTxUs: 1_000_000,
    requiredMinRxUs: 300_000,
  };

  // Valid Down packets from the configured neighbor, but one hop too far away.
  for (const to of [h1.ipv4, h1.ipv6]) {
    await topo.run(h2, packetSenderArgv({ to, ttl: 254, count: 3, packet: down }));
  }
  const dropped = await bfd.waitFor("six dropped packets", (s) => s.server.receivedDrop === 6);
  assertEquals(dropped.server, {
    receivedPackets: 6,
    receivedDrop: 6,
    receivedError: 0,
    invalidPacket: 0,
    unknownPeer: 0,
  });
  for (const p of dropped.peers) {
    assertEquals([p.state, p.remoteDiscriminator, p.packetsReceived, p.packetsDropped], ["Down", 0, 0, 3]);
  }

  // The same packets with TTL 255 are accepted: the session answers the peer's Down with Init.
  for (const to of [h1.ipv4, h1.ipv6]) await topo.run(h2, packetSenderArgv({ to, ttl: 255, packet: down }));
  const accepted = await bfd.waitFor(
    "both sessions in Init",
    (s) => s.peers.every((p) => p.state === "Init"),
  );
  for (const p of accepted.peers) assertEquals([p.remoteDiscriminator, p.packetsReceived], [4242, 1]);
});
