/**
 * Receivers of a table transfer (BIRD and FRR bgpd) with a clock: when their session to the sender came
 * up, and how many routes they hold from it, read through their control sockets directly so that polls
 * every 10 ms cost little.
 *
 * - BIRD: Established is BIRD's own millisecond timestamp of the protocol's state change (`timeformat
 *   protocol "%s.%3f"`); the count is the channel's `Routes: N imported`, an O(1) counter.
 * - FRR: Established is the poll time minus `bgpTimerUpMsec` of `show bgp neighbors ADDR json`; the count
 *   is the family's `acceptedPrefixCounter` of the same reply.
 *
 * @module
 */

import { birdProtocolName, startBird } from "../tests/harness/bird.ts";
import { startFrr } from "../tests/harness/frr.ts";
import type { Host, Topology } from "../tests/harness/topology.ts";
import { delay, waitFor } from "../tests/harness/wait.ts";
import { BirdControl, establishedSince, importedRoutes } from "./bird_control.ts";
import { FrrVty } from "./frr_vty.ts";
import type { BenchFamily } from "./prefixes.ts";

/** The receiver daemons. */
export type ReceiverKind = "bird" | "frr";

/** A receiver's AS in every benchmark. */
export const RECEIVER_AS = 65002;

/** A running receiver with one neighbor (the sender). */
export interface Receiver {
  readonly kind: ReceiverKind;
  /** PID of the daemon (bgpd for FRR). */
  readonly pid: number;
  /** Waits (bounded) until the session is Established and returns when it came up (epoch seconds). */
  established(timeoutMs?: number): Promise<number>;
  /** Routes of the benchmark family currently accepted from the sender. */
  count(): Promise<number>;
  /** Whether the receiver holds a route for exactly `prefix`. */
  has(prefix: string): Promise<boolean>;
  /** Closes the control connection (the daemon is stopped by the topology). */
  close(): void;
}

/** Options of {@linkcode startReceiver}. */
export interface ReceiverOptions {
  /** The sender's address (its family is the session's). */
  readonly sender: string;
  readonly family: BenchFamily;
  /** The sender's AS. */
  readonly senderAs: number;
}

/** Starts `kind` in `host`, importing everything from `options.sender`. */
export async function startReceiver(
  topology: Topology,
  host: Host,
  kind: ReceiverKind,
  options: ReceiverOptions,
): Promise<Receiver> {
  const neighbors = [{ address: options.sender, peerAs: options.senderAs, families: [options.family] }];
  if (kind === "bird") {
    const bird = await startBird(topology, {
      host,
      asn: RECEIVER_AS,
      neighbors,
      extraConfig: 'timeformat protocol "%s.%3f";',
    });
    const ctl = await BirdControl.connect(bird.controlSocket);
    const name = birdProtocolName(options.sender);
    return {
      kind,
      pid: bird.pid,
      established: (timeoutMs = 120_000) =>
        waitFor(`BIRD session to ${options.sender}`, async () => {
          return establishedSince(await ctl.command(`show protocols ${name}`), name);
        }, { timeoutMs, intervalMs: 10, diagnostics: () => bird.diagnostics() }),
      count: async () => importedRoutes(await ctl.command(`show protocols all ${name}`)),
      has: async (prefix) => !/^8001 /m.test(await ctl.command(`show route ${prefix}`)),
      close: () => ctl.close(),
    };
  }
  const frr = await startFrr(topology, {
    host,
    asn: RECEIVER_AS,
    neighbors,
    // One log line per route otherwise (bgpd -Z has no zebra for next-hop tracking): perf-anchors.md.
    extraConfig: `log file ${topology.workDir}/frr-${host.name}/run/bgpd.log critical`,
  });
  const vty = await FrrVty.connect(`${frr.vtyDir}/bgpd.vty`);
  const afi = options.family === "ipv4" ? "ipv4Unicast" : "ipv6Unicast";
  const neighbor = async () => {
    const json = JSON.parse(await vty.command(`show bgp neighbors ${options.sender} json`)) as Record<
      string,
      {
        bgpState?: string;
        bgpTimerUpMsec?: number;
        addressFamilyInfo?: Record<string, { acceptedPrefixCounter?: number }>;
      }
    >;
    return json[options.sender];
  };
  return {
    kind,
    pid: frr.pid,
    established: (timeoutMs = 120_000) =>
      waitFor(`FRR session to ${options.sender}`, async () => {
        const n = await neighbor();
        if (n?.bgpState !== "Established" || n.bgpTimerUpMsec === undefined) return undefined;
        return (Date.now() - n.bgpTimerUpMsec) / 1000;
      }, { timeoutMs, intervalMs: 5, diagnostics: () => frr.diagnostics() }),
    count: async () => (await neighbor())?.addressFamilyInfo?.[afi]?.acceptedPrefixCounter ?? 0,
    has: async (prefix) => {
      const json = JSON.parse(await vty.command(`show bgp ${options.family} unicast ${prefix} json`));
      return Array.isArray(json?.paths) && json.paths.length > 0;
    },
    close: () => vty.close(),
  };
}

/** What {@linkcode waitForCount} observed. */
export interface CountTimes {
  /** When the receiver first held at least 99 % of `n` (epoch seconds). */
  readonly at99: number;
  /** When it first held all `n` (epoch seconds). */
  readonly atAll: number;
}

/**
 * Polls `receiver.count()` every `intervalMs` until it reaches `n`; bounded by `timeoutMs`. `onPoll` runs
 * between polls (e.g. to keep a BIRD sender's loop awake).
 */
export async function waitForCount(
  receiver: Receiver,
  n: number,
  options: { timeoutMs?: number; intervalMs?: number; onPoll?: () => Promise<void> } = {},
): Promise<CountTimes> {
  const deadline = Date.now() + (options.timeoutMs ?? 300_000);
  let at99 = NaN;
  let last = -1;
  for (;;) {
    last = await receiver.count();
    const now = Date.now() / 1000;
    if (Number.isNaN(at99) && last >= 0.99 * n) at99 = now;
    if (last >= n) return { at99, atAll: now };
    if (Date.now() > deadline) {
      throw new Error(`Timed out: the ${receiver.kind} receiver holds ${last} of ${n} routes`);
    }
    await options.onPoll?.();
    await delay(options.intervalMs ?? 10);
  }
}
