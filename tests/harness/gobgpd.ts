/**
 * gobgpd (GoBGP 3.x) as a peer: TOML config, gRPC on a unix socket in its folder, routes from `gobgp -j`.
 *
 * @module
 */

import { runCommand } from "./command.ts";
import {
  type AddressFamily,
  type DaemonSpec,
  familiesOf,
  localAddressFor,
  type OriginName,
  PeerDaemon,
  type PeerRoute,
  type SessionState,
  type StartOptions,
} from "./peer_daemon.ts";
import type { Topology } from "./topology.ts";

/** Attributes of a route announced with {@linkcode Gobgpd.addRoute}. */
export interface GobgpRouteAttributes {
  /** Next hop; default: gobgpd picks its local address towards each peer ("next-hop self" for eBGP). */
  readonly nextHop?: string;
  /** Standard communities `"65001:10"`. */
  readonly communities?: readonly string[];
  /** Large communities `"65001:1:2"`. */
  readonly largeCommunities?: readonly string[];
  /** MULTI_EXIT_DISC. */
  readonly med?: number;
  /** LOCAL_PREF (sent to iBGP peers only). */
  readonly localPref?: number;
  /** ORIGIN; default incomplete. */
  readonly origin?: OriginName;
  /** AS_PATH to originate with (gobgpd prepends its own AS towards eBGP peers). */
  readonly asPath?: readonly number[];
}

function toml(value: string): string {
  return JSON.stringify(value);
}

const AFI_SAFI: Record<AddressFamily, string> = { ipv4: "ipv4-unicast", ipv6: "ipv6-unicast" };

/** gobgpd's numeric or textual session states, mapped to {@linkcode SessionState}. */
const GOBGP_STATES: Record<string, SessionState> = {
  "0": "idle",
  "1": "idle",
  "2": "connect",
  "3": "active",
  "4": "opensent",
  "5": "openconfirm",
  "6": "established",
  unknown: "idle",
  idle: "idle",
  connect: "connect",
  active: "active",
  opensent: "opensent",
  openconfirm: "openconfirm",
  established: "established",
};

/**
 * gobgpd in a namespace. Start it with {@linkcode startGobgpd}.
 *
 * Fast timers are always set (connect-retry 1 s). The `gobgp` CLI talks to it through
 * `unix://<dir>/gobgp.sock`, from the host namespace.
 *
 * Timing facts (GoBGP 3.10): its own outgoing connect waits 5–10 s (a minimum retry of 5 s plus jitter,
 * whatever connect-retry says), so sessions come up fastest when the other side connects; and after a
 * connection that closes before the OPEN exchange it refuses connections for 5 s (idle hold).
 */
export class Gobgpd extends PeerDaemon {
  /** Use {@linkcode startGobgpd}. */
  constructor(topology: Topology, spec: DaemonSpec) {
    super(topology, "gobgpd", spec);
  }

  /** The gRPC target for `gobgp --target`. */
  get target(): string {
    return `unix://${this.dir}/gobgp.sock`;
  }

  /** Writes gobgpd.toml. */
  protected async writeConfig(): Promise<void> {
    const s = this.spec;
    const lines = [
      "[global.config]",
      `  as = ${s.asn}`,
      `  router-id = ${toml(this.routerId)}`,
      `  port = ${s.listenPort ?? 179}`,
    ];
    for (const n of s.neighbors) {
      lines.push(
        "[[neighbors]]",
        "  [neighbors.config]",
        `    neighbor-address = ${toml(n.address)}`,
        `    peer-as = ${n.peerAs}`,
      );
      if (n.password !== undefined) lines.push(`    auth-password = ${toml(n.password)}`);
      lines.push("  [neighbors.timers.config]", "    connect-retry = 1");
      if (n.holdTime !== undefined) {
        lines.push(
          `    hold-time = ${n.holdTime}`,
          `    keepalive-interval = ${Math.max(1, Math.floor(n.holdTime / 3))}`,
        );
      }
      lines.push(
        "  [neighbors.transport.config]",
        `    local-address = ${toml(localAddressFor(this.host, n))}`,
      );
      if (n.passive) lines.push("    passive-mode = true");
      if (n.peerPort !== undefined) lines.push(`    remote-port = ${n.peerPort}`);
      if (n.multihop !== undefined) {
        lines.push(
          "  [neighbors.ebgp-multihop.config]",
          "    enabled = true",
          `    multihop-ttl = ${n.multihop}`,
        );
      }
      if (n.gracefulRestart) {
        lines.push(
          "  [neighbors.graceful-restart.config]",
          "    enabled = true",
          `    restart-time = ${n.gracefulRestart.restartTime}`,
        );
      }
      for (const f of familiesOf(n)) {
        lines.push(
          "  [[neighbors.afi-safis]]",
          "    [neighbors.afi-safis.config]",
          `      afi-safi-name = ${toml(AFI_SAFI[f])}`,
        );
        if (n.gracefulRestart) {
          lines.push("    [neighbors.afi-safis.mp-graceful-restart.config]", "      enabled = true");
        }
      }
    }
    if (s.extraConfig) lines.push(s.extraConfig);
    await Deno.writeTextFile(`${this.dir}/gobgpd.toml`, lines.join("\n") + "\n", { mode: 0o600 });
    await Deno.remove(`${this.dir}/gobgp.sock`).catch(() => undefined);
  }

  /** gobgpd in the foreground with its API on the unix socket, `-r` for a graceful restart. */
  protected command(options: StartOptions): string[] {
    const argv = [
      "gobgpd",
      "-f",
      `${this.dir}/gobgpd.toml`,
      "--api-hosts",
      this.target,
      "--pprof-disable",
      "-p",
    ];
    if (options.gracefulRestart) argv.push("-r");
    return argv;
  }

  /** Ready once `gobgp global` answers. */
  protected async probeReady(): Promise<boolean> {
    const r = await runCommand(["gobgp", "--target", this.target, "global"], {
      allowFailure: true,
      timeoutMs: 3_000,
    });
    return r.code === 0;
  }

  /** Runs the `gobgp` CLI against this daemon and returns stdout; throws on failure. */
  async cli(args: readonly string[]): Promise<string> {
    return (await runCommand(["gobgp", "--target", this.target, ...args])).stdout;
  }

  /** Runs `gobgp -j …` and parses the JSON. */
  async cliJson(args: readonly string[]): Promise<unknown> {
    const out = await this.cli(["-j", ...args]);
    return out.trim() === "" ? null : JSON.parse(out);
  }

  /**
   * Announces `prefix` from gobgpd's global RIB (`gobgp global rib add`) to every neighbour of its family.
   *
   * @example
   * ```ts
   * await gobgp.addRoute("203.0.113.10/32", { communities: ["65001:10"] });
   * ```
   */
  async addRoute(prefix: string, attributes: GobgpRouteAttributes = {}): Promise<void> {
    await this.cli([
      "global",
      "rib",
      "add",
      prefix,
      ...this.#attributeArgs(attributes),
      "-a",
      familyOfPrefix(prefix),
    ]);
  }

  /** Withdraws a route added with {@linkcode addRoute}. */
  async deleteRoute(prefix: string): Promise<void> {
    await this.cli(["global", "rib", "del", prefix, "-a", familyOfPrefix(prefix)]);
  }

  #attributeArgs(a: GobgpRouteAttributes): string[] {
    const args: string[] = [];
    if (a.origin) args.push("origin", a.origin);
    if (a.asPath && a.asPath.length > 0) args.push("aspath", a.asPath.join(" "));
    if (a.nextHop) args.push("nexthop", a.nextHop);
    if (a.med !== undefined) args.push("med", String(a.med));
    if (a.localPref !== undefined) args.push("local-pref", String(a.localPref));
    if (a.communities && a.communities.length > 0) args.push("community", a.communities.join(","));
    if (a.largeCommunities && a.largeCommunities.length > 0) {
      args.push("large-community", a.largeCommunities.join(","));
    }
    return args;
  }

  /** Every path of gobgpd's global RIB for `family` (received ones carry `from`, local ones do not). */
  async routes(family: AddressFamily): Promise<PeerRoute[]> {
    return parseGobgpRib(await this.cliJson(["global", "rib", "-a", family]));
  }

  /** Destinations in the global RIB (`gobgp global rib summary`). */
  override async routeCount(family: AddressFamily): Promise<number> {
    const json = await this.cliJson(["global", "rib", "summary", "-a", family]) as {
      num_destination?: number;
    };
    return json?.num_destination ?? 0;
  }

  /** Paths received from `neighbor` before import policy (`gobgp neighbor X adj-in`). */
  async adjIn(neighbor: string, family: AddressFamily): Promise<PeerRoute[]> {
    return parseGobgpRib(await this.cliJson(["neighbor", neighbor, "adj-in", "-a", family]));
  }

  /** `session_state` of the neighbour in `gobgp -j neighbor`. */
  async sessionState(neighbor: string): Promise<SessionState | undefined> {
    const peers = await this.cliJson(["neighbor"]);
    if (!Array.isArray(peers)) return undefined;
    for (const p of peers as GobgpPeer[]) {
      const address = p.state?.neighbor_address ?? p.conf?.neighbor_address;
      if (address === neighbor) {
        const raw = String(p.state?.session_state ?? "unknown").toLowerCase().replace(/^bgp_fsm_/, "");
        return GOBGP_STATES[raw] ?? "idle";
      }
    }
    return undefined;
  }
}

interface GobgpPeer {
  conf?: { neighbor_address?: string };
  state?: { neighbor_address?: string; session_state?: number | string };
}

interface GobgpAttr {
  type: number;
  value?: number | { ASN?: number; LocalData1?: number; LocalData2?: number }[];
  as_paths?: { segment_type: number; asns: number[] }[];
  nexthop?: string;
  communities?: number[];
  med?: number;
  local_pref?: number;
  nexthops?: string[];
  metric?: number;
}

interface GobgpPath {
  nlri?: { prefix?: string };
  attrs?: GobgpAttr[];
  stale?: boolean;
  best?: boolean;
  "source-id"?: string;
  "neighbor-ip"?: string;
}

function familyOfPrefix(prefix: string): AddressFamily {
  return prefix.includes(":") ? "ipv6" : "ipv4";
}

const ORIGINS: OriginName[] = ["igp", "egp", "incomplete"];

/** Parses `gobgp -j global rib` / `adj-in` output (a map from prefix to paths) into routes. */
export function parseGobgpRib(json: unknown): PeerRoute[] {
  if (json === null || typeof json !== "object") return [];
  const routes: PeerRoute[] = [];
  for (const [key, paths] of Object.entries(json as Record<string, GobgpPath[]>)) {
    if (!Array.isArray(paths)) continue;
    for (const p of paths) {
      let nextHop = "";
      let asPath: number[] = [];
      let communities: string[] = [];
      let largeCommunities: string[] = [];
      let origin: OriginName = "incomplete";
      let med: number | undefined;
      let localPref: number | undefined;
      for (const a of p.attrs ?? []) {
        switch (a.type) {
          case 1:
            origin = ORIGINS[typeof a.value === "number" ? a.value : 2] ?? "incomplete";
            break;
          case 2:
            asPath = (a.as_paths ?? []).flatMap((s) => s.asns ?? []);
            break;
          case 3:
            nextHop = a.nexthop ?? nextHop;
            break;
          case 4:
            med = a.metric ?? a.med ?? (typeof a.value === "number" ? a.value : undefined);
            break;
          case 5:
            localPref = typeof a.value === "number" ? a.value : a.local_pref;
            break;
          case 8:
            communities = (a.communities ?? []).map((c) => `${c >>> 16}:${c & 0xffff}`);
            break;
          case 14:
            nextHop = a.nexthop ?? a.nexthops?.[0] ?? nextHop;
            break;
          case 32:
            largeCommunities = (Array.isArray(a.value) ? a.value : []).map((v) =>
              `${v.ASN ?? 0}:${v.LocalData1 ?? 0}:${v.LocalData2 ?? 0}`
            );
            break;
        }
      }
      const from = p["neighbor-ip"];
      routes.push({
        prefix: p.nlri?.prefix ?? key,
        nextHop,
        asPath,
        communities,
        largeCommunities,
        localPref,
        med,
        origin,
        stale: p.stale === true,
        from: from === undefined || from === "<nil>" || from === "0.0.0.0" || from === "::"
          ? undefined
          : from,
        best: p.best ?? true,
      });
    }
  }
  return routes;
}

/**
 * Generates the config, starts gobgpd in `spec.host` and waits until its API answers.
 *
 * @example
 * ```ts
 * const gobgp = await startGobgpd(topo, {
 *   host: topo.host(1), asn: 65001,
 *   neighbors: [{ address: topo.host(2).ipv4, peerAs: 65002 }, { address: topo.host(2).ipv6, peerAs: 65002 }],
 * });
 * await gobgp.waitEstablished(topo.host(2).ipv4);
 * ```
 */
export async function startGobgpd(
  topology: Topology,
  spec: DaemonSpec,
  options: StartOptions = {},
): Promise<Gobgpd> {
  const d = new Gobgpd(topology, spec);
  await d.start(options);
  return d;
}
