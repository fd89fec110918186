/**
 * The session-level fuzzer: it starts the fuzz target (the speaker's BGP engine, see fuzz_target.ts) and
 * drives its sessions over real loopback TCP connections with mutated corpus messages.
 *
 * Each case is one mutant. Most are sent on an Established session, followed by a ROUTE-REFRESH probe:
 * the case ends when the speaker answers the probe (BoRR … EoRR: the session continues), sends a
 * NOTIFICATION (then it must close the connection) or closes. A tenth replace our OPEN on a new
 * connection. When the bytes sent leave the speaker waiting for the rest of a message, a flush of 0xFF
 * octets completes it, so every case ends with an answer; no answer within `caseTimeoutMs` is a hang.
 * A crash (the process exits), an exception caught inside a session (an `error` log line), an invalid
 * message from the speaker, a NOTIFICATION not followed by a close, and a hang are failures. RSS is
 * sampled every `rssEveryCases` cases.
 *
 * @module
 */

import { ManagedProcess } from "../harness/managed_process.ts";
import { type BgpFrame, frame, openMessage, RawBgpPeer } from "../hostile/raw_bgp_peer.ts";
import { freePort, rssKb } from "../hostile/speaker_process.ts";
import type { FuzzCorpus } from "./fuzz_corpus.ts";
import type { FuzzTargetConfig, FuzzTargetStatus } from "./fuzz_target.ts";
import { caseRandom, framedUpTo, leavesReceiverWaiting, mutate } from "./message_mutator.ts";

/** Options of {@linkcode runSessionFuzz}. */
export interface FuzzOptions {
  /** Number of cases. */
  readonly cases: number;
  /** Run seed: the same seed and corpus give the same mutants. */
  readonly seed: number;
  /** Concurrent connections (default 6). */
  readonly lanes?: number;
  /** Neighbor addresses per lane (default 2). */
  readonly neighborsPerLane?: number;
  /** Bound of one case, ms (default 5000). */
  readonly caseTimeoutMs?: number;
  /** Share of cases that mutate the OPEN (default 0.1). */
  readonly openShare?: number;
  /** RSS sample period in cases (default 1000). */
  readonly rssEveryCases?: number;
  /** Only run these case numbers (reproduction of a failure). */
  readonly only?: readonly number[];
  /** Progress callback, every `rssEveryCases` cases. */
  readonly onProgress?: (done: number, report: FuzzReport) => void;
  /** Folder for the target's log and status (default: a new temporary folder, removed afterwards). */
  readonly workDir?: string;
}

/** One failed case. */
export interface FuzzFailure {
  readonly index: number;
  readonly kind: "crash" | "hang" | "invalid-reply" | "no-close" | "session-error" | "cannot-establish";
  readonly detail: string;
  /** The mutant in hex (first 512 octets). */
  readonly mutant: string;
}

/** The outcome of a run. */
export interface FuzzReport {
  cases: number;
  /** The session went on (the probe was answered). */
  kept: number;
  /** The speaker answered with a NOTIFICATION and closed. */
  notified: number;
  /** The speaker closed without a NOTIFICATION (after a mutant that is itself a NOTIFICATION, or an error in OpenSent before its OPEN was out). */
  closedSilently: number;
  /** Silent closes after bytes that hold no NOTIFICATION (first 20), to look into. */
  unexplainedCloses: { index: number; mutant: string; open: boolean; sawOpen: boolean }[];
  /** Mutated OPENs the speaker accepted. */
  openAccepted: number;
  /** Cases that needed the 0xFF flush to get an answer. */
  flushed: number;
  /** NOTIFICATIONs by "code/subcode". */
  notifications: Record<string, number>;
  /** Sessions established. */
  sessions: number;
  failures: FuzzFailure[];
  /** RSS samples of the target: [cases done, KiB]. */
  rss: [number, number][];
  /** The target's log line counts by level. */
  logCounts: Record<string, number>;
  /** The target's error log lines (first 20). */
  errorLines: string[];
  durationMs: number;
  corpus: { opens: number; messages: number };
}

const REFRESH_IPV4 = frame(5, Uint8Array.from([0, 1, 0, 1]));
/** Enough 0xFF octets to complete any pending message of up to 4096 octets and start a bad header. */
const FLUSH = new Uint8Array(4096 + 64).fill(0xff);
const MAX_MESSAGE = 4096;

function hex(bytes: Uint8Array): string {
  return Array.from(bytes.subarray(0, 512), (b) => b.toString(16).padStart(2, "0")).join("");
}

function isEorr(f: BgpFrame): boolean {
  return f.type === 5 && f.bytes.length === 23 && f.bytes[20] === 1 && f.bytes[21] === 2 && f.bytes[22] === 1;
}

/** The desired table of the target: 40 IPv4 prefixes (one UPDATE) and 8 IPv6 ones. */
function desiredTable(): string[] {
  const v4 = Array.from({ length: 40 }, (_, i) => `203.0.113.${i}/32`);
  const v6 = Array.from({ length: 8 }, (_, i) => `2001:db8:f::${i.toString(16)}/128`);
  return [...v4, ...v6];
}

/** Runs the fuzzer against a fresh target process and returns the report (it never throws on findings). */
export async function runSessionFuzz(corpus: FuzzCorpus, options: FuzzOptions): Promise<FuzzReport> {
  const lanes = options.lanes ?? 6;
  const perLane = options.neighborsPerLane ?? 2;
  const caseTimeoutMs = options.caseTimeoutMs ?? 5_000;
  const openShare = options.openShare ?? 0.1;
  const rssEvery = options.rssEveryCases ?? 1_000;
  const ownDir = options.workDir === undefined;
  const dir = options.workDir ?? await Deno.makeTempDir({ prefix: "speaker-fuzz-" });
  const neighbors = Array.from({ length: lanes * perLane }, (_, i) => `127.0.1.${i + 1}`);
  const port = freePort();
  const config: FuzzTargetConfig = {
    port,
    neighbors,
    peerAsn: 65000,
    localAsn: 65001,
    statusPath: `${dir}/status.json`,
    desired: desiredTable(),
  };
  const target = ManagedProcess.spawn({
    name: "fuzz-target",
    argv: [
      Deno.execPath(),
      "run",
      "-A",
      new URL("./fuzz_target.ts", import.meta.url).pathname,
      JSON.stringify(config),
    ],
    logPath: `${dir}/target.log`,
    env: { RUST_BACKTRACE: "0", NO_COLOR: "1" },
  });
  const report: FuzzReport = {
    cases: 0,
    kept: 0,
    notified: 0,
    closedSilently: 0,
    unexplainedCloses: [],
    openAccepted: 0,
    flushed: 0,
    notifications: {},
    sessions: 0,
    failures: [],
    rss: [],
    logCounts: {},
    errorLines: [],
    durationMs: 0,
    corpus: { opens: corpus.opens.length, messages: corpus.messages.length },
  };
  const started = performance.now();
  try {
    const deadline = Date.now() + 30_000;
    while (!(await Deno.readTextFile(`${dir}/target.log`).catch(() => "")).includes("READY")) {
      if (!target.running) throw new Error(`The fuzz target exited: ${await target.logTail()}`);
      if (Date.now() > deadline) throw new Error(`The fuzz target did not start: ${await target.logTail()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const indexes = options.only ?? Array.from({ length: options.cases }, (_, i) => i);
    let nextSlot = 0;
    let lastSample = 0;
    let stop = false;
    const fail = (index: number, kind: FuzzFailure["kind"], detail: string, mutant: Uint8Array) => {
      report.failures.push({ index, kind, detail, mutant: hex(mutant) });
    };

    const lane = async (l: number) => {
      const mine = neighbors.slice(l * perLane, (l + 1) * perLane);
      let turn = 0;
      let peer: RawBgpPeer | undefined;
      const connect = () =>
        RawBgpPeer.connect({
          host: "127.0.0.1",
          port,
          localAddress: mine[turn++ % mine.length],
          timeoutMs: 2_000,
        });
      // A new Established session with the table read; retried while the neighbor sits in its idle backoff.
      const session = async (): Promise<RawBgpPeer | undefined> => {
        for (let attempt = 0; attempt < 200; attempt++) {
          const p = await connect().catch(() => undefined);
          if (p) {
            try {
              await p.establish({ holdTime: 90 }, 2_000);
              for (;;) {
                const f = await p.next(2_000);
                if (typeof f === "string") throw new Error(f);
                if (f.type === 2 && f.bytes.length === 23) break; // IPv4 End-of-RIB
              }
              report.sessions++;
              return p;
            } catch {
              p.destroy();
            }
          }
          await new Promise((r) => setTimeout(r, 5));
        }
        return undefined;
      };

      while (!stop) {
        const slot = nextSlot++;
        if (slot >= indexes.length) break;
        const index = indexes[slot];
        const rand = caseRandom(options.seed, index);
        const isOpen = rand() < openShare;
        const pool = isOpen ? corpus.opens : corpus.messages;
        const parent = pool[Math.floor(rand() * pool.length)];
        const other = corpus.messages[Math.floor(rand() * corpus.messages.length)];
        const mutant =
          mutate(isOpen && rand() < 0.5 ? openMessage({ holdTime: 90 }) : parent, other, rand).bytes;
        report.cases++;

        let conn: RawBgpPeer | undefined;
        if (isOpen) {
          await peer?.close();
          peer = undefined;
          // A connection the speaker accepted for a neighbor in its idle backoff is closed at once: wait for
          // the speaker's OPEN (sent as soon as it takes the connection) before sending the mutant.
          for (let attempt = 0; attempt < 200 && !conn; attempt++) {
            const c = await connect().catch(() => undefined);
            const first = c ? await c.next(2_000) : "closed";
            if (c && typeof first !== "string" && first.type === 1) conn = c;
            else {
              c?.destroy();
              await new Promise((r) => setTimeout(r, 5));
            }
          }
        } else {
          if (!peer || peer.closed) peer = await session();
          conn = peer;
        }
        if (!conn) {
          fail(index, "cannot-establish", "no session with the target after 200 attempts", mutant);
          if (!target.running) stop = true;
          continue;
        }

        const stream = isOpen ? mutant : concatBytes(mutant, REFRESH_IPV4);
        // Nothing sent at all (an OPEN truncated to nothing) leaves the speaker waiting for its first message;
        // a mutant whose length field swallows the probe leaves nothing to answer: both get the flush.
        const waiting = stream.length === 0 || leavesReceiverWaiting(stream, MAX_MESSAGE) ||
          (!isOpen && !framedUpTo(stream, mutant.length, MAX_MESSAGE));
        // Split the bytes over up to three writes, so the speaker's reassembly is exercised as well.
        const cuts = [
          0,
          Math.floor(rand() * stream.length),
          Math.floor(rand() * stream.length),
          stream.length,
        ]
          .sort((a, b) => a - b);
        for (let k = 0; k + 1 < cuts.length; k++) {
          if (cuts[k + 1] > cuts[k]) await conn.send(stream.subarray(cuts[k], cuts[k + 1]));
        }
        if (waiting) {
          report.flushed++;
          await conn.send(FLUSH);
        }

        // The probe's EoRR is the last of as many as there are ROUTE-REFRESHes in the bytes (a mutant may be
        // one itself); stopping at the first would leave the rest of this case to the next one.
        let eorrsDue = refreshesIn(waiting ? concatBytes(stream, FLUSH) : stream);
        const until = Date.now() + caseTimeoutMs;
        let ended = false;
        const sawOpen = isOpen;
        for (;;) {
          const f = await conn.next(Math.max(0, until - Date.now()));
          if (f === "timeout") {
            fail(index, "hang", `no answer within ${caseTimeoutMs} ms (open stage: ${isOpen})`, mutant);
            conn.destroy();
            ended = true;
            break;
          }
          if (f === "closed") {
            report.closedSilently++;
            if (
              !carriesNotification(waiting ? concatBytes(stream, FLUSH) : stream) &&
              report.unexplainedCloses.length < 20
            ) {
              report.unexplainedCloses.push({ index, mutant: hex(mutant), open: isOpen, sawOpen });
            }
            ended = true;
            break;
          }
          try {
            conn.decode(f);
          } catch (error) {
            fail(index, "invalid-reply", (error as Error).message, mutant);
          }
          if (f.type === 3) {
            const key = `${f.bytes[19]}/${f.bytes[20]}`;
            report.notifications[key] = (report.notifications[key] ?? 0) + 1;
            report.notified++;
            if (!(await conn.waitClosed(caseTimeoutMs))) {
              fail(index, "no-close", `NOTIFICATION ${key} but the connection stayed open`, mutant);
              conn.destroy();
            }
            ended = true;
            break;
          }
          if (isOpen) {
            if (f.type === 4) {
              report.openAccepted++;
              conn.destroy();
              ended = true;
              break;
            }
          } else if (isEorr(f) && --eorrsDue <= 0) {
            report.kept++;
            break;
          }
        }
        if (ended && conn === peer) peer = undefined;
        if (ended && isOpen) conn.destroy();

        if (report.cases - lastSample >= rssEvery) {
          lastSample = report.cases;
          const kb = rssKb(target.pid);
          if (kb !== undefined) report.rss.push([report.cases, kb]);
          report.durationMs = performance.now() - started;
          options.onProgress?.(report.cases, report);
        }
        if (!target.running) {
          fail(index, "crash", `the target exited: ${JSON.stringify(target.exitStatus)}`, mutant);
          stop = true;
        }
      }
      await peer?.close();
    };
    await Promise.all(Array.from({ length: lanes }, (_, l) => lane(l)));
    const kb = rssKb(target.pid);
    if (kb !== undefined) report.rss.push([report.cases, kb]);
    // Let the status file catch up with the last sessions.
    await new Promise((r) => setTimeout(r, 700));
    const status = JSON.parse(await Deno.readTextFile(config.statusPath)) as FuzzTargetStatus;
    report.logCounts = status.logCounts;
    report.errorLines = (await Deno.readTextFile(`${dir}/target.log`)).split("\n")
      .filter((l) => l.includes('"level":"error"')).slice(0, 20);
    if ((status.logCounts.error ?? 0) > 0) {
      report.failures.push({
        index: -1,
        kind: "session-error",
        detail: `${status.logCounts.error} exceptions caught inside sessions:\n${
          report.errorLines.join("\n")
        }`,
        mutant: "",
      });
    }
  } finally {
    report.durationMs = performance.now() - started;
    await target.stop(3_000);
    if (ownDir && Deno.env.get("SPEAKER_HARNESS_KEEP") !== "1") {
      await Deno.remove(dir, { recursive: true }).catch(() => undefined);
    }
  }
  return report;
}

/** Whether framing `stream` meets a NOTIFICATION before anything that ends the session. */
function carriesNotification(stream: Uint8Array): boolean {
  let at = 0;
  while (stream.length - at >= 19) {
    const length = (stream[at + 16] << 8) | stream[at + 17];
    if (length < 19 || at + length > stream.length) return false;
    if (stream[at + 18] === 3) return true;
    at += length;
  }
  return false;
}

/** How many IPv4 unicast ROUTE-REFRESH requests framing `stream` meets before anything that ends it. */
function refreshesIn(stream: Uint8Array): number {
  let at = 0;
  let n = 0;
  while (stream.length - at >= 19) {
    for (let i = 0; i < 16; i++) if (stream[at + i] !== 0xff) return n;
    const length = (stream[at + 16] << 8) | stream[at + 17];
    if (length < 19 || length > MAX_MESSAGE || at + length > stream.length) return n;
    const type = stream[at + 18];
    if (type < 1 || type > 5) return n;
    // Octets after the four of a subtype 0 request are ORF entries (RFC 5291): it is answered all the same.
    if (
      type === 5 && length >= 23 && stream[at + 19] === 0 && stream[at + 20] === 1 &&
      stream[at + 21] === 0 && stream[at + 22] === 1
    ) n++;
    at += length;
  }
  return n;
}

function concatBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** A short text summary of a report, for logs and notes. */
export function summarize(r: FuzzReport): string {
  const rss = r.rss.length > 0
    ? `RSS ${(r.rss[0][1] / 1024).toFixed(0)} MiB at case ${r.rss[0][0]} → ${
      (r.rss.at(-1)![1] / 1024).toFixed(0)
    } MiB at case ${r.rss.at(-1)![0]}`
    : "no RSS sample";
  const top = Object.entries(r.notifications).sort((a, b) => b[1] - a[1]).slice(0, 8)
    .map(([k, v]) => `${k}:${v}`).join(" ");
  return `${r.cases} cases in ${
    (r.durationMs / 1000).toFixed(1)
  } s: kept ${r.kept}, NOTIFICATION ${r.notified} ` +
    `(${top}), closed silently ${r.closedSilently}, OPEN accepted ${r.openAccepted}, flushed ${r.flushed}, ` +
    `sessions ${r.sessions}; failures ${r.failures.length}; ${rss}; target log ${
      JSON.stringify(r.logCounts)
    }`;
}
