/**
 * Runs the BGP session engine alone, for interop tests: `deno run -A engine_runner.ts CONFIG.json`.
 *
 * The JSON file holds a {@linkcode SpeakerConfig} (without the logger) plus `desired` (the initial
 * prefixes) and `statusPath` (a file the speaker status is written to every 200 ms). Each line on stdin is
 * a JSON array of prefixes that replaces the desired set, or `{"reset": ADDRESS, "message": TEXT}`. SIGTERM shuts the speaker down (gracefully when
 * graceful restart is configured) and exits 0. Log lines go to stdout as JSON.
 *
 * @module
 */

import { BgpSpeaker, type SpeakerConfig } from "../../lib/session/speaker.ts";

import type { Host, Topology } from "../harness/topology.ts";
import type { ManagedProcess } from "../harness/managed_process.ts";
import { waitFor } from "../harness/wait.ts";
import type { PeerStatus, SpeakerStatus } from "../../lib/session/speaker.ts";

/** What a test gives {@linkcode startEngine}: the speaker config plus the initial prefixes. */
export interface RunnerConfig extends Omit<SpeakerConfig, "logger"> {
  readonly desired?: string[];
  readonly statusPath?: string;
}

/** A running engine in a namespace, seen from the test. */
export class Engine {
  /** The managed process (stop/kill/signal by PID). */
  readonly process: ManagedProcess;
  readonly #statusPath: string;

  /** Use {@linkcode startEngine}. */
  constructor(process: ManagedProcess, statusPath: string) {
    this.process = process;
    this.#statusPath = statusPath;
  }

  /** The last status the engine wrote, or undefined before the first. */
  async status(): Promise<SpeakerStatus | undefined> {
    try {
      return JSON.parse(await Deno.readTextFile(this.#statusPath)) as SpeakerStatus;
    } catch {
      return undefined;
    }
  }

  /** Waits until the session to `address` is Established in the engine, and returns its status. */
  async waitEstablished(address: string, timeoutMs = 20_000): Promise<PeerStatus> {
    return await waitFor(`engine session to ${address} to be established`, async () => {
      const p = (await this.status())?.peers.find((x) => x.address === address);
      return p?.state === "Established" ? p : undefined;
    }, { timeoutMs, intervalMs: 100, diagnostics: () => this.process.logTail(4000) });
  }

  /** Replaces the desired prefixes. */
  async setDesired(prefixes: readonly string[]): Promise<void> {
    await this.#command(prefixes);
  }

  /** Resets the session with `address` (as BFD going down would). */
  async resetPeer(address: string, message: string): Promise<void> {
    await this.#command({ reset: address, message });
  }

  async #command(command: unknown): Promise<void> {
    const writer = this.process.stdin.getWriter();
    try {
      await writer.write(new TextEncoder().encode(JSON.stringify(command) + "\n"));
    } finally {
      writer.releaseLock();
    }
  }
}

/** Starts the engine in `host` with `config`; the topology stops it if the test does not. */
export async function startEngine(
  topology: Topology,
  host: Host,
  config: RunnerConfig,
  name = "engine",
  denoFlags: readonly string[] = [],
): Promise<Engine> {
  const dir = `${topology.workDir}/${name}-${host.name}`;
  await Deno.mkdir(dir, { recursive: true });
  const statusPath = `${dir}/status.json`;
  const configPath = `${dir}/config.json`;
  await Deno.remove(statusPath).catch(() => {});
  await Deno.writeTextFile(configPath, JSON.stringify({ ...config, statusPath }));
  const process = topology.spawn(
    host,
    name,
    [Deno.execPath(), "run", "-A", ...denoFlags, new URL(import.meta.url).pathname, configPath],
    { stdin: "piped", env: { RUST_BACKTRACE: "0", NO_COLOR: "1" } },
  );
  return new Engine(process, statusPath);
}

async function main(path: string | undefined): Promise<void> {
  if (!path) {
    console.error("Usage: engine_runner.ts CONFIG.json");
    Deno.exit(2);
  }
  const { desired = [], statusPath, ...config } = JSON.parse(await Deno.readTextFile(path)) as RunnerConfig;
  const encoder = new TextEncoder();
  const speaker = new BgpSpeaker({
    ...config,
    logger: (level, msg, fields) => {
      Deno.stdout.writeSync(encoder.encode(JSON.stringify({ t: Date.now(), level, msg, ...fields }) + "\n"));
    },
  });
  await speaker.start();
  speaker.setDesired(desired);
  // Let the initial list be collected: the speaker holds it in its compact form.
  desired.length = 0;

  const statusTimer = statusPath
    ? setInterval(() => {
      const tmp = `${statusPath}.tmp`;
      Deno.writeTextFileSync(tmp, JSON.stringify(speaker.status()));
      Deno.renameSync(tmp, statusPath);
    }, 200)
    : undefined;

  let stopping = false;
  Deno.addSignalListener("SIGTERM", async () => {
    if (stopping) return;
    stopping = true;
    clearInterval(statusTimer);
    await speaker.shutdown({ shutdownMessage: "engine runner stopped" });
    Deno.exit(0);
  });

  // Each stdin line replaces the desired set.
  (async () => {
    let rest = "";
    const decoder = new TextDecoder();
    for await (const chunk of Deno.stdin.readable) {
      rest += decoder.decode(chunk, { stream: true });
      let nl;
      while ((nl = rest.indexOf("\n")) >= 0) {
        const line = rest.slice(0, nl).trim();
        rest = rest.slice(nl + 1);
        if (!line) continue;
        const command = JSON.parse(line) as string[] | { reset: string; message: string };
        if (Array.isArray(command)) speaker.setDesired(command);
        else speaker.resetPeer(command.reset, command.message);
      }
    }
  })();
}

if (import.meta.main) await main(Deno.args[0]);
