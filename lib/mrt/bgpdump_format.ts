/**
 * The `bgpdump -m` one-line route format, and its JSON twin.
 *
 * Each route is one line of `|`-separated fields, for example
 * `TABLE_DUMP2|1486801684|B|192.0.2.1|65000|203.0.113.0/24|65000 64496|IGP|192.0.2.1|100|0|65000:1|NAG||`.
 * Field rendering follows Debian's bgpdump 1.6.2: AS paths with `{}` sets and `()`/`[]` confederation
 * segments, `INCOMPLETE` for a missing ORIGIN, 0 for missing LOCAL_PREF/MED, `255.255.255.255` for a missing
 * NEXT_HOP, named well-known communities, `AG`/`NAG`, and the aggregator as "AS address".
 *
 * @module
 */

import type { AsPathSegment, PathAttributes } from "../wire/types.ts";

/** The attribute-derived fields of a route line, rendered once per UPDATE or RIB entry. */
export interface RouteFields {
  /** AS path text ("" when absent); the codec has already merged AS4_PATH for 2-octet sessions. */
  readonly asPath: string;
  /** "IGP", "EGP" or "INCOMPLETE" (also for a missing or unknown ORIGIN, as bgpdump prints it). */
  readonly origin: string;
  readonly nextHop: string;
  readonly localPref: number;
  readonly med: number;
  /** Communities as printed: "65000:1 no-export"; "" when absent. */
  readonly communities: string;
  readonly atomicAggregate: boolean;
  /** "AS address" of the (merged) aggregator, or "" when absent. */
  readonly aggregator: string;
  /** Parsed aggregator for JSON, undefined when absent. */
  readonly aggregatorAsn?: number;
  readonly aggregatorAddress?: string;
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

/** Community text: the RFC 1997 well-known values by name, others as "high:low". */
export function communityText(communities: readonly number[]): string {
  let out = "";
  for (let i = 0; i < communities.length; i++) {
    const c = communities[i] >>> 0;
    if (i > 0) out += " ";
    if (c === 0xffffff01) out += "no-export";
    else if (c === 0xffffff02) out += "no-advertise";
    else if (c === 0xffffff03) out += "local-AS";
    else out += (c >>> 16) + ":" + (c & 0xffff);
  }
  return out;
}

/**
 * Derives the printed fields from decoded attributes (for a 2-octet session the codec has already merged
 * AS4_PATH and AS4_AGGREGATOR, RFC 6793 §4.2.3). `nextHop` overrides the NEXT_HOP attribute: routes from
 * MP_REACH_NLRI print its next hop.
 */
export function routeFields(attrs: PathAttributes, nextHop?: string, signedPrefMed = false): RouteFields {
  const aggregator = attrs.aggregator;
  // bgpdump marks "no aggregator" with INADDR_NONE, so an aggregator of 255.255.255.255 is not printed.
  const hasAggregator = aggregator !== undefined && aggregator.address !== NO_NEXT_HOP;
  return {
    asPath: attrs.asPath ? asPathText(attrs.asPath) : "",
    origin: originText(attrs.origin),
    nextHop: nextHop ?? attrs.nextHop ?? NO_NEXT_HOP,
    localPref: attrs.localPref ?? 0,
    med: attrs.med ?? 0,
    communities: attrs.communities ? communityText(attrs.communities) : "",
    atomicAggregate: attrs.atomicAggregate === true,
    aggregator: hasAggregator ? aggregator.asn + " " + aggregator.address : "",
    aggregatorAsn: hasAggregator ? aggregator.asn : undefined,
    aggregatorAddress: hasAggregator ? aggregator.address : undefined,
    signedPrefMed,
  };
}

/** Receives routes in output order. `type` is the first field ("BGP4MP", "TABLE_DUMP2_AP", ...). */
export interface RouteSink {
  /** A BGP FSM state change: `TYPE|time|STATE|peer|peerAS|old|new`. */
  state(type: string, time: string, peer: string, peerAs: number, oldState: number, newState: number): void;
  /** A withdrawn prefix: `TYPE|time|W|peer|peerAS|prefix[|pathId]`. */
  withdraw(type: string, time: string, peer: string, peerAs: number, prefix: string, pathId?: number): void;
  /** An announced (`A`) or RIB (`B`) route with its attribute fields. */
  route(
    type: string,
    time: string,
    entry: "A" | "B",
    peer: string,
    peerAs: number,
    prefix: string,
    pathId: number | undefined,
    fields: RouteFields,
  ): void;
}

function signed(n: number, asSigned: boolean): number {
  return asSigned ? n | 0 : n;
}

/**
 * Builds `bgpdump -m` text into a caller-provided line consumer. The attribute part of a line is rendered
 * once per {@linkcode RouteFields} object and reused for every prefix that shares it.
 */
export class BgpdumpTextSink implements RouteSink {
  #emit: (text: string) => void;
  #lastFields: RouteFields | undefined;
  #lastTail = "";
  #lastType = "";

  /** @param emit receives each line including its trailing newline. */
  constructor(emit: (text: string) => void) {
    this.#emit = emit;
  }

  state(type: string, time: string, peer: string, peerAs: number, oldState: number, newState: number): void {
    this.#emit(type + "|" + time + "|STATE|" + peer + "|" + peerAs + "|" + oldState + "|" + newState + "\n");
  }

  withdraw(type: string, time: string, peer: string, peerAs: number, prefix: string, pathId?: number): void {
    this.#emit(
      type + "|" + time + "|W|" + peer + "|" + peerAs + "|" + prefix +
        (pathId === undefined ? "\n" : "|" + pathId + "\n"),
    );
  }

  route(
    type: string,
    time: string,
    entry: "A" | "B",
    peer: string,
    peerAs: number,
    prefix: string,
    pathId: number | undefined,
    fields: RouteFields,
  ): void {
    if (fields !== this.#lastFields || type !== this.#lastType) {
      this.#lastFields = fields;
      this.#lastType = type;
      // bgpdump omits the COMMUNITY field of deprecated MRTd "BGP" lines when there are no communities
      // (when there are, it glues them to the MED; a separator is kept here instead).
      const communities = type === "BGP" && fields.communities === "" ? "" : "|" + fields.communities;
      this.#lastTail = fields.asPath + "|" + fields.origin + "|" + fields.nextHop + "|" +
        signed(fields.localPref, fields.signedPrefMed) + "|" + signed(fields.med, fields.signedPrefMed) +
        communities + "|" + (fields.atomicAggregate ? "AG" : "NAG") + "|" + fields.aggregator + "|\n";
    }
    this.#emit(
      type + "|" + time + "|" + entry + "|" + peer + "|" + peerAs + "|" + prefix + "|" +
        (pathId === undefined ? "" : pathId + "|") + this.#lastTail,
    );
  }
}

/** One route line as a typed JSON object (the fields of the `-m` line, named). */
export type RouteJson =
  | {
    type: string;
    timestamp: string;
    entry: "STATE";
    peer: string;
    peerAs: number;
    oldState: number;
    newState: number;
  }
  | {
    type: string;
    timestamp: string;
    entry: "W";
    peer: string;
    peerAs: number;
    prefix: string;
    pathId?: number;
  }
  | {
    type: string;
    timestamp: string;
    entry: "A" | "B";
    peer: string;
    peerAs: number;
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
  #emit: (text: string) => void;

  /** @param emit receives each JSON line including its trailing newline. */
  constructor(emit: (text: string) => void) {
    this.#emit = emit;
  }

  #line(value: RouteJson): void {
    this.#emit(JSON.stringify(value) + "\n");
  }

  state(type: string, time: string, peer: string, peerAs: number, oldState: number, newState: number): void {
    this.#line({ type, timestamp: time, entry: "STATE", peer, peerAs, oldState, newState });
  }

  withdraw(type: string, time: string, peer: string, peerAs: number, prefix: string, pathId?: number): void {
    this.#line(
      pathId === undefined
        ? { type, timestamp: time, entry: "W", peer, peerAs, prefix }
        : { type, timestamp: time, entry: "W", peer, peerAs, prefix, pathId },
    );
  }

  route(
    type: string,
    time: string,
    entry: "A" | "B",
    peer: string,
    peerAs: number,
    prefix: string,
    pathId: number | undefined,
    f: RouteFields,
  ): void {
    const base = { type, timestamp: time, entry, peer, peerAs, prefix };
    this.#line({
      ...base,
      ...(pathId === undefined ? {} : { pathId }),
      asPath: f.asPath,
      origin: f.origin,
      nextHop: f.nextHop,
      localPref: signed(f.localPref, f.signedPrefMed),
      med: signed(f.med, f.signedPrefMed),
      communities: f.communities === "" ? [] : f.communities.split(" "),
      atomicAggregate: f.atomicAggregate,
      aggregator: f.aggregatorAsn === undefined
        ? null
        : { asn: f.aggregatorAsn, address: f.aggregatorAddress! },
    });
  }
}
