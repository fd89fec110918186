/**
 * The desired prefix set and each peer's Adj-RIB-Out: what the peer holds, and the minimum changes that
 * bring it to the desired state.
 *
 * Pure (no I/O, no clock). Built for a million prefixes: a prefix is one compact key (a number for IPv4,
 * a short string for IPv6), the desired set is stored once per speaker and shared by every peer, and a
 * peer stores only the keys it holds (IPv4: a sorted array, 8 octets per prefix). Changes are computed
 * against the current desired set when they are taken, so a prefix added and removed before the next send
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
 * // changes.v4.announce holds the key of 203.0.113.0/24, changes.v4.attributes AS_PATH [65001] and
 * // NEXT_HOP 10.99.0.1
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
  const n = text.length;
  for (; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      // No leading zeros ("010" is ambiguous): leave those to the general parser.
      if (octet === 0) return undefined;
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
  // The length: 1 or 2 digits, no leading zero, at most 32.
  const digits = n - i - 1;
  if (digits < 1 || digits > 2) return undefined;
  const d0 = text.charCodeAt(i + 1) - 48;
  if (d0 < 0 || d0 > 9 || (digits === 2 && d0 === 0)) return undefined;
  let length = d0;
  if (digits === 2) {
    const d1 = text.charCodeAt(i + 2) - 48;
    if (d1 < 0 || d1 > 9) return undefined;
    length = d0 * 10 + d1;
  }
  if (length > 32) return undefined;
  const mask = length === 0 ? 0 : (0xffffffff << (32 - length)) >>> 0;
  return ((addr & mask) >>> 0) * 64 + length;
}

/** What changed in a {@linkcode DesiredSet}: the keys of each family added or removed. */
export interface DesiredDelta {
  /** IPv4 keys added or removed. */
  readonly v4: readonly Ipv4Key[];
  /** IPv6 keys added or removed. */
  readonly v6: readonly Ipv6Key[];
  /** Inputs that are not valid prefixes (ignored). */
  readonly invalid: readonly string[];
}

/** Sorts keys in place and drops duplicates; returns the unique prefix of the array. */
function sortUnique(keys: Float64Array): Float64Array {
  keys.sort();
  let n = 0;
  for (let i = 0; i < keys.length; i++) if (n === 0 || keys[i] !== keys[n - 1]) keys[n++] = keys[i];
  return keys.subarray(0, n);
}

/** Index of the first key greater than `key` in a sorted array (binary search). */
function upperBound(keys: Float64Array, key: number): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid] <= key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** A growable array of IPv4 keys. */
class KeyBuffer {
  #keys = new Float64Array(1024);
  #n = 0;

  push(k: number): void {
    if (this.#n === this.#keys.length) {
      const bigger = new Float64Array(this.#keys.length * 2);
      bigger.set(this.#keys);
      this.#keys = bigger;
    }
    this.#keys[this.#n++] = k;
  }

  /** The keys pushed so far (a view). */
  view(): Float64Array {
    return this.#keys.subarray(0, this.#n);
  }
}

/**
 * The prefixes the speaker wants every peer to hold; one per speaker, shared by all peers. IPv4 keys are
 * a sorted Float64Array (8 octets per prefix: a million prefixes take 8 MB and compare by merging);
 * IPv6 keys a Set.
 */
export class DesiredSet {
  #v4: Float64Array = new Float64Array(0);
  #v6 = new Set<Ipv6Key>();

  /** Number of IPv4 prefixes. */
  get sizeV4(): number {
    return this.#v4.length;
  }

  /** Number of IPv6 prefixes. */
  get sizeV6(): number {
    return this.#v6.size;
  }

  /** The IPv4 keys in ascending order. Replaced (never modified) by {@linkcode DesiredSet.replace}. */
  get sortedV4(): Float64Array {
    return this.#v4;
  }

  /** Whether the IPv4 key is desired. */
  hasV4(key: Ipv4Key): boolean {
    const i = upperBound(this.#v4, key) - 1;
    return i >= 0 && this.#v4[i] === key;
  }

  /** Whether the IPv6 key is desired. */
  hasV6(key: Ipv6Key): boolean {
    return this.#v6.has(key);
  }

  /** The IPv6 keys, live: an iteration sees additions made while it runs. */
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
    const { v4, v6, invalid } = parseKeys(prefixes);
    // Copy out of the growable buffer so the set holds exactly its keys.
    const next = sortUnique(v4.view()).slice();
    const d4: Ipv4Key[] = [];
    const old = this.#v4;
    let i = 0;
    let j = 0;
    while (i < next.length || j < old.length) {
      if (j >= old.length || (i < next.length && next[i] < old[j])) d4.push(next[i++]);
      else if (i >= next.length || old[j] < next[i]) d4.push(old[j++]);
      else {
        i++;
        j++;
      }
    }
    const set6 = new Set(v6);
    const d6: Ipv6Key[] = [];
    for (const k of set6) if (!this.#v6.has(k)) d6.push(k);
    for (const k of this.#v6) if (!set6.has(k)) d6.push(k);
    this.#v4 = next;
    this.#v6 = set6;
    return { v4: d4, v6: d6, invalid };
  }

  /**
   * Adds and removes prefixes and returns the keys that changed; costs what the change costs (no parsing
   * of the whole set), so a feed of small changes stays cheap at a million prefixes.
   */
  apply(added: Iterable<string | Prefix>, removed: Iterable<string | Prefix>): DesiredDelta {
    const add = parseKeys(added);
    const remove = parseKeys(removed);
    const plus = sortUnique(add.v4.view());
    const minus = sortUnique(remove.v4.view());
    const d4: Ipv4Key[] = [];
    if (plus.length + minus.length > 0) {
      // One merge of the sorted old keys with the sorted additions, dropping the removals.
      const old = this.#v4;
      const next = new Float64Array(old.length + plus.length);
      let n = 0;
      let i = 0; // old
      let a = 0; // plus
      let r = 0; // minus
      while (i < old.length || a < plus.length) {
        let key: number;
        let held = false;
        if (a >= plus.length || (i < old.length && old[i] <= plus[a])) {
          key = old[i++];
          held = true;
          if (a < plus.length && plus[a] === key) a++; // already desired
        } else {
          key = plus[a++];
        }
        while (r < minus.length && minus[r] < key) r++;
        if (r < minus.length && minus[r] === key) {
          if (held) d4.push(key);
        } else {
          next[n++] = key;
          if (!held) d4.push(key);
        }
      }
      // The array is replaced, never modified (sortedV4's contract).
      this.#v4 = next.slice(0, n);
    }
    const d6: Ipv6Key[] = [];
    for (const k of remove.v6) if (this.#v6.delete(k)) d6.push(k);
    for (const k of add.v6) {
      if (!this.#v6.has(k)) {
        this.#v6.add(k);
        d6.push(k);
      }
    }
    return { v4: d4, v6: d6, invalid: [...add.invalid, ...remove.invalid] };
  }
}

/** Parses CIDR text or {@linkcode Prefix} values into keys of each family. */
function parseKeys(prefixes: Iterable<string | Prefix>): { v4: KeyBuffer; v6: Ipv6Key[]; invalid: string[] } {
  const v4 = new KeyBuffer();
  const v6: Ipv6Key[] = [];
  const invalid: string[] = [];
  for (const p of prefixes) {
    if (typeof p === "string") {
      const fast = fastIpv4Key(p);
      if (fast !== undefined) {
        v4.push(fast);
        continue;
      }
      const parsed = parsePrefix(p);
      if (parsed === undefined) invalid.push(p);
      else if (parsed.afi === 1) v4.push(ipv4Key(parsed.addr, parsed.length));
      else v6.push(ipv6Key(parsed.addr, parsed.length));
    } else if (p.afi === 1 && p.addr.length === 4 && p.length <= 32) {
      v4.push(ipv4Key(p.addr, p.length));
    } else if (p.afi === 2 && p.addr.length === 16 && p.length <= 128) {
      v6.push(ipv6Key(p.addr, p.length));
    } else {
      invalid.push(String(p.length));
    }
  }
  return { v4, v6, invalid };
}

/** How a session announces routes: per peer, re-read on every reconnect. */
export interface PeerRouteContext {
  /** iBGP: empty AS_PATH and LOCAL_PREF 100; eBGP: AS_PATH [localAsn]. */
  readonly internal: boolean;
  /** Our AS, prepended on eBGP. */
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
  /** The attributes of every announced prefix. */
  readonly attributes: PathAttributes;
  /** Keys to announce, ascending for IPv4. */
  readonly announce: K[];
  /** Keys to withdraw. */
  readonly withdraw: K[];
}

/**
 * One batch of changes for a peer. IPv4 keys travel in the UPDATE's NLRI and Withdrawn Routes fields
 * unless `v4Mp` (extended next hop, RFC 8950), where they go in MP_REACH_NLRI.
 */
export interface RibChanges {
  /** IPv4 changes, if any. */
  readonly v4?: FamilyChanges<Ipv4Key>;
  /** IPv4 prefixes go in MP_REACH_NLRI with an IPv6 next hop (RFC 8950). */
  readonly v4Mp: boolean;
  /** IPv6 changes, if any. */
  readonly v6?: FamilyChanges<Ipv6Key>;
  /** Number of prefixes in this batch. */
  readonly count: number;
  /** True when the initial table has been fully taken (End-of-RIB may follow). */
  readonly fullSyncDone: boolean;
}

/** Prefixes sharing attributes, as the packer takes them. */
export interface PrefixGroup {
  /** The shared attributes. */
  readonly attributes: PathAttributes;
  /** The prefixes. */
  readonly nlri: Prefix[];
}

/** Prefixes to withdraw in one family, as the packer takes them. */
export interface PrefixWithdrawal {
  /** Address family. */
  readonly afi: Afi;
  /** Subsequent address family (1, unicast). */
  readonly safi: number;
  /** The prefixes. */
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
 * One peer's Adj-RIB-Out: the prefixes the peer holds from us, and the walk that finds what it lacks or
 * must lose.
 *
 * IPv4: the held keys are a sorted array, and a pass merges it with the desired keys in ascending order,
 * a batch at a time (the initial table is simply a pass against nothing held). A change of the desired set
 * while a pass runs schedules another pass, which compares against what the first one sent; so the peer
 * always converges on the latest desired set. IPv6 keeps a Set of held keys and a Set of changed keys.
 */
export class AdjRibOut {
  #ctx: PeerRouteContext;
  // IPv4 walk state.
  #held4: Float64Array = new Float64Array(0);
  #heldCount4 = 0;
  #next4: KeyBuffer | undefined;
  #cursor4 = -1;
  #heldIndex4 = 0;
  #needPass4 = false;
  // IPv6.
  #sent6 = new Set<Ipv6Key>();
  #dirty6 = new Set<Ipv6Key>();
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
    return this.#heldCount4;
  }

  /** Number of IPv6 prefixes the peer holds from us. */
  get sentV6(): number {
    return this.#sent6.size;
  }

  /** Whether any change is waiting. */
  get pending(): boolean {
    return this.#next4 !== undefined || this.#needPass4 || this.#full6 !== undefined || this.#dirty6.size > 0;
  }

  /** Whether the peer holds `prefix` from us (CIDR text or a prefix value). */
  holds(prefix: string | Prefix): boolean {
    const p = typeof prefix === "string" ? parsePrefix(prefix) : prefix;
    if (p === undefined) return false;
    if (p.afi === 2) return this.#sent6.has(ipv6Key(p.addr, p.length));
    const key = ipv4Key(p.addr, p.length);
    // During a pass, keys up to the cursor are in the new held list, the rest still in the old one.
    const keys = this.#next4 !== undefined && key <= this.#cursor4 ? this.#next4.view() : this.#held4;
    const i = upperBound(keys, key) - 1;
    return i >= 0 && keys[i] === key;
  }

  /**
   * Starts a new session: the peer holds nothing, and the whole desired set is to be sent.
   * Also used by ROUTE-REFRESH (RFC 2918), which resends everything.
   */
  startFullSync(desired: DesiredSet): void {
    this.#held4 = new Float64Array(0);
    this.#heldCount4 = 0;
    this.#next4 = undefined;
    this.#needPass4 = this.#attrs4 !== undefined;
    this.#sent6.clear();
    this.#dirty6.clear();
    this.#full6 = this.#attrs6 ? desired.keysV6() : undefined;
  }

  /** Records that these keys of the desired set changed; they are compared when taken. */
  noteChanged(delta: DesiredDelta): void {
    if (this.#attrs4 && delta.v4.length > 0) this.#needPass4 = true;
    if (this.#attrs6) { for (const k of delta.v6) this.#dirty6.add(k); }
  }

  /** Advances the IPv4 walk by up to `limit` changes. */
  #walk4(desired: DesiredSet, limit: number, ann: Ipv4Key[], wd: Ipv4Key[]): number {
    if (this.#next4 === undefined) {
      if (!this.#needPass4) return 0;
      this.#needPass4 = false;
      this.#next4 = new KeyBuffer();
      this.#cursor4 = -1;
      this.#heldIndex4 = 0;
    }
    const next = this.#next4;
    const want = desired.sortedV4;
    const held = this.#held4;
    // The desired array may have been replaced since the last batch: resume after the cursor.
    let i = upperBound(want, this.#cursor4);
    let j = this.#heldIndex4;
    let count = 0;
    while (count < limit && (i < want.length || j < held.length)) {
      if (j >= held.length || (i < want.length && want[i] < held[j])) {
        const k = want[i++];
        ann.push(k);
        next.push(k);
        this.#cursor4 = k;
        this.#heldCount4++;
        count++;
      } else if (i >= want.length || held[j] < want[i]) {
        const k = held[j++];
        wd.push(k);
        this.#cursor4 = k;
        this.#heldCount4--;
        count++;
      } else {
        next.push(want[i]);
        this.#cursor4 = want[i];
        i++;
        j++;
      }
    }
    this.#heldIndex4 = j;
    if (i >= want.length && j >= held.length) {
      // End of the pass: what was sent is now what the peer holds.
      this.#held4 = next.view().slice();
      this.#next4 = undefined;
    }
    return count;
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
    let count = this.#attrs4 ? this.#walk4(desired, limit, ann4, wd4) : 0;
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
      fullSyncDone: this.#next4 === undefined && this.#full6 === undefined,
    };
  }
}
