/**
 * When each prefix first appeared in an UPDATE on the wire, read from a pcap with tshark.
 *
 * @module
 */

import { runCommand } from "../tests/harness/command.ts";

/** Options of {@linkcode firstAnnounced}. */
export interface WireFilter {
  /** Only UPDATEs sent from this address. */
  readonly src?: string;
  /** Only UPDATEs sent to this TCP port (BGP on another port than 179 is decoded as BGP too). */
  readonly dstPort?: number;
  /** `"withdrawn"` to read withdrawn prefixes instead of announced ones. */
  readonly kind?: "announced" | "withdrawn";
}

/**
 * Maps each IPv4 host route (as `a.b.c.d/32`: tshark reports the address only) to the capture timestamp
 * (epoch seconds) of the first UPDATE that announced (or withdrew) it.
 */
export async function firstOnWire(pcap: string, filter: WireFilter = {}): Promise<Map<string, number>> {
  const field = filter.kind === "withdrawn" ? "bgp.withdrawn_prefix" : "bgp.nlri_prefix";
  const display = ["bgp.type == 2"];
  if (filter.src) display.push(`ip.src == ${filter.src}`);
  if (filter.dstPort !== undefined) display.push(`tcp.dstport == ${filter.dstPort}`);
  const args = ["tshark", "-n", "-r", pcap];
  if (filter.dstPort !== undefined && filter.dstPort !== 179) {
    args.push("-d", `tcp.port==${filter.dstPort},bgp`);
  }
  args.push("-Y", display.join(" && "), "-T", "fields", "-E", "occurrence=a", "-E", "aggregator=,");
  args.push("-e", "frame.time_epoch", "-e", field);
  const { stdout } = await runCommand(args, { timeoutMs: 120_000 });
  const seen = new Map<string, number>();
  for (const line of stdout.split("\n")) {
    const [time, prefixes] = line.split("\t");
    if (!prefixes) continue;
    const t = Number(time);
    for (const p of prefixes.split(",")) {
      const key = p.includes("/") ? p : `${p}/32`;
      if (!seen.has(key)) seen.set(key, t);
    }
  }
  return seen;
}
