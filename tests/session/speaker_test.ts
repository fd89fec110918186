import { assertEquals } from "../assert.ts";
import { BgpSpeaker, nextHopFor } from "../../lib/session/speaker.ts";

Deno.test("nextHopFor() replaces our pod IP by the node IP of the same family", () => {
  assertEquals(
    nextHopFor("10.16.0.5", ["10.16.0.5", "fd00:10:16::5"], ["192.168.1.10", "fd00::10"]),
    "192.168.1.10",
  );
  assertEquals(
    nextHopFor("fd00:10:16::5", ["10.16.0.5", "fd00:10:16::5"], ["192.168.1.10", "fd00::10"]),
    "fd00::10",
  );
  // An IPv4-mapped local address is the same pod IP.
  assertEquals(nextHopFor("::ffff:10.16.0.5", ["10.16.0.5"], ["192.168.1.10"]), "192.168.1.10");
});

Deno.test("nextHopFor() keeps the session's own address otherwise", () => {
  assertEquals(nextHopFor("192.168.1.10", ["10.16.0.5"], ["192.168.1.11"]), "192.168.1.10");
  // No node IP of that family: nothing to substitute.
  assertEquals(nextHopFor("fd00:10:16::5", ["fd00:10:16::5"], ["192.168.1.10"]), "fd00:10:16::5");
  assertEquals(nextHopFor("10.16.0.5", [], []), "10.16.0.5");
});

Deno.test("BgpSpeaker.setDesired() reports what changed and ignores invalid prefixes", () => {
  const speaker = new BgpSpeaker({ asn: 65001, routerId: "10.99.0.1", neighbors: [] });
  assertEquals(speaker.setDesired(["203.0.113.0/24", "2001:db8::/32", "nonsense"]), {
    added: 2,
    removed: 0,
    invalid: ["nonsense"],
  });
  assertEquals(speaker.setDesired(["203.0.113.0/24"]), { added: 0, removed: 1, invalid: [] });
  assertEquals(speaker.status().desired, { ipv4: 1, ipv6: 0 });
  assertEquals(speaker.resetPeer("10.99.0.9", "no such peer"), false);
});

Deno.test("BgpSpeaker.status() lists every neighbor in Idle before start", () => {
  const speaker = new BgpSpeaker({
    asn: 65001,
    routerId: "10.99.0.1",
    neighbors: [{ address: "10.99.0.2", asn: 65002 }, { address: "fd99::2", asn: 65002 }],
    md5Password: "s3cret",
  });
  const status = speaker.status();
  assertEquals(status.peers.map((p) => [p.address, p.asn, p.state]), [
    ["10.99.0.2", 65002, "Idle"],
    ["fd99::2", 65002, "Idle"],
  ]);
  assertEquals(JSON.stringify(status).includes("s3cret"), false);
});
