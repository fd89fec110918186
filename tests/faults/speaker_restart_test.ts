/**
 * Speaker-side faults with FRR (and zebra, so FRR's forwarding table is visible) as the peer:
 *
 * - the speaker is killed (SIGKILL) with graceful restart negotiated: FRR keeps every route, marked
 *   stale, and keeps them in the kernel (it keeps forwarding); it never withdraws; once the speaker is back
 *   and has sent End-of-RIB, FRR holds exactly the desired routes with no stale mark;
 * - the speaker is stopped (SIGTERM) without graceful restart: it sends Cease / Administrative Shutdown
 *   with a shutdown message (RFC 9003) and FRR withdraws every route at once.
 */

import { assert, assertEquals, assertStringIncludes } from "../assert.ts";
import { bgpFrames, requireTools, startFrr, Topology, waitFor } from "../harness/mod.ts";
import { type SpeakerOptions, startSpeaker } from "../hostile/speaker_process.ts";
import { desiredPrefixes, podsInRange, writeClusterObjects } from "./cluster_objects.ts";
import { reportTime, routeMismatch, waitExactRoutes } from "./exact_routes.ts";

const OBJECTS = { subnetCidr: "100.64.0.0/16", pods: podsInRange("100.64.0.1", 200) };
const WANT = desiredPrefixes(OBJECTS);

/** Kernel table entries are written without `/32`. */
const kernelForm = (prefix: string) => prefix.endsWith("/32") ? prefix.slice(0, -3) : prefix;

Deno.test({
  name:
    "a killed speaker with graceful restart leaves FRR forwarding, and a stopped one without it is withdrawn at once",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    requireTools(["ip", "vtysh", "python3", "tcpdump", "tshark"]);
    await using topo = await Topology.create({ hosts: 2 });
    const [h1, h2] = [topo.host(1), topo.host(2)];
    const objectsPath = `${topo.workDir}/objects.json`;
    await writeClusterObjects(objectsPath, OBJECTS);
    const frr = await startFrr(topo, {
      host: h2,
      asn: 65000,
      zebra: true,
      neighbors: [{
        address: h1.ipv4,
        peerAs: 65001,
        passive: true,
        holdTime: 3,
        gracefulRestart: { restartTime: 60 },
      }],
    });
    const withGr: SpeakerOptions = {
      topology: topo,
      host: h1,
      neighbors: [h2.ipv4],
      passive: false,
      holdTime: "3s",
      objectsFiles: [objectsPath],
      extraArgs: ["--graceful-restart", "--graceful-restart-time", "60s"],
    };

    await t.step(
      "SIGKILL with graceful restart: FRR keeps forwarding, never withdraws, stale cleared after our End-of-RIB",
      async () => {
        const first = await startSpeaker(withGr);
        let second: Awaited<ReturnType<typeof startSpeaker>> | undefined;
        try {
          await waitExactRoutes(frr, "ipv4", WANT, { nextHop: h1.ipv4 });
          const missingInKernel = async () => {
            const installed = new Set(
              (await topo.kernelRoutes(h2)).filter((r) => r.protocol === "bgp").map((r) => r.dst),
            );
            return WANT.filter((p) => !installed.has(kernelForm(p)));
          };
          // zebra installs what bgpd selected a moment later.
          await waitFor(
            "FRR's routes in its kernel table",
            async () => (await missingInKernel()).length === 0,
            {
              timeoutMs: 10_000,
              intervalMs: 100,
            },
          );

          await first.process.kill();
          // Through more than the hold time: every route stays, and all become stale.
          let sawAllStale = false;
          const outageEnd = Date.now() + 4_000;
          while (Date.now() < outageEnd) {
            const routes = await frr.routes("ipv4");
            const mismatch = routeMismatch(routes, WANT, { allowStale: true });
            assertEquals(mismatch, undefined, "FRR withdrew routes of a restarting speaker");
            if (routes.every((r) => r.stale)) sawAllStale = true;
            await new Promise((r) => setTimeout(r, 200));
          }
          assert(sawAllStale, "FRR never marked the routes stale");
          assertEquals(await missingInKernel(), [], "FRR stopped forwarding");

          // While the speaker is down, ten Pods go away: only our End-of-RIB can make FRR drop their stale
          // routes before its 60 s restart timer runs out.
          const fewer = { ...OBJECTS, pods: OBJECTS.pods.slice(10) };
          await writeClusterObjects(objectsPath, fewer);
          const restarted = performance.now();
          second = await startSpeaker(withGr);
          await waitExactRoutes(frr, "ipv4", desiredPrefixes(fewer), { nextHop: h1.ipv4, timeoutMs: 20_000 });
          reportTime(
            "speaker SIGKILL + restart with graceful restart, stale marks cleared (from restart)",
            Math.round(performance.now() - restarted),
          );
          assertStringIncludes(await second.log(), "initial table sent");
          // SIGTERM with graceful restart: no NOTIFICATION, FRR keeps the routes, stale.
          await second.stop();
          await waitExactRoutes(frr, "ipv4", desiredPrefixes(fewer), { allowStale: true, timeoutMs: 5_000 });
        } finally {
          await first.stop();
          await second?.stop();
          await writeClusterObjects(objectsPath, OBJECTS);
        }
      },
    );

    await t.step(
      "SIGTERM without graceful restart: Cease with a shutdown message, FRR withdraws at once",
      async () => {
        const plain = await startSpeaker({ ...withGr, extraArgs: [], name: "speaker-nogr" });
        await waitExactRoutes(frr, "ipv4", WANT, { nextHop: h1.ipv4, timeoutMs: 70_000 });
        const capture = await topo.capture(h2);
        const stopped = performance.now();
        plain.process.signal("SIGTERM");
        await waitExactRoutes(frr, "ipv4", [], { timeoutMs: 5_000 });
        const withdrawnMs = Math.round(performance.now() - stopped);
        console.log(
          `[faults] speaker SIGTERM without graceful restart: FRR holds no route after ${withdrawnMs} ms`,
        );
        assertEquals((await plain.process.status).code, 0);
        const frames = await bgpFrames(await capture.stop(), {
          fields: ["bgp.notify.minor_error_cease", "bgp.notify.communication"],
        });
        const notifications = frames.filter((f) => f.src === h1.ipv4 && f.types.includes(3));
        assertEquals(notifications.length, 1, "one NOTIFICATION from the speaker");
        const n = notifications[0];
        assertEquals(n.fields["bgp.notify.major_error"], ["6"]);
        assertEquals(n.fields["bgp.notify.minor_error_cease"], ["2"]);
        assertStringIncludes(n.fields["bgp.notify.communication"]?.[0] ?? "", "shutting down");
      },
    );
  },
});
