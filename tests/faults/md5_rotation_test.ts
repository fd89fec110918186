/**
 * TCP MD5 key rotation (RFC 2385): the router (FRR) changes the key first, which breaks the session (its
 * segments no longer pass our kernel, ours no longer pass its); then the speaker's password file gets the
 * new key and the speaker is restarted, since it reads `--auth-password-file` at start only (SIGHUP reloads
 * the objects files, not the password). The session comes back with exactly the desired routes. Neither
 * key ever shows in the speaker's log, `/status` or `/metrics`.
 */

import { assert, assertEquals } from "../assert.ts";
import { requireTools, startFrr, Topology } from "../harness/mod.ts";
import { startSpeaker } from "../hostile/speaker_process.ts";
import { desiredPrefixes, podsInRange, writeClusterObjects } from "./cluster_objects.ts";
import { reportTime, waitExactRoutes } from "./exact_routes.ts";

const OBJECTS = { subnetCidr: "100.64.0.0/16", pods: podsInRange("100.64.0.1", 50) };
const WANT = desiredPrefixes(OBJECTS);
const OLD_KEY = "rotate-me-0ld";
const NEW_KEY = "rotated-n3w-key";

Deno.test({
  name: "an MD5 key changed on the router, then on the speaker with a restart, brings the session back",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    requireTools(["ip", "vtysh", "python3"]);
    await using topo = await Topology.create({ hosts: 2 });
    const [h1, h2] = [topo.host(1), topo.host(2)];
    const objectsPath = `${topo.workDir}/objects.json`;
    const passwordPath = `${topo.workDir}/md5-password`;
    await writeClusterObjects(objectsPath, OBJECTS);
    await Deno.writeTextFile(passwordPath, OLD_KEY, { mode: 0o600 });
    const frr = await startFrr(topo, {
      host: h2,
      asn: 65000,
      neighbors: [{ address: h1.ipv4, peerAs: 65001, passive: true, holdTime: 3, password: OLD_KEY }],
    });
    const options = {
      topology: topo,
      host: h1,
      neighbors: [h2.ipv4],
      passive: false,
      holdTime: "3s",
      objectsFiles: [objectsPath],
      extraArgs: ["--auth-password-file", passwordPath],
    };
    let speaker = await startSpeaker(options);
    await waitExactRoutes(frr, "ipv4", WANT, { nextHop: h1.ipv4 });

    // The router rotates first: the session breaks and stays down while the keys differ.
    await frr.vtysh("configure terminal", "router bgp 65000", `neighbor ${h1.ipv4} password ${NEW_KEY}`);
    await waitExactRoutes(frr, "ipv4", [], { timeoutMs: 10_000 });
    const mismatchUntil = Date.now() + 5_000;
    while (Date.now() < mismatchUntil) {
      assert(
        (await speaker.peerState(h2.ipv4)) !== "Established",
        "a session came up with different MD5 keys",
      );
      await new Promise((r) => setTimeout(r, 250));
    }

    // Then the speaker: new key in its password file, and a restart.
    await Deno.writeTextFile(passwordPath, NEW_KEY, { mode: 0o600 });
    await speaker.stop();
    const restarted = performance.now();
    speaker = await startSpeaker(options);
    await waitExactRoutes(frr, "ipv4", WANT, { nextHop: h1.ipv4, timeoutMs: 20_000 });
    reportTime(
      "MD5 key rotated on FRR, then on the speaker (from the speaker's restart)",
      Math.round(performance.now() - restarted),
    );

    const exposed = [await speaker.log(), (await speaker.admin("/status")).body, await speaker.metrics()]
      .join("\n");
    assertEquals([exposed.includes(OLD_KEY), exposed.includes(NEW_KEY)], [false, false], "an MD5 key leaked");
    await speaker.stop();
  },
});
