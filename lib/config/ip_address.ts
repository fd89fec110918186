/**
 * IP address text parsing with the rules of Go's `net.ParseIP`, which kube-ovn-speaker's flags use.
 *
 * IPv4 is dotted decimal with no leading zeros; IPv6 is RFC 4291 text, optionally ending in a dotted
 * IPv4 part, with no zone. An IPv4-mapped IPv6 address (`::ffff:10.0.0.1`) counts as IPv4, as in Go,
 * where `ip.To4() != nil` for it.
 *
 * @example
 * ```ts
 * import { parseIp } from "./ip_address.ts";
 * parseIp("2001:DB8:0:0::1"); // { family: 6, text: "2001:db8::1" }
 * parseIp("::ffff:10.0.0.1"); // { family: 4, text: "10.0.0.1" }
 * parseIp("10.0.0.01"); // undefined
 * ```
 *
 * @module
 */
import { ipv4ToString, ipv6ToString, parseIpv4, parseIpv6 } from "../wire/address.ts";

/** A textual IPv4 address in canonical dotted form. */
export type Ipv4Address = string & { readonly __brand: "Ipv4Address" };
/** A textual IPv6 address in canonical RFC 5952 form. */
export type Ipv6Address = string & { readonly __brand: "Ipv6Address" };

/** A parsed address: its family and canonical text. */
export type ParsedIp =
  | { readonly family: 4; readonly text: Ipv4Address }
  | { readonly family: 6; readonly text: Ipv6Address };

/** Parses an IP address as Go's `net.ParseIP` does; returns undefined for anything else. */
export function parseIp(input: string): ParsedIp | undefined {
  if (!input.includes(":")) {
    const v4 = parseIpv4(input);
    return v4 === undefined ? undefined : { family: 4, text: ipv4ToString(v4) as Ipv4Address };
  }
  const bytes = parseIpv6(input);
  if (bytes === undefined) return undefined;
  // Go's To4() is non-nil for ::ffff:a.b.c.d, so such an address is IPv4 for every family check.
  if (bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) {
    return { family: 4, text: ipv4ToString(bytes, 12) as Ipv4Address };
  }
  return { family: 6, text: ipv6ToString(bytes) as Ipv6Address };
}
