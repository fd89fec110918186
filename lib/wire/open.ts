/**
 * OPEN messages (RFC 4271 §4.2) with Capabilities optional parameters (RFC 5492) and the RFC 9072
 * extended optional parameters length.
 *
 * Decoding checks syntax only; what the values mean for the session (version, peer AS, hold time, BGP
 * identifier) is judged by the session's OPEN policy.
 *
 * @module
 */

import { ipv4ToString, parseIpv4 } from "./address.ts";
import { bgpError, failure, success } from "./error.ts";
import { decodeCapabilities, encodeCapabilities } from "./capabilities.ts";
import { type Capability, type Decoded, ErrorCode, type OpenMessage } from "./types.ts";
import { WireWriter } from "./writer.ts";

const CAPABILITIES_PARAM = 2;
/** RFC 9072 §2: a Non-Ext OP Type of 255 marks the extended form. */
const EXTENDED_PARAMS = 255;

function malformed(reason: string): Decoded<OpenMessage> {
  // RFC 4271 §6.2: a recognized but malformed optional parameter is an unspecific OPEN error (subcode 0).
  return failure(bgpError(ErrorCode.OPEN_MESSAGE, 0, undefined, "session-reset", reason));
}

/**
 * Decodes the body of an OPEN message (after the 19-octet header).
 *
 * @example
 * ```ts
 * const r = decodeOpen(encodeOpenBody({ type: 1, version: 4, asn: 65001, holdTime: 90, routerId: "192.0.2.1", capabilities: [] }));
 * ```
 */
export function decodeOpen(body: Uint8Array): Decoded<OpenMessage> {
  if (body.length < 10) return malformed(`OPEN body of ${body.length} octets is shorter than 10`);
  const version = body[0];
  const asn = (body[1] << 8) | body[2];
  const holdTime = (body[3] << 8) | body[4];
  const routerId = ipv4ToString(body, 5);
  let paramsLen = body[9];
  let at = 10;
  let extended = false;
  if (paramsLen === 255 && body.length > 10 && body[10] === EXTENDED_PARAMS) {
    // RFC 9072 §2: Non-Ext OP Len 255, Non-Ext OP Type 255, then a 2-octet Extended Opt. Parm. Length.
    if (body.length < 13) return malformed("Truncated extended optional parameters length");
    extended = true;
    paramsLen = (body[11] << 8) | body[12];
    at = 13;
  }
  if (at + paramsLen !== body.length) {
    return malformed(`Optional parameters length ${paramsLen} disagrees with the OPEN length`);
  }
  const capabilities: Capability[] = [];
  const otherParams: { type: number; value: Uint8Array }[] = [];
  const end = at + paramsLen;
  const hdr = extended ? 3 : 2;
  while (at < end) {
    if (at + hdr > end) return malformed("Truncated optional parameter header");
    const type = body[at];
    const len = extended ? (body[at + 1] << 8) | body[at + 2] : body[at + 1];
    if (at + hdr + len > end) return malformed(`Optional parameter ${type} runs past the parameters`);
    const v = body.subarray(at + hdr, at + hdr + len);
    at += hdr + len;
    if (type === CAPABILITIES_PARAM) {
      const caps = decodeCapabilities(v);
      if (caps === undefined) return malformed("Capability runs past its optional parameter");
      capabilities.push(...caps);
    } else otherParams.push({ type, value: v.slice() });
  }
  const open: OpenMessage = otherParams.length > 0
    ? { type: 1, version, asn, holdTime, routerId, capabilities, otherParams }
    : { type: 1, version, asn, holdTime, routerId, capabilities };
  return success(open);
}

/**
 * Encodes the body of an OPEN message, each capability in its own Capabilities parameter; when the
 * parameters exceed 255 octets the RFC 9072 extended form is used. `asn` is written as given (use
 * AS_TRANS 23456 for a 4-octet AS, RFC 6793 §4.1). Throws a RangeError for an invalid router id.
 */
export function encodeOpenBody(open: OpenMessage): Uint8Array {
  // One Capabilities parameter per capability, as GoBGP and ExaBGP send them (RFC 5492 §4 allows both).
  const params: { type: number; value: Uint8Array }[] = open.capabilities.map((c) => ({
    type: CAPABILITIES_PARAM,
    value: encodeCapabilities([c]),
  }));
  for (const p of open.otherParams ?? []) params.push(p);
  const total = params.reduce((n, p) => n + 2 + p.value.length, 0);
  const extended = total > 255 || params.some((p) => p.value.length > 255);
  const id = parseIpv4(open.routerId);
  if (id === undefined) throw new RangeError(`Invalid BGP identifier "${open.routerId}"`);
  const w = new WireWriter(32 + total);
  w.u8(open.version);
  w.u16(open.asn);
  w.u16(open.holdTime);
  w.bytes(id);
  if (extended) {
    w.u8(255);
    w.u8(EXTENDED_PARAMS);
    w.u16(total + params.length);
    for (const p of params) {
      w.u8(p.type);
      w.u16(p.value.length);
      w.bytes(p.value);
    }
  } else {
    w.u8(total);
    for (const p of params) {
      w.u8(p.type);
      w.u8(p.value.length);
      w.bytes(p.value);
    }
  }
  return w.finish();
}
