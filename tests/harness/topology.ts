/**
 * Network namespaces for interop tests: a bridge namespace, N hosts on one segment and, optionally, a
 * router namespace in front of a second segment for multihop tests.
 *
 * Address plan (host i, 1-based):
 * - segment A: `10.99.0.i/24` and `fd99::i/64` (i written in decimal digits: host 12 is `fd99::12`) on
 *   `eth0` of namespace `<prefix>h<i>`;
 * - segment B (with `farHosts`): `10.99.1.i/24` and `fd99:1::i/64` on `eth0` of `<prefix>f<i>`;
 * - router `<prefix>rt`: `10.99.0.254` / `fd99::fe` on `eth0` (A) and `10.99.1.254` / `fd99:1::fe` on
 *   `eth1` (B), forwarding on; hosts of each segment route the other segment through it.
 *
 * Namespaces have no link to the host's own namespace and no default route, so test traffic cannot leave.
 *
 * @module
 */

import { type Capture, capture, type CaptureOptions } from "./capture.ts";
import { CommandError, type CommandResult, runCommand, type RunOptions } from "./command.ts";
import { ManagedProcess } from "./managed_process.ts";
import { processesMatching } from "./process_table.ts";
import { trackNamespace, untrackNamespace } from "./safety_net.ts";
import { waitFor } from "./wait.ts";

/** Every namespace name the harness creates starts with this (CI deletes leftovers by it). */
export const NAMESPACE_PREFIX = "spk";

/** One network namespace of a {@linkcode Topology}. */
export interface Host {
  /** Short label: `h1`, `f2`, `rt`. */
  readonly name: string;
  /** The namespace name, usable with `ip netns exec`. */
  readonly netns: string;
  /** IPv4 address on `eth0` (no prefix length). */
  readonly ipv4: string;
  /** IPv6 address on `eth0` (no prefix length). */
  readonly ipv6: string;
  /** `"a"` for 10.99.0.0/24 + fd99::/64, `"b"` for 10.99.1.0/24 + fd99:1::/64. */
  readonly segment: "a" | "b";
  /** Index of the host on its segment (1-based), 254 for the router. */
  readonly index: number;
}

/** Options of {@linkcode Topology.create}. */
export interface TopologyOptions {
  /** Number of hosts on segment A (1..200). */
  readonly hosts: number;
  /** Number of hosts on segment B behind a router (default 0: no router, no segment B). */
  readonly farHosts?: number;
}

/** Packet loss and delay applied by {@linkcode Topology.impair}. */
export interface Impairment {
  /** Percentage of packets dropped. */
  readonly lossPercent?: number;
  /** Delay added to every packet, ms. */
  readonly delayMs?: number;
}

/** One row of a namespace's kernel routing table. */
export interface KernelRoute {
  /** Destination: `"default"` or a prefix (host routes without `/32`). */
  readonly dst: string;
  /** Next hop, when the route has one. */
  readonly gateway?: string;
  /** Outgoing interface. */
  readonly dev?: string;
  /** Who installed it: `kernel`, `bird`, `bgp` (FRR zebra), `static`… */
  readonly protocol?: string;
}

/** Anything {@linkcode Topology.destroy} must stop before the namespaces go (daemons, captures…). */
export interface Stoppable {
  /** Stops it; must be safe to call twice. */
  stop(): Promise<unknown>;
}

let counter = 0;

function hostOf(prefix: string, segment: "a" | "b", index: number): Host {
  const name = `${segment === "a" ? "h" : "f"}${index}`;
  return {
    name,
    netns: `${prefix}${name}`,
    ipv4: segment === "a" ? `10.99.0.${index}` : `10.99.1.${index}`,
    ipv6: segment === "a" ? `fd99::${index}` : `fd99:1::${index}`,
    segment,
    index,
  };
}

/**
 * A set of network namespaces owned by one test, with a unique name prefix (`spk<pid>x<n><random>`) so test files
 * can run in parallel. Use with `await using` so it is destroyed even when the test fails.
 *
 * @example
 * ```ts
 * await using topo = await Topology.create({ hosts: 2 });
 * const [h1, h2] = [topo.host(1), topo.host(2)];
 * await topo.run(h1, ["ping", "-c1", "-W1", h2.ipv4]);
 * ```
 */
export class Topology implements AsyncDisposable {
  readonly #prefix: string;
  readonly #workDir: string;
  readonly #hosts: Host[];
  readonly #farHosts: Host[];
  readonly #router: Host | undefined;
  readonly #namespaces: string[] = [];
  readonly #owned: Stoppable[] = [];
  #destroyed = false;

  private constructor(prefix: string, workDir: string, options: TopologyOptions) {
    this.#prefix = prefix;
    this.#workDir = workDir;
    this.#hosts = Array.from({ length: options.hosts }, (_, i) => hostOf(prefix, "a", i + 1));
    this.#farHosts = Array.from({ length: options.farHosts ?? 0 }, (_, i) => hostOf(prefix, "b", i + 1));
    this.#router = (options.farHosts ?? 0) > 0
      ? { name: "rt", netns: `${prefix}rt`, ipv4: "10.99.0.254", ipv6: "fd99::fe", segment: "a", index: 254 }
      : undefined;
  }

  /** Creates the namespaces and links; on any error removes what was created and rethrows. */
  static async create(options: TopologyOptions): Promise<Topology> {
    if (!Number.isInteger(options.hosts) || options.hosts < 1 || options.hosts > 200) {
      throw new RangeError(`Topology hosts must be 1..200, got ${options.hosts}`);
    }
    const far = options.farHosts ?? 0;
    if (!Number.isInteger(far) || far < 0 || far > 200) {
      throw new RangeError(`Topology farHosts must be 0..200, got ${far}`);
    }
    // `deno test --parallel` runs test files as workers of one process: they share Deno.pid but not this
    // module's counter, hence the random part. A clash is still caught: `ip netns add` refuses an existing
    // name, and only namespaces this topology created are ever deleted.
    for (let attempt = 1;; attempt++) {
      counter += 1;
      const random = crypto.getRandomValues(new Uint32Array(1))[0].toString(36).slice(0, 4);
      const prefix = `${NAMESPACE_PREFIX}${Deno.pid}x${counter}${random}`;
      const workDir = await Deno.makeTempDir({ prefix: `${prefix}-` });
      // FRR drops privileges to user frr and must reach its folders below this one.
      await Deno.chmod(workDir, 0o755);
      const topo = new Topology(prefix, workDir, options);
      try {
        await topo.#build();
        return topo;
      } catch (error) {
        await topo.destroy();
        const clash = error instanceof CommandError && error.result.stderr.includes("File exists");
        if (!clash || attempt >= 3) throw error;
      }
    }
  }

  async #addNamespace(name: string): Promise<void> {
    await runCommand(["ip", "netns", "add", name]);
    trackNamespace(name);
    this.#namespaces.push(name);
    // No duplicate address detection at all (link-local included): addresses are usable at once, and the
    // first IPv6 packets through the router are not held back for seconds.
    await runCommand([
      "sysctl",
      "-q",
      "-w",
      "net.ipv6.conf.default.accept_dad=0",
      "net.ipv6.conf.all.accept_dad=0",
    ], { netns: name });
  }

  async #batch(netns: string, lines: string[]): Promise<void> {
    await runCommand(["ip", "-n", netns, "-batch", "-"], { stdin: lines.join("\n") + "\n" });
  }

  async #build(): Promise<void> {
    const sw = `${this.#prefix}sw`;
    await this.#addNamespace(sw);
    const swLines = ["link set lo up", "link add br0 type bridge", "link set br0 up"];
    if (this.#router) swLines.push("link add br1 type bridge", "link set br1 up");
    await this.#batch(sw, swLines);

    const all = [...this.#hosts, ...this.#farHosts];
    await Promise.all(all.map((h) => this.#addNamespace(h.netns)));
    if (this.#router) await this.#addNamespace(this.#router.netns);

    // Veth pairs are created directly in their namespaces: no name ever exists in the host's namespace.
    const portLines: string[] = [];
    for (const h of all) {
      const port = `${h.segment === "a" ? "p" : "q"}${h.index}`;
      await runCommand([
        "ip",
        "link",
        "add",
        "eth0",
        "netns",
        h.netns,
        "type",
        "veth",
        "peer",
        "name",
        port,
        "netns",
        sw,
      ]);
      portLines.push(`link set ${port} master ${h.segment === "a" ? "br0" : "br1"}`, `link set ${port} up`);
    }
    if (this.#router) {
      const rt = this.#router.netns;
      await runCommand([
        "ip",
        "link",
        "add",
        "eth0",
        "netns",
        rt,
        "type",
        "veth",
        "peer",
        "name",
        "pr",
        "netns",
        sw,
      ]);
      await runCommand([
        "ip",
        "link",
        "add",
        "eth1",
        "netns",
        rt,
        "type",
        "veth",
        "peer",
        "name",
        "qr",
        "netns",
        sw,
      ]);
      portLines.push("link set pr master br0", "link set pr up", "link set qr master br1", "link set qr up");
    }
    await this.#batch(sw, portLines);

    await Promise.all(all.map((h) => {
      const lines = [
        "link set lo up",
        `addr add ${h.ipv4}/24 dev eth0`,
        `addr add ${h.ipv6}/64 dev eth0 nodad`,
        "link set eth0 up",
      ];
      if (this.#router) {
        lines.push(
          h.segment === "a"
            ? "route add 10.99.1.0/24 via 10.99.0.254"
            : "route add 10.99.0.0/24 via 10.99.1.254",
          h.segment === "a" ? "route add fd99:1::/64 via fd99::fe" : "route add fd99::/64 via fd99:1::fe",
        );
      }
      return this.#batch(h.netns, lines);
    }));
    if (this.#router) {
      const rt = this.#router.netns;
      await this.#batch(rt, [
        "link set lo up",
        "addr add 10.99.0.254/24 dev eth0",
        "addr add fd99::fe/64 dev eth0 nodad",
        "addr add 10.99.1.254/24 dev eth1",
        "addr add fd99:1::fe/64 dev eth1 nodad",
        "link set eth0 up",
        "link set eth1 up",
      ]);
      await runCommand(["sysctl", "-q", "-w", "net.ipv4.ip_forward=1"], { netns: rt });
      await runCommand(["sysctl", "-q", "-w", "net.ipv6.conf.all.forwarding=1"], { netns: rt });
    }
  }

  /** The unique prefix of every namespace of this topology. */
  get prefix(): string {
    return this.#prefix;
  }

  /** A temporary folder (mode 755) for daemon configs, sockets, logs and captures; removed by destroy. */
  get workDir(): string {
    return this.#workDir;
  }

  /** Names of every namespace created (bridge, hosts, router). */
  get namespaces(): readonly string[] {
    return [...this.#namespaces];
  }

  /** Host `i` (1-based) of segment A: 10.99.0.i, fd99::i. */
  host(i: number): Host {
    const h = this.#hosts[i - 1];
    if (!h) throw new RangeError(`No host ${i} in this topology (it has ${this.#hosts.length})`);
    return h;
  }

  /** Host `i` (1-based) of segment B behind the router: 10.99.1.i, fd99:1::i. */
  farHost(i: number): Host {
    const h = this.#farHosts[i - 1];
    if (!h) throw new RangeError(`No far host ${i} in this topology (it has ${this.#farHosts.length})`);
    return h;
  }

  /** The router between segments A and B, when `farHosts` was given. */
  get router(): Host | undefined {
    return this.#router;
  }

  /** Every host of both segments (not the router). */
  get hosts(): readonly Host[] {
    return [...this.#hosts, ...this.#farHosts];
  }

  /** Runs a command to completion inside `host`'s namespace (see {@linkcode runCommand}). */
  run(host: Host, argv: readonly string[], options: Omit<RunOptions, "netns"> = {}): Promise<CommandResult> {
    return runCommand(argv, { ...options, netns: host.netns });
  }

  /**
   * The kernel routing table of `host` (`ip -j route`), e.g. to check that FRR with zebra or BIRD's kernel
   * protocol installed a learned route. `dst` is `"default"` or a prefix (host routes without `/32`).
   */
  async kernelRoutes(host: Host, family: "ipv4" | "ipv6" = "ipv4"): Promise<KernelRoute[]> {
    const r = await this.run(host, ["ip", "-j", family === "ipv6" ? "-6" : "-4", "route", "show"]);
    const rows = JSON.parse(r.stdout || "[]") as {
      dst: string;
      gateway?: string;
      dev?: string;
      protocol?: string;
    }[];
    return rows.map((row) => ({ dst: row.dst, gateway: row.gateway, dev: row.dev, protocol: row.protocol }));
  }

  /**
   * Starts a long-running program inside `host`'s namespace as a {@linkcode ManagedProcess} (log in the
   * work dir) that {@linkcode destroy} stops if the test did not. This is how the speaker under test runs.
   *
   * @example
   * ```ts
   * const speaker = topo.spawn(topo.host(1), "speaker", ["./denow", "run", "-A", "main.ts", "--config", cfg]);
   * ```
   */
  spawn(
    host: Host,
    name: string,
    argv: readonly string[],
    options: { env?: Readonly<Record<string, string>>; cwd?: string; stdin?: "piped" | "null" } = {},
  ): ManagedProcess {
    if (this.#destroyed) throw new Error("Topology already destroyed");
    const process = ManagedProcess.spawn({
      name: `${name}@${host.name}`,
      argv,
      netns: host.netns,
      logPath: `${this.#workDir}/${name}-${host.name}.log`,
      ...options,
    });
    this.adopt(process);
    return process;
  }

  /**
   * Starts a packet capture in `host`'s namespace (see {@linkcode capture}); stopped by
   * {@linkcode destroy} if the test does not stop it.
   *
   * @example
   * ```ts
   * const cap = await topo.capture(topo.host(2));
   * const frames = await bgpFrames(await cap.stop());
   * ```
   */
  capture(host: Host, options: CaptureOptions = {}): Promise<Capture> {
    return capture(this, host, options);
  }

  /** Registers something that {@linkcode destroy} stops before deleting the namespaces. */
  adopt(thing: Stoppable): void {
    this.#owned.push(thing);
  }

  #bridgePort(host: Host): string {
    if (host === this.#router) throw new Error("Cut the router's links through its own namespace");
    return `${host.segment === "a" ? "p" : "q"}${host.index}`;
  }

  /** Cuts `host`'s cable: its bridge port goes down, so `eth0` loses carrier and every packet is lost. */
  async cutLink(host: Host): Promise<void> {
    await runCommand(["ip", "-n", `${this.#prefix}sw`, "link", "set", this.#bridgePort(host), "down"]);
  }

  /**
   * Restores a link cut by {@linkcode cutLink} and waits (bounded, 5 s) until it carries traffic again: the
   * bridge port forwards and the host's `eth0` has its carrier back (the kernel reports carrier changes
   * with a delay of up to a second).
   */
  async restoreLink(host: Host): Promise<void> {
    const sw = `${this.#prefix}sw`;
    const port = this.#bridgePort(host);
    await runCommand(["ip", "-n", sw, "link", "set", port, "up"]);
    await waitFor(`the link of ${host.netns} to come back`, async () => {
      const [bridge, own] = await Promise.all([
        runCommand(["ip", "-n", sw, "-j", "-d", "link", "show", port]),
        runCommand(["ip", "-n", host.netns, "-j", "link", "show", "eth0"]),
      ]);
      const state = JSON.parse(bridge.stdout)[0]?.linkinfo?.info_slave_data?.state;
      const oper = JSON.parse(own.stdout)[0]?.operstate;
      return state === "forwarding" && oper === "UP";
    }, { timeoutMs: 5_000, intervalMs: 20 });
  }

  /**
   * Adds loss and/or delay to everything `host` sends (`tc qdisc replace dev eth0 root netem …`). Throws a
   * clear error when the kernel has no netem (the sch_netem module).
   */
  async impair(host: Host, impairment: Impairment): Promise<void> {
    const args = ["tc", "qdisc", "replace", "dev", "eth0", "root", "netem"];
    if (impairment.delayMs !== undefined) args.push("delay", `${impairment.delayMs}ms`);
    if (impairment.lossPercent !== undefined) args.push("loss", `${impairment.lossPercent}%`);
    const r = await this.run(host, args, { allowFailure: true });
    if (r.code !== 0) {
      throw new Error(
        `tc netem failed in ${host.netns}: ${r.stderr.trim()}` +
          (r.stderr.includes("unknown") ? " (this kernel has no sch_netem; use cutLink() instead)" : ""),
      );
    }
  }

  /** Removes an impairment set by {@linkcode impair}. */
  async clearImpairment(host: Host): Promise<void> {
    await this.run(host, ["tc", "qdisc", "del", "dev", "eth0", "root"], { allowFailure: true });
  }

  /**
   * Stops every adopted process (daemons, captures, spawned programs) in parallel, SIGKILLs any process
   * still naming the work dir in its command line (forked helpers), deletes every namespace
   * and the work dir (kept when `SPEAKER_HARNESS_KEEP=1`, for debugging). Never throws; safe to call twice.
   */
  async destroy(): Promise<void> {
    if (this.#destroyed) return;
    this.#destroyed = true;
    await Promise.allSettled(this.#owned.reverse().map((t) => t.stop()));
    // Children a daemon forked (ExaBGP's API process…) carry the work dir in their arguments: none may
    // outlive the topology.
    for (const orphan of await processesMatching(this.#workDir).catch(() => [])) {
      try {
        Deno.kill(orphan.pid, "SIGKILL");
      } catch {
        // Gone meanwhile.
      }
    }
    for (const ns of [...this.#namespaces].reverse()) {
      await runCommand(["ip", "netns", "del", ns], { allowFailure: true }).catch(() => undefined);
      untrackNamespace(ns);
    }
    if (Deno.env.get("SPEAKER_HARNESS_KEEP") !== "1") {
      await Deno.remove(this.#workDir, { recursive: true }).catch(() => undefined);
    }
  }

  /** Same as {@linkcode destroy}, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.destroy();
  }
}

/** Names of the namespaces currently present on the machine (`ip netns list`). */
export async function listNamespaces(): Promise<string[]> {
  const { stdout } = await runCommand(["ip", "netns", "list"]);
  return stdout.split("\n").map((l) => l.trim().split(/\s+/)[0]).filter((n) => n !== undefined && n !== "");
}
