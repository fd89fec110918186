/**
 * BGP message framing (RFC 4271 §4.1): the header checks of §6.1, whole-message decode and encode, and
 * ready-made KEEPALIVE and End-of-RIB messages.
 *
 * @module
 */

import type { AttributeEncodeOptions } from "./attributes.ts";
import { bgpError, failure, HeaderSubcode, success, u16Data } from "./error.ts";
import { decodeNotification, encodeNotificationBody } from "./notification.ts";
import { decodeOpen, encodeOpenBody } from "./open.ts";
import { decodeRouteRefresh, encodeRouteRefreshBody } from "./route_refresh.ts";
import { decodeUpdate, writeUpdateBody } from "./update.ts";
import {
  type BgpError,
  type DecodeContext,
  type Decoded,
  ErrorCode,
  type Family,
  type Message,
  MessageType,
} from "./types.ts";
import { WireWriter } from "./writer.ts";

/** The fixed header: 16-octet marker, 2-octet length, 1-octet type. */
export const HEADER_LENGTH = 19;
/** The maximum message size without the extended message capability (RFC 4271 §4.1). */
export const MAX_MESSAGE_SIZE = 4096;
/** The maximum message size with the extended message capability (RFC 8654 §3). */
export const MAX_EXTENDED_MESSAGE_SIZE = 65535;

/** Per type, the smallest valid message length (RFC 4271 §4.2-§4.5, RFC 2918 §3). */
const MIN_LENGTH = [0, 29, 23, 21, 19, 19];

function headerError(subcode: number, data: Uint8Array | undefined, reason: string): BgpError {
  return bgpError(ErrorCode.MESSAGE_HEADER, subcode, data, "session-reset", reason);
}

/**
 * Checks the header of the message starting at `offset` and returns its total length, 0 when fewer than 19
 * octets are available yet, or the RFC 4271 §6.1 error: a marker that is not all ones (1/1 Connection Not
 * Synchronized), a bad length (1/2, data = the length field), a bad type (1/3, data = the type).
 * OPEN and KEEPALIVE never exceed 4096 octets, even with extended messages (RFC 8654 §4).
 *
 * @example
 * ```ts
 * frameLength(KEEPALIVE, 0, 4096); // 19
 * ```
 */
export function frameLength(buf: Uint8Array, offset: number, maxMessageSize: number): number | BgpError {
  if (buf.length - offset < HEADER_LENGTH) return 0;
  for (let i = 0; i < 16; i++) {
    if (buf[offset + i] !== 0xff) {
      return headerError(HeaderSubcode.CONNECTION_NOT_SYNCHRONIZED, undefined, "Marker is not all ones");
    }
  }
  const length = (buf[offset + 16] << 8) | buf[offset + 17];
  const type = buf[offset + 18];
  if (length < HEADER_LENGTH || length > maxMessageSize) {
    return headerError(HeaderSubcode.BAD_MESSAGE_LENGTH, u16Data(length), `Bad message length ${length}`);
  }
  if (type < MessageType.OPEN || type > MessageType.ROUTE_REFRESH) {
    return headerError(HeaderSubcode.BAD_MESSAGE_TYPE, new Uint8Array([type]), `Bad message type ${type}`);
  }
  if (
    length < MIN_LENGTH[type] || (type === MessageType.KEEPALIVE && length !== HEADER_LENGTH) ||
    ((type === MessageType.OPEN || type === MessageType.KEEPALIVE) && length > MAX_MESSAGE_SIZE)
  ) {
    return headerError(
      HeaderSubcode.BAD_MESSAGE_LENGTH,
      u16Data(length),
      `Bad message length ${length} for type ${type}`,
    );
  }
  return length;
}

/**
 * Decodes one whole message (header included; `buf` must hold exactly one message). Errors that RFC 7606
 * does not make fatal (treat-as-withdraw, attribute-discard) are appended to `nonFatal` when given; use
 * `decodeUpdate` directly to get them with the UPDATE.
 *
 * @example
 * ```ts
 * import { DEFAULT_DECODE_CONTEXT } from "./types.ts";
 * const r = decodeMessage(KEEPALIVE, DEFAULT_DECODE_CONTEXT); // { ok: true, value: { type: 4 } }
 * ```
 */
export function decodeMessage(buf: Uint8Array, ctx: DecodeContext, nonFatal?: BgpError[]): Decoded<Message> {
  const length = frameLength(buf, 0, ctx.maxMessageSize);
  if (length === 0) {
    return failure(
      headerError(HeaderSubcode.BAD_MESSAGE_LENGTH, undefined, "Message shorter than its header"),
    );
  }
  if (typeof length !== "number") return failure(length);
  if (length !== buf.length) {
    return failure(headerError(
      HeaderSubcode.BAD_MESSAGE_LENGTH,
      u16Data(length),
      `Length field ${length} disagrees with the ${buf.length} octets given`,
    ));
  }
  const body = buf.subarray(HEADER_LENGTH);
  switch (buf[18]) {
    case MessageType.OPEN:
      return decodeOpen(body);
    case MessageType.UPDATE: {
      const r = decodeUpdate(body, ctx);
      if (!r.ok) return r;
      if (nonFatal !== undefined) {
        if (r.value.treatAsWithdraw !== undefined) nonFatal.push(r.value.treatAsWithdraw);
        nonFatal.push(...r.value.discarded);
      }
      return success(r.value.update);
    }
    case MessageType.NOTIFICATION:
      return success(decodeNotification(body));
    case MessageType.KEEPALIVE:
      return success({ type: 4 });
    default:
      return decodeRouteRefresh(body, buf);
  }
}

/** Reused by {@linkcode encodeMessage}, which copies its result out (encoding is synchronous). */
const SCRATCH = new WireWriter(4096);

function writeHeader(w: WireWriter, type: number): void {
  for (let i = 0; i < 4; i++) w.u32(0xffffffff);
  w.u16(0);
  w.u8(type);
}

/**
 * Encodes one message with its header. ADD-PATH path identifiers are written for `ctx.addPath` families
 * and AS numbers in 2 or 4 octets per `ctx.fourOctetAs`. Throws a RangeError when the message exceeds
 * `ctx.maxMessageSize` (4096 for OPEN) or holds values that cannot be encoded.
 *
 * @example
 * ```ts
 * import { DEFAULT_DECODE_CONTEXT } from "./types.ts";
 * encodeMessage({ type: 4 }, DEFAULT_DECODE_CONTEXT); // the 19-octet KEEPALIVE
 * ```
 */
export function encodeMessage(msg: Message, ctx: DecodeContext, opts?: AttributeEncodeOptions): Uint8Array {
  const w = SCRATCH;
  w.reset();
  writeHeader(w, msg.type);
  switch (msg.type) {
    case MessageType.OPEN:
      w.bytes(encodeOpenBody(msg));
      break;
    case MessageType.UPDATE:
      writeUpdateBody(w, msg, ctx, opts);
      break;
    case MessageType.NOTIFICATION:
      w.bytes(encodeNotificationBody(msg));
      break;
    case MessageType.KEEPALIVE:
      break;
    case MessageType.ROUTE_REFRESH:
      w.bytes(encodeRouteRefreshBody(msg));
      break;
  }
  const max = msg.type === MessageType.OPEN ? MAX_MESSAGE_SIZE : ctx.maxMessageSize;
  if (w.length > max) throw new RangeError(`Message of ${w.length} octets exceeds ${max}`);
  w.patchU16(16, w.length);
  return w.finish();
}

/** The KEEPALIVE message (RFC 4271 §4.4). Shared: do not modify. */
export const KEEPALIVE: Uint8Array = encodeMessage({ type: 4 }, {
  fourOctetAs: true,
  addPath: [],
  maxMessageSize: 19,
});

const END_OF_RIB_CONTEXT: DecodeContext = { fourOctetAs: true, addPath: [], maxMessageSize: 4096 };

/**
 * The End-of-RIB marker of a family (RFC 4724 §2): an empty UPDATE for IPv4 unicast, otherwise an UPDATE
 * whose only attribute is an MP_UNREACH_NLRI without prefixes.
 *
 * @example
 * ```ts
 * endOfRib({ afi: 2, safi: 1 }).length; // 30
 * ```
 */
export function endOfRib(family: Family): Uint8Array {
  if (family.afi === 1 && family.safi === 1) {
    return encodeMessage({ type: 2, withdrawn: [], attributes: {}, nlri: [] }, END_OF_RIB_CONTEXT);
  }
  return encodeMessage({
    type: 2,
    withdrawn: [],
    attributes: { mpUnreach: { afi: family.afi, safi: family.safi, withdrawn: [] } },
    nlri: [],
  }, END_OF_RIB_CONTEXT);
}

/** The IPv4 unicast End-of-RIB (an empty UPDATE). Shared: do not modify. */
export const END_OF_RIB_IPV4_UNICAST: Uint8Array = endOfRib({ afi: 1, safi: 1 });
/** The IPv6 unicast End-of-RIB. Shared: do not modify. */
export const END_OF_RIB_IPV6_UNICAST: Uint8Array = endOfRib({ afi: 2, safi: 1 });
