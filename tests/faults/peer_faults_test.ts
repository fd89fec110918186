/**
 * Peer-side faults against the speaker program in a namespace (active mode, hold time 3 s), with BIRD
 * and FRR as its two neighbors: a peer killed and restarted, a peer restarted gracefully, a link cut for
 * longer than the hold time and restored. Each case ends when the peer holds exactly the desired routes
 * and prints how long that took; the other peer must not notice anything.
 *
 * There is no `tc netem` in this kernel (no sch_netem): the 30 % loss / 200 ms delay case of the fault
 * matrix cannot run here; `Topology.impair()` says so when called.
 */

import { assert, assertEquals } from "../assert.ts";
import { requireTools, startBird, startFrr, Topology } from "../harness/mod.ts";
import { startSpeaker } from "../hostile/speaker_process.ts";
import { desiredPrefixes, podsInRange, writeClusterObjects } from "./cluster_objects.ts";
import { reportTime, routeMismatch, waitExactRoutes } from "./exact_routes.ts";

const OBJECTS = { subnetCidr: "100.64.0.0/16", pods: podsInRange("100.64.0.1", 300) };
const WANT = desiredPrefixes(OBJECTS);

Deno.test({
  name: "the speaker brings every peer back to exactly the desired routes after peer faults",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    requireTools(["ip", "bird", "birdc", "vtysh", "python3"]);
    await using topo = await Topology.create({ hosts: 3 });
    const [h1, h2, h3] = [topo.host(1), topo.host(2), topo.host(3)];
    const objectsPath = `${topo.workDir}/objects.json`;
    await writeClusterObjects(objectsPath, OBJECTS);
    const bird = await startBird(topo, {
      host: h2,
      asn: 65000,
      neighbors: [{ address: h1.ipv4, peerAs: 65001, passive: true, gracefulRestart: { restartTime: 60 } }],
    });
    const frr = await startFrr(topo, {
      host: h3,
      asn: 65000,
      neighbors: [{ address: h1.ipv4, peerAs: 65001, passive: true, holdTime: 3 }],
    });
    const speaker = await startSpeaker({
      topology: topo,
      host: h1,
      neighbors: [h2.ipv4, h3.ipv4],
      passive: false,
      holdTime: "3s",
      objectsFiles: [objectsPath],
    });
    reportTime("initial table to BIRD", await waitExactRoutes(bird, "ipv4", WANT, { nextHop: h1.ipv4 }));
    reportTime("initial table to FRR", await waitExactRoutes(frr, "ipv4", WANT, { nextHop: h1.ipv4 }));

    // The other peer's table is sampled through each fault: it must never change.
    const steady = async <T>(peer: typeof bird | typeof frr, during: () => Promise<T>): Promise<T> => {
      let stop = false;
      const problems: string[] = [];
      const watcher = (async () => {
        while (!stop) {
          const m = routeMismatch(await peer.routes("ipv4").catch(() => []), WANT);
          if (m !== undefined) problems.push(m);
          await new Promise((r) => setTimeout(r, 250));
        }
      })();
      try {
        return await during();
      } finally {
        stop = true;
        await watcher;
        assertEquals(problems, [], `${peer.kind} was disturbed by a fault of the other peer`);
      }
    };

    await t.step("BIRD killed (SIGKILL) and restarted holds exactly the desired routes again", async () => {
      await steady(frr, async () => {
        await bird.kill();
        await speaker.waitPeerState(h2.ipv4, "Idle", 10_000).catch(() => undefined);
        const restarted = performance.now();
        await bird.start();
        await waitExactRoutes(bird, "ipv4", WANT, { nextHop: h1.ipv4 });
        reportTime("BIRD SIGKILL + restart (from restart)", Math.round(performance.now() - restarted));
      });
    });

    await t.step("BIRD restarted gracefully (RFC 4724) holds exactly the desired routes again", async () => {
      await steady(frr, async () => {
        // `graceful restart` makes BIRD stop as a restarting speaker; -R starts it in recovery.
        await bird.cli(["graceful", "restart"]);
        await bird.process.status;
        const restarted = performance.now();
        await bird.start({ gracefulRestart: true });
        await waitExactRoutes(bird, "ipv4", WANT, { nextHop: h1.ipv4 });
        reportTime("BIRD graceful restart (from restart)", Math.round(performance.now() - restarted));
      });
    });

    await t.step(
      "a link cut longer than the hold time, then restored: FRR holds exactly the desired routes",
      async () => {
        await steady(bird, async () => {
          await topo.cutLink(h3);
          // Hold time 3 s: both sides give the session up.
          await speaker.waitPeerState(h3.ipv4, "Established", 500);
          await waitNotEstablished(speaker, h3.ipv4, 8_000);
          const restored = performance.now();
          await topo.restoreLink(h3);
          await waitExactRoutes(frr, "ipv4", WANT, { nextHop: h1.ipv4 });
          reportTime(
            "FRR link cut 3 s+ then restored (from restore)",
            Math.round(performance.now() - restored),
          );
        });
      },
    );

    await t.step("the speaker stayed live with both sessions up", async () => {
      assert(speaker.process.running, "the speaker exited");
      assert(await speaker.live(), "/livez");
      await speaker.waitPeerState(h2.ipv4, "Established");
      await speaker.waitPeerState(h3.ipv4, "Established");
    });
    await speaker.stop();
  },
});

async function waitNotEstablished(
  speaker: { peerState(a: string): Promise<string | undefined> },
  address: string,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if ((await speaker.peerState(address)) !== "Established") return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`The session with ${address} stayed Established ${timeoutMs} ms after the link was cut`);
}
