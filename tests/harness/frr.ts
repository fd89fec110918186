/**
 * FRR (bgpd, optionally zebra) as a peer: generated bgpd.conf, vty sockets in its folder, routes from
 * `vtysh … json`.
 *
 * @module
 */

import { runCommand } from "./command.ts";
import type { ManagedProcess } from "./managed_process.ts";
import {
  type AddressFamily,
  type DaemonSpec,
  familiesOf,
  familyOf,
  localAddressFor,
  type OriginName,
  PeerDaemon,
  type PeerRoute,
  type SessionState,
  type StartOptions,
} from "./peer_daemon.ts";
import type { Topology } from "./topology.ts";

/** FRR-specific additions to {@linkcode DaemonSpec}. */
export interface FrrSpec extends DaemonSpec {
  /** Also run zebra, so that FRR installs its best routes into the namespace's kernel table. */
  readonly zebra?: boolean;
  /** Prefixes originated with `network …` and sent to every neighbour of their family. */
  readonly networks?: readonly string[];
}

const FRR_STATES: Record<string, SessionState> = {
  idle: "idle",
  connect: "connect",
  active: "active",
  opensent: "opensent",
  openconfirm: "openconfirm",
  established: "established",
  clearing: "idle",
  deleted: "idle",
};

/**
 * FRR bgpd in a namespace. Start it with {@linkcode startFrr}. Always configured with
 * `no bgp ebgp-requires-policy`, `no bgp default ipv4-unicast` (families activated explicitly) and
 * `timers connect 1`. Without zebra bgpd runs with `-Z`.
 *
 * Gotcha: with `-Z`, bgpd aborts its very first outgoing connection (no next-hop tracking yet) and retries
 * a second later. gobgpd answers such an aborted connection by holding the neighbour idle for 5 s, so a
 * gobgpd↔FRR session takes about 5 s with `-Z` and about 0.2 s with `zebra: true`. The speaker under test
 * is not affected unless it behaves like gobgpd.
 */
export class Frr extends PeerDaemon {
  #zebra: ManagedProcess | undefined;

  /** Use {@linkcode startFrr}. */
  constructor(topology: Topology, override readonly spec: FrrSpec) {
    super(topology, "frr", spec);
  }

  /** The folder holding the vty sockets, for `vtysh --vty_socket`. */
  get vtyDir(): string {
    return `${this.dir}/run`;
  }

  /** Writes bgpd.conf and hands the folder to user frr. */
  protected async writeConfig(): Promise<void> {
    const s = this.spec;
    const lines = [
      "frr defaults traditional",
      `hostname frr-${this.host.name}`,
      `log file ${this.dir}/run/bgpd.log`,
      "!",
      `router bgp ${s.asn}`,
      ` bgp router-id ${this.routerId}`,
      " no bgp ebgp-requires-policy",
      " no bgp network import-check",
      " no bgp default ipv4-unicast",
    ];
    const gr = s.neighbors.find((n) => n.gracefulRestart !== undefined)?.gracefulRestart;
    if (gr) lines.push(" bgp graceful-restart", ` bgp graceful-restart restart-time ${gr.restartTime}`);
    for (const n of s.neighbors) {
      const a = n.address;
      lines.push(` neighbor ${a} remote-as ${n.peerAs}`, ` neighbor ${a} timers connect 1`);
      lines.push(` neighbor ${a} update-source ${localAddressFor(this.host, n)}`);
      if (n.password !== undefined) lines.push(` neighbor ${a} password ${n.password}`);
      if (n.passive) lines.push(` neighbor ${a} passive`);
      if (n.holdTime !== undefined) {
        lines.push(` neighbor ${a} timers ${Math.max(1, Math.floor(n.holdTime / 3))} ${n.holdTime}`);
      }
      if (n.multihop !== undefined) lines.push(` neighbor ${a} ebgp-multihop ${n.multihop}`);
      if (n.peerPort !== undefined) lines.push(` neighbor ${a} port ${n.peerPort}`);
      if (n.extendedNextHop) lines.push(` neighbor ${a} capability extended-nexthop`);
    }
    for (const f of ["ipv4", "ipv6"] as const) {
      const active = s.neighbors.filter((n) => familiesOf(n).includes(f));
      const networks = (s.networks ?? []).filter((p) => familyOf(p) === f);
      if (active.length === 0 && networks.length === 0) continue;
      lines.push(` address-family ${f} unicast`);
      for (const n of active) lines.push(`  neighbor ${n.address} activate`);
      for (const p of networks) lines.push(`  network ${p}`);
      lines.push(" exit-address-family");
    }
    lines.push("!");
    if (s.extraConfig) lines.push(s.extraConfig);
    await Deno.mkdir(this.vtyDir, { recursive: true, mode: 0o755 });
    await Deno.writeTextFile(`${this.dir}/bgpd.conf`, lines.join("\n") + "\n", { mode: 0o640 });
    for (const stale of ["bgpd.vty", "zebra.vty", "zserv.api"]) {
      await Deno.remove(`${this.vtyDir}/${stale}`).catch(() => undefined);
    }
    // FRR drops privileges to user frr, which must read its config and write its run folder.
    await runCommand(["chown", "-R", "frr:frr", this.dir]);
  }

  /** Starts zebra first when asked, and waits for its zserv socket. */
  protected override async beforeStart(): Promise<void> {
    if (!this.spec.zebra || this.#zebra?.running) return;
    const zebra = this.spawnHelper("zebra", [
      "/usr/lib/frr/zebra",
      "-f",
      "/dev/null",
      "-i",
      `${this.vtyDir}/zebra.pid`,
      "-z",
      `${this.vtyDir}/zserv.api`,
      "--vty_socket",
      this.vtyDir,
      "-P",
      "0",
      "--log",
      `file:${this.vtyDir}/zebra.log`,
    ]);
    this.#zebra = zebra;
    // bgpd must find zebra's socket at start, or it stays without zebra.
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && zebra.running) {
      if (await Deno.stat(`${this.vtyDir}/zserv.api`).then(() => true, () => false)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`FRR zebra in ${this.host.netns} did not create its socket:\n${await zebra.logTail()}`);
  }

  /** Stops zebra after bgpd. */
  protected override async afterStop(): Promise<void> {
    await this.#zebra?.stop();
    this.#zebra = undefined;
  }

  /** bgpd in the foreground, with `-Z` unless zebra runs. */
  protected command(): string[] {
    const argv = ["/usr/lib/frr/bgpd", "-f", `${this.dir}/bgpd.conf`, "-i", `${this.vtyDir}/bgpd.pid`];
    argv.push("--vty_socket", this.vtyDir, "-P", "0");
    argv.push(...(this.spec.zebra ? ["-z", `${this.vtyDir}/zserv.api`] : ["-Z"]));
    if (this.spec.listenPort !== undefined) argv.push("-p", String(this.spec.listenPort));
    return argv;
  }

  /** bgpd's own log file. */
  protected override extraLogs(): string[] {
    return [`${this.vtyDir}/bgpd.log`];
  }

  /** Ready once vtysh gets JSON from bgpd. */
  protected async probeReady(): Promise<boolean> {
    const r = await runCommand(["vtysh", "--vty_socket", this.vtyDir, "-c", "show bgp summary json"], {
      allowFailure: true,
      timeoutMs: 3_000,
    });
    return r.code === 0 && r.stdout.trim().startsWith("{");
  }

  /** Runs vtysh commands (each one a `-c`) and returns the output; throws on failure. */
  async vtysh(...commands: string[]): Promise<string> {
    return (await runCommand(["vtysh", "--vty_socket", this.vtyDir, ...commands.flatMap((c) => ["-c", c])]))
      .stdout;
  }

  /** Runs one vtysh command ending in `json` and parses it. */
  async vtyshJson(command: string): Promise<unknown> {
    return JSON.parse(await this.vtysh(command));
  }

  /** Every path of the BGP table for `family` (`show bgp <afi> unicast json detail`). */
  async routes(family: AddressFamily): Promise<PeerRoute[]> {
    return parseFrrRoutes(await this.vtyshJson(`show bgp ${family} unicast json detail`));
  }

  /** Prefixes in the BGP table (`show bgp <afi> unicast statistics json`, totalPrefixes). */
  override async routeCount(family: AddressFamily): Promise<number> {
    const json = await this.vtyshJson(`show bgp ${family} unicast statistics json`) as Record<
      string,
      { totalPrefixes?: number }[]
    >;
    return Object.values(json)[0]?.[0]?.totalPrefixes ?? 0;
  }

  /** `bgpState` of `show bgp neighbors <address> json`. */
  async sessionState(neighbor: string): Promise<SessionState | undefined> {
    const json = await this.vtyshJson(`show bgp neighbors ${neighbor} json`) as Record<
      string,
      { bgpState?: string }
    >;
    const state = json[neighbor]?.bgpState;
    return state === undefined ? undefined : FRR_STATES[state.toLowerCase()] ?? "idle";
  }
}

interface FrrPath {
  valid?: boolean;
  bestpath?: boolean | { overall?: boolean };
  stale?: boolean;
  path?: string;
  aspath?: { string?: string; segments?: { list?: number[] }[] };
  origin?: string;
  med?: number;
  metric?: number;
  locPrf?: number;
  localpref?: number;
  community?: { string?: string; list?: string[] };
  largeCommunity?: { string?: string; list?: string[] };
  nexthops?: { ip?: string; afi?: string; scope?: string }[];
  peer?: { peerId?: string };
  peerId?: string;
}

const FRR_ORIGINS: Record<string, OriginName> = {
  igp: "igp",
  i: "igp",
  egp: "egp",
  e: "egp",
  incomplete: "incomplete",
  "?": "incomplete",
};

/** Parses `show bgp <afi> unicast [detail] json` into routes. */
export function parseFrrRoutes(json: unknown): PeerRoute[] {
  const table = (json as { routes?: Record<string, FrrPath[] | { paths?: FrrPath[] }> })?.routes ?? {};
  const routes: PeerRoute[] = [];
  for (const [prefix, entry] of Object.entries(table)) {
    const paths = Array.isArray(entry) ? entry : entry.paths ?? [];
    for (const p of paths) {
      // `json detail` starts each prefix's array with a {prefix, version} header element.
      if (p.nexthops === undefined && p.valid === undefined) continue;
      const asText = p.aspath?.string ?? p.path ?? "";
      const nh = p.nexthops?.find((n) => n.scope !== "link-local") ?? p.nexthops?.[0];
      const from = p.peer?.peerId ?? p.peerId;
      routes.push({
        prefix,
        nextHop: nh?.ip ?? "",
        asPath: (asText.match(/\d+/g) ?? []).map(Number),
        communities: p.community?.list ?? (p.community?.string ? p.community.string.split(" ") : []),
        largeCommunities: p.largeCommunity?.list ??
          (p.largeCommunity?.string ? p.largeCommunity.string.split(" ") : []),
        localPref: p.locPrf ?? p.localpref,
        med: p.med ?? p.metric,
        origin: FRR_ORIGINS[(p.origin ?? "").toLowerCase()] ?? "incomplete",
        stale: p.stale === true,
        from: from === undefined || from === "(unspec)" || from === "0.0.0.0" || from === "::"
          ? undefined
          : from,
        best: typeof p.bestpath === "object" ? p.bestpath.overall === true : p.bestpath === true,
      });
    }
  }
  return routes;
}

/**
 * Generates bgpd.conf, starts FRR (zebra first when `spec.zebra`) in `spec.host` and waits until vtysh
 * answers.
 *
 * @example
 * ```ts
 * const frr = await startFrr(topo, { host: topo.host(3), asn: 65003,
 *   neighbors: [{ address: topo.host(1).ipv6, peerAs: 65001, extendedNextHop: true }] });
 * ```
 */
export async function startFrr(topology: Topology, spec: FrrSpec, options: StartOptions = {}): Promise<Frr> {
  const d = new Frr(topology, spec);
  await d.start(options);
  return d;
}
