/**
 * Footprint: memory and CPU of a sender holding 0, 100k and 1M announced IPv4 host routes towards 1 and 4
 * peers (BIRD receivers), our speaker next to our engine alone, gobgpd and BIRD; and the speaker's startup
 * time from exec to its first OPEN on the wire.
 *
 * @module
 */

import { runCommand } from "../tests/harness/command.ts";
import { requireTools } from "../tests/harness/tools.ts";
import { Topology } from "../tests/harness/topology.ts";
import { delay } from "../tests/harness/wait.ts";
import type { BenchContext, Benchmark } from "./benchmark.ts";
import { cpuSeconds, processUsage } from "./process_usage.ts";
import { type Receiver, startReceiver, waitForCount } from "./receivers.ts";
import { mebibytes, millis, ratio, seconds, type Section, type Table, type TargetCheck } from "./report.ts";
import { prepareSender, SENDER_AS, type SenderKind } from "./senders.ts";
import { spawnSpeaker } from "./speaker_process.ts";
import { median, range } from "./statistics.ts";

/** One footprint reading. */
export interface FootprintSample {
  readonly sender: SenderKind;
  readonly n: number;
  readonly peers: number;
  /** VmRSS 2 s after every peer holds every route, MiB. */
  readonly rssMb: number;
  /** VmHWM then, MiB. */
  readonly peakMb: number;
  /** CPU time from exec until then (load and transfers included), seconds. */
  readonly cpuSeconds: number;
  /** CPU used per second over the following idle window, milliseconds. */
  readonly idleCpuMsPerS: number;
}

const SETTLE_MS = 2_000;
const IDLE_WINDOW_MS = 5_000;

/** Measures one sender holding `n` routes towards `peers` BIRD receivers (ours with extra `denoFlags`). */
export async function measureFootprint(
  context: BenchContext,
  sender: SenderKind,
  n: number,
  peers: number,
  denoFlags: readonly string[] = [],
): Promise<FootprintSample> {
  await using topo = await Topology.create({ hosts: peers + 1 });
  const h1 = topo.host(1);
  const others = Array.from({ length: peers }, (_, i) => topo.host(i + 2));
  const prepared = await prepareSender(topo, h1, sender, {
    family: "ipv4",
    n,
    receivers: others.map((h) => h.ipv4),
    inputs: context.inputs,
    denoFlags,
  });
  const receivers: Receiver[] = [];
  try {
    for (const h of others) {
      receivers.push(
        await startReceiver(topo, h, "bird", { sender: h1.ipv4, family: "ipv4", senderAs: SENDER_AS }),
      );
    }
    const running = await prepared.launch();
    try {
      for (const r of receivers) {
        await r.established(300_000);
        await waitForCount(r, n, { timeoutMs: 300_000, intervalMs: 50 });
      }
      await delay(SETTLE_MS);
      const usage = processUsage(running.pid);
      await delay(IDLE_WINDOW_MS);
      const idleCpu = cpuSeconds(running.pid) - usage.cpuSeconds;
      return {
        sender,
        n,
        peers,
        rssMb: usage.rssMb,
        peakMb: usage.peakRssMb,
        cpuSeconds: usage.cpuSeconds,
        idleCpuMsPerS: idleCpu * 1000 / (IDLE_WINDOW_MS / 1000),
      };
    } finally {
      running.close();
    }
  } finally {
    for (const r of receivers) r.close();
  }
}

/** Exec → first OPEN on the wire, seconds: the speaker with an objects file of `n` Pods, one BIRD peer. */
export async function measureStartup(context: BenchContext, n = 0): Promise<number> {
  await using topo = await Topology.create({ hosts: 2 });
  const [h1, h2] = [topo.host(1), topo.host(2)];
  const file = await context.inputs.objectsFile("ipv4", n);
  const receiver = await startReceiver(topo, h2, "bird", {
    sender: h1.ipv4,
    family: "ipv4",
    senderAs: SENDER_AS,
  });
  try {
    const cap = await topo.capture(h1, { filter: "tcp port 179" });
    const execAt = Date.now() / 1000;
    spawnSpeaker(topo, { host: h1, neighbors: [h2.ipv4], objectsFiles: [file] });
    await receiver.established(30_000);
    const pcap = await cap.stop();
    const { stdout } = await runCommand([
      "tshark",
      "-n",
      "-r",
      pcap,
      "-Y",
      `bgp.type == 1 && ip.src == ${h1.ipv4}`,
      "-T",
      "fields",
      "-e",
      "frame.time_epoch",
    ], { timeoutMs: 60_000 });
    const first = Number(stdout.split("\n")[0]);
    if (!Number.isFinite(first)) throw new Error("No OPEN from the speaker in the capture");
    return first - execAt;
  } finally {
    receiver.close();
  }
}

/** The footprint plan of a run. */
export function footprintPlan(quick: boolean): { n: number; peers: number; senders: SenderKind[] }[] {
  if (quick) return [{ n: 0, peers: 1, senders: ["speaker", "bird"] }];
  const all: SenderKind[] = ["speaker", "engine", "gobgpd", "bird"];
  return [
    { n: 0, peers: 1, senders: all },
    { n: 100_000, peers: 1, senders: all },
    { n: 100_000, peers: 4, senders: all },
    { n: 1_000_000, peers: 1, senders: all },
    { n: 1_000_000, peers: 4, senders: ["speaker", "gobgpd", "bird"] },
  ];
}

const NAMES: Record<SenderKind, string> = {
  speaker: "speaker (ours)",
  engine: "our BGP engine alone",
  gobgpd: "gobgpd",
  bird: "BIRD",
};

function sizeLabel(n: number): string {
  return n === 0 ? "idle (0 prefixes)" : n >= 1_000_000 ? `${n / 1_000_000}M` : `${n / 1000}k`;
}

/** Builds the section (pure). */
export function footprintSection(
  samples: readonly FootprintSample[],
  startups: readonly number[],
  reps: number,
): Section {
  const rows: string[][] = [];
  const targets: TargetCheck[] = [];
  const groups = [...new Map(samples.map((s) => [`${s.n}/${s.peers}`, { n: s.n, peers: s.peers }])).values()];
  for (const g of groups) {
    const of = (k: SenderKind) => samples.filter((s) => s.n === g.n && s.peers === g.peers && s.sender === k);
    const oursRss = median(of("speaker").map((s) => s.rssMb));
    const oursPeak = median(of("speaker").map((s) => s.peakMb));
    for (const k of ["speaker", "engine", "gobgpd", "bird"] as const) {
      const ss = of(k);
      if (ss.length === 0) continue;
      const rss = median(ss.map((s) => s.rssMb));
      const peak = median(ss.map((s) => s.peakMb));
      rows.push([
        sizeLabel(g.n),
        String(g.peers),
        NAMES[k],
        mebibytes(rss),
        mebibytes(peak),
        seconds(median(ss.map((s) => s.cpuSeconds))),
        millis(median(ss.map((s) => s.idleCpuMsPerS))),
        k === "speaker" ? "1.00x / 1.00x" : `${ratio(oursRss, rss)} / ${ratio(oursPeak, peak)}`,
        String(ss.length),
      ]);
    }
    if (g.peers === 1 && of("speaker").length > 0) {
      const limit = g.n === 0 ? 60 : g.n <= 100_000 ? 100 : 300;
      const what = g.n === 0 ? "Idle RSS" : `RSS at ${sizeLabel(g.n)} announced prefixes`;
      targets.push({
        target: `${what} ≤ ${limit} MB (1 peer)`,
        measured: `${mebibytes(oursRss)} MB after, ${mebibytes(oursPeak)} MB peak`,
        met: Math.max(oursRss, oursPeak) <= limit,
      });
    }
  }
  const tables: Table[] = [{
    columns: [
      "announced",
      "peers",
      "process",
      "RSS after, MB (median)",
      "peak RSS (VmHWM), MB",
      "CPU from exec, s",
      "idle CPU, ms/s",
      "ours / this (RSS / peak)",
      "runs",
    ],
    rows,
  }];
  if (startups.length > 0) {
    const { min, max } = range(startups);
    const med = median(startups);
    tables.push({
      caption:
        "**Startup: exec → first OPEN on the wire** (speaker, objects file with one Subnet, one BIRD peer)",
      columns: ["median, ms", "min–max, ms", "runs"],
      rows: [[millis(med * 1000), `${millis(min * 1000)}–${millis(max * 1000)}`, String(startups.length)]],
    });
    targets.push({
      target: "First OPEN ≤ 300 ms after exec",
      measured: `${millis(med * 1000)} ms`,
      met: med <= 0.3,
    });
  }
  return {
    title: "Footprint",
    method: [
      `Each process holds N IPv4 /32s and sends them to 1 or 4 BIRD receivers (${reps} repetition(s), fresh ` +
      "namespaces each). Once every receiver holds every route, the benchmark waits 2 s and reads VmRSS, " +
      "VmHWM and utime+stime (since exec, so loading is included) from `/proc`, then measures the CPU used " +
      'over 5 idle seconds. Ours runs as `deno run -A main.ts --objects-file` (N Pods); "our BGP engine ' +
      "alone\" is lib/session's BgpSpeaker given the same prefixes as a list (tests/interop/engine_runner.ts), " +
      "which separates the Kubernetes side's memory from the BGP side's. gobgpd is loaded by `gobgp mrt " +
      "inject` (its VmHWM includes the inject), BIRD by static routes.",
      "Startup: a tcpdump in the speaker's namespace; the time from just before the spawn (`ip netns exec` " +
      "→ `sh` → `exec deno run -A main.ts`, so the wrappers' few milliseconds count) to the capture timestamp of " +
      "the first OPEN the speaker sends. BIRD listens already, so the TCP handshake is immediate.",
    ],
    tables,
    targets,
  };
}

/** The benchmark. */
export const footprint: Benchmark = {
  id: "footprint",
  title: "Footprint",
  async run(context: BenchContext): Promise<Section> {
    requireTools(["ip", "bird", "birdc", "gobgpd", "gobgp", "tcpdump", "tshark"]);
    const samples: FootprintSample[] = [];
    const errors: string[] = [];
    for (const step of footprintPlan(context.quick)) {
      for (const sender of step.senders) {
        for (let r = 0; r < context.reps; r++) {
          try {
            const s = await measureFootprint(context, sender, step.n, step.peers);
            samples.push(s);
            context.log(
              `footprint ${sender} ${sizeLabel(step.n)} ×${step.peers}: RSS ${mebibytes(s.rssMb)} MB, peak ` +
                `${mebibytes(s.peakMb)} MB, CPU ${seconds(s.cpuSeconds)} s, idle ${
                  millis(s.idleCpuMsPerS)
                } ms/s`,
            );
          } catch (error) {
            const msg = `${sender} ${sizeLabel(step.n)} ×${step.peers}: ${
              (error as Error).message.split("\n")[0]
            }`;
            errors.push(msg);
            context.log(`footprint FAILED ${msg}`);
          }
        }
      }
    }
    const startups: number[] = [];
    const startupRuns = context.quick ? 1 : 5;
    for (let r = 0; r < startupRuns; r++) {
      try {
        const t = await measureStartup(context);
        startups.push(t);
        context.log(`startup: first OPEN ${millis(t * 1000)} ms after exec`);
      } catch (error) {
        errors.push(`startup: ${(error as Error).message.split("\n")[0]}`);
      }
    }
    const section = footprintSection(samples, startups, context.reps);
    return errors.length > 0 ? { ...section, error: errors.join("; ") } : section;
  },
};
