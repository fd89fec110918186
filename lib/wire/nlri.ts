/**
 * NLRI prefixes: the RFC 4271 §4.3 (length, prefix) encoding with optional RFC 7911 path identifiers, and
 * the prefix text form.
 *
 * @module
 */

import { failure, success, updateError, UpdateSubcode } from "./error.ts";
import { ipv4ToString, ipv6ToString, parseIpv4, parseIpv6 } from "./address.ts";
import type { Afi, Decoded, Prefix } from "./types.ts";

export { ipv4ToString, ipv6ToString, parseIpv4, parseIpv6 } from "./address.ts";

function invalidNetwork(reason: string) {
  // RFC 4271 §6.3: a syntactically incorrect NLRI field is "Invalid Network Field"; RFC 7606 §5.3: a
  // prefix that cannot be parsed leaves the rest of the message unparsable, so the session is reset.
  return failure<Prefix[]>(
    updateError(UpdateSubcode.INVALID_NETWORK_FIELD, undefined, "session-reset", reason),
  );
}

/**
 * Decodes a sequence of prefixes (the NLRI or Withdrawn Routes field, or the NLRI of MP_REACH/MP_UNREACH).
 * With `addPath`, each prefix is preceded by a 4-octet path identifier (RFC 7911 §3).
 *
 * Host bits past the prefix length are cleared (as bgpdump does since 2020). A length above 32 (IPv4) or
 * 128 (IPv6), or a prefix running past the end, is an "Invalid Network Field" error.
 *
 * For speed, the `addr` of every returned prefix is a view into a buffer shared by the prefixes of this
 * call (a copy of the field, never `bytes` itself); treat addresses as read-only.
 *
 * @example
 * ```ts
 * const r = decodePrefixes(new Uint8Array([24, 203, 0, 113]), 1, false);
 * if (r.ok) prefixToString(r.value[0]); // "203.0.113.0/24"
 * ```
 */
export function decodePrefixes(bytes: Uint8Array, afi: Afi, addPath: boolean): Decoded<Prefix[]> {
  return decodePrefixRange(bytes, 0, bytes.length, afi, addPath);
}

/** {@linkcode decodePrefixes} of `bytes[start..end)`, without making a view of the field. */
export function decodePrefixRange(
  bytes: Uint8Array,
  start: number,
  end: number,
  afi: Afi,
  addPath: boolean,
): Decoded<Prefix[]> {
  if (start >= end) return success([]);
  const size = afi === 1 ? 4 : 16;
  const full = size * 8;
  // First pass: validate and count, so the addresses share exactly sized buffers.
  const count = countPrefixRange(bytes, start, end, afi, addPath);
  if (typeof count !== "number") return count;
  let short = 0;
  for (let i = start; i < end;) {
    if (addPath) i += 4;
    const len = bytes[i];
    if (len !== full) short++;
    i += 1 + ((len + 7) >> 3);
  }
  // Full-length addresses are views into one copy of the field; shorter ones are copied and masked.
  const copy = short < count ? bytes.slice(start, end) : undefined;
  const backing = short > 0 ? new Uint8Array(short * size) : undefined;
  const out = new Array<Prefix>(count);
  let i = start;
  for (let p = 0, o = 0; p < count; p++) {
    let pathId = 0;
    if (addPath) {
      pathId = ((bytes[i] << 24) | (bytes[i + 1] << 16) | (bytes[i + 2] << 8) | bytes[i + 3]) >>> 0;
      i += 4;
    }
    const len = bytes[i++];
    const nb = (len + 7) >> 3;
    let addr: Uint8Array;
    if (len === full) {
      // The constructor skips subarray's species lookup, which is measurably slower per prefix.
      addr = new Uint8Array(copy!.buffer, i - start, size);
    } else {
      const b = backing!;
      for (let k = 0; k < nb; k++) b[o + k] = bytes[i + k];
      if (len & 7) b[o + nb - 1] &= (0xff00 >> (len & 7)) & 0xff;
      addr = new Uint8Array(b.buffer, o, size);
      o += size;
    }
    i += nb;
    out[p] = addPath ? { afi, length: len, addr, pathId } : { afi, length: len, addr };
  }
  return success(out);
}

/**
 * Validates a prefix field as {@linkcode decodePrefixes} does, without building prefixes: returns their
 * count, or the same error.
 */
export function countPrefixes(bytes: Uint8Array, afi: Afi, addPath: boolean): number | Decoded<Prefix[]> {
  return countPrefixRange(bytes, 0, bytes.length, afi, addPath);
}

/** {@linkcode countPrefixes} of `bytes[start..end)`. */
export function countPrefixRange(
  bytes: Uint8Array,
  start: number,
  end: number,
  afi: Afi,
  addPath: boolean,
): number | Decoded<Prefix[]> {
  const maxLen = afi === 1 ? 32 : 128;
  let count = 0;
  let i = start;
  while (i < end) {
    if (addPath) {
      if (i + 5 > end) return invalidNetwork("Truncated path identifier or prefix length");
      i += 4;
    }
    const len = bytes[i];
    if (len > maxLen) return invalidNetwork(`Prefix length ${len} exceeds ${maxLen}`);
    i += 1 + ((len + 7) >> 3);
    if (i > end) return invalidNetwork(`Prefix of length ${len} runs past the end of its field`);
    count++;
  }
  return count;
}

/** The number of bytes {@linkcode encodePrefixes} writes for `prefixes`. */
export function prefixesByteLength(prefixes: readonly Prefix[], addPath: boolean): number {
  let total = 0;
  for (let i = 0; i < prefixes.length; i++) total += 1 + ((prefixes[i].length + 7) >> 3);
  return addPath ? total + 4 * prefixes.length : total;
}

/**
 * Writes one prefix at `offset` of `out` and returns the offset after it. With `addPath` the path
 * identifier (0 when absent) is written first. The caller guarantees the room.
 */
export function writePrefix(out: Uint8Array, offset: number, p: Prefix, addPath: boolean): number {
  if (addPath) {
    const id = p.pathId ?? 0;
    out[offset] = id >>> 24;
    out[offset + 1] = (id >>> 16) & 0xff;
    out[offset + 2] = (id >>> 8) & 0xff;
    out[offset + 3] = id & 0xff;
    offset += 4;
  }
  const len = p.length;
  out[offset++] = len;
  const nb = (len + 7) >> 3;
  const a = p.addr;
  for (let k = 0; k < nb; k++) out[offset + k] = a[k];
  if (len & 7) out[offset + nb - 1] &= (0xff00 >> (len & 7)) & 0xff;
  return offset + nb;
}

/**
 * Encodes prefixes in the RFC 4271 §4.3 form (with RFC 7911 path identifiers when `addPath`).
 *
 * @example
 * ```ts
 * encodePrefixes([parsePrefix("203.0.113.0/24")!], false); // Uint8Array [24, 203, 0, 113]
 * ```
 */
export function encodePrefixes(prefixes: readonly Prefix[], addPath: boolean): Uint8Array {
  const out = new Uint8Array(prefixesByteLength(prefixes, addPath));
  let o = 0;
  for (let i = 0; i < prefixes.length; i++) o = writePrefix(out, o, prefixes[i], addPath);
  return out;
}

/**
 * Formats a prefix as "address/length", e.g. "203.0.113.0/24" or "2001:db8::/32" (RFC 5952).
 *
 * @example
 * ```ts
 * prefixToString({ afi: 1, length: 24, addr: new Uint8Array([203, 0, 113, 0]) }); // "203.0.113.0/24"
 * ```
 */
export function prefixToString(p: Prefix): string {
  return (p.afi === 1 ? ipv4ToString(p.addr) : ipv6ToString(p.addr)) + "/" + p.length;
}

/**
 * Parses "address/length" text into a prefix, clearing host bits. Returns undefined for anything else.
 *
 * @example
 * ```ts
 * parsePrefix("2001:db8::/32"); // { afi: 2, length: 32, addr: ... }
 * parsePrefix("10.0.0.0/33"); // undefined
 * ```
 */
export function parsePrefix(text: string): Prefix | undefined {
  const slash = text.indexOf("/");
  if (slash === -1) return undefined;
  const lenText = text.slice(slash + 1);
  if (!/^(0|[1-9][0-9]{0,2})$/.test(lenText)) return undefined;
  const length = Number(lenText);
  const isV6 = text.includes(":");
  const addr = isV6 ? parseIpv6(text.slice(0, slash)) : parseIpv4(text.slice(0, slash));
  if (addr === undefined || length > addr.length * 8) return undefined;
  maskHostBits(addr, length);
  return { afi: isV6 ? 2 : 1, length, addr };
}

/** Clears every bit of `addr` past `length`, in place. */
export function maskHostBits(addr: Uint8Array, length: number): void {
  const full = length >> 3;
  if (full < addr.length && (length & 7)) addr[full] &= (0xff00 >> (length & 7)) & 0xff;
  for (let k = full + ((length & 7) ? 1 : 0); k < addr.length; k++) addr[k] = 0;
}
