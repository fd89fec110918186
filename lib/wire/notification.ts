/**
 * NOTIFICATION messages (RFC 4271 §4.5) with the shutdown communication of RFC 9003 (Cease subcodes 2
 * Administrative Shutdown and 4 Administrative Reset).
 *
 * @module
 */

import { CeaseSubcode } from "./error.ts";
import { isValidUtf8 } from "./utf8.ts";
import { ErrorCode, type NotificationMessage } from "./types.ts";

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const utf8Encoder = new TextEncoder();

function carriesCommunication(code: number, subcode: number): boolean {
  return code === ErrorCode.CEASE &&
    (subcode === CeaseSubcode.ADMINISTRATIVE_SHUTDOWN || subcode === CeaseSubcode.ADMINISTRATIVE_RESET);
}

function decodeUtf8(bytes: Uint8Array): string | undefined {
  // TextDecoder with fatal reports invalid UTF-8 by throwing; validate first so nothing throws.
  if (!isValidUtf8(bytes)) return undefined;
  return utf8.decode(bytes);
}

/**
 * Decodes the body of a NOTIFICATION. For Cease/Administrative Shutdown or Reset, a well-formed RFC 9003
 * communication (length octet, then that many octets of UTF-8) also appears as `shutdownMessage`; `data`
 * always holds the octets as received.
 *
 * @example
 * ```ts
 * decodeNotification(new Uint8Array([6, 2, 3, 0x62, 0x79, 0x65])); // shutdownMessage "bye"
 * ```
 */
export function decodeNotification(body: Uint8Array): NotificationMessage {
  const code = body.length > 0 ? body[0] : 0;
  const subcode = body.length > 1 ? body[1] : 0;
  const data = body.slice(Math.min(2, body.length));
  if (carriesCommunication(code, subcode) && data.length >= 1 && 1 + data[0] <= data.length) {
    const text = decodeUtf8(data.subarray(1, 1 + data[0]));
    if (text !== undefined) return { type: 3, code, subcode, data, shutdownMessage: text };
  }
  return { type: 3, code, subcode, data };
}

/**
 * The data of an RFC 9003 shutdown communication: one length octet and the UTF-8 text, cut at a character
 * boundary so it never exceeds 255 octets.
 */
export function shutdownCommunication(message: string): Uint8Array {
  let bytes = utf8Encoder.encode(message);
  if (bytes.length > 255) {
    let end = 255;
    // Do not split a multi-octet character: back up to a lead octet.
    while (end > 0 && (bytes[end] & 0xc0) === 0x80) end--;
    bytes = bytes.subarray(0, end);
  }
  const out = new Uint8Array(1 + bytes.length);
  out[0] = bytes.length;
  out.set(bytes, 1);
  return out;
}

/**
 * Encodes the body of a NOTIFICATION. When `data` is empty and a `shutdownMessage` is given for Cease 2
 * or 4, the data becomes the RFC 9003 communication; otherwise `data` is sent as is.
 */
export function encodeNotificationBody(n: NotificationMessage): Uint8Array {
  const data =
    n.data.length === 0 && n.shutdownMessage !== undefined && carriesCommunication(n.code, n.subcode)
      ? shutdownCommunication(n.shutdownMessage)
      : n.data;
  const out = new Uint8Array(2 + data.length);
  out[0] = n.code;
  out[1] = n.subcode;
  out.set(data, 2);
  return out;
}
