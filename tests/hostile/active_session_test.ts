/**
 * Hostile peers on the active side: the speaker program (not in passive mode) dials test listeners on
 * loopback, so its sessions run over the FFI socket path (eBGP: TTL 1 set before connect) rather than the
 * accepted connections of the passive tests. Malformed input must get the same answers there, and after a
 * NOTIFICATION the speaker must dial again (after its idle backoff) and send its table anew.
 */

import { assertEquals } from "../assert.ts";
import { KEEPALIVE } from "../../lib/wire/message.ts";
import { MANDATORY, NLRI } from "./hostile_cases.ts";
import { attribute, concat, frame, openMessage, RawBgpPeer, updateMessage } from "./raw_bgp_peer.ts";
import { freePort, startSpeaker } from "./speaker_process.ts";
import { RouteTracker } from "./route_tracker.ts";

const OBJECTS = new URL("../../manifests/examples/objects.yaml", import.meta.url).pathname;
/** The IPv4 prefixes manifests/examples/objects.yaml gives node-1 with --announce-cluster-ip. */
const WANT = [
  "198.51.100.0/24",
  "198.51.100.10/32",
  "203.0.113.10/32",
  "203.0.113.200/32",
  "203.0.113.201/32",
  "203.0.113.70/32",
];

const MARKER_BROKEN = (() => {
  const m = KEEPALIVE.slice();
  m[0] = 0;
  return m;
})();

/** Accepts the speaker's connection on `address`, completes the OPEN exchange and reads the whole table. */
async function session(address: string, port: number): Promise<{ peer: RawBgpPeer; routes: RouteTracker }> {
  const peer = await RawBgpPeer.accept(address, port, 10_000);
  await peer.establish({ holdTime: 3 });
  peer.startKeepalives(1_000);
  const routes = new RouteTracker(peer);
  await routes.waitFor((r) => r.endOfRib, 5_000, `End-of-RIB on ${address}`);
  assertEquals(routes.sorted(), WANT, `the table on ${address}`);
  return { peer, routes };
}

Deno.test({
  name: "in active mode the speaker answers malformed input with the right NOTIFICATION and dials again",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const port = freePort();
    const [a, b, c] = ["127.0.0.31", "127.0.0.32", "127.0.0.33"];
    const first = [session(a, port), RawBgpPeer.accept(b, port, 10_000), session(c, port)];
    await using speaker = await startSpeaker({
      neighbors: [a, b, c],
      passive: false,
      objectsFiles: [OBJECTS],
      extraArgs: ["--announce-cluster-ip", "--neighbor-port", String(port)],
    });
    const [sa, rawB, sc] = await Promise.all(first) as [
      Awaited<ReturnType<typeof session>>,
      RawBgpPeer,
      Awaited<ReturnType<typeof session>>,
    ];

    await t.step("a bad marker: 1/1, then the speaker dials again and sends its table", async () => {
      await sa.routes.stop();
      await sa.peer.send(MARKER_BROKEN);
      const n = await sa.peer.expectNotification(3_000);
      assertEquals([n.code, n.subcode], [1, 1]);
      await sa.peer.close();
      const again = await session(a, port);
      await again.routes.stop();
      await again.peer.close();
    });

    await t.step("an OPEN from the wrong AS: 2/2", async () => {
      await rawB.send(openMessage({ asn: 65099, holdTime: 3 }));
      const n = await rawB.expectNotification(3_000);
      assertEquals([n.code, n.subcode], [2, 2]);
      await rawB.close();
    });

    await t.step("a COMMUNITIES of 5 octets: treat-as-withdraw, the session stays up", async () => {
      await sc.peer.send(
        updateMessage({ attributes: concat(MANDATORY, attribute(0xc0, 8, [0, 1, 0, 2, 0xff])), nlri: NLRI }),
      );
      // The session answers a ROUTE-REFRESH afterwards (with the table again, framed by BoRR/EoRR).
      const before = sc.routes.updates;
      await sc.peer.send(frame(5, Uint8Array.from([0, 1, 0, 1])));
      await sc.routes.waitFor((r) => r.updates > before, 3_000, "the table resent after ROUTE-REFRESH");
      await new Promise((r) => setTimeout(r, 1_200));
      assertEquals([sc.routes.closed, sc.routes.notification, sc.routes.withdrawals], [false, undefined, []]);
      assertEquals((await speaker.status()).peers.find((p) => p.address === c)?.state, "Established");
      await sc.routes.stop();
      await sc.peer.close();
    });
  },
});
