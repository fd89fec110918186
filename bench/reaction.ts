/**
 * Reaction: event-to-wire latency from a change on the Kubernetes side to the UPDATE carrying it leaving
 * the speaker, p50 and p99, next to kube-ovn-speaker's 5 s reconcile period.
 *
 * Variants: an objects file rewritten (the speaker notices through its file watch), the same rewrite
 * followed by SIGHUP (explicit reload), and a Pod annotation patched in a real kube-apiserver (when
 * tools/kube has built one).
 *
 * @module
 */

import { ManagedProcess } from "../tests/harness/managed_process.ts";
import { requireTools } from "../tests/harness/tools.ts";
import { Topology } from "../tests/harness/topology.ts";
import { delay, waitFor } from "../tests/harness/wait.ts";
import type { BenchContext, Benchmark } from "./benchmark.ts";
import { writeObjectsFile } from "./objects_file_writer.ts";
import { bulkAddress } from "./prefixes.ts";
import { RECEIVER_AS, startReceiver } from "./receivers.ts";
import { millis, ratio, type Section, type TargetCheck } from "./report.ts";
import { MAIN_TS, spawnSpeaker, SPEAKER_AS } from "./speaker_process.ts";
import { percentile } from "./statistics.ts";
import { firstOnWire } from "./wire_times.ts";

/** How the change reaches the speaker. */
export type ReactionVariant = "file" | "sighup" | "apiserver";

/** Latencies of one variant, seconds. */
export interface ReactionSample {
  readonly variant: ReactionVariant;
  /** Event → UPDATE on the wire, per change. */
  readonly wire: readonly number[];
  /** Event → the receiver holds the route (polled every 2 ms), per change. */
  readonly receiver: readonly number[];
  /** Changes whose UPDATE was not found in the capture. */
  readonly missing: number;
}

/** Pods present before the changes start (a small cluster's worth). */
const BASE_PODS = 1_000;
/** Bulk host index of the first changed Pod. */
const CHANGE_OFFSET = 200_000;

function changedPrefix(i: number): string {
  return `${bulkAddress("ipv4", CHANGE_OFFSET + i)}/32`;
}

/** The objects-file variants: the speaker in a namespace, a BIRD receiver, tcpdump on the speaker's side. */
export async function measureFileReaction(
  variant: "file" | "sighup",
  changes: number,
): Promise<ReactionSample> {
  await using topo = await Topology.create({ hosts: 2 });
  const [h1, h2] = [topo.host(1), topo.host(2)];
  const file = `${topo.workDir}/objects.yaml`;
  await writeObjectsFile(file, [{ family: "ipv4", offset: 0, count: BASE_PODS }]);
  const receiver = await startReceiver(topo, h2, "bird", {
    sender: h1.ipv4,
    family: "ipv4",
    senderAs: SPEAKER_AS,
  });
  try {
    const cap = await topo.capture(h1, { filter: "tcp port 179" });
    const speaker = spawnSpeaker(topo, { host: h1, neighbors: [h2.ipv4], objectsFiles: [file] });
    await receiver.established(60_000);
    await waitFor("the base Pods at the receiver", async () => (await receiver.count()) === BASE_PODS, {
      timeoutMs: 60_000,
      intervalMs: 20,
    });
    const events: number[] = [];
    const held: number[] = [];
    for (let i = 0; i < changes; i++) {
      await writeObjectsFile(file, [
        { family: "ipv4", offset: 0, count: BASE_PODS },
        { family: "ipv4", offset: CHANGE_OFFSET, count: i + 1 },
      ]);
      events.push(Date.now() / 1000);
      if (variant === "sighup") speaker.reload();
      await waitFor(
        `change ${i} at the receiver`,
        async () => (await receiver.count()) >= BASE_PODS + i + 1,
        {
          timeoutMs: 10_000,
          intervalMs: 2,
        },
      );
      held.push(Date.now() / 1000 - events[i]);
      // Spread the changes so that none coalesces with the previous one.
      await delay(5 + Math.random() * 20);
    }
    await delay(200);
    const seen = await firstOnWire(await cap.stop(), { src: h1.ipv4 });
    return latencies(variant, events, held, seen);
  } finally {
    receiver.close();
  }
}

function latencies(
  variant: ReactionVariant,
  events: readonly number[],
  held: readonly number[],
  seen: Map<string, number>,
): ReactionSample {
  const wire: number[] = [];
  let missing = 0;
  events.forEach((t, i) => {
    const at = seen.get(changedPrefix(i));
    if (at === undefined) missing++;
    else wire.push(at - t);
  });
  return { variant, wire, receiver: held, missing };
}

/**
 * The API-server variant: a real kube-apiserver (tests/kube/apiserver.ts) on loopback, the speaker in the
 * host namespace with a ServiceAccount kubeconfig, `speaker listen` as the peer on a loopback port, and
 * tcpdump on `lo`. Each change patches one Pod's `ovn.kubernetes.io/bgp` to `cluster`; the event time is
 * when the API server's response arrives.
 */
export async function measureApiReaction(changes: number): Promise<ReactionSample> {
  const { TestApiServer } = await import("../tests/kube/apiserver.ts");
  await using api = await TestApiServer.start();
  const dir = await Deno.makeTempDir({ prefix: "speaker-bench-api-" });
  const procs: ManagedProcess[] = [];
  try {
    await api.kubectl("create", "namespace", "bench");
    await api.apply(JSON.stringify({
      apiVersion: "kubeovn.io/v1",
      kind: "Subnet",
      metadata: { name: "bench4" },
      spec: { protocol: "IPv4", cidrBlock: "100.64.0.0/10" },
    }));
    await api.kubectl(
      "patch",
      "subnet",
      "bench4",
      "--subresource=status",
      "--type=merge",
      "-p",
      '{"status":{"conditions":[{"type":"Ready","status":"True"}]}}',
    );
    const pods = Array.from({ length: changes }, (_, i) => ({
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        name: `p-${i}`,
        namespace: "bench",
        annotations: {
          "ovn.kubernetes.io/ip_address": bulkAddress("ipv4", CHANGE_OFFSET + i),
          "ovn.kubernetes.io/logical_switch": "bench4",
        },
      },
      spec: { nodeName: "node-1", containers: [{ name: "c", image: "pause" }] },
    }));
    for (let i = 0; i < pods.length; i += 200) {
      await api.apply(JSON.stringify({ apiVersion: "v1", kind: "List", items: pods.slice(i, i + 200) }));
    }
    const token = await api.createServiceAccountToken("kube-system", "kube-ovn-speaker");
    const kubeconfig = await api.writeKubeconfig("bench-speaker", token);
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    const cap = ManagedProcess.spawn({
      name: "tcpdump@lo",
      argv: [
        "tcpdump",
        "-i",
        "lo",
        "--immediate-mode",
        "-U",
        "-n",
        "-s",
        "0",
        "-w",
        `${dir}/lo.pcap`,
        `tcp port ${port}`,
      ],
      logPath: `${dir}/tcpdump.log`,
    });
    procs.push(cap);
    await waitFor("tcpdump on lo", async () => (await cap.logTail()).includes("listening on"), {
      timeoutMs: 10_000,
    });
    const listen = ManagedProcess.spawn({
      name: "listen",
      argv: [
        Deno.execPath(),
        "run",
        "-A",
        MAIN_TS,
        "listen",
        "--neighbor",
        "127.0.0.1",
        "--as",
        String(RECEIVER_AS),
        "--address",
        "127.0.0.1",
        "--port",
        String(port),
        "--json",
      ],
      logPath: `${dir}/listen.log`,
    });
    procs.push(listen);
    await delay(500);
    const speaker = ManagedProcess.spawn({
      name: "speaker",
      argv: [
        Deno.execPath(),
        "run",
        "-A",
        MAIN_TS,
        "--cluster-as",
        String(SPEAKER_AS),
        "--neighbor-as",
        String(RECEIVER_AS),
        "--neighbor-address",
        "127.0.0.1",
        "--neighbor-port",
        String(port),
        "--router-id",
        "10.99.0.1",
        "--node-name",
        "node-1",
        "--kubeconfig",
        kubeconfig,
        "--enable-metrics=false",
        "--log-format",
        "json",
      ],
      logPath: `${dir}/speaker.log`,
    });
    procs.push(speaker);
    await waitFor("the speaker's session to speaker listen", async () => {
      return (await speaker.logTail(1_000_000)).includes('"session established"');
    }, { timeoutMs: 60_000, intervalMs: 50, diagnostics: () => speaker.logTail() });
    const events: number[] = [];
    const held: number[] = [];
    let logText = "";
    for (let i = 0; i < changes; i++) {
      const res = await api.fetch(`/api/v1/namespaces/bench/pods/p-${i}`, {
        method: "PATCH",
        headers: { "Content-Type": "application/merge-patch+json" },
        body: JSON.stringify({ metadata: { annotations: { "ovn.kubernetes.io/bgp": "cluster" } } }),
      });
      await res.body?.cancel();
      events.push(Date.now() / 1000);
      if (!res.ok) throw new Error(`PATCH of Pod p-${i} failed: HTTP ${res.status}`);
      const want = `"${changedPrefix(i)}"`;
      await waitFor(`change ${i} at speaker listen`, async () => {
        logText = await Deno.readTextFile(listen.logPath);
        return logText.includes(want);
      }, { timeoutMs: 10_000, intervalMs: 2 });
      held.push(Date.now() / 1000 - events[i]);
      await delay(5 + Math.random() * 20);
    }
    await delay(200);
    await cap.stop();
    const seen = await firstOnWire(`${dir}/lo.pcap`, { dstPort: port });
    return latencies("apiserver", events, held, seen);
  } finally {
    for (const p of procs.reverse()) await p.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => undefined);
  }
}

const VARIANT_NAMES: Record<ReactionVariant, string> = {
  file: "objects file rewritten (file watch)",
  sighup: "objects file rewritten + SIGHUP",
  apiserver: "Pod annotation patched in kube-apiserver",
};

/** kube-ovn-speaker reconciles every 5 s: a change waits uniformly 0–5 s (p50 2.5 s, p99 4.95 s). */
const KUBE_OVN_P50 = 2.5;
const KUBE_OVN_P99 = 4.95;

/** Builds the section (pure). */
export function reactionSection(samples: readonly ReactionSample[], changes: number): Section {
  const rows = samples.map((s) => {
    const p50 = percentile(s.wire, 0.5);
    const p99 = percentile(s.wire, 0.99);
    return [
      VARIANT_NAMES[s.variant],
      String(s.wire.length),
      millis(p50 * 1000),
      millis(p99 * 1000),
      millis(Math.max(...s.wire) * 1000),
      millis(percentile(s.receiver, 0.5) * 1000),
      millis(percentile(s.receiver, 0.99) * 1000),
      `${ratio(p50, KUBE_OVN_P50)} / ${ratio(p99, KUBE_OVN_P99)}`,
      String(s.missing),
    ];
  });
  rows.push([
    "kube-ovn-speaker (5 s reconcile, expected)",
    "-",
    "2500.0",
    "4950.0",
    "5000.0",
    "-",
    "-",
    "1.00x",
    "-",
  ]);
  const targets: TargetCheck[] = samples.map((s) => {
    const p99 = percentile(s.wire, 0.99);
    return {
      target: `Reaction p99 ≤ 50 ms (${VARIANT_NAMES[s.variant]})`,
      measured: `${millis(p99 * 1000)} ms`,
      met: Number.isFinite(p99) ? p99 <= 0.05 : undefined,
    };
  });
  return {
    title: "Reaction (event to wire)",
    method: [
      `${changes} changes per variant, one at a time: each adds one Pod's /32 (announced), the next starts ` +
      "5–25 ms after the receiver holds the previous one, so no two coalesce. The event time is taken right " +
      "after the objects file is renamed into place (file watch), right before SIGHUP is sent (SIGHUP), or " +
      "when the API server's response to the PATCH arrives (API server). The wire time is the tcpdump " +
      "timestamp of the first UPDATE from the speaker carrying the prefix (tshark). Objects-file variants: " +
      `${BASE_PODS} other Pods in the file, which is rewritten whole each time (a static mode reload reads the ` +
      "whole file); BIRD as the peer, in namespaces. API-server variant: a real kube-apiserver and etcd on " +
      "loopback, the speaker in the host namespace with a ServiceAccount token bound by manifests/rbac.yaml, " +
      "`speaker listen` as the peer on a loopback port, capture on `lo`.",
      "The → receiver columns add the peer's processing and a 2 ms poll. kube-ovn-speaker reconciles every " +
      "5 s, so a change waits uniformly 0–5 s there; the ratios compare with that expectation.",
    ],
    tables: [{
      columns: [
        "variant",
        "changes seen",
        "→ wire p50, ms",
        "→ wire p99, ms",
        "max, ms",
        "→ receiver p50, ms",
        "→ receiver p99, ms",
        "ours / kube-ovn-speaker (p50 / p99)",
        "missing",
      ],
      rows,
    }],
    targets,
  };
}

/** The benchmark. */
export const reaction: Benchmark = {
  id: "reaction",
  title: "Reaction (event to wire)",
  async run(context: BenchContext): Promise<Section> {
    requireTools(["ip", "bird", "birdc", "tcpdump", "tshark"]);
    const changes = context.quick ? 20 : 1_000;
    const samples: ReactionSample[] = [];
    const errors: string[] = [];
    const variants: ReactionVariant[] = context.quick ? ["file", "sighup"] : ["file", "sighup", "apiserver"];
    for (const v of variants) {
      try {
        const s = v === "apiserver"
          ? await measureApiReaction(changes)
          : await measureFileReaction(v, changes);
        samples.push(s);
        context.log(
          `reaction ${v}: p50 ${millis(percentile(s.wire, 0.5) * 1000)} ms, p99 ${
            millis(percentile(s.wire, 0.99) * 1000)
          } ms (${s.wire.length} seen, ${s.missing} missing)`,
        );
      } catch (error) {
        const msg = `${v}: ${(error as Error).message.split("\n")[0]}`;
        errors.push(msg);
        context.log(`reaction FAILED ${msg}`);
      }
    }
    const section = reactionSection(samples, changes);
    return errors.length > 0 ? { ...section, error: errors.join("; ") } : section;
  },
};
