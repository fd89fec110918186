/**
 * Connection floods against the speaker in passive mode: a thousand connections from an address it does
 * not know (each must get Cease / Connection Rejected and be closed), and hundreds of connections from a
 * configured neighbor that are reset at once. Afterwards the process holds no more file descriptors than
 * before, and a witness session was never disturbed.
 */

import { assert, assertEquals, assertLessOrEqual } from "../assert.ts";
import { waitFor } from "../harness/wait.ts";
import { RawBgpPeer } from "./raw_bgp_peer.ts";
import { startSpeaker } from "./speaker_process.ts";

const WITNESS = "127.0.0.2";
const CHURNER = "127.0.0.3";
const STRANGER = "127.0.0.99";
const OBJECTS = new URL("../../manifests/examples/objects.yaml", import.meta.url).pathname;

function openFds(pid: number): number {
  return [...Deno.readDirSync(`/proc/${pid}/fd`)].length;
}

Deno.test({
  name:
    "connection floods leave the speaker without leaked file descriptors and the witness session untouched",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using speaker = await startSpeaker({ neighbors: [WITNESS, CHURNER], objectsFiles: [OBJECTS] });
    const witness = await RawBgpPeer.connect({
      host: "127.0.0.1",
      port: speaker.bgpPort,
      localAddress: WITNESS,
    });
    try {
      await witness.establish({ holdTime: 3 });
      witness.startKeepalives(1_000);
      await speaker.waitPeerState(WITNESS, "Established");
      const before = openFds(speaker.pid);

      let rejected = 0;
      for (let batch = 0; batch < 20; batch++) {
        const results = await Promise.all(Array.from({ length: 50 }, async () => {
          const c = await RawBgpPeer.connect({
            host: "127.0.0.1",
            port: speaker.bgpPort,
            localAddress: STRANGER,
          });
          try {
            const n = await c.expectNotification(3_000);
            return n.code === 6 && n.subcode === 5;
          } finally {
            c.destroy();
          }
        }));
        rejected += results.filter(Boolean).length;
      }
      assertEquals(rejected, 1_000, "connections from the unknown address answered with Cease 6/5");

      for (let batch = 0; batch < 10; batch++) {
        await Promise.all(Array.from({ length: 30 }, async () => {
          const c = await RawBgpPeer.connect({
            host: "127.0.0.1",
            port: speaker.bgpPort,
            localAddress: CHURNER,
          })
            .catch(() => undefined);
          c?.destroy();
        }));
      }

      // Every connection is closed by now or within the transport's linger time.
      await waitFor("the file descriptors to come back", () => openFds(speaker.pid) <= before + 2, {
        timeoutMs: 10_000,
        intervalMs: 200,
      }).catch(() => undefined);
      assertLessOrEqual(openFds(speaker.pid), before + 2, `open fds (before: ${before})`);

      const { notification, closed } = await witness.collect(1_200);
      assertEquals([notification, closed], [undefined, false], "the witness session");
      const w = (await speaker.status()).peers.find((p) => p.address === WITNESS);
      assertEquals([w?.state, w?.lastError], ["Established", null]);
      assert(await speaker.live(), "/livez");
      console.log(
        `[hostile] 1,000 rejected and 300 reset connections; fds ${before} before, ${
          openFds(speaker.pid)
        } after`,
      );
    } finally {
      await witness.close();
    }
  },
});
