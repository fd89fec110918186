/**
 * The desired prefix set and each peer's Adj-RIB-Out: what the peer holds, and the minimum changes that
 * bring it to the desired state.
 *
 * Pure (no I/O, no clock). Built for a million prefixes: a prefix is one compact key (a number for IPv4,
 * a short string for IPv6), the desired set is stored once per speaker and shared by every peer, and a
 * peer stores only the keys it holds plus the keys that changed since its last send. Changes are read
 * from the current desired set when they are taken, so a prefix added and removed before the next send
 * produces nothing, and the peer only ever sees the latest state.
 *
 * @example
 * ```ts
 * import { AdjRibOut, DesiredSet } from "./adj_rib_out.ts";
 * const desired = new DesiredSet();
 * desired.replace(["203.0.113.0/24"]);
 * const rib = new AdjRibOut({ internal: false, localAsn: 65001, nextHopV4: "10.99.0.1", ipv4: true, ipv6: false });
 * rib.startFullSync(desired);
 * const changes = rib.take(desired, 10_000);
 * // changes.announce[0].nlri holds 203.0.113.0/24 with AS_PATH [65001] and NEXT_HOP 10.99.0.1
 * ```
 *
 * @module
 */

import { parsePrefix, prefixToString } from "../wire/nlri.ts";
import type { Afi, PathAttributes, Prefix } from "../wire/types.ts";
import { Origin, SegmentType } from "../wire/types.ts";

/** An IPv4 prefix key: address · 64 + length (exact in a double, 2^38 at most). */
export type Ipv4Key = number;
/** An IPv6 prefix key: 32 hex digits of the address, then the length in hex. */
export type Ipv6Key = string;

/** The key of an IPv4 prefix. */
export function ipv4Key(addr: Uint8Array, length: number): Ipv4Key {
  return ((addr[0] << 24 | addr[1] << 16 | addr[2] << 8 | addr[3]) >>> 0) * 64 + length;
}

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/** The key of an IPv6 prefix. */
export function ipv6Key(addr: Uint8Array, length: number): Ipv6Key {
  let s = "";
  // Host bits are zero: only the bytes covered by the length need to be spelled out.
  const n = (length + 7) >> 3;
  for (let i = 0; i < n; i++) s += HEX[addr[i]];
  return s + "/" + length.toString(16);
}

/** The prefix of an IPv4 key. */
export function ipv4FromKey(key: Ipv4Key): Prefix {
  const length = key % 64;
  const a = (key - length) / 64;
  return { afi: 1, length, addr: new Uint8Array([a >>> 24, (a >>> 16) & 255, (a >>> 8) & 255, a & 255]) };
}

/** The prefix of an IPv6 key. */
export function ipv6FromKey(key: Ipv6Key): Prefix {
  const slash = key.indexOf("/");
  const addr = new Uint8Array(16);
  for (let i = 0; i < slash; i += 2) addr[i >> 1] = parseInt(key.slice(i, i + 2), 16);
  return { afi: 2, length: parseInt(key.slice(slash + 1), 16), addr };
}

/** Parses "a.b.c.d/len" without allocating, or returns undefined to fall back to the general parser. */
function fastIpv4Key(text: string): Ipv4Key | undefined {
  let addr = 0;
  let octet = -1;
  let dots = 0;
  let i = 0;
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      octet = octet < 0 ? c - 48 : octet * 10 + c - 48;
      if (octet > 255) return undefined;
    } else if (c === 46 && octet >= 0 && dots < 3) {
      addr = addr * 256 + octet;
      octet = -1;
      dots++;
    } else if (c === 47 && octet >= 0 && dots === 3) {
      addr = addr * 256 + octet;
      break;
    } else return undefined;
  }
  const lenText = text.slice(i + 1);
  if (!/^(0|[1-9][0-9]?)$/.test(lenText)) return undefined;
  const length = +lenText;
  if (length > 32) return undefined;
  const mask = length === 0 ? 0 : (0xffffffff << (32 - length)) >>> 0;
  return ((addr & mask) >>> 0) * 64 + length;
}

/** What changed in a {@linkcode DesiredSet}: the keys of each family added or removed. */
export interface DesiredDelta {
  readonly v4: readonly Ipv4Key[];
  readonly v6: readonly Ipv6Key[];
  /** Inputs that are not valid prefixes (ignored). */
  readonly invalid: readonly string[];
}

/** The prefixes the speaker wants every peer to hold; one per speaker, shared by all peers. */
export class DesiredSet {
  #v4 = new Set<Ipv4Key>();
  #v6 = new Set<Ipv6Key>();

  /** Number of IPv4 prefixes. */
  get sizeV4(): number {
    return this.#v4.size;
  }

  /** Number of IPv6 prefixes. */
  get sizeV6(): number {
    return this.#v6.size;
  }

  /** Whether the IPv4 key is desired. */
  hasV4(key: Ipv4Key): boolean {
    return this.#v4.has(key);
  }

  /** Whether the IPv6 key is desired. */
  hasV6(key: Ipv6Key): boolean {
    return this.#v6.has(key);
  }

  /** The IPv4 keys, live: an iteration sees additions made while it runs. */
  keysV4(): IterableIterator<Ipv4Key> {
    return this.#v4.values();
  }

  /** The IPv6 keys, live. */
  keysV6(): IterableIterator<Ipv6Key> {
    return this.#v6.values();
  }

  /** The desired prefixes as canonical text, IPv4 first (for status and tests; allocates). */
  toStrings(): string[] {
    const out: string[] = [];
    for (const k of this.#v4) out.push(prefixToString(ipv4FromKey(k)));
    for (const k of this.#v6) out.push(prefixToString(ipv6FromKey(k)));
    return out;
  }

  /**
   * Replaces the whole set and returns the keys that changed (added or removed). Accepts CIDR text
   * (host bits are cleared) or {@linkcode Prefix} values.
   */
  replace(prefixes: Iterable<string | Prefix>): DesiredDelta {
    const v4 = new Set<Ipv4Key>();
    const v6 = new Set<Ipv6Key>();
    const invalid: string[] = [];
    for (const p of prefixes) {
      if (typeof p === "string") {
        const fast = fastIpv4Key(p);
        if (fast !== undefined) {
          v4.add(fast);
          continue;
        }
        const parsed = parsePrefix(p);
        if (parsed === undefined) invalid.push(p);
        else if (parsed.afi === 1) v4.add(ipv4Key(parsed.addr, parsed.length));
        else v6.add(ipv6Key(parsed.addr, parsed.length));
      } else if (p.afi === 1 && p.addr.length === 4 && p.length <= 32) {
        v4.add(ipv4Key(p.addr, p.length));
      } else if (p.afi === 2 && p.addr.length === 16 && p.length <= 128) {
        v6.add(ipv6Key(p.addr, p.length));
      } else {
        invalid.push(String(p.length));
      }
    }
    const d4: Ipv4Key[] = [];
    const d6: Ipv6Key[] = [];
    for (const k of v4) if (!this.#v4.has(k)) d4.push(k);
    for (const k of this.#v4) if (!v4.has(k)) d4.push(k);
    for (const k of v6) if (!this.#v6.has(k)) d6.push(k);
    for (const k of this.#v6) if (!v6.has(k)) d6.push(k);
    this.#v4 = v4;
    this.#v6 = v6;
    return { v4: d4, v6: d6, invalid };
  }
}

/** How a session announces routes: per peer, re-read on every reconnect. */
export interface PeerRouteContext {
  /** iBGP: empty AS_PATH and LOCAL_PREF 100; eBGP: AS_PATH [localAsn]. */
  readonly internal: boolean;
  readonly localAsn: number;
  /** Send IPv4 unicast prefixes (the family was negotiated). */
  readonly ipv4: boolean;
  /** Send IPv6 unicast prefixes (the family was negotiated). */
  readonly ipv6: boolean;
  /** The IPv4 next hop (this session's local IPv4 address, or the node IP replacing the pod IP). */
  readonly nextHopV4?: string;
  /** The IPv6 next hop, used for IPv6 prefixes and for IPv4 ones with extended next hop. */
  readonly nextHopV6?: string;
  /** RFC 8950 negotiated: IPv4 prefixes go in MP_REACH_NLRI with the IPv6 next hop when no IPv4 one. */
  readonly extendedNextHop?: boolean;
}

/** The changes of one family: keys to announce (all with `attributes`) and keys to withdraw. */
export interface FamilyChanges<K> {
  readonly attributes: PathAttributes;
  readonly announce: K[];
  readonly withdraw: K[];
}

/**
 * One batch of changes for a peer. IPv4 keys travel in the UPDATE's NLRI and Withdrawn Routes fields
 * unless `v4Mp` (extended next hop, RFC 8950), where they go in MP_REACH_NLRI.
 */
export interface RibChanges {
  readonly v4?: FamilyChanges<Ipv4Key>;
  readonly v4Mp: boolean;
  readonly v6?: FamilyChanges<Ipv6Key>;
  /** Number of prefixes in this batch. */
  readonly count: number;
  /** True when the initial table has been fully taken (End-of-RIB may follow). */
  readonly fullSyncDone: boolean;
}

/** Prefixes sharing attributes, as the packer takes them. */
export interface PrefixGroup {
  readonly attributes: PathAttributes;
  readonly nlri: Prefix[];
}

/** Prefixes to withdraw in one family, as the packer takes them. */
export interface PrefixWithdrawal {
  readonly afi: Afi;
  readonly safi: number;
  readonly withdrawn: Prefix[];
}

/** Expands a batch into prefix values for the general packer (allocates one object per prefix). */
export function changesAsPrefixes(c: RibChanges): { groups: PrefixGroup[]; withdrawals: PrefixWithdrawal[] } {
  const groups: PrefixGroup[] = [];
  const withdrawals: PrefixWithdrawal[] = [];
  if (c.v4 && c.v4.withdraw.length > 0) {
    withdrawals.push({ afi: 1, safi: 1, withdrawn: c.v4.withdraw.map(ipv4FromKey) });
  }
  if (c.v6 && c.v6.withdraw.length > 0) {
    withdrawals.push({ afi: 2, safi: 1, withdrawn: c.v6.withdraw.map(ipv6FromKey) });
  }
  if (c.v4 && c.v4.announce.length > 0) {
    groups.push({ attributes: c.v4.attributes, nlri: c.v4.announce.map(ipv4FromKey) });
  }
  if (c.v6 && c.v6.announce.length > 0) {
    groups.push({ attributes: c.v6.attributes, nlri: c.v6.announce.map(ipv6FromKey) });
  }
  return { groups, withdrawals };
}

/** How IPv4 prefixes travel on a session, or not at all. */
type V4Mode = "nexthop" | "mp" | "none";

/** Builds the attributes of the routes sent to a peer (RFC 4271 §5.1, RFC 4760, RFC 8950). */
export function routeAttributes(ctx: PeerRouteContext, afi: Afi): PathAttributes | undefined {
  const common: PathAttributes = {
    origin: Origin.IGP,
    // RFC 4271 §5.1.2: eBGP prepends our AS; iBGP sends an empty AS_PATH.
    asPath: ctx.internal ? [] : [{ type: SegmentType.AS_SEQUENCE, asns: [ctx.localAsn] }],
  };
  // RFC 4271 §5.1.5: LOCAL_PREF is sent to internal peers only.
  if (ctx.internal) common.localPref = 100;
  if (afi === 1) {
    const mode = v4Mode(ctx);
    if (mode === "nexthop") return { ...common, nextHop: ctx.nextHopV4 };
    if (mode === "mp") {
      return { ...common, mpReach: { afi: 1, safi: 1, nextHops: [ctx.nextHopV6!], nlri: [] } };
    }
    return undefined;
  }
  if (!ctx.ipv6 || !ctx.nextHopV6) return undefined;
  return { ...common, mpReach: { afi: 2, safi: 1, nextHops: [ctx.nextHopV6], nlri: [] } };
}

function v4Mode(ctx: PeerRouteContext): V4Mode {
  if (!ctx.ipv4) return "none";
  if (ctx.nextHopV4) return "nexthop";
  if (ctx.extendedNextHop && ctx.nextHopV6) return "mp";
  return "none";
}

/**
 * One peer's Adj-RIB-Out: the keys the peer holds and the keys that may have changed since.
 */
export class AdjRibOut {
  #ctx: PeerRouteContext;
  #sent4 = new Set<Ipv4Key>();
  #sent6 = new Set<Ipv6Key>();
  #dirty4 = new Set<Ipv4Key>();
  #dirty6 = new Set<Ipv6Key>();
  #full4: Iterator<Ipv4Key> | undefined;
  #full6: Iterator<Ipv6Key> | undefined;
  #attrs4: PathAttributes | undefined;
  #attrs6: PathAttributes | undefined;
  #v4mode: V4Mode;

  /** Creates an empty Adj-RIB-Out for a session with the given context. */
  constructor(ctx: PeerRouteContext) {
    this.#ctx = ctx;
    this.#attrs4 = routeAttributes(ctx, 1);
    this.#attrs6 = routeAttributes(ctx, 2);
    this.#v4mode = v4Mode(ctx);
  }

  /** The session's context. */
  get context(): PeerRouteContext {
    return this.#ctx;
  }

  /** Number of IPv4 prefixes the peer holds from us. */
  get sentV4(): number {
    return this.#sent4.size;
  }

  /** Number of IPv6 prefixes the peer holds from us. */
  get sentV6(): number {
    return this.#sent6.size;
  }

  /** Whether any change is waiting. */
  get pending(): boolean {
    return this.#full4 !== undefined || this.#full6 !== undefined || this.#dirty4.size > 0 ||
      this.#dirty6.size > 0;
  }

  /** Whether the peer holds this IPv4 key. */
  holdsV4(key: Ipv4Key): boolean {
    return this.#sent4.has(key);
  }

  /**
   * Starts a new session: the peer holds nothing, and the whole desired set is to be sent.
   * Also used by ROUTE-REFRESH (RFC 2918), which resends everything.
   */
  startFullSync(desired: DesiredSet): void {
    this.#sent4.clear();
    this.#sent6.clear();
    this.#dirty4.clear();
    this.#dirty6.clear();
    this.#full4 = this.#attrs4 ? desired.keysV4() : undefined;
    this.#full6 = this.#attrs6 ? desired.keysV6() : undefined;
  }

  /** Records that these keys of the desired set changed; they are compared when taken. */
  noteChanged(delta: DesiredDelta): void {
    if (this.#attrs4) { for (const k of delta.v4) this.#dirty4.add(k); }
    if (this.#attrs6) { for (const k of delta.v6) this.#dirty6.add(k); }
  }

  /**
   * Takes up to about `limit` prefix changes (the initial table first, then later changes) and marks
   * them as held by the peer. Prefixes with identical attributes share a group.
   */
  take(desired: DesiredSet, limit: number): RibChanges {
    const ann4: Ipv4Key[] = [];
    const ann6: Ipv6Key[] = [];
    const wd4: Ipv4Key[] = [];
    const wd6: Ipv6Key[] = [];
    let count = 0;
    if (this.#full4) {
      while (count < limit) {
        const r = this.#full4.next();
        if (r.done) {
          this.#full4 = undefined;
          break;
        }
        if (!this.#sent4.has(r.value) && desired.hasV4(r.value)) {
          this.#sent4.add(r.value);
          ann4.push(r.value);
          count++;
        }
      }
    }
    if (this.#full6) {
      while (count < limit) {
        const r = this.#full6.next();
        if (r.done) {
          this.#full6 = undefined;
          break;
        }
        if (!this.#sent6.has(r.value) && desired.hasV6(r.value)) {
          this.#sent6.add(r.value);
          ann6.push(r.value);
          count++;
        }
      }
    }
    for (const k of this.#dirty4) {
      if (count >= limit) break;
      this.#dirty4.delete(k);
      const want = desired.hasV4(k);
      const have = this.#sent4.has(k);
      if (want && !have) {
        this.#sent4.add(k);
        ann4.push(k);
        count++;
      } else if (!want && have) {
        this.#sent4.delete(k);
        wd4.push(k);
        count++;
      }
    }
    for (const k of this.#dirty6) {
      if (count >= limit) break;
      this.#dirty6.delete(k);
      const want = desired.hasV6(k);
      const have = this.#sent6.has(k);
      if (want && !have) {
        this.#sent6.add(k);
        ann6.push(k);
        count++;
      } else if (!want && have) {
        this.#sent6.delete(k);
        wd6.push(k);
        count++;
      }
    }
    const a4 = this.#attrs4;
    const a6 = this.#attrs6;
    return {
      v4: a4 && ann4.length + wd4.length > 0 ? { attributes: a4, announce: ann4, withdraw: wd4 } : undefined,
      v4Mp: this.#v4mode === "mp",
      v6: a6 && ann6.length + wd6.length > 0 ? { attributes: a6, announce: ann6, withdraw: wd6 } : undefined,
      count,
      fullSyncDone: this.#full4 === undefined && this.#full6 === undefined,
    };
  }
}
