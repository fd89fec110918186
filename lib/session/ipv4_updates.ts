/**
 * The hot path of a table transfer: UPDATEs for IPv4 unicast prefixes in the NLRI field, written straight
 * from the Adj-RIB-Out's compact keys. The attributes are encoded once; each prefix costs a few byte
 * writes and no object, which is what lets a million prefixes leave in a fraction of a second.
 * Everything else (IPv6, IPv4 with an IPv6 next hop) goes through the general packer.
 *
 * Pure: no I/O; messages are views into 256 KiB chunks, contiguous within a chunk so the sender can
 * coalesce them into one write.
 *
 * @example
 * ```ts
 * import { ipv4UpdateMessages } from "./ipv4_updates.ts";
 * import { encodePathAttributes } from "../wire/attributes.ts";
 * import { DEFAULT_DECODE_CONTEXT } from "../wire/types.ts";
 * const attrs = encodePathAttributes({ origin: 0, asPath: [], nextHop: "10.99.0.1" }, DEFAULT_DECODE_CONTEXT);
 * const key = 0xcb007100 * 64 + 24; // 203.0.113.0/24
 * const msgs = [...ipv4UpdateMessages(attrs, [key], [], 4096)]; // one UPDATE
 * ```
 *
 * @module
 */

import type { Ipv4Key } from "./adj_rib_out.ts";

const HEADER = 19;
const CHUNK = 1 << 18;

function writeHeader(buf: Uint8Array, at: number, length: number): void {
  buf.fill(0xff, at, at + 16);
  buf[at + 16] = length >> 8;
  buf[at + 17] = length & 255;
  // Type 2: UPDATE.
  buf[at + 18] = 2;
}

/** Writes one prefix (length octet + significant address octets); returns the new offset. */
function writeKey(buf: Uint8Array, at: number, key: Ipv4Key): number {
  const length = key % 64;
  const addr = (key - length) / 64;
  buf[at++] = length;
  if (length > 0) buf[at++] = addr >>> 24;
  if (length > 8) buf[at++] = (addr >>> 16) & 255;
  if (length > 16) buf[at++] = (addr >>> 8) & 255;
  if (length > 24) buf[at++] = addr & 255;
  return at;
}

function keySize(key: Ipv4Key): number {
  return 1 + (((key % 64) + 7) >> 3);
}

/**
 * Yields UPDATEs withdrawing `withdraw` (Withdrawn Routes field), then UPDATEs announcing `announce` with
 * the pre-encoded path attributes `attrs` (RFC 4271 §4.3), each filled up to `maxMessageSize`.
 */
export function* ipv4UpdateMessages(
  attrs: Uint8Array,
  announce: readonly Ipv4Key[],
  withdraw: readonly Ipv4Key[],
  maxMessageSize: number,
): Generator<Uint8Array> {
  let buf = new Uint8Array(CHUNK);
  let pos = 0;
  const room = (n: number) => {
    if (pos + n > buf.length) {
      buf = new Uint8Array(Math.max(CHUNK, n));
      pos = 0;
    }
  };
  // Withdrawals: header, withdrawn length, prefixes, total path attribute length 0.
  for (let i = 0; i < withdraw.length;) {
    room(maxMessageSize);
    const start = pos;
    let at = start + HEADER + 2;
    const limit = start + maxMessageSize - 2;
    while (i < withdraw.length && at + keySize(withdraw[i]) <= limit) at = writeKey(buf, at, withdraw[i++]);
    const wlen = at - (start + HEADER + 2);
    buf[start + HEADER] = wlen >> 8;
    buf[start + HEADER + 1] = wlen & 255;
    buf[at++] = 0;
    buf[at++] = 0;
    writeHeader(buf, start, at - start);
    pos = at;
    yield buf.subarray(start, at);
  }
  if (announce.length === 0) return;
  if (HEADER + 4 + attrs.length + 5 > maxMessageSize) {
    throw new RangeError("Path attributes leave no room for NLRI");
  }
  for (let i = 0; i < announce.length;) {
    room(maxMessageSize);
    const start = pos;
    buf[start + HEADER] = 0;
    buf[start + HEADER + 1] = 0;
    buf[start + HEADER + 2] = attrs.length >> 8;
    buf[start + HEADER + 3] = attrs.length & 255;
    buf.set(attrs, start + HEADER + 4);
    let at = start + HEADER + 4 + attrs.length;
    const limit = start + maxMessageSize;
    while (i < announce.length && at + keySize(announce[i]) <= limit) at = writeKey(buf, at, announce[i++]);
    writeHeader(buf, start, at - start);
    pos = at;
    yield buf.subarray(start, at);
  }
}
