/**
 * IPv4 and IPv6 address text: formatting (RFC 5952 for IPv6) and strict parsing.
 *
 * @module
 */

const HEX = "0123456789abcdef";

/**
 * Formats 4 bytes at `offset` as dotted-quad text.
 *
 * @example
 * ```ts
 * ipv4ToString(new Uint8Array([192, 0, 2, 1])); // "192.0.2.1"
 * ```
 */
export function ipv4ToString(bytes: Uint8Array, offset = 0): string {
  return bytes[offset] + "." + bytes[offset + 1] + "." + bytes[offset + 2] + "." + bytes[offset + 3];
}

function hex16(v: number): string {
  if (v < 0x10) return HEX[v];
  if (v < 0x100) return HEX[v >> 4] + HEX[v & 15];
  if (v < 0x1000) return HEX[v >> 8] + HEX[(v >> 4) & 15] + HEX[v & 15];
  return HEX[v >> 12] + HEX[(v >> 8) & 15] + HEX[(v >> 4) & 15] + HEX[v & 15];
}

/**
 * Formats 16 bytes at `offset` as IPv6 text per RFC 5952: lower case, no leading zeros, the longest run of
 * two or more zero groups (the first on a tie) replaced by "::". Like inet_ntop (and so bgpdump), an
 * IPv4-mapped (::ffff:0:0/96) or IPv4-compatible (::/96, other than :: and ::1) address ends in dotted quad.
 *
 * @example
 * ```ts
 * ipv6ToString(new Uint8Array([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1])); // "2001:db8::1"
 * ```
 */
export function ipv6ToString(bytes: Uint8Array, offset = 0): string {
  const w = new Array<number>(8);
  for (let i = 0; i < 8; i++) w[i] = (bytes[offset + 2 * i] << 8) | bytes[offset + 2 * i + 1];
  let bestStart = -1, bestLen = 0;
  for (let i = 0; i < 8;) {
    if (w[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestLen < 2) bestStart = -1;
  if (bestStart === 0 && (bestLen === 6 || (bestLen === 5 && w[5] === 0xffff))) {
    return (bestLen === 5 ? "::ffff:" : "::") + ipv4ToString(bytes, offset + 12);
  }
  let s = "";
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      s += "::";
      i += bestLen - 1;
      continue;
    }
    if (s.length > 0 && !s.endsWith(":")) s += ":";
    s += hex16(w[i]);
  }
  return s;
}

/** Formats a 4- or 16-byte address as text; other lengths yield undefined. */
export function addressToString(bytes: Uint8Array): string | undefined {
  if (bytes.length === 4) return ipv4ToString(bytes);
  if (bytes.length === 16) return ipv6ToString(bytes);
  return undefined;
}

/**
 * Parses dotted-quad IPv4 text (exactly four decimal octets, no leading zeros) into 4 bytes.
 *
 * @example
 * ```ts
 * parseIpv4("203.0.113.7"); // Uint8Array [203, 0, 113, 7]
 * parseIpv4("1.2.3"); // undefined
 * ```
 */
export function parseIpv4(text: string): Uint8Array | undefined {
  const out = new Uint8Array(4);
  return writeIpv4Text(text, out, 0) ? out : undefined;
}

/** Writes dotted-quad text as 4 bytes at `offset` of `out`; false (and nothing useful written) when invalid. */
export function writeIpv4Text(text: string, out: Uint8Array, offset: number): boolean {
  const parts = text.split(".");
  if (parts.length !== 4) return false;
  for (let i = 0; i < 4; i++) {
    const p = parts[i];
    if (p.length === 0 || p.length > 3 || (p.length > 1 && p[0] === "0")) return false;
    let v = 0;
    for (let k = 0; k < p.length; k++) {
      const c = p.charCodeAt(k) - 48;
      if (c < 0 || c > 9) return false;
      v = v * 10 + c;
    }
    if (v > 255) return false;
    out[offset + i] = v;
  }
  return true;
}

function parseGroup(g: string): number {
  if (g.length === 0 || g.length > 4) return -1;
  let v = 0;
  for (let k = 0; k < g.length; k++) {
    const c = g.charCodeAt(k);
    let d: number;
    if (c >= 48 && c <= 57) d = c - 48;
    else if (c >= 97 && c <= 102) d = c - 87;
    else if (c >= 65 && c <= 70) d = c - 55;
    else return -1;
    v = v * 16 + d;
  }
  return v;
}

/**
 * Parses IPv6 text (RFC 4291 §2.2, with an optional trailing dotted quad) into 16 bytes. Zone indexes are
 * rejected.
 *
 * @example
 * ```ts
 * parseIpv6("2001:db8::1"); // 16 bytes
 * parseIpv6("2001:db8:::1"); // undefined
 * ```
 */
export function parseIpv6(text: string): Uint8Array | undefined {
  const out = new Uint8Array(16);
  return writeIpv6Text(text, out, 0) ? out : undefined;
}

/** Writes IPv6 text as 16 bytes at `offset` of `out`; false when the text is not an IPv6 address. */
export function writeIpv6Text(text: string, out: Uint8Array, offset: number): boolean {
  const dbl = text.indexOf("::");
  if (dbl !== -1 && text.indexOf("::", dbl + 1) !== -1) return false;
  const head = dbl === -1 ? text : text.slice(0, dbl);
  const tail = dbl === -1 ? "" : text.slice(dbl + 2);
  const headParts = head.length > 0 ? head.split(":") : [];
  const tailParts = tail.length > 0 ? tail.split(":") : [];
  if (dbl === -1 && headParts.length === 0) return false;
  // Expand a trailing dotted quad into two groups.
  const all = dbl === -1 ? headParts : tailParts;
  let v4: Uint8Array | undefined;
  if (all.length > 0 && all[all.length - 1].includes(".")) {
    v4 = parseIpv4(all[all.length - 1]);
    if (v4 === undefined) return false;
    all.pop();
  }
  const groupsHead: number[] = [];
  const groupsTail: number[] = [];
  for (const g of headParts) {
    const v = parseGroup(g);
    if (v < 0) return false;
    groupsHead.push(v);
  }
  for (const g of tailParts) {
    const v = parseGroup(g);
    if (v < 0) return false;
    groupsTail.push(v);
  }
  if (v4 !== undefined) {
    const target = dbl === -1 ? groupsHead : groupsTail;
    target.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
  }
  const total = groupsHead.length + groupsTail.length;
  if (dbl === -1 ? total !== 8 : total > 7) return false;
  out.fill(0, offset, offset + 16);
  for (let i = 0; i < groupsHead.length; i++) {
    out[offset + 2 * i] = groupsHead[i] >> 8;
    out[offset + 2 * i + 1] = groupsHead[i] & 0xff;
  }
  for (let i = 0; i < groupsTail.length; i++) {
    const at = 8 - groupsTail.length + i;
    out[offset + 2 * at] = groupsTail[i] >> 8;
    out[offset + 2 * at + 1] = groupsTail[i] & 0xff;
  }
  return true;
}

/** Parses IPv4 or IPv6 text; IPv6 is recognised by a colon. */
export function parseAddress(text: string): Uint8Array | undefined {
  return text.includes(":") ? parseIpv6(text) : parseIpv4(text);
}
