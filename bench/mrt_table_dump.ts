/**
 * TABLE_DUMP_V2 files (RFC 6396 §4.3) of bulk host routes, for loading gobgpd with
 * `gobgp mrt inject global FILE` before a benchmark. Pure: returns the bytes.
 *
 * The peer index names one peer with AS 0 and BGP identifier 0, so gobgp's CLI leaves the source AS unset
 * and gobgpd treats the paths as locally originated, as kube-ovn-speaker's `AddPath` calls make them.
 * Attributes: ORIGIN IGP, empty AS_PATH, and the next hop (NEXT_HOP for IPv4; for IPv6 an MP_REACH_NLRI
 * with AFI, SAFI, next hop and no NLRI: gobgp does not read the abbreviated form of RFC 6396 §4.3.4).
 *
 * @example
 * ```ts ignore
 * await Deno.writeFile("routes.mrt", tableDump("ipv4", 100_000, "10.99.0.1"));
 * ```
 *
 * @module
 */

import { type BenchFamily, bulkAddress } from "./prefixes.ts";

const TABLE_DUMP_V2 = 13;
const PEER_INDEX_TABLE = 1;
const RIB_IPV4_UNICAST = 2;
const RIB_IPV6_UNICAST = 4;

function ipv4Bytes(text: string): number[] {
  return text.split(".").map(Number);
}

function ipv6Bytes(text: string): number[] {
  const [head, tail] = text.includes("::") ? text.split("::") : [text, undefined];
  const h = head === "" ? [] : head.split(":");
  const t = tail === undefined || tail === "" ? [] : tail.split(":");
  const groups = [...h, ...Array(8 - h.length - t.length).fill("0"), ...t].map((g) => parseInt(g, 16));
  return groups.flatMap((g) => [g >> 8, g & 255]);
}

/**
 * A TABLE_DUMP_V2 dump of the first `n` bulk host routes of `family` with next hop `nextHop`, followed by
 * `padding` duplicates of its first routes: gobgp 3.10's CLI loses the tail of an injected stream
 * (perf-anchors.md), and duplicates of routes already held change nothing.
 */
export function tableDump(family: BenchFamily, n: number, nextHop: string, padding = Math.min(n, 50_000)) {
  const v6 = family === "ipv6";
  const time = Math.floor(Date.now() / 1000);
  const attrs = v6
    ? Uint8Array.of(0x40, 1, 1, 0, 0x40, 2, 0, 0x80, 14, 21, 0, 2, 1, 16, ...ipv6Bytes(nextHop), 0)
    : Uint8Array.of(0x40, 1, 1, 0, 0x40, 2, 0, 0x40, 3, 4, ...ipv4Bytes(nextHop));
  const addrLen = v6 ? 16 : 4;
  const entryLen = 4 + 1 + addrLen + 2 + 8 + attrs.length;
  const peerIndex = Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
  const total = n + Math.min(padding, n);
  const out = new Uint8Array(12 + peerIndex.length + total * (12 + entryLen));
  const view = new DataView(out.buffer);
  let at = 0;
  const header = (subtype: number, length: number) => {
    view.setUint32(at, time);
    view.setUint16(at + 4, TABLE_DUMP_V2);
    view.setUint16(at + 6, subtype);
    view.setUint32(at + 8, length);
    at += 12;
  };
  header(PEER_INDEX_TABLE, peerIndex.length);
  out.set(peerIndex, at);
  at += peerIndex.length;
  for (let s = 0; s < total; s++) {
    const i = s % n;
    header(v6 ? RIB_IPV6_UNICAST : RIB_IPV4_UNICAST, entryLen);
    view.setUint32(at, s);
    out[at + 4] = addrLen * 8;
    const address = bulkAddress(family, i);
    out.set(v6 ? ipv6Bytes(address) : ipv4Bytes(address), at + 5);
    let p = at + 5 + addrLen;
    view.setUint16(p, 1); // one RIB entry
    view.setUint16(p + 2, 0); // peer index 0
    view.setUint32(p + 4, time); // originated time
    view.setUint16(p + 8, attrs.length);
    p += 10;
    out.set(attrs, p);
    at = p + attrs.length;
  }
  return out;
}
