/**
 * Initial table transfer: N host routes from a loaded sender to a fresh receiver, timed from the
 * receiver's Established to the first poll at which it holds all N. Senders: our speaker, gobgpd and
 * BIRD; receivers: BIRD and FRR; each repetition in fresh namespaces with a fresh sender and receiver.
 *
 * @module
 */

import { requireTools } from "../tests/harness/tools.ts";
import { Topology } from "../tests/harness/topology.ts";
import type { BenchContext, Benchmark } from "./benchmark.ts";
import { CpuTrack, processUsage } from "./process_usage.ts";
import type { BenchFamily } from "./prefixes.ts";
import { type ReceiverKind, startReceiver, waitForCount } from "./receivers.ts";
import { mebibytes, ratio, seconds, type Section, type Table, type TargetCheck } from "./report.ts";
import { prepareSender, SENDER_AS, type SenderKind } from "./senders.ts";
import { median, range } from "./statistics.ts";

/** One measured transfer. */
export interface TransferSample {
  readonly family: BenchFamily;
  readonly n: number;
  readonly receiver: ReceiverKind;
  readonly sender: SenderKind;
  /** Established → all N, seconds. */
  readonly seconds: number;
  /** Established → 99 % of N, seconds. */
  readonly seconds99: number;
  /** The sender's VmHWM after the transfer, MiB. */
  readonly senderPeakMb: number;
  /** The sender's CPU time from Established to all N, seconds. */
  readonly senderCpu: number;
  /** Sender load time before the session, seconds (0 for ours: it loads before connecting). */
  readonly loadSeconds: number;
  /** Ours only: Established → End-of-RIB written, from its log, seconds. */
  readonly eorSeconds?: number;
}

/** One size of the benchmark. */
export interface TransferCase {
  readonly family: BenchFamily;
  readonly n: number;
}

/** Runs one transfer in fresh namespaces. */
export async function measureTransfer(
  context: BenchContext,
  c: TransferCase,
  receiverKind: ReceiverKind,
  senderKind: SenderKind,
  denoFlags: readonly string[] = [],
): Promise<TransferSample> {
  await using topo = await Topology.create({ hosts: 2 });
  const [h1, h2] = [topo.host(1), topo.host(2)];
  const ip = (h: typeof h1) => c.family === "ipv4" ? h.ipv4 : h.ipv6;
  const prepared = await prepareSender(topo, h1, senderKind, {
    family: c.family,
    n: c.n,
    receivers: [ip(h2)],
    inputs: context.inputs,
    denoFlags,
  });
  const receiver = await startReceiver(topo, h2, receiverKind, {
    sender: ip(h1),
    family: c.family,
    senderAs: SENDER_AS,
  });
  const sender = await prepared.launch();
  const cpu = new CpuTrack(sender.pid);
  try {
    const since = await receiver.established(300_000);
    const times = await waitForCount(receiver, c.n, { onPoll: sender.poke, timeoutMs: 300_000 });
    const cpuAtEnd = cpu.stop();
    const usage = processUsage(sender.pid);
    let eorSeconds: number | undefined;
    if (sender.speaker) {
      const lines = await sender.speaker.logLines();
      const up = lines.find((l) => l.msg === "session established")?.time;
      const sent = lines.find((l) => l.msg === "initial table sent")?.time;
      if (up && sent) eorSeconds = (Date.parse(sent) - Date.parse(up)) / 1000;
    }
    return {
      ...c,
      receiver: receiverKind,
      sender: senderKind,
      seconds: times.atAll - since,
      seconds99: times.at99 - since,
      senderPeakMb: usage.peakRssMb,
      senderCpu: cpuAtEnd - cpu.cpuAt(since),
      loadSeconds: prepared.loadSeconds,
      eorSeconds,
    };
  } finally {
    cpu.stop();
    sender.close();
    receiver.close();
  }
}

function label(c: TransferCase): string {
  const n = c.n >= 1_000_000 ? `${c.n / 1_000_000}M` : c.n >= 1000 ? `${c.n / 1000}k` : String(c.n);
  return `${n} ${c.family === "ipv4" ? "IPv4 /32" : "IPv6 /128"}`;
}

const SENDER_NAMES: Record<SenderKind, string> = {
  speaker: "speaker (ours)",
  engine: "our BGP engine alone",
  gobgpd: "gobgpd (MRT inject)",
  bird: "BIRD (static, loop kept awake)",
};

/**
 * Whether the combination can be measured: BIRD sends a link-local second IPv6 next hop on a shared
 * segment, and FRR's bgpd without zebra (`-Z`) drops every such route (0 accepted of 1,000 in a trial), so
 * BIRD → FRR over IPv6 has no row.
 */
export function supported(c: TransferCase, receiver: ReceiverKind, sender: SenderKind): boolean {
  return !(c.family === "ipv6" && receiver === "frr" && sender === "bird");
}

/** The transfer cases, receivers and senders of a run. */
export function transferPlan(quick: boolean): {
  cases: TransferCase[];
  receivers: ReceiverKind[];
  senders: SenderKind[];
} {
  return quick
    ? { cases: [{ family: "ipv4", n: 10_000 }], receivers: ["bird"], senders: ["speaker", "bird"] }
    : {
      cases: [
        { family: "ipv4", n: 10_000 },
        { family: "ipv4", n: 100_000 },
        { family: "ipv4", n: 1_000_000 },
        { family: "ipv6", n: 100_000 },
      ],
      receivers: ["bird", "frr"],
      senders: ["speaker", "gobgpd", "bird"],
    };
}

/** Builds the section from samples (pure). */
export function transferSection(samples: readonly TransferSample[], reps: number): Section {
  const tables: Table[] = [];
  const targets: TargetCheck[] = [];
  const cases = [
    ...new Map(samples.map((s) => [`${s.family}/${s.n}`, { family: s.family, n: s.n }])).values(),
  ];
  for (const c of cases) {
    const rows: string[][] = [];
    for (const receiver of ["bird", "frr"] as const) {
      const of = (sender: SenderKind) =>
        samples.filter((s) =>
          s.family === c.family && s.n === c.n && s.receiver === receiver && s.sender === sender
        );
      const ours = median(of("speaker").map((s) => s.seconds));
      for (const sender of ["speaker", "gobgpd", "bird"] as const) {
        const ss = of(sender);
        if (ss.length === 0) continue;
        const t = median(ss.map((s) => s.seconds));
        const { min, max } = range(ss.map((s) => s.seconds));
        rows.push([
          receiver === "bird" ? "BIRD" : "FRR",
          SENDER_NAMES[sender],
          seconds(t),
          `${seconds(min)}–${seconds(max)}`,
          seconds(median(ss.map((s) => s.seconds99))),
          mebibytes(median(ss.map((s) => s.senderPeakMb))),
          seconds(median(ss.map((s) => s.senderCpu))),
          sender === "speaker" ? seconds(median(ss.map((s) => s.eorSeconds ?? NaN))) : "-",
          sender === "speaker" ? "1.00x" : ratio(ours, t),
          `${ss.length}`,
        ]);
        if (sender === "bird" && receiver === "bird" && c.family === "ipv4" && c.n >= 100_000) {
          targets.push({
            target: `Transfer of ${label(c)} to BIRD faster than BIRD as a sender`,
            measured: `ours ${seconds(ours)} s, BIRD ${seconds(t)} s (${ratio(ours, t)})`,
            met: Number.isFinite(ours) && Number.isFinite(t) ? ours < t : undefined,
          });
        }
      }
    }
    tables.push({
      caption: `**${label(c)}**`,
      columns: [
        "receiver",
        "sender",
        "Established → all, s (median)",
        "min–max",
        "→ 99 %, s",
        "sender peak RSS, MB",
        "sender CPU in transfer, s",
        "ours: → End-of-RIB written, s",
        "ours / this sender",
        "runs",
      ],
      rows,
    });
  }
  return {
    title: "Initial table transfer",
    method: [
      `Per size, receiver and sender, ${reps} repetition(s), each in fresh namespaces (sender 10.99.0.1 / ` +
      "fd99::1, AS 65001; receiver 10.99.0.2 / fd99::2, AS 65002; eBGP, one family). Every route has the same " +
      "attributes (the best case for every implementation: BIRD-style packing of about 800 /32s per UPDATE).",
      "- Senders are loaded before their session exists. gobgpd: `gobgp mrt inject global` of a TABLE_DUMP_V2 " +
      "file of locally originated paths (as kube-ovn-speaker's AddPath makes them), plus 50,000 duplicate " +
      "records because gobgp 3.10's CLI loses the tail of the stream. BIRD: `protocol static` blackhole " +
      "routes, `export all`. Ours: `deno run -A main.ts --objects-file` with N Pods; it reads its objects " +
      "before it connects, so the receiver is started first and the speaker right after it.",
      "- The clock is the receiver's, read through its control socket (no birdc/vtysh process per poll). " +
      "BIRD: from BIRD's own millisecond timestamp of the session going Established (`timeformat protocol " +
      '"%s.%3f"`) to the first poll (every 10 ms) at which `show protocols all` reports all N imported. FRR ' +
      "(`bgpd -Z`): Established = poll time minus `bgpTimerUpMsec`; end = first poll with " +
      "`acceptedPrefixCounter` = N.",
      "- **BIRD's idle tail**: a stock BIRD sender holds its last UPDATE and End-of-RIB until its event loop " +
      "wakes (up to 3 s, `poll_tout` in `sysdep/unix/io.c`). The benchmark polls the BIRD sender's control " +
      "socket (`show status`) every 10 ms during the transfer, which keeps its loop awake, so the BIRD rows " +
      "are BIRD's real transfer time (the anchors' `birdpoke`). The → 99 % column shows the same for every " +
      "sender without any poking.",
      "- BIRD → FRR over IPv6 has no row: BIRD adds a link-local second next hop on a shared segment, and " +
      "FRR's bgpd without zebra (`-Z`) accepted none of those routes in a trial (0 of 1,000).",
      "- Sender peak RSS is VmHWM after the transfer (it includes the load phase); CPU is utime+stime from " +
      "Established to the end. Ratios are ours / theirs (below 1 means we are faster).",
    ],
    tables,
    targets,
  };
}

/** The benchmark. */
export const tableTransfer: Benchmark = {
  id: "transfer",
  title: "Initial table transfer",
  async run(context: BenchContext): Promise<Section> {
    requireTools(["ip", "bird", "birdc", "gobgpd", "gobgp", "/usr/lib/frr/bgpd"]);
    const plan = transferPlan(context.quick);
    const samples: TransferSample[] = [];
    const errors: string[] = [];
    for (const c of plan.cases) {
      for (const receiver of plan.receivers) {
        for (const sender of plan.senders) {
          if (!supported(c, receiver, sender)) continue;
          for (let r = 0; r < context.reps; r++) {
            try {
              const s = await measureTransfer(context, c, receiver, sender);
              samples.push(s);
              context.log(
                `transfer ${label(c)} ${sender} → ${receiver}: ${seconds(s.seconds)} s ` +
                  `(99 % ${seconds(s.seconds99)} s), sender peak ${mebibytes(s.senderPeakMb)} MB`,
              );
            } catch (error) {
              const msg = `${label(c)} ${sender} → ${receiver}: ${(error as Error).message.split("\n")[0]}`;
              errors.push(msg);
              context.log(`transfer FAILED ${msg}`);
            }
          }
        }
      }
    }
    const section = transferSection(samples, context.reps);
    return errors.length > 0 ? { ...section, error: errors.join("; ") } : section;
  },
};
