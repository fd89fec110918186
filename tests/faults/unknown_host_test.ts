/**
 * Passive mode with a stranger: BIRD on a configured neighbor dials in and gets the table; BIRD on an
 * address the speaker does not know keeps dialling in and is turned away every time with Cease /
 * Connection Rejected (6/5). The configured session never notices.
 */

import { assert, assertEquals } from "../assert.ts";
import { bgpFrames, requireTools, startBird, Topology } from "../harness/mod.ts";
import { startSpeaker } from "../hostile/speaker_process.ts";
import { desiredPrefixes, podsInRange, writeClusterObjects } from "./cluster_objects.ts";
import { reportTime, routeMismatch, waitExactRoutes } from "./exact_routes.ts";

const OBJECTS = { subnetCidr: "100.64.0.0/16", pods: podsInRange("100.64.0.1", 100) };
const WANT = desiredPrefixes(OBJECTS);

Deno.test({
  name: "in passive mode an unknown host is rejected with Cease 6/5 while the configured peer is unaffected",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    requireTools(["ip", "bird", "birdc", "python3", "tcpdump", "tshark"]);
    await using topo = await Topology.create({ hosts: 3 });
    const [h1, h2, h3] = [topo.host(1), topo.host(2), topo.host(3)];
    const objectsPath = `${topo.workDir}/objects.json`;
    await writeClusterObjects(objectsPath, OBJECTS);
    const speaker = await startSpeaker({
      topology: topo,
      host: h1,
      neighbors: [h2.ipv4],
      passive: true,
      holdTime: "3s",
      objectsFiles: [objectsPath],
    });
    const friend = await startBird(topo, {
      host: h2,
      asn: 65000,
      neighbors: [{ address: h1.ipv4, peerAs: 65001 }],
    });
    reportTime(
      "passive mode, configured BIRD dialling in",
      await waitExactRoutes(friend, "ipv4", WANT, { nextHop: h1.ipv4 }),
    );
    const upBefore = (await speaker.status()).peers[0];

    const capture = await topo.capture(h3);
    const stranger = await startBird(topo, {
      host: h3,
      asn: 65000,
      neighbors: [{ address: h1.ipv4, peerAs: 65001 }],
    });
    // BIRD retries every second or so (connect delay 1 s, error wait 1..5 s): several attempts in 6 s.
    const until = Date.now() + 6_000;
    while (Date.now() < until) {
      assert((await stranger.sessionState(h1.ipv4)) !== "established", "the unknown host got a session");
      assertEquals(
        routeMismatch(await friend.routes("ipv4"), WANT),
        undefined,
        "the configured peer was disturbed",
      );
      await new Promise((r) => setTimeout(r, 300));
    }
    const frames = await bgpFrames(await capture.stop(), { fields: ["bgp.notify.minor_error_cease"] });
    const rejections = frames.filter((f) => f.src === h1.ipv4 && f.types.includes(3));
    assert(rejections.length >= 1, "no NOTIFICATION reached the unknown host");
    for (const r of rejections) {
      assertEquals([r.fields["bgp.notify.major_error"], r.fields["bgp.notify.minor_error_cease"]], [["6"], [
        "5",
      ]]);
    }
    assertEquals(
      frames.filter((f) => f.src === h1.ipv4 && (f.types.includes(1) || f.types.includes(2))),
      [],
      "OPEN or UPDATE sent to the unknown host",
    );
    console.log(`[faults] unknown host rejected ${rejections.length} times with Cease 6/5 in 6 s`);

    const log = await speaker.log();
    assert(
      log.includes("connection from an unknown address rejected") && log.includes(h3.ipv4),
      "no rejection logged",
    );
    const after = (await speaker.status()).peers[0];
    assertEquals(after.state, "Established");
    assertEquals(after.lastError, null);
    assert(
      upBefore.upDownSeconds !== null && after.upDownSeconds !== null &&
        after.upDownSeconds >= upBefore.upDownSeconds,
      "the configured session restarted",
    );
    assert(await speaker.live());
    await speaker.stop();
  },
});
