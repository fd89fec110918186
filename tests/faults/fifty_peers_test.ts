/**
 * Fifty peers at once in passive mode: fifty real TCP sessions (in-test BGP receivers, each from its own
 * loopback address) dial in to the speaker program at the same moment, and each must receive the full
 * table (5,001 prefixes) with the right attributes, followed by End-of-RIB.
 */

import { assert, assertEquals } from "../assert.ts";
import { RawBgpPeer } from "../hostile/raw_bgp_peer.ts";
import { startSpeaker } from "../hostile/speaker_process.ts";
import { RouteTracker } from "../hostile/route_tracker.ts";
import { desiredPrefixes, podsInRange, writeClusterObjects } from "./cluster_objects.ts";

const PEERS = 50;
const OBJECTS = { subnetCidr: "100.64.0.0/16", pods: podsInRange("100.64.0.1", 5_000) };
const WANT = desiredPrefixes(OBJECTS);

Deno.test({
  name: `${PEERS} peers dialling in at once in passive mode each receive the full table`,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "speaker-fifty-" });
    try {
      const objectsPath = `${dir}/objects.json`;
      await writeClusterObjects(objectsPath, OBJECTS);
      const addresses = Array.from({ length: PEERS }, (_, i) => `127.0.2.${i + 1}`);
      await using speaker = await startSpeaker({
        neighbors: addresses,
        objectsFiles: [objectsPath],
        logDir: dir,
      });
      const started = performance.now();
      const peers = await Promise.all(
        addresses.map((localAddress) =>
          RawBgpPeer.connect({ host: "127.0.0.1", port: speaker.bgpPort, localAddress })
        ),
      );
      try {
        const tables = await Promise.all(peers.map(async (peer) => {
          await peer.establish({ holdTime: 3 });
          peer.startKeepalives(1_000);
          const table = new RouteTracker(peer);
          await table.waitFor((t) => t.endOfRib, 30_000, `End-of-RIB at ${peer.localAddress}`);
          await table.stop();
          return table;
        }));
        const ms = Math.round(performance.now() - started);
        for (const [i, t] of tables.entries()) {
          const missing = WANT.filter((p) => !t.prefixes.has(p));
          assertEquals(
            [missing.length, t.prefixes.size],
            [0, WANT.length],
            `peer ${addresses[i]}: missing ${missing.slice(0, 3)}`,
          );
          assertEquals([...t.nextHops], ["127.0.0.1"], `peer ${addresses[i]} next hops`);
          assertEquals(
            [...t.asPaths],
            [JSON.stringify([{ type: 2, asns: [65001] }])],
            `peer ${addresses[i]} AS paths`,
          );
        }
        const updates = tables.reduce((n, t) => n + t.updates, 0);
        console.log(
          `[faults] ${PEERS} peers at once: all hold exactly the ${WANT.length} desired routes after ${ms} ms ` +
            `(${updates} UPDATEs in all)`,
        );
        const status = await speaker.status();
        assertEquals(status.peers.filter((p) => p.state === "Established").length, PEERS);
        assert(status.peers.every((p) => p.prefixes.sent === WANT.length));
      } finally {
        await Promise.all(peers.map((p) => p.close()));
      }
    } finally {
      await Deno.remove(dir, { recursive: true }).catch(() => undefined);
    }
  },
});
