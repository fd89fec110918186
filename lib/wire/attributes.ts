/**
 * Path attributes (RFC 4271 §4.3, §5): decoding with the RFC 4271 §6.3 checks and the RFC 7606 error
 * actions, and encoding in the canonical order.
 *
 * @module
 */

import { ipv4ToString, ipv6ToString, writeIpv4Text, writeIpv6Text } from "./address.ts";
import { updateError, UpdateSubcode } from "./error.ts";
import { WireWriter } from "./writer.ts";
import { countPrefixRange, decodePrefixRange, prefixesByteLength, writePrefix } from "./nlri.ts";
import {
  type Afi,
  type Aggregator,
  type AsPathSegment,
  AttrCode,
  AttrFlag,
  type BgpError,
  type DecodeContext,
  type Decoded,
  type ErrorAction,
  type Family,
  type MpReach,
  type MpUnreach,
  type PathAttributes,
  type Prefix,
  type RawAttribute,
  type SegmentType,
} from "./types.ts";

/** The 2-octet AS number that stands for a 4-octet one towards old speakers (RFC 6793 §9). */
export const AS_TRANS = 23456;

/** Options of {@linkcode decodePathAttributes}. */
export interface AttributeDecodeOptions {
  /**
   * The attributes come from an MRT TABLE_DUMP_V2 RIB entry (RFC 6396 §4.3.4): AS_PATH and AGGREGATOR
   * always hold 4-octet AS numbers, and MP_REACH_NLRI is abbreviated to the next hop length and next hop.
   * A full MP_REACH_NLRI (as some writers emit) is still recognised by its length.
   */
  readonly mrtRibEntry?: boolean;
  /** The family of an abbreviated MRT MP_REACH_NLRI; by default inferred from the next hop length. */
  readonly mrtFamily?: Family;
  /** Check MP_REACH/MP_UNREACH prefixes without building them (their lists come back empty). */
  readonly validateOnly?: boolean;
}

/** The result of {@linkcode decodePathAttributes}: every attribute that survived, and every error found. */
export interface DecodedAttributes {
  /** The attributes that decoded well. */
  readonly attributes: PathAttributes;
  /** In order of discovery; the caller applies the most severe action (session reset > withdraw > discard). */
  readonly errors: BgpError[];
}

const O = AttrFlag.OPTIONAL, T = AttrFlag.TRANSITIVE, P = AttrFlag.PARTIAL, X = AttrFlag.EXTENDED_LENGTH;

/** The Optional and Transitive bits each known attribute must carry (RFC 4271 §5, RFC 4760, RFC 6793, ...). */
const EXPECTED_FLAGS: Record<number, number> = {
  [AttrCode.ORIGIN]: T,
  [AttrCode.AS_PATH]: T,
  [AttrCode.NEXT_HOP]: T,
  [AttrCode.MULTI_EXIT_DISC]: O,
  [AttrCode.LOCAL_PREF]: T,
  [AttrCode.ATOMIC_AGGREGATE]: T,
  [AttrCode.AGGREGATOR]: O | T,
  [AttrCode.COMMUNITIES]: O | T,
  [AttrCode.ORIGINATOR_ID]: O,
  [AttrCode.CLUSTER_LIST]: O,
  [AttrCode.MP_REACH_NLRI]: O,
  [AttrCode.MP_UNREACH_NLRI]: O,
  [AttrCode.EXTENDED_COMMUNITIES]: O | T,
  [AttrCode.AS4_PATH]: O | T,
  [AttrCode.AS4_AGGREGATOR]: O | T,
  [AttrCode.LARGE_COMMUNITY]: O | T,
};

/** RFC 7606 §7: the action for a malformed instance of each known attribute. */
const MALFORMED_ACTION: Record<number, ErrorAction> = {
  [AttrCode.ORIGIN]: "treat-as-withdraw",
  [AttrCode.AS_PATH]: "treat-as-withdraw",
  [AttrCode.NEXT_HOP]: "treat-as-withdraw",
  [AttrCode.MULTI_EXIT_DISC]: "treat-as-withdraw",
  [AttrCode.LOCAL_PREF]: "treat-as-withdraw",
  [AttrCode.ATOMIC_AGGREGATE]: "attribute-discard",
  [AttrCode.AGGREGATOR]: "attribute-discard",
  [AttrCode.COMMUNITIES]: "treat-as-withdraw",
  [AttrCode.ORIGINATOR_ID]: "treat-as-withdraw",
  [AttrCode.CLUSTER_LIST]: "treat-as-withdraw",
  [AttrCode.MP_REACH_NLRI]: "session-reset",
  [AttrCode.MP_UNREACH_NLRI]: "session-reset",
  [AttrCode.EXTENDED_COMMUNITIES]: "treat-as-withdraw",
  // RFC 6793 §6: a malformed AS4_PATH or AS4_AGGREGATOR is discarded.
  [AttrCode.AS4_PATH]: "attribute-discard",
  [AttrCode.AS4_AGGREGATOR]: "attribute-discard",
  // RFC 8092 §5.
  [AttrCode.LARGE_COMMUNITY]: "treat-as-withdraw",
};

function u32(b: Uint8Array, i: number): number {
  return ((b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]) >>> 0;
}

/** Whether the receiver expects ADD-PATH path identifiers for the family (RFC 7911). */
export function hasAddPath(ctx: DecodeContext, afi: number, safi: number): boolean {
  const list = ctx.addPath;
  for (let i = 0; i < list.length; i++) if (list[i].afi === afi && list[i].safi === safi) return true;
  return false;
}

/**
 * Decodes AS_PATH/AS4_PATH segments of `b[s..end)`; undefined when malformed (RFC 7606 §7.2: a segment
 * running past the attribute, an undefined type or an empty segment).
 */
function decodeSegments(
  b: Uint8Array,
  s: number,
  end: number,
  asSize: 2 | 4,
  allowConfed: boolean,
): AsPathSegment[] | undefined {
  const segments: AsPathSegment[] = [];
  let i = s;
  while (i < end) {
    if (i + 2 > end) return undefined;
    const type = b[i];
    const count = b[i + 1];
    if (type < 1 || type > 4 || count === 0) return undefined;
    if (!allowConfed && type > 2) return undefined;
    i += 2;
    if (i + count * asSize > end) return undefined;
    const asns = new Array<number>(count);
    if (asSize === 4) {
      for (let k = 0; k < count; k++, i += 4) asns[k] = u32(b, i);
    } else {
      for (let k = 0; k < count; k++, i += 2) asns[k] = (b[i] << 8) | b[i + 1];
    }
    segments.push({ type: type as SegmentType, asns });
  }
  return segments;
}

function decodeNextHops(v: Uint8Array, at: number, len: number): string[] | undefined {
  // An IPv4 next hop is also accepted for IPv6 NLRI, as ExaBGP sends it (the text keeps the distinction).
  if (len === 4) return [ipv4ToString(v, at)];
  // RFC 2545 §3 (global + link-local), RFC 8950 §3 (IPv6 next hop for IPv4 NLRI).
  if (len === 16) return [ipv6ToString(v, at)];
  if (len === 32) return [ipv6ToString(v, at), ipv6ToString(v, at + 16)];
  return undefined;
}

/** Families whose MP_REACH/MP_UNREACH the codec interprets; others stay raw attributes. */
function interpretedFamily(afi: number, safi: number): boolean {
  return (afi === 1 || afi === 2) && (safi === 1 || safi === 2);
}

/**
 * Decodes the Path Attributes field of an UPDATE (or the attributes of an MRT RIB entry).
 *
 * Every problem becomes a {@linkcode BgpError} in `errors` with the RFC 4271 §6.3 subcode and data (the
 * erroneous attribute, flags to value) and the RFC 7606 §7 action; attributes that were discarded or found
 * malformed are left out of `attributes`. Missing well-known attributes are checked by `decodeUpdate`,
 * which knows whether NLRI are present. When `ctx.fourOctetAs` is false, AS4_PATH and AS4_AGGREGATOR are
 * merged into `asPath` and `aggregator` (RFC 6793 §4.2.3) and also kept as received.
 *
 * @example
 * ```ts
 * import { DEFAULT_DECODE_CONTEXT } from "./types.ts";
 * const { attributes, errors } = decodePathAttributes(new Uint8Array([0x40, 1, 1, 0]), DEFAULT_DECODE_CONTEXT);
 * // attributes.origin === 0, errors.length === 0
 * ```
 */
export function decodePathAttributes(
  bytes: Uint8Array,
  ctx: DecodeContext,
  opts?: AttributeDecodeOptions,
): DecodedAttributes {
  return decodePathAttributeRange(bytes, 0, bytes.length, ctx, opts);
}

/** {@linkcode decodePathAttributes} of `bytes[start..end)`, without making a view of the field. */
export function decodePathAttributeRange(
  bytes: Uint8Array,
  start: number,
  end: number,
  ctx: DecodeContext,
  opts?: AttributeDecodeOptions,
): DecodedAttributes {
  const attributes: PathAttributes = {};
  const errors: BgpError[] = [];
  const mrt = opts?.mrtRibEntry === true;
  const asSize = mrt || ctx.fourOctetAs ? 4 : 2;
  // Attribute codes seen so far: one bit each for 0-63 (no allocation in the common case).
  let seenLow = 0;
  let seenMid = 0;
  let seenHigh: Uint8Array | undefined;
  const n = end;
  let i = start;
  while (i < n) {
    if (i + 3 > n || ((bytes[i] & X) && i + 4 > n)) {
      // RFC 7606 §4: too few octets left for an attribute header.
      errors.push(updateError(
        UpdateSubcode.MALFORMED_ATTRIBUTE_LIST,
        undefined,
        "treat-as-withdraw",
        "Truncated path attribute header",
      ));
      break;
    }
    const flags = bytes[i];
    const code = bytes[i + 1];
    const hdr = flags & X ? 4 : 3;
    const len = hdr === 4 ? (bytes[i + 2] << 8) | bytes[i + 3] : bytes[i + 2];
    if (i + hdr + len > n) {
      // RFC 7606 §4: the attribute runs past the attribute field.
      errors.push(updateError(
        UpdateSubcode.ATTRIBUTE_LENGTH_ERROR,
        bytes.slice(i, n),
        "treat-as-withdraw",
        `Attribute ${code} length ${len} runs past the attribute field`,
      ));
      break;
    }
    const at = i;
    const s = i + hdr;
    i = s + len;

    let repeated: boolean;
    if (code < 32) {
      repeated = (seenLow & (1 << code)) !== 0;
      seenLow |= 1 << code;
    } else if (code < 64) {
      repeated = (seenMid & (1 << (code - 32))) !== 0;
      seenMid |= 1 << (code - 32);
    } else {
      seenHigh ??= new Uint8Array(256);
      repeated = seenHigh[code] !== 0;
      seenHigh[code] = 1;
    }
    if (repeated) {
      // RFC 7606 §3 (g): a repeated MP_REACH/MP_UNREACH is fatal; any other repeat is discarded.
      const fatal = code === AttrCode.MP_REACH_NLRI || code === AttrCode.MP_UNREACH_NLRI;
      errors.push(updateError(
        UpdateSubcode.MALFORMED_ATTRIBUTE_LIST,
        undefined,
        fatal ? "session-reset" : "attribute-discard",
        `Attribute ${code} appears more than once`,
      ));
      continue;
    }

    const expected = EXPECTED_FLAGS[code];
    if (expected === undefined) {
      if (!(flags & O)) {
        // RFC 4271 §6.3: an unrecognized well-known attribute.
        errors.push(updateError(
          UpdateSubcode.UNRECOGNIZED_WELL_KNOWN_ATTRIBUTE,
          bytes.slice(at, i),
          "session-reset",
          `Unrecognized well-known attribute ${code}`,
        ));
        continue;
      }
      (attributes.unknown ??= []).push({ flags: flags & ~X, code, value: bytes.slice(s, s + len) });
      continue;
    }

    const action = MALFORMED_ACTION[code];
    // RFC 4271 §4.3: Partial is 0 for well-known and optional non-transitive attributes.
    if ((flags & (O | T)) !== expected || ((flags & P) && expected !== (O | T))) {
      errors.push(updateError(
        UpdateSubcode.ATTRIBUTE_FLAGS_ERROR,
        bytes.slice(at, i),
        action,
        `Attribute ${code} flags 0x${flags.toString(16)} conflict with its type`,
      ));
      continue;
    }
    if (flags & P) (attributes.partial ??= []).push(code);
    switch (code) {
      case AttrCode.ORIGIN:
        if (len !== 1) errors.push(lengthError(bytes, at, i, code, len, "1", action));
        else if (bytes[s] > 2) {
          errors.push(updateError(
            UpdateSubcode.INVALID_ORIGIN_ATTRIBUTE,
            bytes.slice(at, i),
            action,
            `Undefined ORIGIN value ${bytes[s]}`,
          ));
        } else attributes.origin = bytes[s] as 0 | 1 | 2;
        break;
      case AttrCode.AS_PATH: {
        const segs = decodeSegments(bytes, s, i, asSize, true);
        if (segs === undefined) {
          // RFC 4271 §6.3: Malformed AS_PATH carries no data.
          errors.push(updateError(UpdateSubcode.MALFORMED_AS_PATH, undefined, action, "Malformed AS_PATH"));
        } else attributes.asPath = segs;
        break;
      }
      case AttrCode.NEXT_HOP:
        if (len !== 4) errors.push(lengthError(bytes, at, i, code, len, "4", action));
        else attributes.nextHop = ipv4ToString(bytes, s);
        break;
      case AttrCode.MULTI_EXIT_DISC:
        if (len !== 4) errors.push(lengthError(bytes, at, i, code, len, "4", action));
        else attributes.med = u32(bytes, s);
        break;
      case AttrCode.LOCAL_PREF:
        if (len !== 4) errors.push(lengthError(bytes, at, i, code, len, "4", action));
        else attributes.localPref = u32(bytes, s);
        break;
      case AttrCode.ATOMIC_AGGREGATE:
        if (len !== 0) errors.push(lengthError(bytes, at, i, code, len, "0", action));
        else attributes.atomicAggregate = true;
        break;
      case AttrCode.AGGREGATOR: {
        // RFC 6396 §4.3.4 writers differ; in an MRT RIB entry accept either size.
        const want = mrt ? (len === 6 ? 6 : 8) : asSize === 4 ? 8 : 6;
        if (len !== want) errors.push(lengthError(bytes, at, i, code, len, String(want), action));
        else {
          const asn = want === 8 ? u32(bytes, s) : (bytes[s] << 8) | bytes[s + 1];
          attributes.aggregator = { asn, address: ipv4ToString(bytes, s + want - 4) };
        }
        break;
      }
      case AttrCode.COMMUNITIES:
        if (len === 0 || len % 4 !== 0) {
          errors.push(lengthError(bytes, at, i, code, len, "a non-zero multiple of 4", action));
        } else {
          const list = new Array<number>(len >> 2);
          for (let k = 0; k < list.length; k++) list[k] = u32(bytes, s + 4 * k);
          attributes.communities = list;
        }
        break;
      case AttrCode.ORIGINATOR_ID:
        if (len !== 4) errors.push(lengthError(bytes, at, i, code, len, "4", action));
        else attributes.originatorId = ipv4ToString(bytes, s);
        break;
      case AttrCode.CLUSTER_LIST:
        if (len === 0 || len % 4 !== 0) {
          errors.push(lengthError(bytes, at, i, code, len, "a non-zero multiple of 4", action));
        } else {
          const list = new Array<string>(len >> 2);
          for (let k = 0; k < list.length; k++) list[k] = ipv4ToString(bytes, s + 4 * k);
          attributes.clusterList = list;
        }
        break;
      case AttrCode.MP_REACH_NLRI:
        decodeMpReach(bytes, at, s, len, flags, ctx, mrt, opts, attributes, errors);
        break;
      case AttrCode.MP_UNREACH_NLRI:
        decodeMpUnreach(bytes, at, s, len, flags, ctx, opts?.validateOnly === true, attributes, errors);
        break;
      case AttrCode.EXTENDED_COMMUNITIES:
        if (len === 0 || len % 8 !== 0) {
          errors.push(lengthError(bytes, at, i, code, len, "a non-zero multiple of 8", action));
        } else {
          const list = new Array<Uint8Array>(len >> 3);
          for (let k = 0; k < list.length; k++) list[k] = bytes.slice(s + 8 * k, s + 8 * k + 8);
          attributes.extendedCommunities = list;
        }
        break;
      case AttrCode.AS4_PATH: {
        // RFC 6793 §6: confederation segments in AS4_PATH make it malformed.
        const segs = decodeSegments(bytes, s, i, 4, false);
        if (segs === undefined) {
          errors.push(
            updateError(
              UpdateSubcode.OPTIONAL_ATTRIBUTE_ERROR,
              bytes.slice(at, i),
              action,
              "Malformed AS4_PATH",
            ),
          );
        } else attributes.as4Path = segs;
        break;
      }
      case AttrCode.AS4_AGGREGATOR:
        if (len !== 8) errors.push(lengthError(bytes, at, i, code, len, "8", action));
        else attributes.as4Aggregator = { asn: u32(bytes, s), address: ipv4ToString(bytes, s + 4) };
        break;
      case AttrCode.LARGE_COMMUNITY:
        if (len === 0 || len % 12 !== 0) {
          errors.push(lengthError(bytes, at, i, code, len, "a non-zero multiple of 12", action));
        } else {
          const list = new Array<[number, number, number]>(len / 12);
          for (let k = 0; k < list.length; k++) {
            const o = s + 12 * k;
            list[k] = [u32(bytes, o), u32(bytes, o + 4), u32(bytes, o + 8)];
          }
          attributes.largeCommunities = list;
        }
        break;
    }
  }
  if (asSize === 2) mergeAs4(attributes);
  return { attributes, errors };
}

/** RFC 4271 §6.3 Attribute Length Error: the data is the whole attribute `bytes[at..end)`. */
function lengthError(
  bytes: Uint8Array,
  at: number,
  end: number,
  code: number,
  len: number,
  want: string,
  action: ErrorAction,
): BgpError {
  return updateError(
    UpdateSubcode.ATTRIBUTE_LENGTH_ERROR,
    bytes.slice(at, end),
    action,
    `Attribute ${code} length ${len}, expected ${want}`,
  );
}

/** RFC 7606 §7.11, RFC 4760 §7: a malformed MP_REACH_NLRI/MP_UNREACH_NLRI resets the session. */
function mpError(b: Uint8Array, at: number, end: number, reason: string): BgpError {
  return updateError(UpdateSubcode.OPTIONAL_ATTRIBUTE_ERROR, b.slice(at, end), "session-reset", reason);
}

function decodeMpReach(
  b: Uint8Array,
  at: number,
  s: number,
  len: number,
  flags: number,
  ctx: DecodeContext,
  mrt: boolean,
  opts: AttributeDecodeOptions | undefined,
  attributes: PathAttributes,
  errors: BgpError[],
): void {
  if (mrt && len >= 1 && b[s] + 1 === len) {
    // RFC 6396 §4.3.4: only the next hop length and the next hop.
    const nhLen = b[s];
    const afi = opts?.mrtFamily?.afi ?? (nhLen === 4 ? 1 : 2);
    const safi = opts?.mrtFamily?.safi ?? 1;
    const nextHops = decodeNextHops(b, s + 1, nhLen);
    if (nextHops === undefined) {
      return void errors.push(mpError(b, at, s + len, `Unsupported MP_REACH_NLRI next hop length ${nhLen}`));
    }
    attributes.mpReach = { afi, safi, nextHops, nlri: [] };
    return;
  }
  if (len < 5) return void errors.push(mpError(b, at, s + len, "MP_REACH_NLRI shorter than 5 octets"));
  const afi = (b[s] << 8) | b[s + 1];
  const safi = b[s + 2];
  const nhLen = b[s + 3];
  if (4 + nhLen + 1 > len) {
    return void errors.push(
      mpError(b, at, s + len, `MP_REACH_NLRI next hop length ${nhLen} runs past the end`),
    );
  }
  if (!interpretedFamily(afi, safi)) {
    (attributes.unknown ??= []).push({
      flags: flags & ~X,
      code: AttrCode.MP_REACH_NLRI,
      value: b.slice(s, s + len),
    });
    return;
  }
  const nextHops = decodeNextHops(b, s + 4, nhLen);
  // RFC 7606 §7.11: a next hop length inconsistent with the AFI/SAFI.
  if (nextHops === undefined) {
    return void errors.push(
      mpError(b, at, s + len, `MP_REACH_NLRI next hop length ${nhLen} invalid for AFI ${afi}`),
    );
  }
  const addPath = hasAddPath(ctx, afi, safi);
  const from = s + 5 + nhLen;
  const nlri = opts?.validateOnly
    ? validated(b, from, s + len, afi as Afi, addPath)
    : decodePrefixRange(b, from, s + len, afi as Afi, addPath);
  if (!nlri.ok) return void errors.push(mpError(b, at, s + len, `MP_REACH_NLRI: ${nlri.error.reason}`));
  attributes.mpReach = { afi: afi as Afi, safi, nextHops, nlri: nlri.value };
}

function decodeMpUnreach(
  b: Uint8Array,
  at: number,
  s: number,
  len: number,
  flags: number,
  ctx: DecodeContext,
  validateOnly: boolean,
  attributes: PathAttributes,
  errors: BgpError[],
): void {
  if (len < 3) {
    errors.push(mpError(b, at, s + len, "MP_UNREACH_NLRI shorter than 3 octets"));
    return;
  }
  const afi = (b[s] << 8) | b[s + 1];
  const safi = b[s + 2];
  if (!interpretedFamily(afi, safi)) {
    (attributes.unknown ??= []).push({
      flags: flags & ~X,
      code: AttrCode.MP_UNREACH_NLRI,
      value: b.slice(s, s + len),
    });
    return;
  }
  const addPath = hasAddPath(ctx, afi, safi);
  const withdrawn = validateOnly
    ? validated(b, s + 3, s + len, afi as Afi, addPath)
    : decodePrefixRange(b, s + 3, s + len, afi as Afi, addPath);
  if (!withdrawn.ok) {
    errors.push(mpError(b, at, s + len, `MP_UNREACH_NLRI: ${withdrawn.error.reason}`));
    return;
  }
  attributes.mpUnreach = { afi: afi as Afi, safi, withdrawn: withdrawn.value };
}

/** Validates a prefix field without building prefixes: an empty list, or the error. */
function validated(b: Uint8Array, start: number, end: number, afi: Afi, addPath: boolean): Decoded<Prefix[]> {
  const count = countPrefixRange(b, start, end, afi, addPath);
  return typeof count === "number" ? { ok: true, value: [] } : count;
}

function pathLength(segments: readonly AsPathSegment[]): number {
  let n = 0;
  for (const s of segments) {
    if (s.type === 2) n += s.asns.length;
    else if (s.type === 1) n += 1;
  }
  return n;
}

/** RFC 6793 §4.2.3: rebuilds the 4-octet path and aggregator from a 2-octet peer's attributes. */
function mergeAs4(a: PathAttributes): void {
  if (a.aggregator !== undefined && a.as4Aggregator !== undefined) {
    if (a.aggregator.asn !== AS_TRANS) return; // AS4_AGGREGATOR and AS4_PATH are ignored.
    a.aggregator = a.as4Aggregator;
  }
  if (a.asPath === undefined || a.as4Path === undefined) return;
  const have = pathLength(a.asPath);
  const have4 = pathLength(a.as4Path);
  if (have < have4) return; // AS4_PATH is ignored.
  let keep = have - have4;
  const merged: AsPathSegment[] = [];
  for (const s of a.asPath) {
    if (s.type > 2) {
      // Confederation segments are not counted and stay in front.
      if (keep > 0 || merged.length === 0) merged.push(s);
      continue;
    }
    if (keep === 0) break;
    if (s.type === 1) {
      merged.push(s);
      keep--;
    } else if (s.asns.length <= keep) {
      merged.push(s);
      keep -= s.asns.length;
    } else {
      merged.push({ type: s.type, asns: s.asns.slice(0, keep) });
      keep = 0;
    }
  }
  for (const s of a.as4Path) {
    const last = merged[merged.length - 1];
    if (last !== undefined && last.type === 2 && s.type === 2 && last.asns.length + s.asns.length <= 255) {
      merged[merged.length - 1] = { type: 2, asns: [...last.asns, ...s.asns] };
    } else merged.push(s);
  }
  a.asPath = merged;
}

// ---------------------------------------------------------------------------------------------------------
// Encoding

/** Options of {@linkcode encodePathAttributes}. */
export interface AttributeEncodeOptions {
  /**
   * Set the Partial bit on unknown optional transitive attributes, as a speaker passing them on must
   * (RFC 4271 §5). Default true; false re-encodes them with their flags as received.
   */
  readonly markPartial?: boolean;
}

/** Starts an attribute with a 2-octet length; {@linkcode endAttr} shrinks it to 1 octet when it fits. */
function beginAttr(w: WireWriter, flags: number, code: number): number {
  w.u8(flags | X);
  w.u8(code);
  w.u16(0);
  return w.length;
}

function endAttr(w: WireWriter, valueStart: number): void {
  const len = w.length - valueStart;
  if (len > 0xffff) throw new RangeError(`Path attribute of ${len} octets exceeds 65535`);
  if (len <= 255) {
    // Canonical form: the Extended Length bit only when the value needs it.
    w.patchU8(valueStart - 4, w.buffer[valueStart - 4] & ~X);
    w.patchU8(valueStart - 2, len);
    w.shiftBack(valueStart, 1);
  } else w.patchU16(valueStart - 2, len);
}

function writeSegments(w: WireWriter, segments: readonly AsPathSegment[], four: boolean): void {
  for (const s of segments) {
    // RFC 4271 §4.3: a segment holds at most 255 AS numbers; longer ones are split.
    for (let at = 0; at < s.asns.length; at += 255) {
      const part = s.asns.length - at > 255 ? 255 : s.asns.length - at;
      w.u8(s.type);
      w.u8(part);
      for (let k = at; k < at + part; k++) {
        const asn = s.asns[k];
        if (four) w.u32(asn);
        else w.u16(asn > 0xffff ? AS_TRANS : asn);
      }
    }
  }
}

function needsAs4(segments: readonly AsPathSegment[]): boolean {
  for (const s of segments) for (const a of s.asns) if (a > 0xffff) return true;
  return false;
}

/** Appends dotted-quad text as 4 octets. */
function writeIpv4(w: WireWriter, text: string): void {
  w.ensure(4);
  if (!writeIpv4Text(text, w.buffer, w.length)) throw new RangeError(`Invalid IPv4 address "${text}"`);
  w.skip(4);
}

/** Appends the Next Hop field of MP_REACH_NLRI (length octet, then the addresses). */
export function writeNextHops(w: WireWriter, nextHops: readonly string[]): void {
  const lengthAt = w.length;
  w.u8(0);
  for (const text of nextHops) {
    if (text.includes(":")) {
      w.ensure(16);
      if (!writeIpv6Text(text, w.buffer, w.length)) throw new RangeError(`Invalid next hop "${text}"`);
      w.skip(16);
    } else writeIpv4(w, text);
  }
  w.patchU8(lengthAt, w.length - lengthAt - 1);
}

/** The Next Hop field of MP_REACH_NLRI (without its length octet) for the given textual next hops. */
export function encodeNextHops(nextHops: readonly string[]): Uint8Array {
  const w = new WireWriter(32);
  writeNextHops(w, nextHops);
  return w.finish().subarray(1);
}

function writeMpReach(w: WireWriter, m: MpReach, addPath: boolean): void {
  const at = beginAttr(w, O, AttrCode.MP_REACH_NLRI);
  w.u16(m.afi);
  w.u8(m.safi);
  writeNextHops(w, m.nextHops);
  w.u8(0);
  writePrefixList(w, m.nlri, addPath);
  endAttr(w, at);
}

function writeMpUnreach(w: WireWriter, m: MpUnreach, addPath: boolean): void {
  const at = beginAttr(w, O, AttrCode.MP_UNREACH_NLRI);
  w.u16(m.afi);
  w.u8(m.safi);
  writePrefixList(w, m.withdrawn, addPath);
  endAttr(w, at);
}

function writePrefixList(w: WireWriter, list: readonly Prefix[], addPath: boolean): void {
  const size = prefixesByteLength(list, addPath);
  w.ensure(size);
  let o = w.length;
  const buf = w.buffer;
  for (let k = 0; k < list.length; k++) o = writePrefix(buf, o, list[k], addPath);
  w.skip(size);
}

function writeAggregator(
  w: WireWriter,
  code: number,
  a: Aggregator,
  four: boolean,
  partial: readonly number[],
): void {
  const at = beginAttr(w, partial.includes(code) ? O | T | P : O | T, code);
  if (four) w.u32(a.asn);
  else w.u16(a.asn > 0xffff ? AS_TRANS : a.asn);
  writeIpv4(w, a.address);
  endAttr(w, at);
}

function writeRaw(w: WireWriter, r: RawAttribute, markPartial: boolean): void {
  let flags = r.flags & ~X;
  if (markPartial && (flags & (O | T)) === (O | T)) flags |= P;
  const at = beginAttr(w, flags, r.code);
  w.bytes(r.value);
  endAttr(w, at);
}

/**
 * Appends the encoded attributes to `w`, MP_REACH_NLRI and MP_UNREACH_NLRI first (RFC 7606 §5.1), then
 * the others in ascending type code (RFC 4271 §5). Towards a 2-octet peer (`ctx.fourOctetAs` false),
 * 4-octet AS numbers become AS_TRANS and AS4_PATH/AS4_AGGREGATOR are added unless given (RFC 6793 §4.2.2).
 * Empty community lists are left out (an empty COMMUNITIES attribute is malformed, RFC 7606 §7.8).
 * Throws a RangeError for values that cannot be encoded (bad address text, oversize attribute).
 */
export function writePathAttributes(
  w: WireWriter,
  a: PathAttributes,
  ctx: DecodeContext,
  opts?: AttributeEncodeOptions,
): void {
  const four = ctx.fourOctetAs;
  const markPartial = opts?.markPartial ?? true;
  const items: { key: number; write: () => void }[] = [];
  const add = (key: number, write: () => void) => items.push({ key, write });
  const partial = a.partial ?? [];
  const simple = (flags: number, code: number, body: () => void) =>
    add(code, () => {
      const at = beginAttr(w, partial.includes(code) ? flags | P : flags, code);
      body();
      endAttr(w, at);
    });
  if (a.mpReach !== undefined) {
    const m = a.mpReach;
    add(-2, () => writeMpReach(w, m, hasAddPath(ctx, m.afi, m.safi)));
  }
  if (a.mpUnreach !== undefined) {
    const m = a.mpUnreach;
    add(-1, () => writeMpUnreach(w, m, hasAddPath(ctx, m.afi, m.safi)));
  }
  if (a.origin !== undefined) simple(T, AttrCode.ORIGIN, () => w.u8(a.origin!));
  if (a.asPath !== undefined) {
    const path = a.asPath;
    simple(T, AttrCode.AS_PATH, () => writeSegments(w, path, four));
    if (!four && a.as4Path === undefined && needsAs4(path)) {
      // RFC 6793 §4.2.2: AS4_PATH carries no confederation segments.
      const as4 = path.filter((s) => s.type <= 2);
      simple(O | T, AttrCode.AS4_PATH, () => writeSegments(w, as4, true));
    }
  }
  if (a.nextHop !== undefined) simple(T, AttrCode.NEXT_HOP, () => writeIpv4(w, a.nextHop!));
  if (a.med !== undefined) simple(O, AttrCode.MULTI_EXIT_DISC, () => w.u32(a.med!));
  if (a.localPref !== undefined) simple(T, AttrCode.LOCAL_PREF, () => w.u32(a.localPref!));
  if (a.atomicAggregate) simple(T, AttrCode.ATOMIC_AGGREGATE, () => {});
  if (a.aggregator !== undefined) {
    const agg = a.aggregator;
    add(AttrCode.AGGREGATOR, () => writeAggregator(w, AttrCode.AGGREGATOR, agg, four, partial));
    if (!four && a.as4Aggregator === undefined && agg.asn > 0xffff) {
      add(AttrCode.AS4_AGGREGATOR, () => writeAggregator(w, AttrCode.AS4_AGGREGATOR, agg, true, partial));
    }
  }
  if (a.communities !== undefined && a.communities.length > 0) {
    const list = a.communities;
    simple(O | T, AttrCode.COMMUNITIES, () => {
      for (const c of list) w.u32(c);
    });
  }
  if (a.originatorId !== undefined) {
    simple(O, AttrCode.ORIGINATOR_ID, () => writeIpv4(w, a.originatorId!));
  }
  if (a.clusterList !== undefined && a.clusterList.length > 0) {
    const list = a.clusterList;
    simple(O, AttrCode.CLUSTER_LIST, () => {
      for (const c of list) writeIpv4(w, c);
    });
  }
  if (a.extendedCommunities !== undefined && a.extendedCommunities.length > 0) {
    const list = a.extendedCommunities;
    simple(O | T, AttrCode.EXTENDED_COMMUNITIES, () => {
      for (const c of list) {
        if (c.length !== 8) throw new RangeError(`Extended community of ${c.length} octets, expected 8`);
        w.bytes(c);
      }
    });
  }
  if (a.as4Path !== undefined) {
    const path = a.as4Path;
    simple(O | T, AttrCode.AS4_PATH, () => writeSegments(w, path, true));
  }
  if (a.as4Aggregator !== undefined) {
    const agg = a.as4Aggregator;
    add(AttrCode.AS4_AGGREGATOR, () => writeAggregator(w, AttrCode.AS4_AGGREGATOR, agg, true, partial));
  }
  if (a.largeCommunities !== undefined && a.largeCommunities.length > 0) {
    const list = a.largeCommunities;
    simple(O | T, AttrCode.LARGE_COMMUNITY, () => {
      for (const c of list) {
        w.u32(c[0]);
        w.u32(c[1]);
        w.u32(c[2]);
      }
    });
  }
  for (const r of a.unknown ?? []) {
    const key = r.code === AttrCode.MP_REACH_NLRI ? -2 : r.code === AttrCode.MP_UNREACH_NLRI ? -1 : r.code;
    add(key, () => writeRaw(w, r, markPartial));
  }
  // Array.prototype.sort is stable: equal keys keep the order above.
  items.sort((x, y) => x.key - y.key);
  for (const it of items) it.write();
}

/** Reused by {@linkcode encodePathAttributes}, which copies its result out (encoding is synchronous). */
const SCRATCH = new WireWriter(4096);

/**
 * Encodes path attributes into the Path Attributes field of an UPDATE (see {@linkcode writePathAttributes}
 * for the order and the 2-octet AS handling).
 *
 * @example
 * ```ts
 * import { DEFAULT_DECODE_CONTEXT } from "./types.ts";
 * encodePathAttributes({ origin: 0, asPath: [], nextHop: "192.0.2.1" }, DEFAULT_DECODE_CONTEXT);
 * ```
 */
export function encodePathAttributes(
  attrs: PathAttributes,
  ctx: DecodeContext,
  opts?: AttributeEncodeOptions,
): Uint8Array {
  const w = SCRATCH;
  w.reset();
  writePathAttributes(w, attrs, ctx, opts);
  return w.finish();
}
