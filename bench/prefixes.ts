/**
 * Bulk test prefixes for the benchmarks: host routes from the ranges the project reserves for bulk tests
 * (IPv4 100.64.0.0/10, IPv6 2001:db8::/32). Pure.
 *
 * @example
 * ```ts
 * bulkPrefixes("ipv4", 2); // ["100.64.0.0/32", "100.64.0.1/32"]
 * bulkPrefixes("ipv6", 1); // ["2001:db8::/128"]
 * ```
 *
 * @module
 */

/** An address family of the benchmarks. */
export type BenchFamily = "ipv4" | "ipv6";

/** Most host routes the IPv4 bulk range (100.64.0.0/10) holds. */
export const MAX_BULK_IPV4 = 1 << 22;

/** The address of bulk host `i` (0-based) of `family`, without a prefix length. */
export function bulkAddress(family: BenchFamily, i: number): string {
  if (!Number.isInteger(i) || i < 0 || (family === "ipv4" && i >= MAX_BULK_IPV4) || i >= 2 ** 32) {
    throw new RangeError(`Bulk host index out of range: ${i}`);
  }
  if (family === "ipv4") return `100.${64 + (i >>> 16)}.${(i >>> 8) & 255}.${i & 255}`;
  const hi = Math.floor(i / 65536);
  const lo = i % 65536;
  // 2001:db8::HI:LO, written in the canonical compressed form (RFC 5952).
  if (hi === 0) return lo === 0 ? "2001:db8::" : `2001:db8::${lo.toString(16)}`;
  return `2001:db8::${hi.toString(16)}:${lo.toString(16)}`;
}

/** The first `n` bulk host routes of `family` (`/32` or `/128`), in order. */
export function bulkPrefixes(family: BenchFamily, n: number, offset = 0): string[] {
  const length = family === "ipv4" ? 32 : 128;
  return Array.from({ length: n }, (_, i) => `${bulkAddress(family, offset + i)}/${length}`);
}
