/**
 * Real BFD peers for interop tests: FRR's bfdd (standalone, no zebra) and BIRD's `protocol bfd`, in a
 * namespace of a harness {@linkcode Topology}, with their session states read back.
 *
 * @module
 */

import { runCommand } from "../harness/command.ts";
import { startBird } from "../harness/bird.ts";
import type { Host, Topology } from "../harness/topology.ts";
import type { ManagedProcess } from "../harness/managed_process.ts";
import { waitFor } from "../harness/wait.ts";

/** A peer of a BFD daemon under test, with its timers in milliseconds. */
export interface BfdPeerSpec {
  readonly address: string;
  readonly localAddress: string;
  readonly minRxMs: number;
  readonly minTxMs: number;
  readonly multiplier: number;
  /** RFC 5883 multihop session (port 4784). */
  readonly multihop?: boolean;
}

/** A session state as a real daemon reports it, lower case: `up`, `down`, `init`, `admindown`. */
export type PeerBfdState = "up" | "down" | "init" | "admindown";

/** What the tests need from a real BFD daemon. */
export interface BfdDaemon {
  /** The state of the session with `address`, or undefined when the daemon does not list it. */
  state(address: string): Promise<PeerBfdState | undefined>;
  /** Waits until the session with `address` is in `state`. */
  waitState(address: string, state: PeerBfdState, timeoutMs?: number): Promise<void>;
  /** Status and logs, for assertion messages. */
  diagnostics(): Promise<string>;
}

async function waitState(
  daemon: BfdDaemon,
  name: string,
  address: string,
  state: PeerBfdState,
  timeoutMs = 10_000,
) {
  await waitFor(`${name} BFD session with ${address} to be ${state}`, async () => {
    return (await daemon.state(address)) === state;
  }, { timeoutMs, intervalMs: 50, diagnostics: () => daemon.diagnostics() });
}

/** FRR's bfdd alone in a namespace: sockets, pid and vty in its own folder, never the system's. */
export class FrrBfdd implements BfdDaemon {
  readonly #dir: string;
  readonly #vtyDir: string;
  readonly #process: ManagedProcess;

  private constructor(dir: string, vtyDir: string, process: ManagedProcess) {
    this.#dir = dir;
    this.#vtyDir = vtyDir;
    this.#process = process;
  }

  /**
   * Writes bfdd.conf, starts bfdd in `host` and waits until vtysh answers. With `frr`, bfdd joins that FRR
   * instance (harness `startFrr` with `zebra: true`): it registers with its zebra, so bgpd's
   * `neighbor … bfd` sessions run in it, and puts its vty socket beside the others.
   */
  static async start(
    topology: Topology,
    host: Host,
    peers: readonly BfdPeerSpec[],
    frr?: { readonly vtyDir: string },
  ): Promise<FrrBfdd> {
    const dir = `${topology.workDir}/bfdd-${host.name}`;
    const vtyDir = frr?.vtyDir ?? dir;
    await Deno.mkdir(dir, { recursive: true, mode: 0o755 });
    const lines = [
      "frr defaults traditional",
      `hostname bfdd-${host.name}`,
      `log file ${dir}/bfdd.log`,
      "bfd",
    ];
    for (const p of peers) {
      lines.push(
        ` peer ${p.address}${p.multihop ? " multihop" : ""} local-address ${p.localAddress}`,
        `  receive-interval ${p.minRxMs}`,
        `  transmit-interval ${p.minTxMs}`,
        `  detect-multiplier ${p.multiplier}`,
        "  no shutdown",
        " !",
      );
    }
    lines.push("!");
    await Deno.writeTextFile(`${dir}/bfdd.conf`, lines.join("\n") + "\n");
    // bfdd drops privileges to user frr, which must read its config and write its folder.
    await runCommand(["chown", "-R", "frr:frr", dir]);
    // No zebra: bfdd runs single-hop and multihop sessions over its own sockets without it. -z points at a
    // socket that never exists, so it cannot reach a zebra of the machine either.
    const process = topology.spawn(host, "bfdd", [
      "/usr/lib/frr/bfdd",
      "-f",
      `${dir}/bfdd.conf`,
      "-i",
      `${dir}/bfdd.pid`,
      "--vty_socket",
      vtyDir,
      "-P",
      "0",
      "-z",
      `${frr?.vtyDir ?? dir}/zserv.api`,
      "--bfdctl",
      `${dir}/bfdd.sock`,
    ], { cwd: dir });
    const daemon = new FrrBfdd(dir, vtyDir, process);
    await waitFor(`bfdd in ${host.netns} to answer`, async () => {
      const r = await runCommand(["vtysh", "--vty_socket", vtyDir, "-c", "show bfd peers json"], {
        allowFailure: true,
        timeoutMs: 3_000,
      });
      return r.code === 0 && r.stdout.trim().startsWith("[");
    }, {
      timeoutMs: 10_000,
      intervalMs: 50,
      giveUp: () => process.running ? undefined : "bfdd exited",
      diagnostics: () => daemon.diagnostics(),
    });
    return daemon;
  }

  /** `show bfd peers json`. */
  async peers(): Promise<
    { peer: string; status: string; multihop: boolean; diagnostic: string; "remote-id": number }[]
  > {
    const r = await runCommand(["vtysh", "--vty_socket", this.#vtyDir, "-c", "show bfd peers json"]);
    return JSON.parse(r.stdout);
  }

  async state(address: string): Promise<PeerBfdState | undefined> {
    const status = (await this.peers()).find((p) => p.peer === address)?.status;
    if (status === undefined) return undefined;
    return status === "shutdown" ? "admindown" : status as PeerBfdState;
  }

  waitState(address: string, state: PeerBfdState, timeoutMs?: number): Promise<void> {
    return waitState(this, "FRR bfdd", address, state, timeoutMs);
  }

  async diagnostics(): Promise<string> {
    const peers = await this.peers().then((p) => JSON.stringify(p), (e) => String(e));
    const log = await Deno.readTextFile(`${this.#dir}/bfdd.log`).catch(() => "(no log)");
    return `--- FRR bfdd (${this.#dir}) ---\npeers: ${peers}\nlog:\n${log.slice(-3_000)}\n${await this
      .#process
      .logTail(2_000)}`;
  }
}

/** BIRD 2 with `protocol bfd` and explicit neighbors (no BGP needed to own the sessions). */
export class BirdBfd implements BfdDaemon {
  readonly #controlSocket: string;
  readonly #diagnostics: () => Promise<string>;

  private constructor(controlSocket: string, diagnostics: () => Promise<string>) {
    this.#controlSocket = controlSocket;
    this.#diagnostics = diagnostics;
  }

  /** Starts BIRD in `host` with one `protocol bfd` holding `peers` (timers from the first one). */
  static async start(topology: Topology, host: Host, peers: readonly BfdPeerSpec[]): Promise<BirdBfd> {
    const t = peers[0];
    const extraConfig = [
      "protocol bfd bfd1 {",
      `  interface "eth0" { min rx interval ${t.minRxMs} ms; min tx interval ${t.minTxMs} ms;` +
      ` idle tx interval 1000 ms; multiplier ${t.multiplier}; };`,
      ...peers.map((p) => `  neighbor ${p.address} local ${p.localAddress};`),
      "}",
    ].join("\n");
    const bird = await startBird(topology, { host, asn: 65002, neighbors: [], extraConfig });
    return new BirdBfd(bird.controlSocket, () => bird.diagnostics());
  }

  /** Parses `birdc show bfd sessions`: address → state. */
  async sessions(): Promise<Map<string, PeerBfdState>> {
    const r = await runCommand(["birdc", "-s", this.#controlSocket, "show", "bfd", "sessions"]);
    const out = new Map<string, PeerBfdState>();
    for (const line of r.stdout.split("\n")) {
      const m = /^\s*([0-9a-fA-F.:]+)\s+\S+\s+(Up|Down|Init|AdminDown)\s/.exec(line);
      if (m && (m[1].includes(".") || m[1].includes(":"))) out.set(m[1], m[2].toLowerCase() as PeerBfdState);
    }
    return out;
  }

  async state(address: string): Promise<PeerBfdState | undefined> {
    return (await this.sessions()).get(address);
  }

  waitState(address: string, state: PeerBfdState, timeoutMs?: number): Promise<void> {
    return waitState(this, "BIRD", address, state, timeoutMs);
  }

  async diagnostics(): Promise<string> {
    const r = await runCommand(["birdc", "-s", this.#controlSocket, "show", "bfd", "sessions"], {
      allowFailure: true,
    });
    return `--- BIRD bfd sessions ---\n${r.stdout}\n${await this.#diagnostics()}`;
  }
}
