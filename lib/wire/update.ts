/**
 * UPDATE messages (RFC 4271 §4.3) with the RFC 7606 revised error handling, and End-of-RIB (RFC 4724 §2).
 *
 * @module
 */

import {
  type AttributeEncodeOptions,
  decodePathAttributeRange,
  hasAddPath,
  writePathAttributes,
} from "./attributes.ts";
import { failure, success, updateError, UpdateSubcode } from "./error.ts";
import { countPrefixRange, decodePrefixRange, prefixesByteLength, writePrefix } from "./nlri.ts";
import {
  AttrCode,
  type BgpError,
  type DecodeContext,
  type Decoded,
  type Family,
  type PathAttributes,
  type Prefix,
  type UpdateMessage,
} from "./types.ts";
import { WireWriter } from "./writer.ts";

/** A decoded UPDATE with the errors that did not end the session (RFC 7606 §2). */
export interface DecodedUpdate {
  /** The message as decoded (attributes that were discarded are left out). */
  readonly update: UpdateMessage;
  /**
   * Set when RFC 7606 treat-as-withdraw applies: every prefix announced by this UPDATE (NLRI field and
   * MP_REACH_NLRI) must be handled as withdrawn. `update` is still the message as decoded.
   */
  readonly treatAsWithdraw?: BgpError;
  /** Attributes that were dropped (RFC 7606 attribute-discard); the rest of the UPDATE stands. */
  readonly discarded: BgpError[];
}

function u16(b: Uint8Array, i: number): number {
  return (b[i] << 8) | b[i + 1];
}

function malformedList(reason: string): Decoded<DecodedUpdate> {
  // RFC 4271 §6.3, RFC 7606 §5.1: lengths that do not add up leave nothing trustworthy: reset.
  return failure(updateError(UpdateSubcode.MALFORMED_ATTRIBUTE_LIST, undefined, "session-reset", reason));
}

function missing(code: number): BgpError {
  // RFC 4271 §6.3: the data is the type code of the missing attribute; RFC 7606 §3 (d): treat-as-withdraw.
  return updateError(
    UpdateSubcode.MISSING_WELL_KNOWN_ATTRIBUTE,
    new Uint8Array([code]),
    "treat-as-withdraw",
    `Missing well-known attribute ${code}`,
  );
}

/**
 * Decodes the body of an UPDATE (after the 19-octet header). A malformed withdrawn routes or NLRI field,
 * inconsistent lengths, or an attribute error whose RFC 7606 action is session reset, yields that error;
 * everything else yields the message with any treat-as-withdraw and attribute-discard errors.
 *
 * @example
 * ```ts
 * import { DEFAULT_DECODE_CONTEXT } from "./types.ts";
 * const r = decodeUpdate(new Uint8Array([0, 0, 0, 0]), DEFAULT_DECODE_CONTEXT);
 * // r.ok && isEndOfRib(r.value.update) => { afi: 1, safi: 1 }
 * ```
 */
export function decodeUpdate(body: Uint8Array, ctx: DecodeContext): Decoded<DecodedUpdate> {
  return decodeOrValidate(body, ctx, false);
}

/**
 * Checks an UPDATE exactly as {@linkcode decodeUpdate} does, with the same errors, but without building
 * the prefixes: `withdrawn`, `nlri` and the MP_REACH/MP_UNREACH prefix lists come back empty. For a
 * speaker that does not keep received routes, this is the fast path: it only needs to know whether the
 * UPDATE is well-formed.
 */
export function validateUpdate(body: Uint8Array, ctx: DecodeContext): Decoded<DecodedUpdate> {
  return decodeOrValidate(body, ctx, true);
}

const VALIDATE_ONLY = { validateOnly: true };

function prefixField(
  body: Uint8Array,
  start: number,
  end: number,
  addPath: boolean,
  validateOnly: boolean,
): Decoded<Prefix[]> {
  if (!validateOnly) return decodePrefixRange(body, start, end, 1, addPath);
  const count = countPrefixRange(body, start, end, 1, addPath);
  return typeof count === "number" ? { ok: true, value: [] } : count;
}

function decodeOrValidate(
  body: Uint8Array,
  ctx: DecodeContext,
  validateOnly: boolean,
): Decoded<DecodedUpdate> {
  const n = body.length;
  if (n < 4) return malformedList(`UPDATE body of ${n} octets is shorter than 4`);
  const wlen = u16(body, 0);
  if (2 + wlen + 2 > n) return malformedList(`Withdrawn Routes Length ${wlen} exceeds the message`);
  const alen = u16(body, 2 + wlen);
  const attrStart = 4 + wlen;
  if (attrStart + alen > n) return malformedList(`Total Path Attribute Length ${alen} exceeds the message`);
  const v4AddPath = hasAddPath(ctx, 1, 1);
  const withdrawn = prefixField(body, 2, 2 + wlen, v4AddPath, validateOnly);
  if (!withdrawn.ok) return failure(withdrawn.error);
  const nlriStart = attrStart + alen;
  const hasNlri = nlriStart < n;
  const nlri = prefixField(body, nlriStart, n, v4AddPath, validateOnly);
  if (!nlri.ok) return failure(nlri.error);
  const { attributes, errors } = alen === 0
    ? { attributes: {} as PathAttributes, errors: [] as BgpError[] }
    : decodePathAttributeRange(
      body,
      attrStart,
      attrStart + alen,
      ctx,
      validateOnly ? VALIDATE_ONLY : undefined,
    );
  let treatAsWithdraw: BgpError | undefined;
  const discarded: BgpError[] = [];
  for (const e of errors) {
    if (e.action === "session-reset") return failure(e);
    if (e.action === "treat-as-withdraw") treatAsWithdraw ??= e;
    else discarded.push(e);
  }
  // RFC 4271 §5 and RFC 4760 §3: ORIGIN and AS_PATH come with any announcement, NEXT_HOP with NLRI-field
  // prefixes. RFC 7606 §3 (d): only when there is something to announce.
  if (treatAsWithdraw === undefined) {
    const announces = hasNlri || attributes.mpReach !== undefined ||
      (attributes.unknown?.some((r) => r.code === AttrCode.MP_REACH_NLRI) ?? false);
    if (announces) {
      if (attributes.origin === undefined) treatAsWithdraw = missing(AttrCode.ORIGIN);
      else if (attributes.asPath === undefined) treatAsWithdraw = missing(AttrCode.AS_PATH);
      else if (hasNlri && attributes.nextHop === undefined) {
        treatAsWithdraw = missing(AttrCode.NEXT_HOP);
      }
    }
  }
  const update: UpdateMessage = { type: 2, withdrawn: withdrawn.value, attributes, nlri: nlri.value };
  return success(
    treatAsWithdraw === undefined ? { update, discarded } : { update, treatAsWithdraw, discarded },
  );
}

/**
 * The family an UPDATE marks as End-of-RIB (RFC 4724 §2), or undefined. IPv4 unicast: an UPDATE with no
 * withdrawn routes, attributes or NLRI. Any other family: an UPDATE whose only attribute is an empty
 * MP_UNREACH_NLRI (also for families the codec keeps raw).
 *
 * @example
 * ```ts
 * isEndOfRib({ type: 2, withdrawn: [], attributes: {}, nlri: [] }); // { afi: 1, safi: 1 }
 * ```
 */
export function isEndOfRib(update: UpdateMessage): Family | undefined {
  if (update.withdrawn.length > 0 || update.nlri.length > 0) return undefined;
  const a = update.attributes;
  const keys = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  if (keys.length === 0) return { afi: 1, safi: 1 };
  if (keys.length !== 1) return undefined;
  if (a.mpUnreach !== undefined) {
    return a.mpUnreach.withdrawn.length === 0 ? { afi: a.mpUnreach.afi, safi: a.mpUnreach.safi } : undefined;
  }
  if (a.unknown !== undefined && a.unknown.length === 1) {
    const r = a.unknown[0];
    if (r.code === AttrCode.MP_UNREACH_NLRI && r.value.length === 3) {
      // The codec's Afi type names IPv4 and IPv6; other AFIs are reported as their number.
      return { afi: u16(r.value, 0) as Family["afi"], safi: r.value[2] };
    }
  }
  return undefined;
}

/**
 * Encodes the body of an UPDATE: withdrawn routes, path attributes (see `writePathAttributes`), NLRI.
 * ADD-PATH path identifiers are written for the families listed in `ctx.addPath`. The caller keeps the
 * result within the negotiated message size (the packer does this for bulk announcements).
 */
export function encodeUpdateBody(
  update: UpdateMessage,
  ctx: DecodeContext,
  opts?: AttributeEncodeOptions,
): Uint8Array {
  const w = new WireWriter(256);
  writeUpdateBody(w, update, ctx, opts);
  return w.finish();
}

/** Appends the body of an UPDATE to `w` (see {@linkcode encodeUpdateBody}). */
export function writeUpdateBody(
  w: WireWriter,
  update: UpdateMessage,
  ctx: DecodeContext,
  opts?: AttributeEncodeOptions,
): void {
  const addPath = hasAddPath(ctx, 1, 1);
  writeLengthPrefixed(w, update.withdrawn, addPath);
  const at = w.length;
  w.u16(0);
  writePathAttributes(w, update.attributes, ctx, opts);
  const alen = w.length - at - 2;
  if (alen > 0xffff) throw new RangeError(`Path attributes of ${alen} octets exceed 65535`);
  w.patchU16(at, alen);
  writePrefixes(w, update.nlri, addPath);
}

function writeLengthPrefixed(w: WireWriter, list: UpdateMessage["withdrawn"], addPath: boolean): void {
  const size = prefixesByteLength(list, addPath);
  if (size > 0xffff) throw new RangeError(`Withdrawn routes of ${size} octets exceed 65535`);
  w.u16(size);
  writePrefixes(w, list, addPath);
}

function writePrefixes(w: WireWriter, list: UpdateMessage["nlri"], addPath: boolean): void {
  const size = prefixesByteLength(list, addPath);
  w.ensure(size);
  const buf = w.buffer;
  let o = w.length;
  for (let i = 0; i < list.length; i++) o = writePrefix(buf, o, list[i], addPath);
  w.skip(size);
}
