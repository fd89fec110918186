/**
 * Churn: a sustained stream of announce/withdraw bursts on top of a base table, sent to a BIRD receiver:
 * throughput (changes per second until the receiver reflects them all) and the delay from the last change
 * until the receiver reflects it. Our speaker (objects file, with its file watch or with SIGHUP), our BGP
 * engine alone (its desired set replaced in process), and BIRD (static routes, `configure` per burst).
 *
 * @module
 */

import { startBird } from "../tests/harness/bird.ts";
import { requireTools } from "../tests/harness/tools.ts";
import { Topology } from "../tests/harness/topology.ts";
import { delay, waitFor } from "../tests/harness/wait.ts";
import { startEngine } from "../tests/interop/engine_runner.ts";
import type { BenchContext, Benchmark } from "./benchmark.ts";
import { BirdControl } from "./bird_control.ts";
import { type HostRange, writeObjectsFile } from "./objects_file_writer.ts";
import { bulkPrefixes } from "./prefixes.ts";
import { RECEIVER_AS, startReceiver } from "./receivers.ts";
import { millis, ratio, seconds, type Section } from "./report.ts";
import { spawnSpeaker, SPEAKER_AS } from "./speaker_process.ts";
import { median } from "./statistics.ts";

/** How the changes reach the sender. */
export type ChurnSender = "speaker-watch" | "speaker-sighup" | "engine" | "bird";

/** The shape of the stream. */
export interface ChurnPlan {
  /** Routes held before the stream. */
  readonly base: number;
  readonly bursts: number;
  /** Base routes withdrawn per burst. */
  readonly withdrawPerBurst: number;
  /** New routes announced per burst. */
  readonly announcePerBurst: number;
  /** Time between the starts of two bursts, ms. */
  readonly intervalMs: number;
}

/** One measured stream. */
export interface ChurnSample {
  readonly sender: ChurnSender;
  readonly changes: number;
  /** First change → receiver reflects the last, seconds. */
  readonly seconds: number;
  /** Last change → receiver reflects it, seconds. */
  readonly lastDelay: number;
}

/** Bulk index of the first announced (new) route. */
const ADD_OFFSET = 1_000_000;

/** The routes held after `k` bursts, as host ranges. */
export function stateAfter(plan: ChurnPlan, k: number): HostRange[] {
  const withdrawn = k * plan.withdrawPerBurst;
  return [
    { family: "ipv4", offset: withdrawn, count: plan.base - withdrawn },
    { family: "ipv4", offset: ADD_OFFSET, count: k * plan.announcePerBurst },
  ];
}

function prefixesOf(ranges: readonly HostRange[]): string[] {
  return ranges.flatMap((r) => bulkPrefixes(r.family, r.count, r.offset));
}

/** BIRD needs one route of its own for its export filter (tests/harness/bird.ts): outside the bulk range. */
const BIRD_ANCHOR = "198.51.100.1/32";

/** Runs one stream in fresh namespaces. */
export async function measureChurn(plan: ChurnPlan, sender: ChurnSender): Promise<ChurnSample> {
  await using topo = await Topology.create({ hosts: 2 });
  const [h1, h2] = [topo.host(1), topo.host(2)];
  const extra = sender === "bird" ? 1 : 0;
  const file = `${topo.workDir}/${sender === "bird" ? "static.conf" : "objects.yaml"}`;
  const writeState = async (k: number) => {
    if (sender === "bird") {
      const lines = prefixesOf(stateAfter(plan, k)).map((p) => `  route ${p} blackhole;`);
      await Deno.writeTextFile(`${file}.tmp`, lines.join("\n") + "\n");
      await Deno.rename(`${file}.tmp`, file);
    } else if (sender !== "engine") {
      await writeObjectsFile(file, stateAfter(plan, k));
    }
  };
  await writeState(0);
  const receiver = await startReceiver(topo, h2, "bird", {
    sender: h1.ipv4,
    family: "ipv4",
    senderAs: SPEAKER_AS,
  });
  const neighbors = [{ address: h2.ipv4, peerAs: RECEIVER_AS }];
  let apply: (k: number) => Promise<void>;
  let poke: (() => Promise<void>) | undefined;
  let close = () => {};
  if (sender === "bird") {
    const bird = await startBird(topo, {
      host: h1,
      asn: SPEAKER_AS,
      neighbors,
      staticRoutes: [BIRD_ANCHOR],
      extraConfig: `protocol static feed {\n  ipv4;\ninclude "${file}";\n}`,
      readyTimeoutMs: 60_000,
    });
    const ctl = await BirdControl.connect(bird.controlSocket);
    const pokeCtl = await BirdControl.connect(bird.controlSocket);
    close = () => {
      ctl.close();
      pokeCtl.close();
    };
    apply = async () => {
      const reply = await ctl.command("configure");
      if (!/Reconfigured|Reconfiguration in progress/.test(reply)) {
        throw new Error(`BIRD configure: ${reply}`);
      }
    };
    poke = async () => void await pokeCtl.command("show status");
  } else if (sender === "engine") {
    const engine = await startEngine(topo, h1, {
      asn: SPEAKER_AS,
      routerId: h1.ipv4,
      neighbors: [{ address: h2.ipv4, asn: RECEIVER_AS }],
      timing: { backoffBaseMs: 200, backoffMaxMs: 1000 },
      desired: prefixesOf(stateAfter(plan, 0)),
    });
    apply = (k) => engine.setDesired(prefixesOf(stateAfter(plan, k)));
  } else {
    const speaker = spawnSpeaker(topo, { host: h1, neighbors: [h2.ipv4], objectsFiles: [file] });
    apply = (_k) => {
      if (sender === "speaker-sighup") speaker.reload();
      return Promise.resolve();
    };
  }
  try {
    await receiver.established(60_000);
    await waitFor(
      "the base table at the receiver",
      async () => (await receiver.count()) === plan.base + extra,
      {
        timeoutMs: 120_000,
        intervalMs: 20,
      },
    );
    // Precompute what the receiver must finally hold: the last announced route and the last withdrawn one.
    const finalCount = plan.base - plan.bursts * plan.withdrawPerBurst + plan.bursts * plan.announcePerBurst +
      extra;
    const lastAdded = bulkPrefixes("ipv4", 1, ADD_OFFSET + plan.bursts * plan.announcePerBurst - 1)[0];
    const lastWithdrawn = bulkPrefixes("ipv4", 1, plan.bursts * plan.withdrawPerBurst - 1)[0];
    let first = NaN;
    let last = NaN;
    const start = performance.now();
    for (let k = 1; k <= plan.bursts; k++) {
      await writeState(k);
      last = Date.now() / 1000;
      if (k === 1) first = last;
      await apply(k);
      if (k < plan.bursts) {
        const next = start + k * plan.intervalMs;
        while (performance.now() < next) {
          await poke?.();
          await delay(Math.min(10, Math.max(0, next - performance.now())));
        }
      }
    }
    const deadline = Date.now() + 120_000;
    for (;;) {
      if (
        (await receiver.count()) === finalCount && await receiver.has(lastAdded) &&
        !await receiver.has(lastWithdrawn)
      ) break;
      if (Date.now() > deadline) throw new Error("The receiver never reflected the last burst");
      await poke?.();
      await delay(5);
    }
    const done = Date.now() / 1000;
    return {
      sender,
      changes: plan.bursts * (plan.withdrawPerBurst + plan.announcePerBurst),
      seconds: done - first,
      lastDelay: done - last,
    };
  } finally {
    close();
    receiver.close();
  }
}

/** The stream of a run. */
export function churnPlan(quick: boolean): ChurnPlan {
  return quick
    ? { base: 1_000, bursts: 3, withdrawPerBurst: 40, announcePerBurst: 60, intervalMs: 100 }
    : { base: 10_000, bursts: 10, withdrawPerBurst: 400, announcePerBurst: 600, intervalMs: 100 };
}

const NAMES: Record<ChurnSender, string> = {
  "speaker-watch": "speaker (ours), objects file + file watch",
  "speaker-sighup": "speaker (ours), objects file + SIGHUP",
  engine: "our BGP engine alone (desired set replaced in process)",
  bird: "BIRD (static routes, `configure` per burst)",
};

/** Builds the section (pure). */
export function churnSection(samples: readonly ChurnSample[], plan: ChurnPlan, reps: number): Section {
  const senders = [...new Set(samples.map((s) => s.sender))];
  const bird = samples.filter((s) => s.sender === "bird");
  const birdRate = median(bird.map((s) => s.changes / s.seconds));
  const birdDelay = median(bird.map((s) => s.lastDelay));
  const rows = senders.map((k) => {
    const ss = samples.filter((s) => s.sender === k);
    const rate = median(ss.map((s) => s.changes / s.seconds));
    const lastDelay = median(ss.map((s) => s.lastDelay));
    return [
      NAMES[k],
      String(ss[0].changes),
      seconds(median(ss.map((s) => s.seconds))),
      rate.toFixed(0),
      millis(lastDelay * 1000),
      k === "bird" ? "1.00x / 1.00x" : `${ratio(birdRate, rate)} / ${ratio(lastDelay, birdDelay)}`,
      String(ss.length),
    ];
  });
  return {
    title: "Churn",
    method: [
      `A base table of ${plan.base} IPv4 /32s, then ${plan.bursts} bursts ${plan.intervalMs} ms apart, each ` +
      `withdrawing ${plan.withdrawPerBurst} base routes and announcing ${plan.announcePerBurst} new ones ` +
      `(${plan.bursts * (plan.withdrawPerBurst + plan.announcePerBurst)} changes), to a BIRD receiver; ` +
      `${reps} repetition(s) in fresh namespaces. A burst is one rewrite of the whole objects file (ours: ` +
      "with the file watch alone, or followed by SIGHUP), one replacement of the engine's desired set, or one " +
      "rewrite of BIRD's static include followed by `birdc configure` (the BIRD sender's loop is kept awake " +
      "by polling its control socket, as in the transfer benchmark). The end is the first receiver poll (5 ms) " +
      "with the final count, the last announced route present and the last withdrawn one gone.",
      "Throughput = changes / (first burst → end). Delay = last burst → end. Ratios: BIRD's throughput / ours " +
      "(below 1.00x we are faster) and our delay / BIRD's.",
    ],
    tables: [{
      columns: [
        "sender",
        "changes",
        "first change → all reflected, s",
        "changes/s",
        "last change → reflected, ms",
        "ours vs BIRD (throughput / delay)",
        "runs",
      ],
      rows,
    }],
  };
}

/** The benchmark. */
export const churn: Benchmark = {
  id: "churn",
  title: "Churn",
  async run(context: BenchContext): Promise<Section> {
    requireTools(["ip", "bird", "birdc"]);
    const plan = churnPlan(context.quick);
    const samples: ChurnSample[] = [];
    const errors: string[] = [];
    const senders: ChurnSender[] = context.quick
      ? ["speaker-sighup", "bird"]
      : ["speaker-watch", "speaker-sighup", "engine", "bird"];
    for (const sender of senders) {
      for (let r = 0; r < context.reps; r++) {
        try {
          const s = await measureChurn(plan, sender);
          samples.push(s);
          context.log(
            `churn ${sender}: ${seconds(s.seconds)} s for ${s.changes} changes, last change reflected after ${
              millis(s.lastDelay * 1000)
            } ms`,
          );
        } catch (error) {
          const msg = `${sender}: ${(error as Error).message.split("\n")[0]}`;
          errors.push(msg);
          context.log(`churn FAILED ${msg}`);
        }
      }
    }
    const section = churnSection(samples, plan, context.reps);
    return errors.length > 0 ? { ...section, error: errors.join("; ") } : section;
  },
};
