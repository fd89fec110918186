/**
 * Bad Kubernetes input through the objects file: objects with missing fields, invalid IPs and CIDRs,
 * addresses of the wrong family, huge annotation values, unknown annotation values and things that are not
 * objects at all. Each is skipped (or the bad field ignored) with its reason in the log and counted in
 * `klog_lines_total{level="WARN"}`; the good objects are announced exactly as without them, a peer gets
 * exactly those, and a later reload of an unparseable file changes nothing.
 */

import { assert, assertEquals, assertGreater } from "../assert.ts";
import { waitFor } from "../harness/wait.ts";
import { RawBgpPeer } from "./raw_bgp_peer.ts";
import { RouteTracker } from "./route_tracker.ts";
import { startSpeaker } from "./speaker_process.ts";

const HUGE = "203.0.113.9,".repeat(20_000); // 240 kB

const subnet = (name: string, cidrBlock: string, protocol = "IPv4") => ({
  apiVersion: "kubeovn.io/v1",
  kind: "Subnet",
  metadata: { name, annotations: { "ovn.kubernetes.io/bgp": "cluster" } },
  spec: { protocol, cidrBlock },
  status: { conditions: [{ type: "Ready", status: "True" }] },
});

const pod = (name: string | undefined, annotations: Record<string, string>) => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { ...(name === undefined ? {} : { name }), namespace: "bad", annotations },
  spec: { nodeName: "node-2" },
  status: { phase: "Running" },
});

const inSubnet = (ip: string, extra: Record<string, string> = {}) => ({
  "ovn.kubernetes.io/ip_address": ip,
  "ovn.kubernetes.io/logical_switch": "good",
  ...extra,
});

/** The good objects: what must be announced. */
const GOOD = [
  subnet("good", "100.64.0.0/16"),
  pod("ok-1", inSubnet("100.64.0.1")),
  pod("ok-2", inSubnet("100.64.0.2")),
];
const WANT = ["100.64.0.0/16", "100.64.0.1/32", "100.64.0.2/32"];

/** Each bad object with a fragment of the log line that must name it. */
const BAD: { object: unknown; logged: string }[] = [
  { object: pod(undefined, inSubnet("100.64.0.3")), logged: "metadata.name is missing" },
  { object: pod("bad-ip", inSubnet("300.64.0.4")), logged: "bad/bad-ip" },
  { object: pod("not-ip", inSubnet("pod-4")), logged: "bad/not-ip" },
  { object: pod("huge", inSubnet(HUGE)), logged: "bad/huge" },
  {
    object: pod("huge-bgp", inSubnet("100.64.0.6", { "ovn.kubernetes.io/bgp": "y".repeat(100_000) })),
    logged: "bad/huge-bgp",
  },
  { object: pod("maybe", inSubnet("100.64.0.7", { "ovn.kubernetes.io/bgp": "maybe" })), logged: "bad/maybe" },
  { object: subnet("bad-cidr", "100.65.0.0/33"), logged: "Subnet bad-cidr" },
  { object: subnet("garbage-cidr", "a.b.c.d/8"), logged: "Subnet garbage-cidr" },
  {
    object: {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "svc", namespace: "bad", annotations: { "ovn.kubernetes.io/bgp": "true" } },
      spec: { type: "ClusterIP", clusterIP: "abc", clusterIPs: ["abc"] },
    },
    logged: "bad/svc",
  },
  {
    object: {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "odd-type", namespace: "bad", annotations: { "ovn.kubernetes.io/bgp": "true" } },
      spec: { type: "Mystery", clusterIP: "203.0.113.77" },
    },
    logged: "bad/odd-type",
  },
  {
    object: {
      apiVersion: "kubeovn.io/v1",
      kind: "IptablesEIP",
      metadata: { name: "eip-v6-in-v4", labels: { "ovn.kubernetes.io/vpc-nat-gw-name": "gw1" } },
      spec: { natGwDp: "gw1", v4ip: "2001:db8::5" },
      status: { ready: true },
    },
    logged: "eip-v6-in-v4",
  },
  { object: "a string where an object belongs", logged: "not an object" },
  { object: 42, logged: "not an object" },
];

function warnLines(metrics: string): number {
  const m = /^klog_lines_total\{level="WARN"\} (\d+)/m.exec(metrics);
  return m ? Number(m[1]) : -1;
}

Deno.test({
  name: "bad Kubernetes objects are skipped with a logged reason and counted, and nothing else is affected",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "speaker-bad-objects-" });
    try {
      const path = `${dir}/objects.json`;
      // Bad objects around the good ones, so that no position is special.
      const mixed = [
        BAD[0].object,
        GOOD[0],
        ...BAD.slice(1, 6).map((b) => b.object),
        GOOD[1],
        ...BAD.slice(6).map((b) => b.object),
        GOOD[2],
      ];
      await Deno.writeTextFile(path, JSON.stringify(mixed));
      await using speaker = await startSpeaker({
        neighbors: ["127.0.0.10"],
        objectsFiles: [path],
        logDir: dir,
      });

      const status = await speaker.status();
      assertEquals(status.prefixes.map((p) => p.prefix).sort(), WANT, "desired prefixes");
      const peer = await RawBgpPeer.connect({
        host: "127.0.0.1",
        port: speaker.bgpPort,
        localAddress: "127.0.0.10",
      });
      try {
        await peer.establish({ holdTime: 3 });
        peer.startKeepalives(1_000);
        const routes = new RouteTracker(peer);
        await routes.waitFor((r) => r.endOfRib, 5_000, "End-of-RIB");
        assertEquals(routes.sorted(), WANT, "the peer's table");
        const updatesBefore = routes.updates;

        const log = await speaker.log();
        const missing = BAD.filter((b) =>
          !log.split("\n").some((l) => l.includes("level=warn") && l.includes(b.logged))
        );
        assertEquals(missing.map((b) => b.logged), [], "bad objects without a warning naming them");
        assert(
          !log.includes("y".repeat(2_000)) && !log.includes(HUGE.slice(0, 2_000)),
          "a huge value was logged whole",
        );
        const warnings = warnLines(await speaker.metrics());
        assertGreater(warnings, BAD.length - 1, 'klog_lines_total{level="WARN"}');

        // A reload with an unparseable file keeps what the file held before.
        await Deno.writeTextFile(path, "{ this is not JSON");
        speaker.process.signal("SIGHUP");
        await waitFor(
          "the failed reload to be logged",
          async () => (await speaker.log()).includes("keeping what the file held before"),
          {
            timeoutMs: 5_000,
            intervalMs: 50,
          },
        );
        assertEquals((await speaker.status()).prefixes.map((p) => p.prefix).sort(), WANT);
        await new Promise((r) => setTimeout(r, 1_200));
        assertEquals(
          [routes.updates - updatesBefore, routes.notification, routes.closed],
          [0, undefined, false],
          "UPDATEs after a failed reload",
        );
        await routes.stop();
        assertGreater(warnLines(await speaker.metrics()), warnings, "the failed reload was not counted");
        assert(await speaker.live(), "/livez");
        assertEquals((await speaker.status()).peers[0].state, "Established");
      } finally {
        await peer.close();
      }
    } finally {
      await Deno.remove(dir, { recursive: true }).catch(() => undefined);
    }
  },
});

Deno.test({
  name: "a Subnet whose CIDR is not of its spec.protocol family is skipped with a logged reason",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "speaker-bad-objects-" });
    try {
      const path = `${dir}/objects.json`;
      await Deno.writeTextFile(
        path,
        JSON.stringify([...GOOD, subnet("wrong-family", "2001:db8:77::/64", "IPv4")]),
      );
      await using speaker = await startSpeaker({
        neighbors: ["127.0.0.10"],
        objectsFiles: [path],
        logDir: dir,
      });
      assertEquals((await speaker.status()).prefixes.map((p) => p.prefix).sort(), WANT);
      assert((await speaker.log()).includes("wrong-family"), "no warning names the Subnet");
    } finally {
      await Deno.remove(dir, { recursive: true }).catch(() => undefined);
    }
  },
});
