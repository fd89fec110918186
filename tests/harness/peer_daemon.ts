/**
 * What every real BGP daemon of the harness (gobgpd, BIRD, FRR, ExaBGP) has in common: the configuration
 * it is generated from, the structured routes it reports, its session states, and its life cycle (start,
 * bounded readiness wait, stop by PID, SIGKILL, restart).
 *
 * @module
 */

import type { ManagedProcess } from "./managed_process.ts";
import type { Host, Topology } from "./topology.ts";
import { waitFor } from "./wait.ts";

/** Unicast address family as the readers name it. */
export type AddressFamily = "ipv4" | "ipv6";

/** RFC 4271 §8.2.2 session states, lower case; `"idle"` also stands for "down/disabled". */
export type SessionState = "idle" | "connect" | "active" | "opensent" | "openconfirm" | "established";

/** ORIGIN attribute (RFC 4271 §5.1.1). */
export type OriginName = "igp" | "egp" | "incomplete";

/** One route as a peer reports it, normalised across daemons. */
export interface PeerRoute {
  /** `"203.0.113.10/32"`, `"2001:db8:10::/64"` (canonical lower-case text). */
  readonly prefix: string;
  /** The BGP next hop (for IPv6 the global address; a link-local second next hop is not reported). */
  readonly nextHop: string;
  /** AS numbers of the AS_PATH in order (AS_SET members flattened in). */
  readonly asPath: readonly number[];
  /** Standard communities as `"65001:10"`. */
  readonly communities: readonly string[];
  /** Large communities as `"65001:1:2"`. */
  readonly largeCommunities: readonly string[];
  /** LOCAL_PREF when the daemon reports it. */
  readonly localPref?: number;
  /** MULTI_EXIT_DISC when present. */
  readonly med?: number;
  /** ORIGIN. */
  readonly origin: OriginName;
  /**
   * True when the peer holds the route as stale during a graceful restart. BIRD has no per-route stale
   * mark: there it is true for every route of a protocol whose neighbour restart is in progress.
   */
  readonly stale: boolean;
  /** The neighbour address the route was learned from; undefined for a route the daemon originated. */
  readonly from?: string;
  /** Whether the daemon selected it as best path (true where the daemon does not say). */
  readonly best: boolean;
}

/** Graceful restart settings of a neighbour (RFC 4724). */
export interface GracefulRestartSpec {
  /** Restart time advertised in the capability, seconds. */
  readonly restartTime: number;
}

/** One BGP neighbour in a generated daemon configuration. */
export interface NeighborSpec {
  /** The neighbour's IP address (IPv4 or IPv6). */
  readonly address: string;
  /** The neighbour's AS. */
  readonly peerAs: number;
  /** Families to negotiate; default: the family of `address`. */
  readonly families?: readonly AddressFamily[];
  /** TCP MD5 password (RFC 2385). Written to config files only, never to a command line. */
  readonly password?: string;
  /** Only accept connections, never connect. */
  readonly passive?: boolean;
  /** Hold time to offer, seconds (keepalive = hold / 3). */
  readonly holdTime?: number;
  /** Enable graceful restart with this restart time. */
  readonly gracefulRestart?: GracefulRestartSpec;
  /** eBGP multihop with this TTL. */
  readonly multihop?: number;
  /** Local source address; default: the host's address of the neighbour's family. */
  readonly localAddress?: string;
  /** The neighbour's TCP port when it is not 179 (gobgpd, BIRD, FRR, ExaBGP). */
  readonly peerPort?: number;
  /** RFC 8950 extended next hop (FRR and BIRD). */
  readonly extendedNextHop?: boolean;
}

/** What a daemon is generated from. */
export interface DaemonSpec {
  /** The namespace to run in. */
  readonly host: Host;
  /** Local AS. */
  readonly asn: number;
  /** Router id; default: the host's IPv4 address. */
  readonly routerId?: string;
  /** The BGP neighbours. */
  readonly neighbors: readonly NeighborSpec[];
  /** TCP port to listen on; default 179. */
  readonly listenPort?: number;
  /** Text appended verbatim to the generated configuration (escape hatch for a special test). */
  readonly extraConfig?: string;
  /** Bound of the readiness wait at start, ms (default 10 000). */
  readonly readyTimeoutMs?: number;
}

/** Options of a (re)start. */
export interface StartOptions {
  /**
   * Start as a restarting speaker after a crash (gobgpd `-r`, BIRD `-R`); FRR and ExaBGP start normally.
   */
  readonly gracefulRestart?: boolean;
}

/** Which side of an address family a neighbour belongs to. */
export function familyOf(address: string): AddressFamily {
  return address.includes(":") ? "ipv6" : "ipv4";
}

/** The families of a neighbour spec, defaulting to its address family. */
export function familiesOf(n: NeighborSpec): readonly AddressFamily[] {
  return n.families ?? [familyOf(n.address)];
}

/** The local address used towards `n`. */
export function localAddressFor(host: Host, n: NeighborSpec): string {
  return n.localAddress ?? (familyOf(n.address) === "ipv6" ? host.ipv6 : host.ipv4);
}

/**
 * A real BGP daemon running in a namespace of a {@linkcode Topology}. Subclasses generate the config and
 * parse the daemon's own output; everything else lives here. Stopped by the topology's `destroy()` even if
 * the test forgets.
 */
export abstract class PeerDaemon implements AsyncDisposable {
  /** The daemon's namespace. */
  readonly host: Host;
  /** The configuration it was generated from. */
  readonly spec: DaemonSpec;
  /** Its private folder (config, sockets, logs) inside the topology's work dir. */
  readonly dir: string;
  /** The topology it runs in. */
  protected readonly topology: Topology;
  #process: ManagedProcess | undefined;

  /** Sets up the folder name; call {@linkcode start} to run it. */
  protected constructor(topology: Topology, readonly kind: string, spec: DaemonSpec) {
    this.topology = topology;
    this.host = spec.host;
    this.spec = spec;
    this.dir = `${topology.workDir}/${kind}-${spec.host.name}`;
    topology.adopt(this);
  }

  /** The running main process; throws before the first start. */
  get process(): ManagedProcess {
    if (!this.#process) throw new Error(`${this.kind}@${this.host.name} was never started`);
    return this.#process;
  }

  /** PID of the main daemon process. */
  get pid(): number {
    return this.process.pid;
  }

  /** The router id in use. */
  get routerId(): string {
    return this.spec.routerId ?? this.host.ipv4;
  }

  /** Writes the configuration files into {@linkcode dir}. */
  protected abstract writeConfig(): Promise<void>;

  /** The main daemon's argv. */
  protected abstract command(options: StartOptions): string[];

  /** One readiness probe (control socket answers…). */
  protected abstract probeReady(): Promise<boolean>;

  /** Environment of the main process. */
  protected environment(): Record<string, string> | undefined {
    return undefined;
  }

  /** Hook for helper processes that must run before the main one (FRR zebra). */
  protected async beforeStart(_options: StartOptions): Promise<void> {}

  /** Hook to stop helper processes after the main one. */
  protected async afterStop(_kill: boolean): Promise<void> {}

  /** Extra log files worth showing in failure messages (besides the process's stdout/stderr). */
  protected extraLogs(): string[] {
    return [];
  }

  /** Spawns a helper process in the daemon's namespace (adopted by the topology). */
  protected spawnHelper(name: string, argv: string[], env?: Record<string, string>): ManagedProcess {
    return this.topology.spawn(this.host, name, argv, { env, cwd: this.dir });
  }

  /**
   * Writes the config, starts the daemon and waits (bounded by `spec.readyTimeoutMs`) until its control
   * interface answers. Throws with the log tail if it exits or does not become ready.
   */
  async start(options: StartOptions = {}): Promise<void> {
    if (this.#process?.running) throw new Error(`${this.kind}@${this.host.name} is already running`);
    await Deno.mkdir(this.dir, { recursive: true, mode: 0o755 });
    await this.writeConfig();
    await this.beforeStart(options);
    const process = this.topology.spawn(this.host, this.kind, this.command(options), {
      env: this.environment(),
      cwd: this.dir,
    });
    this.#process = process;
    await waitFor(`${this.kind}@${this.host.name} to become ready`, () => this.probeReady(), {
      timeoutMs: this.spec.readyTimeoutMs ?? 10_000,
      intervalMs: 50,
      giveUp: () => process.running ? undefined : `it exited with ${JSON.stringify(process.exitStatus)}`,
      diagnostics: () => this.diagnostics(),
    });
  }

  /** Stops the daemon (SIGTERM by PID, SIGKILL after 3 s) and its helpers. */
  async stop(): Promise<void> {
    await this.#process?.stop();
    await this.afterStop(false);
  }

  /** Kills the daemon with SIGKILL, as in a crash (graceful restart tests); helpers keep running. */
  async kill(): Promise<void> {
    await this.#process?.kill();
  }

  /** Stops (if running) and starts again with the same configuration. */
  async restart(options: StartOptions = {}): Promise<void> {
    await this.#process?.stop();
    await this.afterStop(false);
    await this.start(options);
  }

  /** Routes the daemon holds for `family` (received from neighbours, and its own where it reports them). */
  abstract routes(family: AddressFamily): Promise<PeerRoute[]>;

  /**
   * Number of prefixes in the daemon's table for `family`, read cheaply (no per-route output), for
   * benchmarks and bulk tests. Defaults to counting {@linkcode routes}' distinct prefixes.
   */
  async routeCount(family: AddressFamily): Promise<number> {
    return new Set((await this.routes(family)).map((r) => r.prefix)).size;
  }

  /**
   * Polls {@linkcode routeCount} until it reaches `count` exactly; throws with the last count and the logs
   * after `timeoutMs` (30 s). Polls every 100 ms.
   */
  async waitForRouteCount(family: AddressFamily, count: number, timeoutMs = 30_000): Promise<void> {
    let last = -1;
    await waitFor(`${this.kind}@${this.host.name} to hold ${count} ${family} prefixes`, async () => {
      last = await this.routeCount(family);
      return last === count;
    }, {
      timeoutMs,
      intervalMs: 100,
      diagnostics: async () => `last count: ${last}\n${await this.diagnostics()}`,
    });
  }

  /** Session state towards `neighbor` (address), or `undefined` if the daemon does not know it. */
  abstract sessionState(neighbor: string): Promise<SessionState | undefined>;

  /** Waits until the session to `neighbor` is Established; throws with logs after `timeoutMs` (30 s). */
  async waitEstablished(neighbor: string, timeoutMs = 30_000): Promise<void> {
    await waitFor(
      `${this.kind}@${this.host.name} session to ${neighbor} to be established`,
      async () => (await this.sessionState(neighbor)) === "established",
      {
        timeoutMs,
        intervalMs: 200,
        diagnostics: () => this.diagnostics(),
        giveUp: () => this.#process?.running ? undefined : `${this.kind} is not running`,
      },
    );
  }

  /**
   * Polls {@linkcode routes} until `predicate` holds, and returns the routes that satisfied it; throws with
   * the last routes seen and the logs after `timeoutMs` (10 s).
   *
   * @example
   * ```ts
   * await bird.waitForRoutes("ipv4", (rs) => rs.some((r) => r.prefix === "203.0.113.10/32"));
   * ```
   */
  async waitForRoutes(
    family: AddressFamily,
    predicate: (routes: PeerRoute[]) => boolean,
    timeoutMs = 10_000,
  ): Promise<PeerRoute[]> {
    let last: PeerRoute[] = [];
    return await waitFor(`${this.kind}@${this.host.name} ${family} routes to match`, async () => {
      last = await this.routes(family);
      return predicate(last) ? last : undefined;
    }, {
      timeoutMs,
      intervalMs: 200,
      diagnostics: async () => `last ${family} routes: ${JSON.stringify(last)}\n${await this.diagnostics()}`,
    });
  }

  /** Status and log tails of the daemon, for assertion messages. */
  async diagnostics(): Promise<string> {
    const parts = [`--- ${this.kind}@${this.host.name} (${this.host.netns}, dir ${this.dir}) ---`];
    if (this.#process) {
      parts.push(
        `pid ${this.#process.pid}, ${
          this.#process.running ? "running" : `exited ${JSON.stringify(this.#process.exitStatus)}`
        }`,
        `output:\n${await this.#process.logTail(3_000)}`,
      );
    }
    for (const path of this.extraLogs()) {
      const text = await Deno.readTextFile(path).catch(() => "(missing)");
      parts.push(`${path}:\n${text.length > 3_000 ? `…${text.slice(-3_000)}` : text}`);
    }
    return parts.join("\n");
  }

  /** Stops the daemon (for `await using`). */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
