/**
 * The speaker program (`main.ts`) as the reliability tests run it: a managed child process, on loopback
 * or inside a test namespace, with its admin server (`/livez`, `/status`, `/metrics`), its log, its RSS.
 *
 * @example
 * ```ts ignore
 * await using speaker = await startSpeaker({ neighbors: ["127.0.0.10"], objectsFiles: [path] });
 * const peer = await RawBgpPeer.connect({ host: "127.0.0.1", port: speaker.bgpPort, localAddress: "127.0.0.10" });
 * ```
 *
 * @module
 */

import { ManagedProcess } from "../harness/managed_process.ts";
import { runCommand } from "../harness/command.ts";
import type { Host, Topology } from "../harness/topology.ts";
import { waitFor } from "../harness/wait.ts";

const repoRoot = new URL("../../", import.meta.url).pathname;

/** How to run the speaker. */
export interface SpeakerOptions {
  /** Neighbor addresses (IPv4 go to `--neighbor-address`, IPv6 to `--neighbor-ipv6-address`). */
  readonly neighbors: readonly string[];
  /** Objects files (static mode); at least one unless `extraArgs` names a kubeconfig. */
  readonly objectsFiles?: readonly string[];
  /** `--neighbor-as` (default 65000). */
  readonly neighborAs?: number;
  /** `--cluster-as` (default 65001). */
  readonly clusterAs?: number;
  /** `--router-id` (default 10.99.0.1). */
  readonly routerId?: string;
  /** `--node-name` (default node-1). */
  readonly nodeName?: string;
  /** `--holdtime` (default "3s"). */
  readonly holdTime?: string;
  /** `--passivemode` (default true). */
  readonly passive?: boolean;
  /** Passive mode listen addresses (default 127.0.0.1 on loopback, the host's addresses in a namespace). */
  readonly listenAddresses?: readonly string[];
  /** BGP port (default: a free port on loopback, 179 in a namespace). */
  readonly bgpPort?: number;
  /** Admin port (default: a free port on loopback, 10667 in a namespace). */
  readonly adminPort?: number;
  /** More flags (e.g. `--graceful-restart`, `--auth-password-file F`). */
  readonly extraArgs?: readonly string[];
  /** Run in this namespace of `topology` instead of on the test's own loopback. */
  readonly topology?: Topology;
  /** The host (namespace) to run in, with `topology`. */
  readonly host?: Host;
  /** Folder of the log (default: the topology's work dir, else a new temporary folder). */
  readonly logDir?: string;
  /** Name of the process and its log file (default "speaker"). */
  readonly name?: string;
  /** Extra environment. */
  readonly env?: Readonly<Record<string, string>>;
}

/** A GET printing the body, a newline and the status code (0 when the server cannot be reached). */
const HTTP_GET = [
  "import sys, urllib.request, urllib.error",
  "try:",
  "    r = urllib.request.urlopen(sys.argv[1], timeout=3); body, code = r.read(), r.status",
  "except urllib.error.HTTPError as e:",
  "    body, code = e.read(), e.code",
  "except Exception:",
  "    body, code = b'', 0",
  "sys.stdout.write(body.decode('utf-8', 'replace') + '\\n' + str(code))",
].join("\n");

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** The speaker under test. */
export class SpeakerProcess implements AsyncDisposable {
  /** The child process (stop, kill, signal by PID). */
  readonly process: ManagedProcess;
  /** The BGP port it listens on in passive mode. */
  readonly bgpPort: number;
  /** The admin server's port. */
  readonly adminPort: number;
  /** The argv it was started with (to start it again). */
  readonly argv: readonly string[];
  readonly #options: SpeakerOptions;
  /** A temporary log folder this object created and removes on stop. */
  ownedDir: string | undefined;

  /** Use {@linkcode startSpeaker}. */
  constructor(
    process: ManagedProcess,
    bgpPort: number,
    adminPort: number,
    argv: readonly string[],
    options: SpeakerOptions,
  ) {
    this.process = process;
    this.bgpPort = bgpPort;
    this.adminPort = adminPort;
    this.argv = argv;
    this.#options = options;
  }

  /** The process ID. */
  get pid(): number {
    return this.process.pid;
  }

  /**
   * GETs an admin path and returns status and body. Inside a namespace (which the test process cannot
   * reach) python3's urllib does the request there: python3 is present wherever ExaBGP is installed.
   */
  async admin(path: string): Promise<{ status: number; body: string }> {
    const url = `http://127.0.0.1:${this.adminPort}${path}`;
    if (this.#options.host) {
      const r = await runCommand(
        ["python3", "-c", HTTP_GET, url],
        { netns: this.#options.host.netns, allowFailure: true },
      );
      const cut = r.stdout.lastIndexOf("\n");
      return { status: Number(r.stdout.slice(cut + 1)) || 0, body: r.stdout.slice(0, cut) };
    }
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), 3_000);
    try {
      const res = await fetch(url, { signal: ctl.signal });
      return { status: res.status, body: await res.text() };
    } catch {
      return { status: 0, body: "" };
    } finally {
      clearTimeout(timer);
    }
  }

  /** True when `/livez` answers 200. */
  async live(): Promise<boolean> {
    return (await this.admin("/livez")).status === 200;
  }

  /** The `/status` document. */
  async status(): Promise<StatusDocument> {
    const r = await this.admin("/status");
    if (r.status !== 200) throw new Error(`/status answered ${r.status}`);
    return JSON.parse(r.body) as StatusDocument;
  }

  /** The `/metrics` text. */
  async metrics(): Promise<string> {
    return (await this.admin("/metrics")).body;
  }

  /** The state of the session with `address`, from `/status`. */
  async peerState(address: string): Promise<string | undefined> {
    return (await this.status()).peers.find((p) => p.address === address)?.state;
  }

  /** Waits until the session with `address` is in `state` (per `/status`). */
  async waitPeerState(address: string, state: string, timeoutMs = 10_000): Promise<void> {
    await waitFor(
      `speaker session to ${address} to be ${state}`,
      async () => (await this.peerState(address)) === state,
      {
        timeoutMs,
        intervalMs: 100,
        diagnostics: () => this.process.logTail(3_000),
        giveUp: () =>
          this.process.running ? undefined : `the speaker exited: ${JSON.stringify(this.process.exitStatus)}`,
      },
    );
  }

  /** The whole log so far. */
  async log(): Promise<string> {
    return await Deno.readTextFile(this.process.logPath).catch(() => "");
  }

  /** Resident set size in KiB (from /proc), or undefined once the process is gone. */
  rssKb(): number | undefined {
    return rssKb(this.pid);
  }

  /** Stops the speaker (SIGTERM, SIGKILL after 5 s). */
  async stop(): Promise<void> {
    await this.process.stop(5_000);
    if (this.ownedDir !== undefined && Deno.env.get("SPEAKER_HARNESS_KEEP") !== "1") {
      await Deno.remove(this.ownedDir, { recursive: true }).catch(() => undefined);
    }
  }

  /** Same as {@linkcode stop}. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

/** Resident set size of `pid` in KiB, from /proc; undefined when the process is gone. */
export function rssKb(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(Deno.readTextFileSync(`/proc/${pid}/status`));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** The parts of `/status` the tests read. */
export interface StatusDocument {
  readonly speaker: { readonly ready: boolean; readonly readyReasons: readonly string[] };
  readonly peers: readonly {
    readonly address: string;
    readonly state: string;
    readonly lastError: string | null;
    readonly upDownSeconds: number | null;
    readonly prefixes: { readonly sent: number; readonly received: number };
  }[];
  readonly prefixes: readonly {
    readonly prefix: string;
    readonly source: string;
    readonly objects: readonly string[];
  }[];
}

/** The speaker's command line for `options` (without the deno executable and `run -A main.ts`). */
export function speakerFlags(options: SpeakerOptions, bgpPort: number, adminPort: number): string[] {
  const v4 = options.neighbors.filter((a) => !a.includes(":"));
  const v6 = options.neighbors.filter((a) => a.includes(":"));
  const args = [
    "--cluster-as",
    String(options.clusterAs ?? 65001),
    "--neighbor-as",
    String(options.neighborAs ?? 65000),
    "--router-id",
    options.routerId ?? "10.99.0.1",
    "--node-name",
    options.nodeName ?? "node-1",
    "--holdtime",
    options.holdTime ?? "3s",
    "--pprof-port",
    String(adminPort),
    "--admin-address",
    "127.0.0.1",
  ];
  if (v4.length > 0) args.push("--neighbor-address", v4.join(","));
  if (v6.length > 0) args.push("--neighbor-ipv6-address", v6.join(","));
  if (options.passive ?? true) {
    const listen = options.listenAddresses ??
      (options.host ? [options.host.ipv4, options.host.ipv6] : ["127.0.0.1"]);
    args.push("--passivemode", "--listen-address", listen.join(","), "--listen-port", String(bgpPort));
  }
  for (const f of options.objectsFiles ?? []) args.push("--objects-file", f);
  args.push(...(options.extraArgs ?? []));
  return args;
}

/**
 * Starts the speaker and waits (bounded, 20 s) until its admin server answers and every configured
 * session exists in `/status`. Throws with the log tail when it exits or does not get there.
 */
export async function startSpeaker(options: SpeakerOptions): Promise<SpeakerProcess> {
  const inNamespace = options.host !== undefined;
  if (inNamespace !== (options.topology !== undefined)) {
    throw new Error("Give both topology and host, or neither");
  }
  const bgpPort = options.bgpPort ?? (inNamespace ? 179 : freePort());
  const adminPort = options.adminPort ?? (inNamespace ? 10667 : freePort());
  const argv = [
    Deno.execPath(),
    "run",
    "-A",
    `${repoRoot}main.ts`,
    ...speakerFlags(options, bgpPort, adminPort),
  ];
  const env = { RUST_BACKTRACE: "0", NO_COLOR: "1", ...options.env };
  const name = options.name ?? "speaker";
  let process: ManagedProcess;
  let ownedDir: string | undefined;
  if (options.topology && options.host) {
    process = options.topology.spawn(options.host, name, argv, { env, cwd: repoRoot });
  } else {
    if (options.logDir === undefined) ownedDir = await Deno.makeTempDir({ prefix: "speaker-reliability-" });
    const dir = options.logDir ?? ownedDir!;
    process = ManagedProcess.spawn({ name, argv, logPath: `${dir}/${name}.log`, env, cwd: repoRoot });
  }
  const speaker = new SpeakerProcess(process, bgpPort, adminPort, argv, options);
  speaker.ownedDir = ownedDir;
  try {
    await waitFor(`the speaker (${name}) to serve /status with its sessions`, async () => {
      const s = await speaker.status().catch(() => undefined);
      return s !== undefined && s.peers.length === options.neighbors.length &&
        (await speaker.log()).includes('msg="BGP started"');
    }, {
      timeoutMs: 20_000,
      intervalMs: 100,
      diagnostics: () => process.logTail(3_000),
      giveUp: () => process.running ? undefined : `the speaker exited: ${JSON.stringify(process.exitStatus)}`,
    });
  } catch (error) {
    const tail = await process.logTail(3_000);
    await speaker.stop();
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n${tail}`);
  }
  return speaker;
}
