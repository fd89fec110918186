/**
 * The UPDATE packer: BIRD-style buckets of prefixes sharing identical attributes, packed into the fewest
 * UPDATE messages that fit the negotiated maximum message size. This is the hot path of a full table
 * transfer, so it writes into large preallocated chunks and encodes each group's attributes once.
 *
 * @module
 */

import { hasAddPath, writeNextHops, writePathAttributes } from "./attributes.ts";
import { WireWriter } from "./writer.ts";
import { writePrefix } from "./nlri.ts";
import type { Afi, DecodeContext, Family, PathAttributes, Prefix, Safi } from "./types.ts";

/**
 * Prefixes announced with identical attributes.
 *
 * - Without `attributes.mpReach`: IPv4 unicast prefixes, sent in the UPDATE's NLRI field with the NEXT_HOP
 *   attribute (`attributes.nextHop`). With `ipv4NextHopIsIpv6` and an IPv6 `nextHop` text, they go in
 *   MP_REACH_NLRI (AFI 1, SAFI 1) with that next hop instead (RFC 8950).
 * - With `attributes.mpReach`: the prefixes go in MP_REACH_NLRI with its AFI, SAFI and next hops (IPv6:
 *   global, optionally followed by link-local; or IPv4 NLRI with an IPv6 next hop, RFC 8950).
 *   `mpReach.nlri` is ignored: the prefixes are `nlri`.
 */
export interface PackGroup {
  /** The attributes every prefix of the group is announced with. */
  readonly attributes: PathAttributes;
  /** The prefixes, all of one family. */
  readonly nlri: readonly Prefix[];
}

/** Prefixes to withdraw: IPv4 unicast in the Withdrawn Routes field, other families in MP_UNREACH_NLRI. */
export interface PackWithdrawal {
  /** Address family of the prefixes. */
  readonly afi: Afi;
  /** Subsequent address family of the prefixes. */
  readonly safi: Safi;
  /** The prefixes to withdraw. */
  readonly withdrawn: readonly Prefix[];
}

/** What to pack: announcements grouped by attributes, and withdrawals. */
export interface PackInput {
  /** Announcements, one group per distinct attribute set. */
  readonly groups: readonly PackGroup[];
  /** Withdrawals, sent before the announcements. */
  readonly withdrawals?: readonly PackWithdrawal[];
}

/** The session parameters the packer encodes for. */
export interface PackOptions {
  /** 4096, or 65535 with the extended message capability (RFC 8654). */
  readonly maxMessageSize: number;
  /** Whether AS numbers are 4 octets (RFC 6793); otherwise AS_TRANS and AS4_PATH are used. */
  readonly fourOctetAs: boolean;
  /** Families for which the peer receives ADD-PATH path identifiers (RFC 7911). */
  readonly addPath: readonly Family[];
  /** The peer accepts IPv4 NLRI with an IPv6 next hop (RFC 8950 extended next hop for IPv4 unicast). */
  readonly ipv4NextHopIsIpv6?: boolean;
}

const HEADER = 19;
/** Messages are written into chunks of up to this size (plus one message); each is a view into one. */
const CHUNK_SIZE = 1 << 18;
const X = 0x10;

/**
 * Yields the UPDATE messages for `input`: first the withdrawals (per family, each message filled to the
 * byte), then each group's announcements (each message filled with as many of the group's prefixes as fit).
 * MP_REACH_NLRI/MP_UNREACH_NLRI come first among the attributes (RFC 7606 §5.1).
 *
 * Each yielded message is a view (subarray) into a shared chunk of up to 256 KiB; consecutive messages from one
 * chunk are contiguous (`a.buffer === b.buffer && a.byteOffset + a.length === b.byteOffset`), so a sender
 * can coalesce them into one write. Chunks are never reused: a message stays valid as long as it is held.
 * Throws a RangeError when a group's attributes leave no room for a single prefix.
 *
 * @example
 * ```ts
 * import { parsePrefix } from "./nlri.ts";
 * const groups: PackGroup[] = [{ attributes: { origin: 0, asPath: [], nextHop: "10.99.0.1" }, nlri: [parsePrefix("203.0.113.0/24")!] }];
 * for (const msg of packUpdateMessages({ groups }, { maxMessageSize: 4096, fourOctetAs: true, addPath: [] })) {
 *   // write msg to the socket
 * }
 * ```
 */
export function* packUpdateMessages(input: PackInput, opts: PackOptions): Generator<Uint8Array> {
  const max = opts.maxMessageSize;
  // A generous estimate of the bytes still to write sizes the chunks, so a small input does not pay for a
  // large chunk; `need` (at most one whole message) keeps every message inside one chunk.
  let estimate = 0;
  for (const w of input.withdrawals ?? []) estimate += 512 + 21 * w.withdrawn.length;
  for (const g of input.groups) estimate += 1024 + 21 * g.nlri.length;
  let chunk = new Uint8Array(0);
  let pos = 0;
  const room = (need: number) => {
    need = Math.min(need, max);
    if (chunk.length - pos < need) {
      chunk = new Uint8Array(Math.min(estimate, CHUNK_SIZE) + need);
      pos = 0;
    }
  };
  const produced = (bytes: number) => {
    estimate = Math.max(0, estimate - bytes);
  };
  const ctx: DecodeContext = { fourOctetAs: opts.fourOctetAs, addPath: opts.addPath, maxMessageSize: max };

  for (const w of input.withdrawals ?? []) {
    const list = w.withdrawn;
    const addPath = hasAddPath(ctx, w.afi, w.safi);
    const ipv4Field = w.afi === 1 && w.safi === 1;
    const widest = (addPath ? 4 : 0) + 1 + (w.afi === 1 ? 4 : 16);
    let i = 0;
    while (i < list.length) {
      room(HEADER + 4 + 7 + (list.length - i) * widest);
      const start = pos;
      const b = chunk;
      writeMarker(b, start);
      let o = start + HEADER;
      let end: number;
      if (ipv4Field) {
        // Header, Withdrawn Routes Length, routes, Total Path Attribute Length 0.
        o += 2;
        const limit = start + max - 2;
        ({ i, o } = fillPrefixes(b, o, limit, list, i, addPath));
        const wlen = o - (start + HEADER + 2);
        b[start + HEADER] = wlen >> 8;
        b[start + HEADER + 1] = wlen & 0xff;
        b[o] = 0;
        b[o + 1] = 0;
        end = o + 2;
      } else {
        b[o] = 0;
        b[o + 1] = 0;
        o += 4; // Total Path Attribute Length, patched below.
        const attrStart = o;
        b[o] = 0x80 | X;
        b[o + 1] = 15;
        o += 4;
        const valueStart = o;
        b[o] = w.afi >> 8;
        b[o + 1] = w.afi & 0xff;
        b[o + 2] = w.safi;
        o += 3;
        ({ i, o } = fillPrefixes(b, o, start + max, list, i, addPath));
        end = finishAttr(b, attrStart, valueStart, o);
        const alen = end - attrStart;
        b[attrStart - 2] = alen >> 8;
        b[attrStart - 1] = alen & 0xff;
      }
      setLength(b, start, end - start);
      pos = end;
      produced(end - start);
      yield b.subarray(start, end);
    }
  }

  // Each group's attribute block and next hop are encoded once into this writer (one per call: generators
  // of concurrent sessions interleave) and copied into every message of the group.
  const scratch = new WireWriter(512);
  for (const g of input.groups) {
    const list = g.nlri;
    if (list.length === 0) continue;
    const a = g.attributes;
    let mpAfi = 0, mpSafi = 0;
    let nextHops: readonly string[] | undefined;
    let rest: PathAttributes = a;
    if (a.mpReach !== undefined) {
      [mpAfi, mpSafi, nextHops] = [a.mpReach.afi, a.mpReach.safi, a.mpReach.nextHops];
      rest = { ...a, mpReach: undefined };
    } else if (opts.ipv4NextHopIsIpv6 && a.nextHop !== undefined && a.nextHop.includes(":")) {
      [mpAfi, mpSafi, nextHops] = [1, 1, [a.nextHop]];
      rest = { ...a, nextHop: undefined };
    }
    const mp = nextHops !== undefined;
    scratch.reset();
    writePathAttributes(scratch, rest, ctx);
    const blockLen = scratch.length;
    if (mp) writeNextHops(scratch, nextHops!);
    const nhLen = scratch.length - blockLen; // the length octet and the addresses
    const sb = scratch.buffer;
    const addPath = mp ? hasAddPath(ctx, mpAfi, mpSafi) : hasAddPath(ctx, 1, 1);
    const widest = (addPath ? 4 : 0) + 1 + (!mp || mpAfi === 1 ? 4 : 16);
    const fixed = HEADER + 4 + blockLen + (mp ? 4 + 4 + nhLen : 0);
    if (fixed + widest > max) {
      throw new RangeError(`Path attributes of ${blockLen} octets leave no room for a prefix in ${max}`);
    }
    let i = 0;
    while (i < list.length) {
      room(fixed + (list.length - i) * widest);
      const start = pos;
      const b = chunk;
      writeMarker(b, start);
      let o = start + HEADER;
      b[o] = 0;
      b[o + 1] = 0;
      o += 4;
      const attrStart = o;
      let end: number;
      if (!mp) {
        for (let k = 0; k < blockLen; k++) b[o + k] = sb[k];
        o += blockLen;
        ({ i, o } = fillPrefixes(b, o, start + max, list, i, addPath));
        end = o;
        b[attrStart - 2] = blockLen >> 8;
        b[attrStart - 1] = blockLen & 0xff;
      } else {
        b[o] = 0x80 | X;
        b[o + 1] = 14;
        o += 4;
        const valueStart = o;
        b[o] = mpAfi >> 8;
        b[o + 1] = mpAfi & 0xff;
        b[o + 2] = mpSafi;
        o += 3;
        for (let k = 0; k < nhLen; k++) b[o + k] = sb[blockLen + k];
        o += nhLen;
        b[o++] = 0; // Reserved
        ({ i, o } = fillPrefixes(b, o, start + max - blockLen, list, i, addPath));
        o = finishAttr(b, attrStart, valueStart, o);
        for (let k = 0; k < blockLen; k++) b[o + k] = sb[k];
        end = o + blockLen;
        const alen = end - attrStart;
        b[attrStart - 2] = alen >> 8;
        b[attrStart - 1] = alen & 0xff;
      }
      setLength(b, start, end - start);
      pos = end;
      produced(end - start);
      yield b.subarray(start, end);
    }
  }
}

/**
 * Packs `input` into UPDATE messages (see {@linkcode packUpdateMessages} for the order and the fact that
 * the messages are views into shared chunks).
 */
export function packUpdates(input: PackInput, opts: PackOptions): Uint8Array[] {
  return [...packUpdateMessages(input, opts)];
}

function writeMarker(b: Uint8Array, at: number): void {
  b.fill(0xff, at, at + 16);
  b[at + 18] = 2;
}

function setLength(b: Uint8Array, at: number, length: number): void {
  b[at + 16] = length >> 8;
  b[at + 17] = length & 0xff;
}

/** Writes prefixes from `list[i]` on while they fit before `limit`; returns the next index and offset. */
function fillPrefixes(
  b: Uint8Array,
  o: number,
  limit: number,
  list: readonly Prefix[],
  i: number,
  addPath: boolean,
): { i: number; o: number } {
  const extra = addPath ? 5 : 1;
  const n = list.length;
  for (; i < n; i++) {
    const p = list[i];
    if (o + extra + ((p.length + 7) >> 3) > limit) break;
    o = writePrefix(b, o, p, addPath);
  }
  return { i, o };
}

/**
 * Completes an attribute written with a 2-octet length at `attrStart`: when the value fits in 255 octets
 * the Extended Length bit is cleared and the value moved back one octet (the canonical form).
 */
function finishAttr(b: Uint8Array, attrStart: number, valueStart: number, end: number): number {
  const len = end - valueStart;
  if (len > 255) {
    b[attrStart + 2] = len >> 8;
    b[attrStart + 3] = len & 0xff;
    return end;
  }
  b[attrStart] &= ~X;
  b[attrStart + 2] = len;
  b.copyWithin(valueStart - 1, valueStart, end);
  return end - 1;
}
