/**
 * The speaker under test as a real program: `deno run -A main.ts` with kube-ovn-speaker's flags, inside a
 * namespace of the harness, fed by objects files, logging JSON lines that the benchmarks read.
 *
 * @example
 * ```ts ignore
 * const speaker = spawnSpeaker(topo, { host: h1, neighbors: [h2.ipv4], objectsFiles: [file] });
 * const up = await speaker.waitLog((l) => l.msg === "session established");
 * ```
 *
 * @module
 */

import type { ManagedProcess } from "../tests/harness/managed_process.ts";
import type { Host, Topology } from "../tests/harness/topology.ts";
import { waitFor } from "../tests/harness/wait.ts";

/** The repository's main.ts. */
export const MAIN_TS = new URL("../main.ts", import.meta.url).pathname;

/** Our AS in every benchmark (the cluster side). */
export const SPEAKER_AS = 65001;

/** How to run the speaker. */
export interface SpeakerSpec {
  readonly host: Host;
  /** Neighbor addresses (IPv4 and/or IPv6), all in `peerAs`. */
  readonly neighbors: readonly string[];
  /** The neighbors' AS; default 65002. */
  readonly peerAs?: number;
  /** `--objects-file` paths. */
  readonly objectsFiles: readonly string[];
  /** Extra speaker flags. */
  readonly args?: readonly string[];
  /** Flags for `deno run` (e.g. `--v8-flags=…`, `--cpu-prof`). */
  readonly denoFlags?: readonly string[];
  /** Process name in the harness; default `speaker`. */
  readonly name?: string;
  /** Admin port (`--pprof-port`); default 10667. */
  readonly adminPort?: number;
}

/** One parsed JSON log line of the speaker. */
export interface LogLine {
  readonly time: string;
  readonly level: string;
  readonly component?: string;
  readonly msg: string;
  readonly [field: string]: unknown;
}

/** A running speaker in a namespace. */
export class SpeakerProcess {
  /** Use {@linkcode spawnSpeaker}. */
  constructor(
    readonly process: ManagedProcess,
    readonly host: Host,
    readonly topology: Topology,
    readonly adminPort: number,
  ) {}

  /** PID of the deno process running the speaker. */
  get pid(): number {
    return this.process.pid;
  }

  /** Every JSON log line written so far. */
  async logLines(): Promise<LogLine[]> {
    const text = await Deno.readTextFile(this.process.logPath).catch(() => "");
    const lines: LogLine[] = [];
    for (const raw of text.split("\n")) {
      if (!raw.startsWith("{")) continue;
      try {
        lines.push(JSON.parse(raw) as LogLine);
      } catch {
        // A line being written right now.
      }
    }
    return lines;
  }

  /** Waits (bounded) for the first log line matching `match`; throws with the log tail. */
  async waitLog(what: string, match: (l: LogLine) => boolean, timeoutMs = 60_000): Promise<LogLine> {
    return await waitFor(`speaker to log ${what}`, async () => (await this.logLines()).find(match), {
      timeoutMs,
      intervalMs: 50,
      giveUp: () => this.process.running ? undefined : `it exited ${JSON.stringify(this.process.exitStatus)}`,
      diagnostics: () => this.process.logTail(3_000),
    });
  }

  /** GETs a path of the admin server from inside the namespace (through python3, which CI has). */
  async admin(path: string): Promise<string> {
    const r = await this.topology.run(this.host, [
      "python3",
      "-c",
      "import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())",
      `http://127.0.0.1:${this.adminPort}${path}`,
    ], { timeoutMs: 10_000 });
    return r.stdout;
  }

  /** Sends SIGHUP (the speaker reloads its objects files at once). */
  reload(): void {
    this.process.signal("SIGHUP");
  }
}

/** Starts the speaker in `spec.host`; the topology stops it on destroy. */
export function spawnSpeaker(topology: Topology, spec: SpeakerSpec): SpeakerProcess {
  const v4 = spec.neighbors.filter((a) => !a.includes(":"));
  const v6 = spec.neighbors.filter((a) => a.includes(":"));
  const adminPort = spec.adminPort ?? 10667;
  const argv = [
    Deno.execPath(),
    "run",
    "-A",
    ...(spec.denoFlags ?? []),
    MAIN_TS,
    "--cluster-as",
    String(SPEAKER_AS),
    "--neighbor-as",
    String(spec.peerAs ?? 65002),
    "--router-id",
    spec.host.ipv4,
    "--node-name",
    "node-1",
    "--log-format",
    "json",
    "--pprof-port",
    String(adminPort),
    ...(v4.length > 0 ? ["--neighbor-address", v4.join(",")] : []),
    ...(v6.length > 0 ? ["--neighbor-ipv6-address", v6.join(",")] : []),
    ...spec.objectsFiles.flatMap((f) => ["--objects-file", f]),
    ...(spec.args ?? []),
  ];
  const process = topology.spawn(spec.host, spec.name ?? "speaker", argv);
  return new SpeakerProcess(process, spec.host, topology, adminPort);
}
