/**
 * Decode failures as values: the NOTIFICATION code, subcode and data that RFC 4271 §6 prescribes, with the
 * RFC 7606 action the receiver must take.
 *
 * @module
 */

import { type BgpError, type Decoded, type ErrorAction, ErrorCode } from "./types.ts";

/** Message Header Error subcodes (RFC 4271 §4.5). */
export const HeaderSubcode = {
  CONNECTION_NOT_SYNCHRONIZED: 1,
  BAD_MESSAGE_LENGTH: 2,
  BAD_MESSAGE_TYPE: 3,
} as const;

/** OPEN Message Error subcodes (RFC 4271 §4.5, RFC 5492 §5). */
export const OpenSubcode = {
  UNSUPPORTED_VERSION_NUMBER: 1,
  BAD_PEER_AS: 2,
  BAD_BGP_IDENTIFIER: 3,
  UNSUPPORTED_OPTIONAL_PARAMETER: 4,
  UNACCEPTABLE_HOLD_TIME: 6,
  UNSUPPORTED_CAPABILITY: 7,
} as const;

/** UPDATE Message Error subcodes (RFC 4271 §4.5). */
export const UpdateSubcode = {
  MALFORMED_ATTRIBUTE_LIST: 1,
  UNRECOGNIZED_WELL_KNOWN_ATTRIBUTE: 2,
  MISSING_WELL_KNOWN_ATTRIBUTE: 3,
  ATTRIBUTE_FLAGS_ERROR: 4,
  ATTRIBUTE_LENGTH_ERROR: 5,
  INVALID_ORIGIN_ATTRIBUTE: 6,
  INVALID_NEXT_HOP_ATTRIBUTE: 8,
  OPTIONAL_ATTRIBUTE_ERROR: 9,
  INVALID_NETWORK_FIELD: 10,
  MALFORMED_AS_PATH: 11,
} as const;

/** Cease subcodes (RFC 4486, RFC 9003). */
export const CeaseSubcode = {
  MAXIMUM_PREFIXES_REACHED: 1,
  ADMINISTRATIVE_SHUTDOWN: 2,
  PEER_DECONFIGURED: 3,
  ADMINISTRATIVE_RESET: 4,
  CONNECTION_REJECTED: 5,
  OTHER_CONFIGURATION_CHANGE: 6,
  CONNECTION_COLLISION_RESOLUTION: 7,
  OUT_OF_RESOURCES: 8,
  HARD_RESET: 9,
} as const;

/** ROUTE-REFRESH Message Error subcodes (RFC 7313 §5). */
export const RouteRefreshSubcode = { INVALID_MESSAGE_LENGTH: 1 } as const;

const EMPTY = new Uint8Array(0);

/**
 * Builds a {@linkcode BgpError}.
 *
 * @example
 * ```ts
 * const e = bgpError(1, 1, undefined, "session-reset", "Marker is not all ones");
 * ```
 */
export function bgpError(
  code: number,
  subcode: number,
  data: Uint8Array | undefined,
  action: ErrorAction,
  reason: string,
): BgpError {
  return { code, subcode, data: data ?? EMPTY, action, reason };
}

/** An UPDATE Message Error (code 3) with the given subcode, data and RFC 7606 action. */
export function updateError(
  subcode: number,
  data: Uint8Array | undefined,
  action: ErrorAction,
  reason: string,
): BgpError {
  return bgpError(ErrorCode.UPDATE_MESSAGE, subcode, data, action, reason);
}

/** Wraps an error as a failed {@linkcode Decoded} result. */
export function failure<T>(error: BgpError): Decoded<T> {
  return { ok: false, error };
}

/** Wraps a value as a successful {@linkcode Decoded} result. */
export function success<T>(value: T): Decoded<T> {
  return { ok: true, value };
}

/** The 2-octet big-endian encoding of `n`, used as NOTIFICATION data (e.g. a bad message length). */
export function u16Data(n: number): Uint8Array {
  return new Uint8Array([(n >>> 8) & 0xff, n & 0xff]);
}
