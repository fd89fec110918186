/**
 * Inbound flood: the upstream router (BIRD, static routes) sends us a full table while we validate,
 * count and discard it. Our CPU time and peak RSS growth over idle, and proof the session stayed up;
 * gobgpd in our place (it keeps what it receives, as kube-ovn-speaker does) for comparison.
 *
 * @module
 */

import { startGobgpd } from "../tests/harness/gobgpd.ts";
import { requireTools } from "../tests/harness/tools.ts";
import { Topology } from "../tests/harness/topology.ts";
import { delay, waitFor } from "../tests/harness/wait.ts";
import type { BenchContext, Benchmark } from "./benchmark.ts";
import { BirdControl, establishedSince } from "./bird_control.ts";
import { birdProtocolName } from "../tests/harness/bird.ts";
import { cpuSeconds, processUsage, RssSampler } from "./process_usage.ts";
import { mebibytes, ratio, seconds, type Section, type TargetCheck } from "./report.ts";
import { prepareSender } from "./senders.ts";
import { spawnSpeaker, SPEAKER_AS } from "./speaker_process.ts";
import { median } from "./statistics.ts";

/** Who receives the flood. */
export type FloodReceiver = "speaker" | "gobgpd";

/** One flood. */
export interface FloodSample {
  readonly receiver: FloodReceiver;
  readonly n: number;
  /** RSS when idle just before the flood, MiB. */
  readonly idleRssMb: number;
  /** Peak RSS during the flood (sampled every 20 ms), MiB. */
  readonly peakRssMb: number;
  /** CPU time from idle to every route counted, seconds. */
  readonly cpuSeconds: number;
  /** Upstream's Established → every route counted (polled every 100 ms), seconds. */
  readonly seconds: number;
  /** The session was Established throughout (upstream's Established timestamp unchanged, no down log). */
  readonly stayedUp: boolean;
  /** Why it counts as not up, when it does not. */
  readonly downReason?: string;
}

const UPSTREAM_AS = 65002;

/** Floods `receiver` with `n` IPv4 /32s from a BIRD upstream, in fresh namespaces. */
export async function measureFlood(
  context: BenchContext,
  receiver: FloodReceiver,
  n: number,
): Promise<FloodSample> {
  await using topo = await Topology.create({ hosts: 2 });
  const [h1, h2] = [topo.host(1), topo.host(2)];
  let pid: number;
  let received: () => Promise<number>;
  // Our "session down" log lines after `since` (epoch seconds), as text.
  let downLogged: (since: number) => Promise<string | undefined> = () => Promise.resolve(undefined);
  if (receiver === "speaker") {
    const speaker = spawnSpeaker(topo, {
      host: h1,
      neighbors: [h2.ipv4],
      peerAs: UPSTREAM_AS,
      objectsFiles: [await context.inputs.objectsFile("ipv4", 0)],
      args: ["--passivemode"],
    });
    await speaker.waitLog("BGP started", (l) => l.msg === "BGP started");
    pid = speaker.pid;
    received = async () => {
      const status = JSON.parse(await speaker.admin("/status")) as {
        peers: { state: string; prefixes: { received: number } }[];
      };
      return status.peers[0]?.prefixes.received ?? 0;
    };
    downLogged = async (since) => {
      const down = (await speaker.logLines()).find((l) =>
        l.msg === "session down" && Date.parse(l.time) / 1000 >= since - 0.001
      );
      return down ? `session down logged at ${down.time}: ${String(down.reason)}` : undefined;
    };
  } else {
    const gobgpd = await startGobgpd(topo, {
      host: h1,
      asn: SPEAKER_AS,
      neighbors: [{ address: h2.ipv4, peerAs: UPSTREAM_AS }],
    });
    pid = gobgpd.pid;
    received = async () => {
      const out = await gobgpd.cli(["global", "rib", "summary", "-a", "ipv4"]);
      return Number(/Destination: (\d+)/.exec(out)?.[1] ?? 0);
    };
  }
  await delay(2_000);
  const idle = processUsage(pid);
  const sampler = new RssSampler(pid);
  const cpuBefore = cpuSeconds(pid);
  try {
    const upstream = await prepareSender(topo, h2, "bird", {
      family: "ipv4",
      n,
      receivers: [h1.ipv4],
      inputs: context.inputs,
      asn: UPSTREAM_AS,
      peerAs: SPEAKER_AS,
    });
    const sender = await upstream.launch();
    const ctl = await BirdControl.connect(`${topo.workDir}/bird-${h2.name}/bird.ctl`);
    try {
      const name = birdProtocolName(h1.ipv4);
      const since = await waitFor("the upstream's session", async () => {
        await sender.poke?.();
        return establishedSince(await ctl.command(`show protocols ${name}`), name);
      }, { timeoutMs: 120_000, intervalMs: 20 });
      await waitFor(`${receiver} to count ${n} routes`, async () => {
        await sender.poke?.();
        return (await received()) >= n;
      }, { timeoutMs: 300_000, intervalMs: 100 });
      const done = Date.now() / 1000;
      const cpu = cpuSeconds(pid) - cpuBefore;
      await delay(2_000);
      const sinceAfter = establishedSince(await ctl.command(`show protocols ${name}`), name);
      const down = await downLogged(since);
      const downReason = down ??
        (sinceAfter !== since
          ? `upstream's Established time changed from ${since} to ${sinceAfter}`
          : undefined);
      return {
        receiver,
        n,
        idleRssMb: idle.rssMb,
        peakRssMb: sampler.stop(),
        cpuSeconds: cpu,
        seconds: done - since,
        stayedUp: downReason === undefined,
        downReason,
      };
    } finally {
      ctl.close();
      sender.close();
    }
  } finally {
    sampler.stop();
  }
}

/** Builds the section (pure). */
export function floodSection(samples: readonly FloodSample[], reps: number): Section {
  const ours = samples.filter((s) => s.receiver === "speaker");
  const theirs = samples.filter((s) => s.receiver === "gobgpd");
  const growth = (ss: readonly FloodSample[]) => median(ss.map((s) => s.peakRssMb - s.idleRssMb));
  const cpu = (ss: readonly FloodSample[]) => median(ss.map((s) => s.cpuSeconds));
  const rows = [
    ["speaker (ours): validates, counts, discards", ours],
    ["gobgpd: keeps them (Adj-RIB-In and RIB)", theirs],
  ].filter(([, ss]) => (ss as FloodSample[]).length > 0).map(([name, ss]) => {
    const s = ss as FloodSample[];
    return [
      name as string,
      String(s[0].n),
      mebibytes(median(s.map((x) => x.idleRssMb))),
      mebibytes(median(s.map((x) => x.peakRssMb))),
      mebibytes(growth(s)),
      seconds(cpu(s)),
      seconds(median(s.map((x) => x.seconds))),
      s.every((x) => x.stayedUp) ? "yes" : `**no**: ${s.find((x) => !x.stayedUp)?.downReason ?? ""}`,
      s === ours ? "1.00x / 1.00x" : `${ratio(growth(ours), growth(s))} / ${ratio(cpu(ours), cpu(s))}`,
      String(s.length),
    ];
  });
  const targets: TargetCheck[] = ours.length === 0 ? [] : [
    {
      target: `Inbound flood of ${ours[0].n} routes: session stays Established`,
      measured: ours.every((s) => s.stayedUp)
        ? "stayed up in every run"
        : `went down: ${ours.find((s) => !s.stayedUp)?.downReason ?? ""}`,
      met: ours.every((s) => s.stayedUp),
    },
    {
      target: "Inbound flood: peak RSS grows by less than 50 MB over idle",
      measured: `${mebibytes(growth(ours))} MB`,
      met: growth(ours) < 50,
    },
  ];
  return {
    title: "Inbound flood",
    method: [
      `A BIRD upstream (AS ${UPSTREAM_AS}, static routes loaded before its session) sends N IPv4 /32s to the ` +
      `receiver under test (${reps} repetition(s), fresh namespaces). Ours runs passive (\`--passivemode\`) ` +
      "with an objects file that announces nothing; idle RSS and CPU are read 2 s after start, then BIRD is " +
      "started; RSS is sampled every 20 ms until the receiver has counted every route (ours: " +
      "`prefixes.received` of `/status`, polled every 100 ms from inside the namespace; gobgpd: `gobgp " +
      "global rib summary`). The session stayed up when BIRD's Established timestamp is the same 2 s after " +
      "the flood and ours logged no `session down`.",
    ],
    tables: [{
      columns: [
        "receiver",
        "routes",
        "idle RSS, MB",
        "peak RSS, MB",
        "growth, MB",
        "CPU, s",
        "Established → all counted, s",
        "stayed up",
        "ours / gobgpd (growth / CPU)",
        "runs",
      ],
      rows,
    }],
    targets,
  };
}

/** The benchmark. */
export const inboundFlood: Benchmark = {
  id: "flood",
  title: "Inbound flood",
  async run(context: BenchContext): Promise<Section> {
    requireTools(["ip", "bird", "birdc", "gobgpd", "gobgp", "python3"]);
    const n = context.quick ? 10_000 : 1_000_000;
    const samples: FloodSample[] = [];
    const errors: string[] = [];
    const receivers: FloodReceiver[] = context.quick ? ["speaker"] : ["speaker", "gobgpd"];
    for (const receiver of receivers) {
      for (let r = 0; r < context.reps; r++) {
        try {
          const s = await measureFlood(context, receiver, n);
          samples.push(s);
          context.log(
            `flood ${receiver}: idle ${mebibytes(s.idleRssMb)} MB → peak ${mebibytes(s.peakRssMb)} MB, CPU ${
              seconds(s.cpuSeconds)
            } s, ${seconds(s.seconds)} s, stayed up: ${s.stayedUp}`,
          );
        } catch (error) {
          const msg = `${receiver}: ${(error as Error).message.split("\n")[0]}`;
          errors.push(msg);
          context.log(`flood FAILED ${msg}`);
        }
      }
    }
    const section = floodSection(samples, context.reps);
    return errors.length > 0 ? { ...section, error: errors.join("; ") } : section;
  },
};
