/**
 * Packet captures inside a namespace (tcpdump or tshark) and a BGP message lister over the pcap (tshark).
 *
 * @module
 */

import { runCommand } from "./command.ts";
import type { Host, Topology } from "./topology.ts";
import { waitFor } from "./wait.ts";

/** Options of {@linkcode capture}. */
export interface CaptureOptions {
  /** Interface inside the namespace; default `eth0`. */
  readonly iface?: string;
  /** Capture filter (BPF); default `tcp port 179`. */
  readonly filter?: string;
  /** Capturing program; default `tcpdump` (starts faster). */
  readonly tool?: "tcpdump" | "tshark";
  /** File name stem inside the topology's work dir; default `capture-<host>-<n>`. */
  readonly name?: string;
}

/** A running capture. */
export interface Capture {
  /** Path of the pcap file being written. */
  readonly path: string;
  /** Stops the capture (SIGTERM by PID, which flushes the file) and returns the pcap path. */
  stop(): Promise<string>;
}

let captures = 0;

/**
 * Starts capturing in `host`'s namespace and waits (bounded, 10 s) until the capture is listening, so no
 * packet sent afterwards is missed. The topology stops it on destroy if the test does not.
 *
 * @example
 * ```ts
 * const cap = await capture(topo, topo.host(2));
 * // … traffic …
 * const frames = await bgpFrames(await cap.stop());
 * ```
 */
export async function capture(
  topology: Topology,
  host: Host,
  options: CaptureOptions = {},
): Promise<Capture> {
  captures += 1;
  const name = options.name ?? `capture-${host.name}-${captures}`;
  const path = `${topology.workDir}/${name}.pcap`;
  const iface = options.iface ?? "eth0";
  const filter = options.filter ?? "tcp port 179";
  const tool = options.tool ?? "tcpdump";
  // Immediate mode and -U: every packet is read and written at once, so a SIGTERM right after the traffic
  // loses nothing (otherwise packets wait in the kernel ring for up to a second).
  const argv = tool === "tcpdump"
    ? ["tcpdump", "-i", iface, "--immediate-mode", "-U", "-n", "-s", "0", "-w", path, filter]
    : ["tshark", "-q", "-i", iface, "-f", filter, "-w", path];
  const process = topology.spawn(host, name, argv);
  const ready = tool === "tcpdump" ? "listening on" : "Capturing on";
  await waitFor(
    `${tool} in ${host.netns} to start capturing`,
    async () => (await process.logTail()).includes(ready),
    {
      timeoutMs: 10_000,
      intervalMs: 50,
      giveUp: () => process.running ? undefined : `it exited with ${JSON.stringify(process.exitStatus)}`,
      diagnostics: () => process.logTail(),
    },
  );
  return {
    path,
    async stop() {
      await process.stop();
      return path;
    },
  };
}

/** BGP message type codes (RFC 4271 §4.1, RFC 2918). */
export const BGP_TYPE_NAMES: Readonly<Record<number, string>> = {
  1: "OPEN",
  2: "UPDATE",
  3: "NOTIFICATION",
  4: "KEEPALIVE",
  5: "ROUTE-REFRESH",
};

/** Fields every {@linkcode bgpFrames} entry carries (tshark field names). */
export const DEFAULT_BGP_FIELDS = [
  "bgp.nlri_prefix",
  "bgp.withdrawn_prefix",
  "bgp.mp_reach_nlri_ipv6_prefix",
  "bgp.mp_unreach_nlri_ipv6_prefix",
  "bgp.update.path_attributes.length",
  "bgp.update.path_attribute.next_hop",
  "bgp.update.path_attribute.mp_reach_nlri.next_hop",
  "bgp.update.path_attribute.community_as",
  "bgp.update.path_attribute.community_value",
  "bgp.cap.gr.timers.restart_flag",
  "bgp.cap.gr.timers.restart_time",
  "bgp.notify.major_error",
  "tcp.option_kind",
] as const;

/** One captured frame that carries BGP messages. */
export interface BgpFrame {
  /** Frame number in the capture (1-based). */
  readonly frame: number;
  /** Seconds since the first packet of the capture. */
  readonly time: number;
  /** Source and destination IP (v4 or v6). */
  readonly src: string;
  /** Destination IP (v4 or v6). */
  readonly dst: string;
  /** Type code of every BGP message in the frame, in order (several messages may share a frame). */
  readonly types: readonly number[];
  /** Every occurrence of each requested tshark field in the frame (empty list when absent). */
  readonly fields: Readonly<Record<string, readonly string[]>>;
}

/** Options of {@linkcode bgpFrames}. */
export interface BgpFramesOptions {
  /** Extra tshark fields to extract, on top of {@linkcode DEFAULT_BGP_FIELDS}. */
  readonly fields?: readonly string[];
  /** TCP ports other than 179 to decode as BGP (`-d tcp.port==N,bgp`). */
  readonly ports?: readonly number[];
  /** Extra display filter ANDed with `bgp`. */
  readonly filter?: string;
}

/**
 * Lists the frames of a pcap that carry BGP messages, with their message types and selected fields,
 * through `tshark -T fields`.
 *
 * @example
 * ```ts
 * const frames = await bgpFrames(pcap);
 * const updates = frames.filter((f) => f.types.includes(2));
 * ```
 */
export async function bgpFrames(pcap: string, options: BgpFramesOptions = {}): Promise<BgpFrame[]> {
  const fields = [...new Set([...DEFAULT_BGP_FIELDS, ...(options.fields ?? [])])];
  const base = [
    "frame.number",
    "frame.time_relative",
    "ip.src",
    "ipv6.src",
    "ip.dst",
    "ipv6.dst",
    "bgp.type",
  ];
  const args = ["tshark", "-n", "-r", pcap];
  for (const port of options.ports ?? []) args.push("-d", `tcp.port==${port},bgp`);
  args.push("-Y", options.filter ? `bgp && (${options.filter})` : "bgp", "-T", "fields");
  args.push("-E", "separator=\t", "-E", "occurrence=a", "-E", "aggregator=|");
  for (const f of [...base, ...fields]) args.push("-e", f);
  const { stdout } = await runCommand(args, { timeoutMs: 60_000 });
  const split = (v: string | undefined) => (v ?? "").split("|").filter((x) => x !== "");
  return stdout.split("\n").filter((l) => l.trim() !== "").map((line) => {
    const cols = line.split("\t");
    return {
      frame: Number(cols[0]),
      time: Number(cols[1]),
      src: cols[2] || cols[3] || "",
      dst: cols[4] || cols[5] || "",
      types: split(cols[6]).map(Number),
      fields: Object.fromEntries(fields.map((f, i) => [f, split(cols[base.length + i])])),
    };
  });
}
