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
 * Decodes the body of a ROUTE-REFRESH: AFI, subtype (reserved in RFC 2918), SAFI, then for a normal
 * refresh optional RFC 5291 ORF entries (kept raw in `orf`). A BoRR or EoRR body other than 4 octets, or
 * any body shorter than 4, is RFC 7313 §5 "Invalid Message Length", whose data is the complete message
 * (`whole`, when the caller has it). Subtypes above 2 are returned as read; RFC 7313 §5 says to ignore
 * such messages.
 *
 * @example
 * ```ts
 * decodeRouteRefresh(new Uint8Array([0, 1, 0, 1])); // { type: 5, afi: 1, safi: 1, subtype: 0 }
 * ```
 */
export function decodeRouteRefresh(body: Uint8Array, whole?: Uint8Array): Decoded<RouteRefreshMessage> {
  const subtype = body.length >= 3 ? body[2] : 0;
  if (
    body.length < 4 ||
    (body.length !== 4 && (subtype === RouteRefreshSubtype.BORR || subtype === RouteRefreshSubtype.EORR))
  ) {
    return failure(bgpError(
      ErrorCode.ROUTE_REFRESH_MESSAGE,
      RouteRefreshSubcode.INVALID_MESSAGE_LENGTH,
      (whole ?? body).slice(),
      "session-reset",
      `ROUTE-REFRESH body of ${body.length} octets, expected 4`,
    ));
  }
  const afi = ((body[0] << 8) | body[1]) as Afi;
  const safi = body[3];
  if (body.length === 4) return success({ type: 5, afi, subtype, safi });
  return success({ type: 5, afi, subtype, safi, orf: body.slice(4) });
}

/** Encodes the body of a ROUTE-REFRESH. */
export function encodeRouteRefreshBody(m: RouteRefreshMessage): Uint8Array {
  const out = new Uint8Array(4 + (m.orf?.length ?? 0));
  out[0] = (m.afi >>> 8) & 0xff;
  out[1] = m.afi & 0xff;
  out[2] = m.subtype & 0xff;
  out[3] = m.safi & 0xff;
  if (m.orf !== undefined) out.set(m.orf, 4);
  return out;
}
