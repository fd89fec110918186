/**
 * IP addresses as the transport handles them: parsed once into bytes, compared as bytes, and printed in
 * one canonical text form (dotted quad for IPv4, RFC 5952 for IPv6, IPv4-mapped IPv6 shown as IPv4).
 *
 * @module
 */

/** 4 for IPv4, 6 for IPv6. */
export type IpFamily = 4 | 6;

/** An address and port as reported by the kernel for one end of a socket. */
export interface SocketEndpoint {
  /** The family of `address` (4 for IPv4-mapped IPv6). */
  readonly family: IpFamily;
  /** Canonical text, see {@linkcode normalizeIp}. */
  readonly address: string;
  /** TCP port. */
  readonly port: number;
}

/**
 * Parses an IPv4 or IPv6 address into 4 or 16 bytes; IPv4-mapped IPv6 (`::ffff:a.b.c.d`) stays 16 bytes.
 * Brackets around IPv6 (`[::1]`) are accepted. Throws on anything else, including zone ids (`fe80::1%eth0`).
 *
 * @example
 * ```ts
 * import { parseIp } from "./socket_address.ts";
 * parseIp("10.99.0.2"); // Uint8Array [10, 99, 0, 2]
 * ```
 */
export function parseIp(text: string): Uint8Array {
  const bytes = tryParseIp(text);
  if (bytes === undefined) throw new TypeError(`Invalid IP address: ${JSON.stringify(text)}`);
  return bytes;
}

/** Like {@linkcode parseIp} but returns undefined for invalid input. */
export function tryParseIp(text: string): Uint8Array | undefined {
  const s = text.startsWith("[") && text.endsWith("]") ? text.slice(1, -1) : text;
  if (s.includes(":")) return parseIpv6(s);
  return parseIpv4(s);
}

function parseIpv4(s: string): Uint8Array | undefined {
  const parts = s.split(".");
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i];
    // Leading zeros are refused: inet_pton would read them as decimal, other tools as octal.
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    out[i] = n;
  }
  return out;
}

function parseIpv6(s: string): Uint8Array | undefined {
  if (s.includes("%")) return undefined;
  const halves = s.split("::");
  if (halves.length > 2) return undefined;
  const groupsOf = (part: string): number[] | undefined => {
    if (part === "") return [];
    const out: number[] = [];
    const items = part.split(":");
    for (let i = 0; i < items.length; i++) {
      const item = items[i];
      if (i === items.length - 1 && item.includes(".")) {
        const v4 = parseIpv4(item);
        if (v4 === undefined) return undefined;
        out.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(item)) return undefined;
        out.push(parseInt(item, 16));
      }
    }
    return out;
  };
  const head = groupsOf(halves[0]);
  const tail = halves.length === 2 ? groupsOf(halves[1]) : [];
  if (head === undefined || tail === undefined) return undefined;
  // An embedded IPv4 address is only valid as the last item of the whole address.
  if (halves.length === 2 && halves[0].includes(".")) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const groups = [...head, ...new Array<number>(halves.length === 2 ? missing : 0).fill(0), ...tail];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  });
  return out;
}

/** True when 16 bytes hold an IPv4-mapped IPv6 address (`::ffff:0:0/96`, RFC 4291 §2.5.5.2). */
export function isIpv4Mapped(bytes: Uint8Array): boolean {
  if (bytes.length !== 16) return false;
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) return false;
  return bytes[10] === 0xff && bytes[11] === 0xff;
}

/** Reduces IPv4-mapped IPv6 bytes to the 4 IPv4 bytes; other addresses are returned unchanged. */
export function unmapIpv4(bytes: Uint8Array): Uint8Array {
  return isIpv4Mapped(bytes) ? bytes.slice(12, 16) : bytes;
}

/** Formats 4 or 16 bytes; IPv6 in the RFC 5952 form, IPv4-mapped IPv6 as plain IPv4. */
export function formatIp(bytes: Uint8Array): string {
  const b = unmapIpv4(bytes);
  if (b.length === 4) return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
  if (b.length !== 16) throw new TypeError(`An IP address has 4 or 16 bytes, not ${b.length}`);
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((b[i] << 8) | b[i + 1]);
  // RFC 5952 §4.2: shorten the longest run of two or more zero groups, the first one on a tie.
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
  const hex = (gs: number[]) => gs.map((g) => g.toString(16)).join(":");
  if (bestStart < 0) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLength))}`;
}

/** Canonical text of an address: `::ffff:127.0.0.1` → `127.0.0.1`, `0:0::1` → `::1`. */
export function normalizeIp(text: string): string {
  return formatIp(parseIp(text));
}

/** The family of an address after IPv4-mapped IPv6 is reduced to IPv4. */
export function ipFamily(text: string): IpFamily {
  return unmapIpv4(parseIp(text)).length === 4 ? 4 : 6;
}

/** `10.0.0.1:179` or `[fd99::1]:179`, for messages. */
export function formatEndpoint(address: string, port: number): string {
  return address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`;
}

/** True when two addresses are the same once IPv4-mapped IPv6 is reduced to IPv4. */
export function sameIp(a: Uint8Array, b: Uint8Array): boolean {
  const x = unmapIpv4(a);
  const y = unmapIpv4(b);
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}
