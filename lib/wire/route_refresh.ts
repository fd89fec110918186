/**
 * ROUTE-REFRESH messages (RFC 2918 §3) with the RFC 7313 §3 message subtypes.
 *
 * @module
 */

import { bgpError, failure, RouteRefreshSubcode, success } from "./error.ts";
import { type Afi, type Decoded, ErrorCode, type RouteRefreshMessage } from "./types.ts";

/** Message subtypes (RFC 7313 §3). */
export const RouteRefreshSubtype = { NORMAL: 0, BORR: 1, EORR: 2 } as const;

/**
 * Decodes the body of a ROUTE-REFRESH: AFI, subtype (reserved in RFC 2918), SAFI. A body other than 4
 * octets is RFC 7313 §5 "Invalid Message Length", whose data is the complete message (`whole`, when the
 * caller has it). Subtypes other than 0-2 are returned as read; RFC 7313 §5 says to ignore such messages.
 *
 * @example
 * ```ts
 * decodeRouteRefresh(new Uint8Array([0, 1, 0, 1])); // { type: 5, afi: 1, safi: 1, subtype: 0 }
 * ```
 */
export function decodeRouteRefresh(body: Uint8Array, whole?: Uint8Array): Decoded<RouteRefreshMessage> {
  if (body.length !== 4) {
    return failure(bgpError(
      ErrorCode.ROUTE_REFRESH_MESSAGE,
      RouteRefreshSubcode.INVALID_MESSAGE_LENGTH,
      (whole ?? body).slice(),
      "session-reset",
      `ROUTE-REFRESH body of ${body.length} octets, expected 4`,
    ));
  }
  return success({ type: 5, afi: ((body[0] << 8) | body[1]) as Afi, subtype: body[2], safi: body[3] });
}

/** Encodes the body of a ROUTE-REFRESH. */
export function encodeRouteRefreshBody(m: RouteRefreshMessage): Uint8Array {
  return new Uint8Array([(m.afi >>> 8) & 0xff, m.afi & 0xff, m.subtype & 0xff, m.safi & 0xff]);
}
