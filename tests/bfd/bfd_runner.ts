/**
 * Runs the BFD service alone in a namespace, for interop tests:
 * `deno run -A bfd_runner.ts CONFIG.json`.
 *
 * The JSON file holds the {@linkcode BfdServiceOptions} that are plain data (parameters, peers, ports)
 * and `statusPath`, a file the status and every up/down event are written to every 50 ms. Log lines go to
 * stdout as JSON. SIGTERM closes the service (AdminDown to every peer) and exits 0.
 *
 * @module
 */

import { BfdService, type BfdServiceOptions, type BfdStatus } from "../../lib/bfd/bfd_service.ts";
import type { Host, Topology } from "../harness/topology.ts";
import type { ManagedProcess } from "../harness/managed_process.ts";
import { waitFor } from "../harness/wait.ts";

/** What a test gives {@linkcode startBfdRunner}. */
export type BfdRunnerConfig = Pick<BfdServiceOptions, "parameters" | "peers" | "ports" | "listenAddresses">;

/** One up/down report of the service, with the wall-clock time it happened. */
export interface BfdEvent {
  readonly peer: string;
  readonly up: boolean;
  readonly diagnostic: number;
  readonly at: number;
}

/** What the runner writes to its status file. */
export interface RunnerStatus extends BfdStatus {
  readonly events: readonly BfdEvent[];
}

/** The BFD service running in a namespace, seen from the test. */
export class BfdRunner {
  /** The managed process (stopped by the topology if the test does not). */
  readonly process: ManagedProcess;
  readonly #statusPath: string;

  /** Use {@linkcode startBfdRunner}. */
  constructor(process: ManagedProcess, statusPath: string) {
    this.process = process;
    this.#statusPath = statusPath;
  }

  /** The last status written, or undefined before the first. */
  async status(): Promise<RunnerStatus | undefined> {
    try {
      return JSON.parse(await Deno.readTextFile(this.#statusPath)) as RunnerStatus;
    } catch {
      return undefined;
    }
  }

  /** Waits until `predicate` holds on a status, and returns that status. */
  async waitFor(
    what: string,
    predicate: (s: RunnerStatus) => boolean,
    timeoutMs = 10_000,
  ): Promise<RunnerStatus> {
    return await waitFor(what, async () => {
      const s = await this.status();
      return s && predicate(s) ? s : undefined;
    }, {
      timeoutMs,
      intervalMs: 20,
      giveUp: () => this.process.running ? undefined : "the BFD runner exited",
      diagnostics: async () =>
        `status: ${JSON.stringify(await this.status())}\n${await this.process.logTail()}`,
    });
  }

  /** Waits until the sessions with every one of `peers` are Up. */
  waitUp(peers: readonly string[], timeoutMs = 10_000): Promise<RunnerStatus> {
    return this.waitFor(
      `BFD sessions with ${peers.join(", ")} to be Up`,
      (s) => peers.every((p) => s.peers.find((x) => x.peer === p)?.state === "Up"),
      timeoutMs,
    );
  }
}

/** Starts the BFD service in `host`; the topology stops it if the test does not. */
export async function startBfdRunner(
  topology: Topology,
  host: Host,
  config: BfdRunnerConfig,
  name = "bfd",
): Promise<BfdRunner> {
  const dir = `${topology.workDir}/${name}-${host.name}`;
  await Deno.mkdir(dir, { recursive: true });
  const statusPath = `${dir}/status.json`;
  const configPath = `${dir}/config.json`;
  await Deno.remove(statusPath).catch(() => {});
  await Deno.writeTextFile(configPath, JSON.stringify({ ...config, statusPath }));
  const process = topology.spawn(
    host,
    name,
    [Deno.execPath(), "run", "-A", new URL(import.meta.url).pathname, configPath],
    { env: { RUST_BACKTRACE: "0", NO_COLOR: "1" } },
  );
  const runner = new BfdRunner(process, statusPath);
  await runner.waitFor(`the BFD runner in ${host.netns} to start`, () => true);
  return runner;
}

async function main(path: string | undefined): Promise<void> {
  if (!path) {
    console.error("Usage: bfd_runner.ts CONFIG.json");
    Deno.exit(2);
  }
  const config = JSON.parse(await Deno.readTextFile(path)) as BfdRunnerConfig & { statusPath: string };
  const encoder = new TextEncoder();
  const log = (level: string) => (msg: string, fields: Record<string, unknown> = {}) =>
    Deno.stdout.writeSync(encoder.encode(JSON.stringify({ t: Date.now(), level, msg, ...fields }) + "\n"));
  const events: BfdEvent[] = [];
  const service = await BfdService.start({
    ...config,
    logger: { info: log("info"), warn: log("warn"), debug: () => {} },
    onStateChange: (peer, up, diagnostic) => events.push({ peer, up, diagnostic, at: Date.now() }),
  });
  const write = () => {
    const tmp = `${config.statusPath}.tmp`;
    Deno.writeTextFileSync(tmp, JSON.stringify({ ...service.status(), events }));
    Deno.renameSync(tmp, config.statusPath);
  };
  write();
  const timer = setInterval(write, 50);
  let stopping = false;
  Deno.addSignalListener("SIGTERM", async () => {
    if (stopping) return;
    stopping = true;
    clearInterval(timer);
    await service.close();
    Deno.exit(0);
  });
}

if (import.meta.main) await main(Deno.args[0]);
