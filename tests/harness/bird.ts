/**
 * BIRD 2 as a peer: generated bird.conf, control socket in its folder, routes parsed from
 * `birdc show route all`.
 *
 * @module
 */

import { runCommand } from "./command.ts";
import {
  type AddressFamily,
  type DaemonSpec,
  familiesOf,
  familyOf,
  localAddressFor,
  type NeighborSpec,
  type OriginName,
  PeerDaemon,
  type PeerRoute,
  type SessionState,
  type StartOptions,
} from "./peer_daemon.ts";
import type { Topology } from "./topology.ts";

/** BIRD-specific additions to {@linkcode DaemonSpec}. */
export interface BirdSpec extends DaemonSpec {
  /**
   * Prefixes originated by a static protocol (blackhole routes) and exported to every neighbour of their
   * family; default none (BIRD then only receives).
   */
  readonly staticRoutes?: readonly string[];
}

const BIRD_STATES: Record<string, SessionState> = {
  idle: "idle",
  connect: "connect",
  active: "active",
  opensent: "opensent",
  openconfirm: "openconfirm",
  established: "established",
};

function quote(value: string): string {
  return JSON.stringify(value);
}

/** The protocol name BIRD uses for a neighbour: `n` plus the address with `.`/`:` as `_`. */
export function birdProtocolName(address: string): string {
  return `n${address.replace(/[^0-9a-zA-Z]/g, "_")}`;
}

/**
 * BIRD 2 in a namespace. Start it with {@linkcode startBird}. One `protocol bgp` per neighbour, named by
 * {@linkcode birdProtocolName}; import all, export none (or the static routes); fast timers
 * (`connect delay time 1; error wait time 1, 5;`).
 */
export class Bird extends PeerDaemon {
  /** Use {@linkcode startBird}. */
  constructor(topology: Topology, override readonly spec: BirdSpec) {
    super(topology, "bird", spec);
  }

  /** The control socket path for `birdc -s`. */
  get controlSocket(): string {
    return `${this.dir}/bird.ctl`;
  }

  #protocol(n: NeighborSpec): string[] {
    const local = localAddressFor(this.host, n);
    const lines = [
      `protocol bgp ${birdProtocolName(n.address)} {`,
      `  local ${local}${
        this.spec.listenPort !== undefined ? ` port ${this.spec.listenPort}` : ""
      } as ${this.spec.asn};`,
      `  neighbor ${n.address}${n.peerPort !== undefined ? ` port ${n.peerPort}` : ""} as ${n.peerAs};`,
      "  connect delay time 1;",
      "  connect retry time 2;",
      "  error wait time 1, 5;",
    ];
    if (n.password !== undefined) lines.push(`  password ${quote(n.password)};`);
    if (n.passive) lines.push("  passive on;");
    if (n.holdTime !== undefined) lines.push(`  hold time ${n.holdTime};`);
    if (n.multihop !== undefined) lines.push(`  multihop ${n.multihop};`);
    if (n.gracefulRestart) {
      lines.push("  graceful restart on;", `  graceful restart time ${n.gracefulRestart.restartTime};`);
    }
    const statics = this.spec.staticRoutes ?? [];
    for (const f of familiesOf(n)) {
      const exports = statics.some((p) => familyOf(p) === f) ? `where source = RTS_STATIC` : "none";
      const enh = n.extendedNextHop && f === "ipv4" ? " extended next hop on;" : "";
      lines.push(`  ${f} { import all; export ${exports};${enh} };`);
    }
    lines.push("}");
    return lines;
  }

  /** Writes bird.conf (one `protocol bgp` per neighbour). */
  protected async writeConfig(): Promise<void> {
    const lines = [
      `log ${quote(`${this.dir}/bird.log`)} all;`,
      "debug protocols { states, events };",
      `router id ${this.routerId};`,
      "protocol device {}",
    ];
    for (const f of ["ipv4", "ipv6"] as const) {
      const mine = (this.spec.staticRoutes ?? []).filter((p) => familyOf(p) === f);
      if (mine.length > 0) {
        lines.push(
          `protocol static static_${f} {`,
          `  ${f};`,
          ...mine.map((p) => `  route ${p} blackhole;`),
          "}",
        );
      }
    }
    for (const n of this.spec.neighbors) lines.push(...this.#protocol(n));
    if (this.spec.extraConfig) lines.push(this.spec.extraConfig);
    await Deno.writeTextFile(`${this.dir}/bird.conf`, lines.join("\n") + "\n", { mode: 0o600 });
    await Deno.remove(this.controlSocket).catch(() => undefined);
  }

  /** `bird -f` in the foreground, `-R` for a graceful restart. */
  protected command(options: StartOptions): string[] {
    const argv = [
      "bird",
      "-f",
      "-c",
      `${this.dir}/bird.conf`,
      "-s",
      this.controlSocket,
      "-P",
      `${this.dir}/bird.pid`,
    ];
    if (options.gracefulRestart) argv.push("-R");
    return argv;
  }

  /** bird.log, which holds the protocol state changes. */
  protected override extraLogs(): string[] {
    return [`${this.dir}/bird.log`];
  }

  /** Ready once `birdc show status` says the daemon is up. */
  protected async probeReady(): Promise<boolean> {
    const r = await runCommand(["birdc", "-s", this.controlSocket, "show", "status"], {
      allowFailure: true,
      timeoutMs: 3_000,
    });
    return r.code === 0 && r.stdout.includes("Daemon is up");
  }

  /** Runs a `birdc` command (words) and returns its output; throws on failure. */
  async cli(args: readonly string[]): Promise<string> {
    return (await runCommand(["birdc", "-s", this.controlSocket, ...args])).stdout;
  }

  /** Routes of the master table for `family` (`show route all`); BGP routes carry `from`. */
  async routes(family: AddressFamily): Promise<PeerRoute[]> {
    const [out, protocols] = await Promise.all([
      this.cli(["show", "route", "all", "table", family === "ipv4" ? "master4" : "master6"]),
      this.cli(["show", "protocols", "all"]),
    ]);
    return parseBirdRoutes(out, restartingProtocols(protocols), this.#fromByProtocol());
  }

  /** Networks in the master table (`birdc show route count`). */
  override async routeCount(family: AddressFamily): Promise<number> {
    const out = await this.cli([
      "show",
      "route",
      "count",
      "table",
      family === "ipv4" ? "master4" : "master6",
    ]);
    const m = /routes for (\d+) networks/.exec(out);
    if (!m) throw new Error(`Unexpected 'show route count' output: ${out}`);
    return Number(m[1]);
  }

  #fromByProtocol(): Map<string, string> {
    return new Map(this.spec.neighbors.map((n) => [birdProtocolName(n.address), n.address]));
  }

  /** The BGP state of the neighbour's protocol (`show protocols`). */
  async sessionState(neighbor: string): Promise<SessionState | undefined> {
    const name = birdProtocolName(neighbor);
    const out = await this.cli(["show", "protocols", name]);
    for (const line of out.split("\n")) {
      const words = line.trim().split(/\s+/);
      if (words[0] !== name) continue;
      // name proto table state since info…; info starts with the BGP state when the protocol is up/starting.
      const info = (words[5] ?? "").toLowerCase();
      return BIRD_STATES[info] ?? "idle";
    }
    return undefined;
  }
}

/** Names of BGP protocols whose neighbour is in a graceful restart ("Neighbor graceful restart active"). */
export function restartingProtocols(showProtocolsAll: string): Set<string> {
  const names = new Set<string>();
  let current = "";
  for (const line of showProtocolsAll.split("\n")) {
    if (/^\S/.test(line)) current = line.split(/\s+/)[0];
    else if (line.includes("Neighbor graceful restart active")) names.add(current);
  }
  return names;
}

const BIRD_ORIGINS: Record<string, OriginName> = { igp: "igp", egp: "egp", incomplete: "incomplete" };

/**
 * Parses `birdc show route all` output. Each route starts with a line holding the prefix (omitted for a
 * second route of the same prefix) and `[protocol time …]`, followed by indented attribute lines.
 */
export function parseBirdRoutes(
  text: string,
  restarting: ReadonlySet<string> = new Set(),
  fromByProtocol: ReadonlyMap<string, string> = new Map(),
): PeerRoute[] {
  const routes: PeerRoute[] = [];
  let prefix = "";
  let current: {
    prefix: string;
    protocol: string;
    best: boolean;
    nextHop: string;
    asPath: number[];
    communities: string[];
    largeCommunities: string[];
    localPref?: number;
    med?: number;
    origin: OriginName;
  } | undefined;
  const flush = () => {
    if (!current) return;
    const { protocol, ...rest } = current;
    routes.push({ ...rest, stale: restarting.has(protocol), from: fromByProtocol.get(protocol) });
    current = undefined;
  };
  for (const line of text.split("\n")) {
    const head = /^(\S+)?\s+(?:unicast|unreachable|blackhole|prohibited)\s+\[(\S+)[^\]]*\](\s+\*)?/.exec(
      line,
    );
    if (head && !line.startsWith("\t")) {
      flush();
      if (head[1] !== undefined && head[1].includes("/")) prefix = head[1];
      current = {
        prefix,
        protocol: head[2],
        best: head[3] !== undefined,
        nextHop: "",
        asPath: [],
        communities: [],
        largeCommunities: [],
        origin: "incomplete",
      };
      continue;
    }
    if (!current) continue;
    const attr = /^\s+BGP\.(\w+):\s*(.*)$/.exec(line);
    if (!attr) continue;
    const [, name, value] = attr;
    switch (name) {
      case "origin":
        current.origin = BIRD_ORIGINS[value.trim().toLowerCase()] ?? "incomplete";
        break;
      case "as_path":
        current.asPath = (value.match(/\d+/g) ?? []).map(Number);
        break;
      case "next_hop":
        // IPv6 may list "global link-local"; the first is the global one.
        current.nextHop = value.trim().split(/\s+/)[0] ?? "";
        break;
      case "med":
        current.med = Number(value.trim());
        break;
      case "local_pref":
        current.localPref = Number(value.trim());
        break;
      case "community":
        current.communities = [...value.matchAll(/\((\d+),\s*(\d+)\)/g)].map((m) => `${m[1]}:${m[2]}`);
        break;
      case "large_community":
        current.largeCommunities = [...value.matchAll(/\((\d+),\s*(\d+),\s*(\d+)\)/g)].map((m) =>
          `${m[1]}:${m[2]}:${m[3]}`
        );
        break;
    }
  }
  flush();
  return routes;
}

/**
 * Generates bird.conf, starts BIRD in `spec.host` and waits until `birdc` answers.
 *
 * @example
 * ```ts
 * const bird = await startBird(topo, { host: topo.host(2), asn: 65002,
 *   neighbors: [{ address: topo.host(1).ipv4, peerAs: 65001, password: "pw" }] });
 * ```
 */
export async function startBird(
  topology: Topology,
  spec: BirdSpec,
  options: StartOptions = {},
): Promise<Bird> {
  const d = new Bird(topology, spec);
  await d.start(options);
  return d;
}
