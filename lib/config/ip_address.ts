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
  if (input.includes(":")) {
    const bytes = parseIpv6Bytes(input);
    if (bytes === undefined) return undefined;
    if (isIpv4Mapped(bytes)) {
      return { family: 4, text: bytes.slice(12).join(".") as Ipv4Address };
    }
    return { family: 6, text: formatIpv6(bytes) };
  }
  const v4 = parseIpv4Bytes(input);
  if (v4 === undefined) return undefined;
  return { family: 4, text: v4.join(".") as Ipv4Address };
}

function parseIpv4Bytes(input: string): number[] | undefined {
  const parts = input.split(".");
  if (parts.length !== 4) return undefined;
  const bytes: number[] = [];
  for (const part of parts) {
    // Go 1.17+ rejects leading zeros because other parsers read them as octal.
    if (!/^(0|[1-9][0-9]{0,2})$/.test(part)) return undefined;
    const n = Number(part);
    if (n > 255) return undefined;
    bytes.push(n);
  }
  return bytes;
}

function parseIpv6Bytes(input: string): number[] | undefined {
  if (input.includes("%")) return undefined;
  let head = input;
  let tail = "";
  const doubleColon = input.indexOf("::");
  if (doubleColon >= 0) {
    if (input.indexOf("::", doubleColon + 1) >= 0) return undefined;
    head = input.slice(0, doubleColon);
    tail = input.slice(doubleColon + 2);
  }
  const headGroups = parseGroups(head, doubleColon < 0 || tail === "");
  const tailGroups = parseGroups(tail, true);
  if (headGroups === undefined || tailGroups === undefined) return undefined;
  const total = headGroups.length + tailGroups.length;
  if (doubleColon < 0) {
    if (total !== 16) return undefined;
    return headGroups;
  }
  // RFC 4291 §2.2: "::" stands for one or more groups of zeros.
  if (total > 14) return undefined;
  return [...headGroups, ...new Array(16 - total).fill(0), ...tailGroups];
}

/** Parses colon-separated hex groups into bytes; an IPv4 tail is allowed when `lastMayBeIpv4`. */
function parseGroups(text: string, lastMayBeIpv4: boolean): number[] | undefined {
  if (text === "") return [];
  const groups = text.split(":");
  const bytes: number[] = [];
  for (let i = 0; i < groups.length; i++) {
    const group = groups[i];
    if (i === groups.length - 1 && lastMayBeIpv4 && group.includes(".")) {
      const v4 = parseIpv4Bytes(group);
      if (v4 === undefined) return undefined;
      bytes.push(...v4);
      continue;
    }
    if (!/^[0-9a-fA-F]{1,4}$/.test(group)) return undefined;
    const n = parseInt(group, 16);
    bytes.push(n >> 8, n & 0xff);
  }
  return bytes;
}

function isIpv4Mapped(bytes: number[]): boolean {
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) return false;
  return bytes[10] === 0xff && bytes[11] === 0xff;
}

/** RFC 5952 §4: lower case, no leading zeros, the longest run (2+) of zero groups as "::". */
function formatIpv6(bytes: number[]): Ipv6Address {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i] << 8) | bytes[i + 1]);
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(":") as Ipv6Address;
  const left = hex.slice(0, bestStart).join(":");
  const right = hex.slice(bestStart + bestLength).join(":");
  return `${left}::${right}` as Ipv6Address;
}
