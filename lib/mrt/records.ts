/**
 * MRT record bodies (RFC 6396 §4, RFC 8050), decoded into plain values. Pure: no I/O.
 *
 * Only the MRT layer is decoded here. BGP messages and path attributes stay as bytes (views into the
 * record) for the wire codec; addresses are kept as text because every consumer prints them.
 *
 * @module
 */

import { ipv4ToString, ipv6ToString } from "../wire/address.ts";
import { MrtType } from "./reader.ts";
import type { MrtRecord } from "./reader.ts";

/** BGP4MP / BGP4MP_ET subtypes (RFC 6396 §4.4, RFC 8050 §3; ENTRY and SNAPSHOT are pre-RFC Zebra types). */
export const Bgp4mpSubtype = {
  STATE_CHANGE: 0,
  MESSAGE: 1,
  ENTRY: 2,
  SNAPSHOT: 3,
  MESSAGE_AS4: 4,
  STATE_CHANGE_AS4: 5,
  MESSAGE_LOCAL: 6,
  MESSAGE_AS4_LOCAL: 7,
  MESSAGE_ADDPATH: 8,
  MESSAGE_AS4_ADDPATH: 9,
  MESSAGE_LOCAL_ADDPATH: 10,
  MESSAGE_AS4_LOCAL_ADDPATH: 11,
} as const;

/** TABLE_DUMP_V2 subtypes (RFC 6396 §4.3, RFC 8050 §4). */
export const TableDumpV2Subtype = {
  PEER_INDEX_TABLE: 1,
  RIB_IPV4_UNICAST: 2,
  RIB_IPV4_MULTICAST: 3,
  RIB_IPV6_UNICAST: 4,
  RIB_IPV6_MULTICAST: 5,
  RIB_GENERIC: 6,
  RIB_IPV4_UNICAST_ADDPATH: 8,
  RIB_IPV4_MULTICAST_ADDPATH: 9,
  RIB_IPV6_UNICAST_ADDPATH: 10,
  RIB_IPV6_MULTICAST_ADDPATH: 11,
  RIB_GENERIC_ADDPATH: 12,
} as const;

/** Subtypes of the deprecated MRTd BGP record type 5 (RFC 6396 Appendix B.2.1). */
export const LegacyBgpSubtype = {
  NULL: 0,
  UPDATE: 1,
  PREF_UPDATE: 2,
  STATE_CHANGE: 3,
  SYNC: 4,
  OPEN: 5,
  NOTIFY: 6,
  KEEPALIVE: 7,
} as const;

/** A peer and local end of a BGP4MP record. Addresses are text ("192.0.2.1", "2001:db8::1"). */
export interface Bgp4mpPeers {
  readonly peerAs: number;
  readonly localAs: number;
  readonly interfaceIndex: number;
  /** Address family of the addresses: 1 IPv4, 2 IPv6. */
  readonly afi: number;
  readonly peerIp: string;
  readonly localIp: string;
}

/** BGP4MP_STATE_CHANGE(_AS4) (RFC 6396 §4.4.1, §4.4.4). */
export interface Bgp4mpStateChange extends Bgp4mpPeers {
  readonly kind: "bgp4mp-state";
  readonly oldState: number;
  readonly newState: number;
}

/** BGP4MP_MESSAGE and its AS4 / LOCAL / ADDPATH variants (RFC 6396 §4.4.2-§4.4.6, RFC 8050 §3). */
export interface Bgp4mpMessage extends Bgp4mpPeers {
  readonly kind: "bgp4mp-message";
  readonly as4: boolean;
  /** The message was sent by the local speaker (the *_LOCAL subtypes). */
  readonly local: boolean;
  /** NLRI carry RFC 7911 path identifiers (the *_ADDPATH subtypes). */
  readonly addPath: boolean;
  /** The complete BGP message, from its marker on. */
  readonly message: Uint8Array;
}

/** One peer of a PEER_INDEX_TABLE (RFC 6396 §4.3.1). */
export interface IndexedPeer {
  readonly afi: 1 | 2;
  readonly bgpId: string;
  readonly ip: string;
  readonly asn: number;
}

/** TABLE_DUMP_V2 PEER_INDEX_TABLE (RFC 6396 §4.3.1). */
export interface PeerIndexTable {
  readonly kind: "peer-index-table";
  readonly collectorId: string;
  readonly viewName: string;
  readonly peers: readonly IndexedPeer[];
}

/** One RIB entry (RFC 6396 §4.3.4); `attributes` is the raw path attribute block. */
export interface RibEntry {
  readonly peerIndex: number;
  readonly originatedTime: number;
  /** RFC 8050 §4: present in the *_ADDPATH subtypes. */
  readonly pathId?: number;
  readonly attributes: Uint8Array;
}

/** A TABLE_DUMP_V2 RIB record for one prefix (RFC 6396 §4.3.2, §4.3.3, RFC 8050 §4). */
export interface RibRecord {
  readonly kind: "rib";
  readonly subtype: number;
  readonly afi: number;
  readonly safi: number;
  readonly sequence: number;
  readonly addPath: boolean;
  /** The prefix: its length and the raw NLRI bytes of the address (for RIB_GENERIC, the whole NLRI). */
  readonly prefixLength: number;
  readonly prefixBytes: Uint8Array;
  readonly entries: readonly RibEntry[];
}

/** Legacy TABLE_DUMP (RFC 6396 §4.2): one route of one peer. */
export interface TableDumpRoute {
  readonly kind: "table-dump";
  readonly afi: 1 | 2;
  readonly view: number;
  readonly sequence: number;
  /** The prefix address as stored (4 or 16 bytes). */
  readonly prefix: Uint8Array;
  readonly prefixLength: number;
  readonly status: number;
  readonly originatedTime: number;
  readonly peerIp: string;
  readonly peerAs: number;
  readonly attributes: Uint8Array;
}

/** Deprecated MRTd BGP record (type 5) carrying an UPDATE body (RFC 6396 Appendix B.2.1). */
export interface LegacyBgpUpdate {
  readonly kind: "legacy-update";
  readonly peerAs: number;
  readonly peerIp: string;
  readonly localAs: number;
  readonly localIp: string;
  /** The UPDATE message without its 19-byte header (withdrawn routes length onwards). */
  readonly update: Uint8Array;
}

/** Deprecated MRTd BGP STATE_CHANGE record (type 5 subtype 3). */
export interface LegacyBgpStateChange {
  readonly kind: "legacy-state";
  readonly peerAs: number;
  readonly peerIp: string;
  readonly oldState: number;
  readonly newState: number;
}

/** A record that carries no route (e.g. a KEEPALIVE of a type 5 record). */
export interface QuietRecord {
  readonly kind: "quiet";
}

/** A record that could not be decoded; `reason` says why. Never thrown. */
export interface UndecodedRecord {
  readonly kind: "undecoded";
  readonly reason: string;
}

/** Any decoded MRT record body. */
export type MrtBody =
  | Bgp4mpStateChange
  | Bgp4mpMessage
  | PeerIndexTable
  | RibRecord
  | TableDumpRoute
  | LegacyBgpUpdate
  | LegacyBgpStateChange
  | QuietRecord
  | UndecodedRecord;

const QUIET: QuietRecord = { kind: "quiet" };

function undecoded(reason: string): UndecodedRecord {
  return { kind: "undecoded", reason };
}

/**
 * Text of IPv4 addresses seen so far: a dump names the same few hundred peers again and again, so their
 * text is built once. Cleared when it grows large, which keeps it bounded on any input.
 */
const ipv4Texts = new Map<number, string>();

function ipv4Text(b: Uint8Array, i: number): string {
  const key = ((b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]) >>> 0;
  let text = ipv4Texts.get(key);
  if (text === undefined) {
    if (ipv4Texts.size >= 65536) ipv4Texts.clear();
    text = ipv4ToString(b, i);
    ipv4Texts.set(key, text);
  }
  return text;
}

/** IPv6 counterpart of the IPv4 text cache, keyed by a hash of the four 32-bit words. */
const ipv6Texts = new Map<number, { w0: number; w1: number; w2: number; w3: number; text: string }>();

function ipv6Text(b: Uint8Array, i: number): string {
  const w0 = u32(b, i), w1 = u32(b, i + 4), w2 = u32(b, i + 8), w3 = u32(b, i + 12);
  const key = (Math.imul(Math.imul(Math.imul(w0, 31) ^ w1, 31) ^ w2, 31) ^ w3) | 0;
  const hit = ipv6Texts.get(key);
  if (hit !== undefined && hit.w0 === w0 && hit.w1 === w1 && hit.w2 === w2 && hit.w3 === w3) return hit.text;
  if (ipv6Texts.size >= 16384) ipv6Texts.clear();
  const text = ipv6ToString(b, i);
  ipv6Texts.set(key, { w0, w1, w2, w3, text });
  return text;
}

function u16(b: Uint8Array, i: number): number {
  return (b[i] << 8) | b[i + 1];
}

function u32(b: Uint8Array, i: number): number {
  return ((b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]) >>> 0;
}

/** Decodes the body of a record of any supported type. */
export function decodeMrtBody(record: MrtRecord): MrtBody {
  switch (record.type) {
    case MrtType.BGP4MP:
    case MrtType.BGP4MP_ET:
      return decodeBgp4mp(record.subtype, record.body);
    case MrtType.TABLE_DUMP_V2:
      return decodeTableDumpV2(record.subtype, record.body);
    case MrtType.TABLE_DUMP:
      return decodeTableDump(record.subtype, record.body);
    case MrtType.BGP:
      return decodeLegacyBgp(record.subtype, record.body);
    default:
      return undecoded(`Unsupported MRT type ${record.type} subtype ${record.subtype}`);
  }
}

/** Decodes a BGP4MP or BGP4MP_ET body (RFC 6396 §4.4, RFC 8050 §3). */
export function decodeBgp4mp(subtype: number, body: Uint8Array): MrtBody {
  switch (subtype) {
    case Bgp4mpSubtype.STATE_CHANGE:
      return decodeStateChange(body, false);
    case Bgp4mpSubtype.STATE_CHANGE_AS4:
      return decodeStateChange(body, true);
    case Bgp4mpSubtype.MESSAGE:
    case Bgp4mpSubtype.MESSAGE_AS4:
    case Bgp4mpSubtype.MESSAGE_LOCAL:
    case Bgp4mpSubtype.MESSAGE_AS4_LOCAL:
    case Bgp4mpSubtype.MESSAGE_ADDPATH:
    case Bgp4mpSubtype.MESSAGE_AS4_ADDPATH:
    case Bgp4mpSubtype.MESSAGE_LOCAL_ADDPATH:
    case Bgp4mpSubtype.MESSAGE_AS4_LOCAL_ADDPATH:
      return decodeMessage(subtype, body);
    case Bgp4mpSubtype.ENTRY:
      return undecoded("BGP4MP_ENTRY (deprecated Zebra RIB entry) is not supported");
    case Bgp4mpSubtype.SNAPSHOT:
      return undecoded("BGP4MP_SNAPSHOT (deprecated Zebra snapshot) is not supported");
    default:
      return undecoded(`Unknown BGP4MP subtype ${subtype}`);
  }
}

/**
 * The fields every BGP4MP record starts with (RFC 6396 §4.4.1, §4.4.2): peer AS, local AS, interface
 * index and address family; `at` is where the peer address starts, `addrLen` 4, 16, or 0 for an unknown
 * family. Undefined when the body is too short for them.
 */
function bgp4mpHead(body: Uint8Array, as4: boolean) {
  const asLen = as4 ? 4 : 2;
  if (body.length < 2 * asLen + 4) return undefined;
  const afi = u16(body, 2 * asLen + 2);
  return {
    peerAs: as4 ? u32(body, 0) : u16(body, 0),
    localAs: as4 ? u32(body, asLen) : u16(body, asLen),
    interfaceIndex: u16(body, 2 * asLen),
    afi,
    addrLen: afi === 1 ? 4 : afi === 2 ? 16 : 0,
    at: 2 * asLen + 4,
  };
}

function addressText(b: Uint8Array, at: number, len: number): string {
  return len === 4 ? ipv4Text(b, at) : ipv6Text(b, at);
}

function decodeStateChange(body: Uint8Array, as4: boolean): MrtBody {
  const n = body.length;
  // Historical Zebra wrote 8-byte state changes: two 2-byte ASNs and the two states, no addresses.
  if (n === 8) {
    return {
      kind: "bgp4mp-state",
      peerAs: u16(body, 0),
      localAs: u16(body, 2),
      interfaceIndex: 0,
      afi: 1,
      peerIp: "0.0.0.0",
      localIp: "0.0.0.0",
      oldState: u16(body, 4),
      newState: u16(body, 6),
    };
  }
  const h = bgp4mpHead(body, as4);
  if (!h) return undecoded(`BGP4MP state change of ${n} bytes is too short`);
  if (h.addrLen === 0) return undecoded(`BGP4MP state change with unknown AFI ${h.afi}`);
  // RFC 6396 §4.4.1: the record is exactly the fixed fields, two addresses and two 2-byte states.
  const i = h.at + 2 * h.addrLen;
  if (n !== i + 4) return undecoded(`BGP4MP state change has bad length ${n}`);
  return {
    kind: "bgp4mp-state",
    peerAs: h.peerAs,
    localAs: h.localAs,
    interfaceIndex: h.interfaceIndex,
    afi: h.afi,
    peerIp: addressText(body, h.at, h.addrLen),
    localIp: addressText(body, h.at + h.addrLen, h.addrLen),
    oldState: u16(body, i),
    newState: u16(body, i + 2),
  };
}

function decodeMessage(subtype: number, body: Uint8Array): MrtBody {
  const as4 = subtype === Bgp4mpSubtype.MESSAGE_AS4 || subtype === Bgp4mpSubtype.MESSAGE_AS4_LOCAL ||
    subtype === Bgp4mpSubtype.MESSAGE_AS4_ADDPATH || subtype === Bgp4mpSubtype.MESSAGE_AS4_LOCAL_ADDPATH;
  const local = subtype === Bgp4mpSubtype.MESSAGE_LOCAL || subtype === Bgp4mpSubtype.MESSAGE_AS4_LOCAL ||
    subtype === Bgp4mpSubtype.MESSAGE_LOCAL_ADDPATH || subtype === Bgp4mpSubtype.MESSAGE_AS4_LOCAL_ADDPATH;
  const addPath = subtype >= Bgp4mpSubtype.MESSAGE_ADDPATH;
  const h = bgp4mpHead(body, as4);
  if (!h) return undecoded(`BGP4MP message record of ${body.length} bytes is too short`);
  if (h.afi === 0xffff && h.interfaceIndex === 0xffff) {
    // Zebra wrote OPENs without interface, addresses and the first 4 marker bytes; they carry no route.
    return QUIET;
  }
  if (h.addrLen === 0) return undecoded(`BGP4MP message with unsupported AFI ${h.afi}`);
  const i = h.at + 2 * h.addrLen;
  if (body.length < i) return undecoded("BGP4MP message record too short for its addresses");
  return {
    kind: "bgp4mp-message",
    peerAs: h.peerAs,
    localAs: h.localAs,
    interfaceIndex: h.interfaceIndex,
    afi: h.afi,
    peerIp: addressText(body, h.at, h.addrLen),
    localIp: addressText(body, h.at + h.addrLen, h.addrLen),
    as4,
    local,
    addPath,
    message: body.subarray(i),
  };
}

/**
 * Decodes a TABLE_DUMP_V2 body. RIB records refer to peers by index; resolve them with the most recent
 * {@linkcode PeerIndexTable} of the same file.
 */
export function decodeTableDumpV2(subtype: number, body: Uint8Array): MrtBody {
  switch (subtype) {
    case TableDumpV2Subtype.PEER_INDEX_TABLE:
      return decodePeerIndexTable(body);
    case TableDumpV2Subtype.RIB_IPV4_UNICAST:
    case TableDumpV2Subtype.RIB_IPV4_MULTICAST:
    case TableDumpV2Subtype.RIB_IPV4_UNICAST_ADDPATH:
    case TableDumpV2Subtype.RIB_IPV4_MULTICAST_ADDPATH:
      return decodeRib(subtype, body, 1, subtype === 2 || subtype === 8 ? 1 : 2);
    case TableDumpV2Subtype.RIB_IPV6_UNICAST:
    case TableDumpV2Subtype.RIB_IPV6_MULTICAST:
    case TableDumpV2Subtype.RIB_IPV6_UNICAST_ADDPATH:
    case TableDumpV2Subtype.RIB_IPV6_MULTICAST_ADDPATH:
      return decodeRib(subtype, body, 2, subtype === 4 || subtype === 10 ? 1 : 2);
    case TableDumpV2Subtype.RIB_GENERIC:
    case TableDumpV2Subtype.RIB_GENERIC_ADDPATH:
      return decodeRib(subtype, body, 0, 0);
    default:
      return undecoded(`Unknown TABLE_DUMP_V2 subtype ${subtype}`);
  }
}

function decodePeerIndexTable(body: Uint8Array): MrtBody {
  const n = body.length;
  if (n < 8) return undecoded("PEER_INDEX_TABLE too short");
  const collectorId = ipv4Text(body, 0);
  const nameLen = u16(body, 4);
  let i = 6 + nameLen;
  if (i + 2 > n) return undecoded("PEER_INDEX_TABLE view name runs past the end");
  const viewName = new TextDecoder().decode(body.subarray(6, 6 + nameLen));
  const count = u16(body, i);
  i += 2;
  const peers: IndexedPeer[] = [];
  for (let p = 0; p < count; p++) {
    if (i + 1 > n) return undecoded(`PEER_INDEX_TABLE ends after ${p} of ${count} peers`);
    // RFC 6396 §4.3.1: bit 0 of the peer type is "IPv6 address", bit 1 is "4-octet AS number".
    const peerType = body[i];
    const v6 = (peerType & 1) !== 0;
    const as4 = (peerType & 2) !== 0;
    const size = 1 + 4 + (v6 ? 16 : 4) + (as4 ? 4 : 2);
    if (i + size > n) return undecoded(`PEER_INDEX_TABLE ends inside peer ${p}`);
    const bgpId = ipv4Text(body, i + 1);
    const ip = v6 ? ipv6Text(body, i + 5) : ipv4Text(body, i + 5);
    const asAt = i + 5 + (v6 ? 16 : 4);
    const asn = as4 ? u32(body, asAt) : u16(body, asAt);
    peers.push({ afi: v6 ? 2 : 1, bgpId, ip, asn });
    i += size;
  }
  return { kind: "peer-index-table", collectorId, viewName, peers };
}

function decodeRib(subtype: number, body: Uint8Array, afi: number, safi: number): MrtBody {
  const addPath = subtype >= TableDumpV2Subtype.RIB_IPV4_UNICAST_ADDPATH;
  const n = body.length;
  if (n < 5) return undecoded("RIB record too short");
  const sequence = u32(body, 0);
  let i = 4;
  let prefixLength: number;
  let prefixBytes: Uint8Array;
  if (afi === 0) {
    // RFC 6396 §4.3.3 RIB_GENERIC: AFI, SAFI and one NLRI in the family's own encoding. Only plain
    // IPv4/IPv6 prefixes are understood; other families are kept as opaque bytes.
    if (n < 8) return undecoded("RIB_GENERIC record too short");
    afi = u16(body, 4);
    safi = body[6];
    i = 7;
    if ((afi === 1 || afi === 2) && (safi === 1 || safi === 2)) {
      prefixLength = body[i];
      if (prefixLength > (afi === 1 ? 32 : 128)) {
        return undecoded(`RIB prefix length ${prefixLength} too long`);
      }
      const nb = (prefixLength + 7) >> 3;
      prefixBytes = body.subarray(i + 1, i + 1 + nb);
      i += 1 + nb;
    } else {
      return undecoded(`RIB_GENERIC for AFI ${afi} SAFI ${safi} is not supported`);
    }
  } else {
    prefixLength = body[i];
    const nb = (prefixLength + 7) >> 3;
    if (prefixLength > (afi === 1 ? 32 : 128)) return undecoded(`RIB prefix length ${prefixLength} too long`);
    prefixBytes = body.subarray(i + 1, i + 1 + nb);
    i += 1 + nb;
  }
  if (i + 2 > n) return undecoded("RIB record ends inside its prefix");
  const count = u16(body, i);
  i += 2;
  const entries: RibEntry[] = new Array(count);
  for (let e = 0; e < count; e++) {
    const fixed = addPath ? 12 : 8;
    if (i + fixed > n) return undecoded(`RIB record ends after ${e} of ${count} entries`);
    const peerIndex = u16(body, i);
    const originatedTime = u32(body, i + 2);
    let pathId: number | undefined;
    if (addPath) {
      pathId = u32(body, i + 6);
      i += 4;
    }
    const attrLen = u16(body, i + 6);
    i += 8;
    if (i + attrLen > n) return undecoded(`RIB entry ${e} attributes run past the end`);
    const attributes = body.subarray(i, i + attrLen);
    i += attrLen;
    entries[e] = pathId === undefined
      ? { peerIndex, originatedTime, attributes }
      : { peerIndex, originatedTime, pathId, attributes };
  }
  return { kind: "rib", subtype, afi, safi, sequence, addPath, prefixLength, prefixBytes, entries };
}

/** Decodes a legacy TABLE_DUMP body (RFC 6396 §4.2); subtype is the AFI. */
export function decodeTableDump(subtype: number, body: Uint8Array): MrtBody {
  if (subtype !== 1 && subtype !== 2) return undecoded(`TABLE_DUMP with unknown AFI ${subtype}`);
  const addrLen = subtype === 1 ? 4 : 16;
  const n = body.length;
  // view(2) seq(2) prefix mask(1) status(1) time(4) peer-ip peer-as(2) attr-len(2)
  if (n < 4 + addrLen + 6 + addrLen + 4) return undecoded("TABLE_DUMP record too short");
  const view = u16(body, 0);
  const sequence = u16(body, 2);
  let i = 4;
  const prefix = body.subarray(i, i + addrLen);
  i += addrLen;
  const prefixLength = body[i];
  const status = body[i + 1];
  const originatedTime = u32(body, i + 2);
  i += 6;
  const peerIp = subtype === 1 ? ipv4Text(body, i) : ipv6Text(body, i);
  i += addrLen;
  const peerAs = u16(body, i);
  const attrLen = u16(body, i + 2);
  i += 4;
  const attributes = body.subarray(i, Math.min(n, i + attrLen));
  return {
    kind: "table-dump",
    afi: subtype,
    view,
    sequence,
    prefix,
    prefixLength,
    status,
    originatedTime,
    peerIp,
    peerAs,
    attributes,
  };
}

/** Decodes a deprecated MRTd BGP (type 5) body (RFC 6396 Appendix B.2.1). */
export function decodeLegacyBgp(subtype: number, body: Uint8Array): MrtBody {
  switch (subtype) {
    case LegacyBgpSubtype.UPDATE:
      if (body.length < 12) return undecoded("BGP UPDATE record too short");
      return {
        kind: "legacy-update",
        peerAs: u16(body, 0),
        peerIp: ipv4Text(body, 2),
        localAs: u16(body, 6),
        localIp: ipv4Text(body, 8),
        update: body.subarray(12),
      };
    case LegacyBgpSubtype.STATE_CHANGE:
      if (body.length < 10) return undecoded("BGP STATE_CHANGE record too short");
      return {
        kind: "legacy-state",
        peerAs: u16(body, 0),
        peerIp: ipv4Text(body, 2),
        oldState: u16(body, 6),
        newState: u16(body, 8),
      };
    case LegacyBgpSubtype.KEEPALIVE:
    case LegacyBgpSubtype.OPEN:
    case LegacyBgpSubtype.NOTIFY:
    case LegacyBgpSubtype.SYNC:
    case LegacyBgpSubtype.NULL:
    case LegacyBgpSubtype.PREF_UPDATE:
      return QUIET;
    default:
      return undecoded(`Unknown BGP (type 5) subtype ${subtype}`);
  }
}
