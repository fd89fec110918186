/**
 * The routes of MRT records, listed the way `bgpdump -m` lists them. Pure: records in, sink calls out.
 *
 * Per record type (RFC 6396):
 * - BGP4MP(_ET) STATE_CHANGE(_AS4): one `STATE` line.
 * - BGP4MP(_ET) MESSAGE* carrying an UPDATE: one `W` line per withdrawn prefix (Withdrawn Routes, then
 *   MP_UNREACH_NLRI), then one `A` line per announced prefix (NLRI with NEXT_HOP, then MP_REACH_NLRI with
 *   its own next hop). OPEN, NOTIFICATION, KEEPALIVE and ROUTE-REFRESH carry no route.
 * - TABLE_DUMP_V2 RIB records: one `B` line per RIB entry, the peer resolved through the PEER_INDEX_TABLE.
 * - TABLE_DUMP: one `B` line. Deprecated MRTd BGP (type 5): `STATE`, `W` and `A` lines typed `BGP`.
 *
 * @module
 */

import { decodePathAttributeRange } from "../wire/attributes.ts";
import { countPrefixRange } from "../wire/nlri.ts";
import type { DecodeContext, Family, PathAttributes, Prefix } from "../wire/types.ts";
import {
  type LineHead,
  type PrefixView,
  type RouteFields,
  routeFields,
  type RouteSink,
} from "./bgpdump_format.ts";
import type { MrtRecord } from "./reader.ts";
import { MrtType } from "./reader.ts";
import {
  type Bgp4mpMessage,
  decodeMrtBody,
  type IndexedPeer,
  type RibRecord,
  type TableDumpRoute,
} from "./records.ts";

/** A problem with one record: the routes it would have carried are (partly) missing from the output. */
export interface RecordWarning {
  /** Offset of the record in the decompressed stream. */
  readonly offset: number;
  readonly reason: string;
}

const ALL_FAMILIES: readonly Family[] = [
  { afi: 1, safi: 1 },
  { afi: 1, safi: 2 },
  { afi: 2, safi: 1 },
  { afi: 2, safi: 2 },
];

const CONTEXTS: readonly DecodeContext[] = [
  { fourOctetAs: false, addPath: [], maxMessageSize: 65535 },
  { fourOctetAs: true, addPath: [], maxMessageSize: 65535 },
  { fourOctetAs: false, addPath: ALL_FAMILIES, maxMessageSize: 65535 },
  { fourOctetAs: true, addPath: ALL_FAMILIES, maxMessageSize: 65535 },
];

function contextFor(fourOctetAs: boolean, addPath: boolean): DecodeContext {
  return CONTEXTS[(fourOctetAs ? 1 : 0) + (addPath ? 2 : 0)];
}

const BGP_MARKER_LENGTH = 16;
const BGP_HEADER_LENGTH = 19;
const BGP_UPDATE = 2;

function u32(b: Uint8Array, i: number): number {
  return ((b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]) >>> 0;
}

/** Where the well-formed leading prefixes of the IPv4 prefix field `u[start..end)` end. */
function wellFormedEnd(u: Uint8Array, start: number, end: number, addPath: boolean): number {
  let good = start;
  for (let i = start; i < end;) {
    const at = addPath ? i + 4 : i;
    if (at >= end || u[at] > 32) break;
    const next = at + 1 + ((u[at] + 7) >> 3);
    if (next > end) break;
    i = good = next;
  }
  return good;
}

/** Whether bgpdump lists the family (IPv4/IPv6, unicast/multicast). */
function listedFamily(afi: number, safi: number): boolean {
  return (afi === 1 || afi === 2) && (safi === 1 || safi === 2);
}

/**
 * Lists the routes of MRT records in order into a {@linkcode RouteSink}. Keeps the state a file needs
 * (the current PEER_INDEX_TABLE); use one instance per file.
 *
 * @example
 * ```ts
 * const out = new LineBuffer((bytes) => Deno.stdout.writeSync(bytes));
 * const lister = new BgpdumpRouteLister(new BgpdumpTextSink(out), (w) => console.error(w.reason));
 * for (const item of readMrtBuffer(bytes)) if (item.kind === "record") lister.add(item.record);
 * out.flush();
 * ```
 */
export class BgpdumpRouteLister {
  #sink: RouteSink;
  #warn: (warning: RecordWarning) => void;
  #peers: readonly IndexedPeer[] | undefined;
  #offset = 0;
  #lastTimestamp = -1;
  #lastMicroseconds = -1;
  #lastTime = "";
  #record: MrtRecord | undefined;
  /** The time field of the current record. */
  #time = "";
  /** One prefix view, refilled for every printed prefix. */
  #view: PrefixView = { afi: 1, length: 0, bytes: new Uint8Array(0), offset: 0 };

  constructor(sink: RouteSink, warn: (warning: RecordWarning) => void) {
    this.#sink = sink;
    this.#warn = warn;
  }

  /** Lists the routes of one record. Never throws for any record content. */
  add(record: MrtRecord): void {
    this.#offset = record.offset;
    this.#record = record;
    const body = decodeMrtBody(record);
    this.#time = this.#timeText(record);
    switch (body.kind) {
      case "bgp4mp-state":
        this.#sink.state(
          this.#head(
            record.type === MrtType.BGP4MP_ET ? "BGP4MP_ET" : "BGP4MP",
            "STATE",
            body.peerIp,
            body.peerAs,
          ),
          body.oldState,
          body.newState,
        );
        return;
      case "bgp4mp-message":
        this.#message(record, body);
        return;
      case "peer-index-table":
        this.#peers = body.peers;
        return;
      case "rib":
        this.#rib(body);
        return;
      case "table-dump":
        this.#tableDump(body);
        return;
      case "legacy-update":
        this.#update(
          "BGP",
          body.peerIp,
          body.peerAs,
          body.update,
          0,
          body.update.length,
          false,
          false,
          true,
        );
        return;
      case "legacy-state":
        this.#sink.state(
          this.#head("BGP", "STATE", body.peerIp, body.peerAs),
          body.oldState,
          body.newState,
        );
        return;
      case "quiet":
        return;
      case "undecoded":
        this.#warning(body.reason);
        return;
    }
  }

  /** The time field, reused while consecutive records share their timestamp. */
  #timeText(record: MrtRecord): string {
    // Only BGP4MP_ET lines show microseconds, so other types get a key no microsecond value can take.
    const micro = record.type === MrtType.BGP4MP_ET ? record.microseconds : -2;
    if (record.timestamp !== this.#lastTimestamp || micro !== this.#lastMicroseconds) {
      this.#lastTimestamp = record.timestamp;
      this.#lastMicroseconds = micro;
      this.#lastTime = timeText(record);
    }
    return this.#lastTime;
  }

  /** The head of a line of the current record. */
  #head(type: string, entry: LineHead["entry"], peer: string, peerAs: number): LineHead {
    const r = this.#record!;
    return r.type === MrtType.BGP4MP_ET
      ? { type, time: this.#time, timestamp: r.timestamp, microseconds: r.microseconds, entry, peer, peerAs }
      : { type, time: this.#time, timestamp: r.timestamp, entry, peer, peerAs };
  }

  #warning(reason: string): void {
    this.#warn({ offset: this.#offset, reason });
  }

  #message(record: MrtRecord, m: Bgp4mpMessage): void {
    const msg = m.message;
    if (msg.length < BGP_HEADER_LENGTH) {
      this.#warning(`BGP message of ${msg.length} bytes is shorter than its header`);
      return;
    }
    for (let k = 0; k < BGP_MARKER_LENGTH; k++) {
      if (msg[k] !== 0xff) {
        this.#warning("BGP message has a bad marker");
        return;
      }
    }
    if (msg[18] !== BGP_UPDATE) return;
    const size = (msg[16] << 8) | msg[17];
    // A record shorter than the BGP length field is decoded as far as it goes (bgpdump does the same).
    const end = Math.min(msg.length, Math.max(size, BGP_HEADER_LENGTH));
    let type = record.type === MrtType.BGP4MP_ET ? "BGP4MP_ET" : "BGP4MP";
    if (m.local) type += "_LOCAL";
    if (m.addPath) type += "_AP";
    this.#update(type, m.peerIp, m.peerAs, msg, BGP_HEADER_LENGTH, end, m.as4, m.addPath, false);
  }

  /** Lists the routes of the UPDATE body `u[start..n)` (RFC 4271 §4.3), from Withdrawn Routes Length on. */
  #update(
    type: string,
    peer: string,
    peerAs: number,
    u: Uint8Array,
    start: number,
    n: number,
    fourOctetAs: boolean,
    addPath: boolean,
    classicOnly: boolean,
  ): void {
    const withdrawnLength = start + 2 <= n ? (u[start] << 8) | u[start + 1] : 0;
    let i = Math.min(n, start + 2);
    const withdrawnStart = i;
    const withdrawnEnd = Math.min(n, i + withdrawnLength);
    i = withdrawnEnd;
    const attrLength = i + 2 <= n ? (u[i] << 8) | u[i + 1] : 0;
    i = Math.min(n, i + 2);
    const attrEnd = Math.min(n, i + attrLength);
    if (i + attrLength > n) this.#warning("UPDATE path attributes are truncated");
    const attrStart = i;
    const sink = this.#sink;
    let withdrawHead: LineHead | undefined;
    if (withdrawnEnd > withdrawnStart) {
      withdrawHead = this.#head(type, "W", peer, peerAs);
      this.#classic(withdrawHead, u, withdrawnStart, withdrawnEnd, addPath, undefined);
    }
    const attrs = this.#attributes(u, attrStart, attrEnd, contextFor(fourOctetAs, addPath), false);
    const unreach = attrs.mpUnreach;
    if (!classicOnly && unreach && listedFamily(unreach.afi, unreach.safi) && unreach.withdrawn.length > 0) {
      withdrawHead ??= this.#head(type, "W", peer, peerAs);
      const list = unreach.withdrawn;
      for (let k = 0; k < list.length; k++) {
        sink.withdraw(withdrawHead, this.#viewOf(list[k]), addPath ? list[k].pathId : undefined);
      }
    }
    let announceHead: LineHead | undefined;
    if (n > attrEnd) {
      announceHead = this.#head(type, "A", peer, peerAs);
      this.#classic(announceHead, u, attrEnd, n, addPath, routeFields(attrs));
    }
    const reach = attrs.mpReach;
    if (!classicOnly && reach && listedFamily(reach.afi, reach.safi) && reach.nlri.length > 0) {
      announceHead ??= this.#head(type, "A", peer, peerAs);
      // bgpdump prints LOCAL_PREF and MED of IPv4 routes from MP_REACH_NLRI with a signed %d.
      const fields = routeFields(attrs, reach.nextHops[0], reach.afi === 1);
      const list = reach.nlri;
      for (let k = 0; k < list.length; k++) {
        const p = list[k];
        sink.route(announceHead, this.#viewOf(p), addPath ? p.pathId : undefined, fields);
      }
    }
  }

  /**
   * Lists the IPv4 prefixes of a Withdrawn Routes (no `fields`) or NLRI field `u[start..end)` straight
   * from the bytes. A field that does not parse to its end (a length above 32, or a prefix cut off by the
   * end of the field or of a truncated record) keeps the complete prefixes before the fault, as bgpdump
   * does, and is reported.
   */
  #classic(
    head: LineHead,
    u: Uint8Array,
    start: number,
    end: number,
    addPath: boolean,
    fields: RouteFields | undefined,
  ): void {
    const counted = countPrefixRange(u, start, end, 1, addPath);
    if (typeof counted !== "number") {
      if (!counted.ok) this.#warning(`${fields ? "NLRI" : "Withdrawn Routes"}: ${counted.error.reason}`);
      end = wellFormedEnd(u, start, end, addPath);
    }
    const view = this.#view;
    view.afi = 1;
    view.bytes = u;
    const sink = this.#sink;
    for (let at = start; at < end;) {
      let pathId: number | undefined;
      if (addPath) {
        pathId = u32(u, at);
        at += 4;
      }
      view.length = u[at];
      view.offset = at + 1;
      at += 1 + ((u[at] + 7) >> 3);
      if (fields) sink.route(head, view, pathId, fields);
      else sink.withdraw(head, view, pathId);
    }
  }

  #viewOf(p: Prefix): PrefixView {
    const view = this.#view;
    view.afi = p.afi;
    view.length = p.length;
    view.bytes = p.addr;
    view.offset = 0;
    return view;
  }

  #attributes(
    bytes: Uint8Array,
    start: number,
    end: number,
    ctx: DecodeContext,
    mrtRibEntry: boolean,
  ): PathAttributes {
    const { attributes, errors } = decodePathAttributeRange(
      bytes,
      start,
      end,
      ctx,
      mrtRibEntry ? { mrtRibEntry } : undefined,
    );
    for (let k = 0; k < errors.length; k++) this.#warning(errors[k].reason);
    return attributes;
  }

  #rib(r: RibRecord): void {
    const peers = this.#peers;
    if (!peers) {
      this.#warning("RIB record before any PEER_INDEX_TABLE");
      return;
    }
    // RFC 4271 §4.3: bits past the prefix length are irrelevant; the sink prints them as zero.
    const prefix: PrefixView = { afi: r.afi, length: r.prefixLength, bytes: r.prefixBytes, offset: 0 };
    const type = r.addPath ? "TABLE_DUMP2_AP" : "TABLE_DUMP2";
    const ctx = contextFor(true, false);
    for (const e of r.entries) {
      const peer = peers[e.peerIndex];
      if (!peer) {
        this.#warning(`RIB entry refers to peer ${e.peerIndex}, beyond the PEER_INDEX_TABLE`);
        continue;
      }
      const attrs = this.#attributes(e.attributes, 0, e.attributes.length, ctx, true);
      const head = this.#head(type, "B", peer.ip, peer.asn);
      this.#sink.route(head, prefix, e.pathId, routeFields(attrs, ribNextHop(attrs)));
    }
  }

  #tableDump(t: TableDumpRoute): void {
    const attrs = this.#attributes(t.attributes, 0, t.attributes.length, contextFor(false, false), false);
    const prefix: PrefixView = { afi: t.afi, length: t.prefixLength, bytes: t.prefix, offset: 0 };
    const head = this.#head("TABLE_DUMP", "B", t.peerIp, t.peerAs);
    this.#sink.route(head, prefix, undefined, routeFields(attrs, ribNextHop(attrs)));
  }
}

/** RIB lines print an IPv6 MP_REACH_NLRI next hop when there is one, else NEXT_HOP (as bgpdump does). */
function ribNextHop(attrs: PathAttributes): string | undefined {
  const reach = attrs.mpReach;
  if (reach && reach.afi === 2 && reach.nextHops.length > 0) return reach.nextHops[0];
  return undefined;
}

/** The time field: seconds, and for BGP4MP_ET records the microseconds (RFC 6396 §3). */
function timeText(record: MrtRecord): string {
  if (record.type === MrtType.BGP4MP_ET) {
    return record.timestamp + "." + String(record.microseconds).padStart(6, "0");
  }
  return String(record.timestamp);
}
