/**
 * Soak run of the speaker (not part of CI): the speaker program in a test namespace with two real peers
 * (BIRD and FRR), continuous churn of its objects file, and periodic faults, for an hour by default.
 *
 * ```sh
 * ./denow run -A tools/soak.ts [--minutes 60] [--pods 2000] [--churn-ms 2000] [--out soak.jsonl]
 * ```
 *
 * Every `--churn-ms` the objects file is rewritten with about 5 % of the Pods replaced (new names, new
 * addresses in 100.64.0.0/16); the speaker picks the change up by watching the file. Faults, one per
 * minute in turn: BIRD killed (SIGKILL) and restarted; FRR's link cut for 10 s (longer than the 6 s hold
 * time) and restored; FRR stopped and restarted; a quiet minute. At the end of every minute the churn
 * pauses, and the run measures how long both peers take to hold exactly the desired prefixes, samples the
 * speaker's RSS and writes one JSON line (stdout, and `--out` when given). The last line is the summary
 * with the memory curve. Exit code 1 when the speaker died or a peer did not converge within 60 s.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { requireTools, startBird, startFrr, Topology } from "../tests/harness/mod.ts";
import { type PodAddress, podsInRange, writeClusterObjects } from "../tests/faults/cluster_objects.ts";
import { ipv4Plus } from "../tests/faults/cluster_objects.ts";
import { startSpeaker } from "../tests/hostile/speaker_process.ts";
import { mulberry32 } from "../tests/fuzz/message_mutator.ts";

const SUBNET = "100.64.0.0/16";
const CONVERGE_TIMEOUT_MS = 60_000;
const FAULTS = ["bird-kill-restart", "frr-link-cut", "frr-restart", "none"] as const;

/** One minute of the soak. */
interface MinuteSample {
  minute: number;
  at: string;
  fault: string;
  rssMiB: number | null;
  desired: number;
  churnWrites: number;
  convergeMs: number | null;
  bird: number;
  frr: number;
  speakerAlive: boolean;
}

function sameSet(a: readonly string[], b: ReadonlySet<string>): boolean {
  return a.length === b.size && a.every((p) => b.has(p));
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      minutes: { type: "string", default: "60" },
      pods: { type: "string", default: "2000" },
      "churn-ms": { type: "string", default: "2000" },
      out: { type: "string" },
      seed: { type: "string", default: "7" },
    },
  });
  const minutes = Number(values.minutes);
  const podCount = Number(values.pods);
  const churnMs = Number(values["churn-ms"]);
  if (!(minutes >= 1 && minutes <= 24 * 60) || !(podCount >= 1 && podCount <= 60_000) || !(churnMs >= 100)) {
    console.error("Usage: soak.ts [--minutes 1..1440] [--pods 1..60000] [--churn-ms ≥100] [--out FILE]");
    return 2;
  }
  requireTools(["ip", "bird", "birdc", "vtysh", "python3"]);
  const rand = mulberry32(Number(values.seed));
  const emit = async (line: unknown) => {
    const text = JSON.stringify(line);
    console.log(text);
    if (values.out) await Deno.writeTextFile(values.out, text + "\n", { append: true });
  };

  await using topo = await Topology.create({ hosts: 3 });
  const [h1, h2, h3] = [topo.host(1), topo.host(2), topo.host(3)];
  const objectsPath = `${topo.workDir}/objects.json`;
  let nextPod = podCount;
  let pods: PodAddress[] = podsInRange("100.64.0.1", podCount);
  const desired = () => new Set([SUBNET, ...pods.map((p) => `${p.ip}/32`)]);
  await writeClusterObjects(objectsPath, { subnetCidr: SUBNET, pods });

  const bird = await startBird(topo, {
    host: h2,
    asn: 65000,
    neighbors: [{ address: h1.ipv4, peerAs: 65001, passive: true }],
  });
  const frr = await startFrr(topo, {
    host: h3,
    asn: 65000,
    neighbors: [{ address: h1.ipv4, peerAs: 65001, passive: true }],
  });
  const speaker = await startSpeaker({
    topology: topo,
    host: h1,
    neighbors: [h2.ipv4, h3.ipv4],
    passive: false,
    holdTime: "6s",
    objectsFiles: [objectsPath],
  });
  const started = Date.now();
  await emit({
    event: "start",
    at: new Date().toISOString(),
    minutes,
    pods: podCount,
    churnMs,
    workDir: topo.workDir,
  });

  let churnWrites = 0;
  let churning = true;
  const churnOnce = async () => {
    // Replace about 5 % of the Pods: new names and addresses, as a rolling deployment would.
    const replace = Math.max(1, Math.floor(pods.length * 0.05));
    for (let k = 0; k < replace; k++) {
      const i = Math.floor(rand() * pods.length);
      const n = nextPod++;
      pods[i] = { name: `pod-${n}`, ip: ipv4Plus("100.64.0.1", n % 65_000) };
    }
    // Addresses wrap around after 65,000 Pods: keep them unique.
    const seen = new Set<string>();
    pods = pods.filter((p) => !seen.has(p.ip) && seen.add(p.ip));
    await writeClusterObjects(objectsPath, { subnetCidr: SUBNET, pods });
    churnWrites++;
  };
  const churnLoop = (async () => {
    while (Date.now() - started < minutes * 60_000) {
      if (churning) await churnOnce().catch((e) => console.error(`churn: ${e}`));
      await new Promise((r) => setTimeout(r, churnMs));
    }
  })();

  const samples: MinuteSample[] = [];
  let failed = false;
  for (let minute = 1; minute <= minutes && !failed; minute++) {
    const fault = FAULTS[(minute - 1) % FAULTS.length];
    const minuteEnd = started + minute * 60_000;
    // The fault, early in the minute.
    await new Promise((r) => setTimeout(r, Math.min(5_000, Math.max(0, minuteEnd - Date.now() - 30_000))));
    try {
      if (fault === "bird-kill-restart") {
        await bird.kill();
        await new Promise((r) => setTimeout(r, 2_000));
        await bird.start();
      } else if (fault === "frr-link-cut") {
        await topo.cutLink(h3);
        await new Promise((r) => setTimeout(r, 10_000));
        await topo.restoreLink(h3);
      } else if (fault === "frr-restart") {
        await frr.restart();
      }
    } catch (error) {
      console.error(`fault ${fault}: ${error}`);
    }
    // Churn until 20 s before the end of the minute, then let the peers converge.
    await new Promise((r) => setTimeout(r, Math.max(0, minuteEnd - Date.now() - 20_000)));
    churning = false;
    await new Promise((r) => setTimeout(r, 300));
    const want = desired();
    const t0 = performance.now();
    let convergeMs: number | null = null;
    let birdCount = 0;
    let frrCount = 0;
    while (performance.now() - t0 < CONVERGE_TIMEOUT_MS) {
      const [b, f] = await Promise.all([
        bird.routes("ipv4").then((rs) => rs.map((r) => r.prefix)).catch(() => []),
        frr.routes("ipv4").then((rs) => rs.map((r) => r.prefix)).catch(() => []),
      ]);
      birdCount = b.length;
      frrCount = f.length;
      if (sameSet(b, want) && sameSet(f, want)) {
        convergeMs = Math.round(performance.now() - t0);
        break;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    const kb = speaker.rssKb();
    const sample: MinuteSample = {
      minute,
      at: new Date().toISOString(),
      fault,
      rssMiB: kb === undefined ? null : Math.round(kb / 102.4) / 10,
      desired: want.size,
      churnWrites,
      convergeMs,
      bird: birdCount,
      frr: frrCount,
      speakerAlive: speaker.process.running,
    };
    samples.push(sample);
    await emit(sample);
    if (!speaker.process.running || convergeMs === null) failed = true;
    churning = true;
    await new Promise((r) => setTimeout(r, Math.max(0, minuteEnd - Date.now())));
  }
  churning = false;
  await Promise.race([churnLoop, new Promise((r) => setTimeout(r, churnMs + 1_000))]);
  const rss = samples.map((s) => s.rssMiB);
  const converge = samples.map((s) => s.convergeMs).filter((v): v is number => v !== null);
  await emit({
    event: "summary",
    minutes: samples.length,
    ok: !failed,
    churnWrites,
    rssMiB: { first: rss[0], last: rss.at(-1), max: Math.max(...rss.map((v) => v ?? 0)), curve: rss },
    convergeMs: {
      max: Math.max(...converge),
      median: converge.sort((a, b) => a - b)[Math.floor(converge.length / 2)],
    },
    speakerLogTail: failed ? await speaker.process.logTail(2_000) : undefined,
  });
  await speaker.stop();
  return failed ? 1 : 0;
}

if (import.meta.main) Deno.exit(await main());
