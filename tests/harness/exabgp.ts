/**
 * ExaBGP 4 as a peer: generated exabgp.conf with a recorder API process that logs every received OPEN,
 * UPDATE, EoR, NOTIFICATION and state change as JSON, and forwards API commands to ExaBGP.
 *
 * @module
 */

import {
  type AddressFamily,
  type DaemonSpec,
  familiesOf,
  localAddressFor,
  type NeighborSpec,
  type OriginName,
  PeerDaemon,
  type PeerRoute,
  type SessionState,
} from "./peer_daemon.ts";
import type { Topology } from "./topology.ts";

/** ExaBGP-specific additions to {@linkcode DaemonSpec}. */
export interface ExabgpSpec extends DaemonSpec {
  /** Text inserted verbatim into every `neighbor { … }` block (e.g. a `static { route … }` section). */
  readonly neighborConfig?: string;
}

/** One JSON object ExaBGP wrote for a received message or a state change (its own format, unchanged). */
export interface ExabgpEvent {
  /** Event kind: `"state"`, `"open"`, `"update"`, `"notification"`… */
  readonly type?: string;
  /** Seconds since the epoch. */
  readonly time?: number;
  /** Who the event is about and what it carried. */
  readonly neighbor?: {
    readonly address?: { readonly local?: string; readonly peer?: string };
    readonly state?: string;
    readonly message?: {
      readonly update?: ExabgpUpdate;
      readonly eor?: { readonly afi?: string; readonly safi?: string };
    };
    readonly open?: unknown;
    readonly notification?: unknown;
  };
  /** Other fields ExaBGP adds (version, host, pid, counter…). */
  readonly [key: string]: unknown;
}

/** ExaBGP's AS_PATH: a plain list, or (newer encoders) segments keyed by index. */
export type ExabgpAsPath = number[] | Record<string, { element?: string; value?: number[] }>;

/** The `update` object of an ExaBGP JSON event. */
export interface ExabgpUpdate {
  /** Path attributes of the announced routes. */
  readonly attribute?: {
    readonly origin?: string;
    readonly "as-path"?: ExabgpAsPath;
    readonly med?: number;
    readonly "local-preference"?: number;
    readonly community?: [number, number][];
    readonly "large-community"?: [number, number, number][];
  };
  /** Announced NLRI by family (`"ipv4 unicast"`) and then by next hop. */
  readonly announce?: Record<string, Record<string, { nlri?: string }[]>>;
  /** Withdrawn NLRI by family. */
  readonly withdraw?: Record<string, { nlri?: string }[]>;
}

const RECORDER = new URL("./exabgp_recorder.py", import.meta.url).pathname;

/**
 * ExaBGP in a namespace. Start it with {@linkcode startExabgp}. It listens on the local address (port 179
 * or `listenPort`) and connects unless `passive`. What it receives is kept in `received.jsonl`;
 * {@linkcode routes} replays that log (an announcement replaces, a withdrawal removes; on session down the
 * neighbour's routes are dropped, or marked stale when graceful restart was configured and then removed at
 * the neighbour's End-of-RIB if not re-announced).
 */
export class Exabgp extends PeerDaemon {
  /** Use {@linkcode startExabgp}. */
  constructor(topology: Topology, override readonly spec: ExabgpSpec) {
    super(topology, "exabgp", spec);
  }

  /** The JSON-lines file of received events. */
  get receiveLog(): string {
    return `${this.dir}/received.jsonl`;
  }

  #neighbor(n: NeighborSpec): string[] {
    const lines = [
      `neighbor ${n.address} {`,
      `  router-id ${this.routerId};`,
      `  local-address ${localAddressFor(this.host, n)};`,
      `  local-as ${this.spec.asn};`,
      `  peer-as ${n.peerAs};`,
      `  listen ${this.spec.listenPort ?? 179};`,
    ];
    if (n.peerPort !== undefined) lines.push(`  connect ${n.peerPort};`);
    if (n.password !== undefined) lines.push(`  md5-password ${JSON.stringify(n.password)};`);
    if (n.passive) lines.push("  passive true;");
    if (n.holdTime !== undefined) lines.push(`  hold-time ${n.holdTime};`);
    if (n.multihop !== undefined) lines.push(`  outgoing-ttl ${n.multihop};`);
    lines.push("  capability {", "    route-refresh;");
    if (n.gracefulRestart) lines.push(`    graceful-restart ${n.gracefulRestart.restartTime};`);
    lines.push("  }", "  family {", ...familiesOf(n).map((f) => `    ${f} unicast;`), "  }");
    lines.push(
      "  api {",
      "    processes [ record ];",
      "    receive { parsed; update; notification; open; }",
      "    neighbor-changes;",
      "  }",
    );
    if (this.spec.neighborConfig) lines.push(this.spec.neighborConfig);
    lines.push("}");
    return lines;
  }

  /** Writes exabgp.conf with the recorder process and one `neighbor` block per neighbour. */
  protected async writeConfig(): Promise<void> {
    const lines = [
      "process record {",
      `  run /usr/bin/python3 ${RECORDER} ${this.receiveLog} ${this.dir}/commands.fifo;`,
      "  encoder json;",
      "}",
    ];
    for (const n of this.spec.neighbors) lines.push(...this.#neighbor(n));
    if (this.spec.extraConfig) lines.push(this.spec.extraConfig);
    await Deno.writeTextFile(`${this.dir}/exabgp.conf`, lines.join("\n") + "\n", { mode: 0o600 });
    await Deno.remove(this.receiveLog).catch(() => undefined);
  }

  /** ExaBGP settings that make it run as a plain foreground child. */
  protected override environment(): Record<string, string> {
    // No privilege drop, no CLI pipe, no acks on the API process, no global listener (per-neighbour
    // `listen` instead, which also carries the MD5 key).
    // Underscore spellings: the dotted ones are not valid shell names and sh drops them from the environment.
    return {
      exabgp_daemon_user: "root",
      exabgp_daemon_drop: "false",
      exabgp_api_cli: "false",
      exabgp_api_ack: "false",
      exabgp_tcp_bind: "",
      exabgp_log_destination: "stdout",
    };
  }

  /** `exabgp <conf>` in the foreground. */
  protected command(): string[] {
    return ["exabgp", `${this.dir}/exabgp.conf`];
  }

  /** Ready once the recorder process has created the receive log. */
  protected async probeReady(): Promise<boolean> {
    return await Deno.stat(this.receiveLog).then(() => true, () => false);
  }

  /** Every event received so far, in order. */
  async events(): Promise<ExabgpEvent[]> {
    const text = await Deno.readTextFile(this.receiveLog).catch(() => "");
    const events: ExabgpEvent[] = [];
    for (const line of text.split("\n")) {
      if (line.trim() === "") continue;
      try {
        events.push(JSON.parse(line));
      } catch {
        // A line cut by a crash: ignore it.
      }
    }
    return events;
  }

  /** Only the UPDATE events (announcements and withdrawals), with the neighbour they came from. */
  async updates(): Promise<{ from: string; update: ExabgpUpdate }[]> {
    return (await this.events()).flatMap((e) => {
      const update = e.neighbor?.message?.update;
      return e.type === "update" && update ? [{ from: e.neighbor?.address?.peer ?? "", update }] : [];
    });
  }

  /**
   * Sends an API command to ExaBGP, e.g. `"announce route 203.0.113.5/32 next-hop self"` or
   * `"neighbor 10.99.0.1 withdraw route 203.0.113.5/32"`.
   */
  async send(text: string): Promise<void> {
    await Deno.writeTextFile(`${this.dir}/commands.fifo`, `${text}\n`, { append: true });
  }

  /** Routes rebuilt from the receive log (see {@linkcode replayExabgpEvents}). */
  async routes(family: AddressFamily): Promise<PeerRoute[]> {
    return replayExabgpEvents(await this.events(), family, this.#gracefulNeighbors());
  }

  #gracefulNeighbors(): Set<string> {
    return new Set(this.spec.neighbors.filter((n) => n.gracefulRestart).map((n) => n.address));
  }

  /** State from the last `neighbor-changes` event: up = established, connected = opensent, else idle. */
  async sessionState(neighbor: string): Promise<SessionState | undefined> {
    if (!this.spec.neighbors.some((n) => n.address === neighbor)) return undefined;
    let state: SessionState = "idle";
    for (const e of await this.events()) {
      if (e.type !== "state" || e.neighbor?.address?.peer !== neighbor) continue;
      state = e.neighbor.state === "up"
        ? "established"
        : e.neighbor.state === "connected"
        ? "opensent"
        : "idle";
    }
    return state;
  }
}

function isLinkLocal(address: string): boolean {
  return /^fe[89ab][0-9a-f]:/i.test(address);
}

const EXA_ORIGINS: Record<string, OriginName> = { igp: "igp", egp: "egp", incomplete: "incomplete" };

function asPathOf(value: ExabgpAsPath | undefined): number[] {
  if (Array.isArray(value)) return value.map(Number);
  if (value && typeof value === "object") return Object.values(value).flatMap((s) => s.value ?? []);
  return [];
}

/**
 * Rebuilds the routes ExaBGP holds for `family` from its event log. `graceful` lists the neighbours whose
 * routes are kept as stale when their session goes down.
 */
export function replayExabgpEvents(
  events: readonly ExabgpEvent[],
  family: AddressFamily,
  graceful: ReadonlySet<string> = new Set(),
): PeerRoute[] {
  const key = `${family} unicast`;
  const table = new Map<string, PeerRoute>();
  const id = (from: string, prefix: string) => `${from}|${prefix}`;
  for (const e of events) {
    const from = e.neighbor?.address?.peer ?? "";
    if (e.type === "state") {
      if (e.neighbor?.state !== "down") continue;
      for (const [k, r] of table) {
        if (r.from !== from) continue;
        if (graceful.has(from)) table.set(k, { ...r, stale: true });
        else table.delete(k);
      }
      continue;
    }
    const message = e.neighbor?.message;
    if (e.type !== "update" || !message) continue;
    if (message.eor) {
      if (`${message.eor.afi} ${message.eor.safi}` !== key) continue;
      for (const [k, r] of table) if (r.from === from && r.stale) table.delete(k);
      continue;
    }
    const update = message.update;
    if (!update) continue;
    for (const w of update.withdraw?.[key] ?? []) if (w.nlri) table.delete(id(from, w.nlri));
    const attribute = update.attribute ?? {};
    // An IPv6 route with a global and a link-local next hop is listed under both: the global one wins.
    const byNextHop = Object.entries(update.announce?.[key] ?? {})
      .sort(([a], [b]) => Number(!isLinkLocal(a)) - Number(!isLinkLocal(b)));
    for (const [nextHop, nlris] of byNextHop) {
      for (const n of nlris) {
        if (!n.nlri) continue;
        table.set(id(from, n.nlri), {
          prefix: n.nlri,
          nextHop: nextHop.split(" ")[0],
          asPath: asPathOf(attribute["as-path"]),
          communities: (attribute.community ?? []).map(([a, b]) => `${a}:${b}`),
          largeCommunities: (attribute["large-community"] ?? []).map(([a, b, c]) => `${a}:${b}:${c}`),
          localPref: attribute["local-preference"],
          med: attribute.med,
          origin: EXA_ORIGINS[attribute.origin ?? ""] ?? "incomplete",
          stale: false,
          from,
          best: true,
        });
      }
    }
  }
  return [...table.values()];
}

/**
 * Generates exabgp.conf, starts ExaBGP in `spec.host` and waits until its recorder process runs.
 *
 * @example
 * ```ts
 * const exa = await startExabgp(topo, { host: topo.host(4), asn: 65004,
 *   neighbors: [{ address: topo.host(1).ipv4, peerAs: 65001 }] });
 * const updates = await exa.updates();
 * ```
 */
export async function startExabgp(topology: Topology, spec: ExabgpSpec): Promise<Exabgp> {
  const d = new Exabgp(topology, spec);
  await d.start();
  return d;
}
