/**
 * The `bgpdump -m` one-line route format, and its JSON twin.
 *
 * Each route is one line of `|`-separated fields, for example
 * `TABLE_DUMP2|1486801684|B|192.0.2.1|65000|203.0.113.0/24|65000 64496|IGP|192.0.2.1|100|0|65000:1|NAG||`.
 * Field rendering follows Debian's bgpdump 1.6.2: AS paths with `{}` sets and `()`/`[]` confederation
 * segments, `INCOMPLETE` for a missing ORIGIN, 0 for missing LOCAL_PREF/MED, `255.255.255.255` for a missing
 * NEXT_HOP, named well-known communities, `AG`/`NAG`, and the aggregator as "AS address". Where bgpdump
 * is wrong, the standard form is printed instead: RFC 5952 IPv6 text, prefixes with their host bits cleared
 * (RFC 4271 §4.3), a separator before the communities of MRTd BGP lines; tests/mrt/decode_corpus_test.ts
 * lists every difference seen on real data.
 *
 * @module
 */

import { ipv4ToString, ipv6ToString } from "../wire/address.ts";
import type { AsPathSegment, PathAttributes } from "../wire/types.ts";
import { asciiBytes, LineBuffer } from "./line_buffer.ts";

/** What a route line prints besides its prefix: the attributes, and the next hop chosen for the route. */
export interface RouteFields {
  /** The decoded attributes (for a 2-octet session the codec has merged AS4_PATH, RFC 6793 §4.2.3). */
  readonly attributes: PathAttributes;
  /** NEXT_HOP, or the MP_REACH_NLRI next hop for routes carried there. */
  readonly nextHop: string;
  /**
   * bgpdump prints LOCAL_PREF and MED of IPv4 routes from MP_REACH_NLRI with a signed `%d`; values above
   * 2^31-1 then appear negative. Kept so the text matches byte for byte.
   */
  readonly signedPrefMed: boolean;
}

/** The NEXT_HOP text bgpdump prints when a route has none (INADDR_NONE). */
export const NO_NEXT_HOP = "255.255.255.255";

const ORIGIN_TEXT = ["IGP", "EGP", "INCOMPLETE"];

/** Text of an ORIGIN value as bgpdump prints it. */
export function originText(origin: number | undefined): string {
  return origin === 0 || origin === 1 ? ORIGIN_TEXT[origin] : "INCOMPLETE";
}

/**
 * Renders AS path segments: sequences space-separated, `{a,b}` for AS_SET, `(a b)` for AS_CONFED_SEQUENCE,
 * `[a,b]` for AS_CONFED_SET (RFC 5065), segments separated by one space.
 *
 * @example
 * ```ts
 * asPathText([{ type: 2, asns: [65000, 64496] }, { type: 1, asns: [1, 2] }]); // "65000 64496 {1,2}"
 * ```
 */
export function asPathText(segments: readonly AsPathSegment[]): string {
  let out = "";
  let space = false;
  for (let s = 0; s < segments.length; s++) {
    const seg = segments[s];
    if (space) out += " ";
    const asns = seg.asns;
    switch (seg.type) {
      case 2:
        out += asns.join(" ");
        break;
      case 1:
        out += "{" + asns.join(",") + "}";
        break;
      case 3:
        out += "(" + asns.join(" ") + ")";
        break;
      default:
        out += "[" + asns.join(",") + "]";
        break;
    }
    // bgpdump puts no separator after an empty segment.
    space = asns.length > 0;
  }
  return out;
}

/** RFC 1997 well-known communities 0xFFFFFF01-03 by the names bgpdump prints. */
const WELL_KNOWN = ["no-export", "no-advertise", "local-AS"];

/** Community text: the RFC 1997 well-known values by name, others as "high:low". */
export function communityText(communities: readonly number[]): string {
  let out = "";
  for (let i = 0; i < communities.length; i++) {
    const c = communities[i] >>> 0;
    if (i > 0) out += " ";
    if (c >= 0xffffff01 && c <= 0xffffff03) out += WELL_KNOWN[c - 0xffffff01];
    else out += (c >>> 16) + ":" + (c & 0xffff);
  }
  return out;
}

/**
 * The fields of a route line. `nextHop` overrides the NEXT_HOP attribute (routes from MP_REACH_NLRI print
 * its next hop); a route without either prints bgpdump's INADDR_NONE.
 */
export function routeFields(
  attributes: PathAttributes,
  nextHop?: string,
  signedPrefMed = false,
): RouteFields {
  return { attributes, nextHop: nextHop ?? attributes.nextHop ?? NO_NEXT_HOP, signedPrefMed };
}

/** The aggregator bgpdump prints: none when absent or when its address is INADDR_NONE. */
function printedAggregator(attrs: PathAttributes): { asn: number; address: string } | undefined {
  const a = attrs.aggregator;
  // bgpdump marks "no aggregator" with INADDR_NONE, so an aggregator of 255.255.255.255 is not printed.
  return a !== undefined && a.address !== NO_NEXT_HOP ? a : undefined;
}

/**
 * The fields a line starts with, shared by the lines of one record: `TYPE|time|ENTRY|peer|peerAS|`.
 * `type` is "BGP4MP", "TABLE_DUMP2_AP", ...; `entry` is A (announced), B (RIB), W (withdrawn) or STATE.
 */
export interface LineHead {
  readonly type: string;
  /** The time field as printed: seconds, or "seconds.micro" for BGP4MP_ET. */
  readonly time: string;
  /** Seconds since the Unix epoch (RFC 6396 §2). */
  readonly timestamp: number;
  /** The microseconds of BGP4MP_ET records (RFC 6396 §3). */
  readonly microseconds?: number;
  readonly entry: "A" | "B" | "W" | "STATE";
  readonly peer: string;
  readonly peerAs: number;
}

/** Receives routes in output order. */
export interface RouteSink {
  /** A BGP FSM state change: `TYPE|time|STATE|peer|peerAS|old|new`. */
  state(head: LineHead, oldState: number, newState: number): void;
  /** A withdrawn prefix: `TYPE|time|W|peer|peerAS|prefix[|pathId]`. */
  withdraw(head: LineHead, prefix: PrefixView, pathId?: number): void;
  /** An announced (`A`) or RIB (`B`) route with its attribute fields. */
  route(head: LineHead, prefix: PrefixView, pathId: number | undefined, fields: RouteFields): void;
}

/**
 * A prefix as printed: `length` bits of address starting at `bytes[offset]` (only the first
 * `ceil(length / 8)` bytes are read; bits past `length` print as zero, RFC 4271 §4.3). Lets the lister
 * hand over prefixes straight from the NLRI bytes, reusing one view object.
 */
export interface PrefixView {
  afi: number;
  length: number;
  bytes: Uint8Array;
  offset: number;
}

/** The full address of a prefix view (4 or 16 bytes, host bits cleared) into `out`. */
export function prefixAddress(
  p: PrefixView,
  out: Uint8Array = new Uint8Array(p.afi === 1 ? 4 : 16),
): Uint8Array {
  const size = p.afi === 1 ? 4 : 16;
  const nb = Math.min(size, (p.length + 7) >> 3);
  for (let k = 0; k < size; k++) out[k] = k < nb ? p.bytes[p.offset + k] : 0;
  if (p.length & 7 && nb > 0) out[nb - 1] &= (0xff00 >> (p.length & 7)) & 0xff;
  return out;
}

/** Text of a prefix: "203.0.113.0/24", "2001:db8::/32". */
export function prefixText(p: PrefixView): string {
  const addr = prefixAddress(p);
  return (p.afi === 1 ? ipv4ToString(addr) : ipv6ToString(addr)) + "/" + p.length;
}

function signed(n: number, asSigned: boolean): number {
  return asSigned ? n | 0 : n;
}

const PIPE = 0x7c;
const SPACE = 0x20;
const COMMA = 0x2c;
const COLON = 0x3a;
const NEWLINE = 0x0a;
const SLASH = 0x2f;

const ORIGIN_BYTES = ORIGIN_TEXT.map(asciiBytes);
const NAG = asciiBytes("|NAG|");
const AG = asciiBytes("|AG|");

/**
 * Writes `bgpdump -m` lines into a {@linkcode LineBuffer}, number by number, without building strings.
 */
export class BgpdumpTextSink implements RouteSink {
  #out: LineBuffer;
  /** The rendered head of the previous line, reused while the next lines share it. */
  #head = new LineBuffer(undefined, 256);
  #lastHead: LineHead | undefined;
  /** Everything after the prefix (and path identifier) of the previous route line. */
  #tail = new LineBuffer(undefined, 1024);
  #tailFields: RouteFields | undefined;
  #tailType = "";
  #newline = new LineBuffer(undefined, 1);
  #v4 = new Uint8Array(4);
  #v6 = new Uint8Array(16);

  constructor(out: LineBuffer) {
    this.#out = out;
    this.#newline.byte(NEWLINE);
  }

  state(head: LineHead, oldState: number, newState: number): void {
    const out = this.#out;
    out.append(this.#header(head));
    out.uint(oldState);
    out.byte(PIPE);
    out.uint(newState);
    out.byte(NEWLINE);
  }

  /** The bytes of `TYPE|time|ENTRY|peer|peerAS|`, rendered again only for a new head. */
  #header(head: LineHead): LineBuffer {
    const h = this.#head;
    if (head !== this.#lastHead) {
      this.#lastHead = head;
      h.reset();
      h.ascii(head.type);
      h.byte(PIPE);
      h.ascii(head.time);
      h.byte(PIPE);
      h.ascii(head.entry);
      h.byte(PIPE);
      h.ascii(head.peer);
      h.byte(PIPE);
      h.uint(head.peerAs);
      h.byte(PIPE);
    }
    return h;
  }

  #prefix(p: PrefixView, pathId: number | undefined): void {
    const out = this.#out;
    const addr = prefixAddress(p, p.afi === 1 ? this.#v4 : this.#v6);
    if (p.afi === 1) out.ipv4(addr);
    else out.ipv6(addr);
    out.byte(SLASH);
    out.uint(p.length);
    if (pathId !== undefined) {
      out.byte(PIPE);
      out.uint(pathId);
    }
  }

  withdraw(head: LineHead, prefix: PrefixView, pathId?: number): void {
    this.#line(head, prefix, pathId, this.#newline);
  }

  route(head: LineHead, prefix: PrefixView, pathId: number | undefined, fields: RouteFields): void {
    if (fields !== this.#tailFields || head.type !== this.#tailType) {
      this.#tailFields = fields;
      this.#tailType = head.type;
      this.#tail.reset();
      renderTail(this.#tail, head.type, fields);
    }
    this.#line(head, prefix, pathId, this.#tail);
  }

  #line(head: LineHead, prefix: PrefixView, pathId: number | undefined, tail: LineBuffer): void {
    const h = this.#header(head);
    if (prefix.afi === 1) {
      this.#out.ipv4Line(h, prefix.bytes, prefix.offset, prefix.length, pathId ?? -1, tail);
      return;
    }
    this.#out.append(h);
    this.#prefix(prefix, pathId);
    this.#out.append(tail);
  }
}

/** Writes the part of a route line after the prefix: `|ASPATH|ORIGIN|NEXTHOP|LP|MED|COMM|AG|AGGR|\n`. */
function renderTail(out: LineBuffer, type: string, fields: RouteFields): void {
  const a = fields.attributes;
  out.byte(PIPE);
  if (a.asPath) renderAsPath(out, a.asPath);
  out.byte(PIPE);
  out.bytes(ORIGIN_BYTES[a.origin === 0 || a.origin === 1 ? a.origin : 2]);
  out.byte(PIPE);
  out.ascii(fields.nextHop);
  out.byte(PIPE);
  renderPrefMed(out, a.localPref ?? 0, fields.signedPrefMed);
  out.byte(PIPE);
  renderPrefMed(out, a.med ?? 0, fields.signedPrefMed);
  const communities = a.communities;
  // bgpdump omits the COMMUNITY field of deprecated MRTd "BGP" lines when there are no communities
  // (when there are, it glues them to the MED; a separator is kept here instead).
  if (communities !== undefined || type !== "BGP") out.byte(PIPE);
  if (communities !== undefined) renderCommunities(out, communities);
  out.bytes(a.atomicAggregate ? AG : NAG);
  const aggregator = printedAggregator(a);
  if (aggregator) {
    out.uint(aggregator.asn);
    out.byte(SPACE);
    out.ascii(aggregator.address);
  }
  out.byte(PIPE);
  out.byte(NEWLINE);
}

function renderPrefMed(out: LineBuffer, value: number, signedPrefMed: boolean): void {
  if (signedPrefMed && value > 0x7fffffff) out.ascii(String(value | 0));
  else out.uint(value);
}

/** The AS path as {@linkcode asPathText} renders it. */
function renderAsPath(out: LineBuffer, segments: readonly AsPathSegment[]): void {
  let space = false;
  for (let s = 0; s < segments.length; s++) {
    const seg = segments[s];
    if (space) out.byte(SPACE);
    const asns = seg.asns;
    const type = seg.type;
    const sep = type === 1 || type === 4 ? COMMA : SPACE;
    if (type !== 2) out.byte(type === 1 ? 0x7b : type === 3 ? 0x28 : 0x5b);
    for (let k = 0; k < asns.length; k++) {
      if (k) out.byte(sep);
      out.uint(asns[k]);
    }
    if (type !== 2) out.byte(type === 1 ? 0x7d : type === 3 ? 0x29 : 0x5d);
    space = asns.length > 0;
  }
}

/** Communities as {@linkcode communityText} renders them. */
function renderCommunities(out: LineBuffer, list: readonly number[]): void {
  for (let i = 0; i < list.length; i++) {
    const c = list[i] >>> 0;
    if (i) out.byte(SPACE);
    if (c >= 0xffffff01 && c <= 0xffffff03) out.ascii(WELL_KNOWN[c - 0xffffff01]);
    else {
      out.uint(c >>> 16);
      out.byte(COLON);
      out.uint(c & 0xffff);
    }
  }
}

/** The fields every JSON line starts with. `microseconds` is present for BGP4MP_ET records only. */
export interface JsonHead<E extends LineHead["entry"] = LineHead["entry"]> {
  type: string;
  timestamp: number;
  microseconds?: number;
  entry: E;
  peer: string;
  peerAs: number;
}

/** The head fields in the order of the `-m` line. */
function jsonHead<E extends LineHead["entry"]>(head: LineHead, entry: E): JsonHead<E> {
  const { type, timestamp, microseconds, peer, peerAs } = head;
  return microseconds === undefined
    ? { type, timestamp, entry, peer, peerAs }
    : { type, timestamp, microseconds, entry, peer, peerAs };
}

/** One route line as a typed JSON object (the fields of the `-m` line, named). */
export type RouteJson =
  | JsonHead<"STATE"> & { oldState: number; newState: number }
  | JsonHead<"W"> & { prefix: string; pathId?: number }
  | JsonHead<"A" | "B"> & {
    prefix: string;
    pathId?: number;
    asPath: string;
    origin: string;
    nextHop: string;
    localPref: number;
    med: number;
    communities: string[];
    atomicAggregate: boolean;
    aggregator: { asn: number; address: string } | null;
  };

/** Emits one JSON object per line (JSON Lines), same routes and order as {@linkcode BgpdumpTextSink}. */
export class JsonLinesSink implements RouteSink {
  #out: LineBuffer;

  constructor(out: LineBuffer) {
    this.#out = out;
  }

  #line(value: RouteJson): void {
    // Every field is ASCII (addresses, numbers, fixed words), so JSON.stringify output is too.
    this.#out.ascii(JSON.stringify(value) + "\n");
  }

  state(head: LineHead, oldState: number, newState: number): void {
    this.#line({ ...jsonHead(head, "STATE"), oldState, newState });
  }

  withdraw(head: LineHead, prefix: PrefixView, pathId?: number): void {
    const prefixField = prefixText(prefix);
    this.#line(
      pathId === undefined
        ? { ...jsonHead(head, "W"), prefix: prefixField }
        : { ...jsonHead(head, "W"), prefix: prefixField, pathId },
    );
  }

  route(head: LineHead, prefix: PrefixView, pathId: number | undefined, f: RouteFields): void {
    const a = f.attributes;
    const aggregator = printedAggregator(a);
    this.#line({
      ...jsonHead(head, head.entry === "B" ? "B" : "A"),
      prefix: prefixText(prefix),
      ...(pathId === undefined ? {} : { pathId }),
      asPath: a.asPath ? asPathText(a.asPath) : "",
      origin: originText(a.origin),
      nextHop: f.nextHop,
      localPref: signed(a.localPref ?? 0, f.signedPrefMed),
      med: signed(a.med ?? 0, f.signedPrefMed),
      communities: a.communities ? communityText(a.communities).split(" ") : [],
      atomicAggregate: a.atomicAggregate === true,
      aggregator: aggregator ? { asn: aggregator.asn, address: aggregator.address } : null,
    });
  }
}
