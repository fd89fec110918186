/**
 * Our OPEN message, and the validation of the peer's OPEN into the session's negotiated parameters.
 *
 * Pure: given our configuration and the peer's decoded OPEN, it returns either what was negotiated or the
 * NOTIFICATION that RFC 4271 §6.2 (and RFC 5492, RFC 6286, RFC 6793) prescribe.
 *
 * @example
 * ```ts
 * import { buildOpen, validateOpen } from "./open_policy.ts";
 * const local = { asn: 65001, routerId: "10.99.0.1", holdTime: 90, families: [{ afi: 1, safi: 1 }] };
 * const open = buildOpen(local);
 * const result = validateOpen(open, local, { peerAsn: 65001 });
 * // result.ok === false: same BGP identifier on an iBGP session (2/3)
 * ```
 *
 * @module
 */

import { OpenSubcode } from "../wire/error.ts";
import type { Afi, Capability, DecodeContext, Family, OpenMessage } from "../wire/types.ts";
import { ErrorCode } from "../wire/types.ts";
import { negotiateHoldTime, type NotificationToSend } from "./fsm.ts";

/** AS_TRANS (RFC 6793 §9): the 2-octet AS field of a speaker whose AS does not fit 16 bits. */
export const AS_TRANS = 23456;

/** What we say about ourselves in the OPEN. */
export interface LocalOpenConfig {
  /** Our AS (1..4294967295). */
  readonly asn: number;
  /** Our BGP identifier, dotted IPv4. */
  readonly routerId: string;
  /** Hold time in seconds (0 or ≥ 3). */
  readonly holdTime: number;
  /** The families to announce as multiprotocol capabilities. */
  readonly families: readonly Family[];
  /** Graceful restart (RFC 4724): restart time in seconds; undefined disables the capability. */
  readonly gracefulRestart?: {
    readonly restartTime: number;
    /** The R bit: set on the first OPEN after the process started. */
    readonly restarting: boolean;
    /** The F bit for every family: the data path survives a restart of the speaker. */
    readonly forwarding: boolean;
  };
  /** RFC 8950: offer IPv4 unicast NLRI with an IPv6 next hop. */
  readonly extendedNextHop?: boolean;
  /** RFC 8654: offer messages up to 65535 bytes. */
  readonly extendedMessage?: boolean;
  /** The FQDN capability's host name (the node name); omitted when undefined. */
  readonly hostname?: string;
}

/** What we expect of the peer. */
export interface PeerExpectation {
  /** The configured peer AS. */
  readonly peerAsn: number;
}

/** The peer's graceful restart capability, as received. */
export interface PeerGracefulRestart {
  /** R bit: the peer has restarted. */
  readonly restarting: boolean;
  /** Seconds the peer asks us to keep its routes. */
  readonly restartTime: number;
  /** Families with their F bit (forwarding state preserved). */
  readonly families: readonly { readonly afi: Afi; readonly safi: number; readonly forwarding: boolean }[];
}

/** What both OPENs negotiated. */
export interface Negotiated {
  /** Hold time in seconds, the smaller of both. */
  readonly holdTime: number;
  /** The peer's AS (from the 4-octet AS capability when present). */
  readonly peerAsn: number;
  /** The peer's BGP identifier. */
  readonly peerRouterId: string;
  /** iBGP when both ASes are equal. */
  readonly internal: boolean;
  /** The decode context of the session's messages. */
  readonly decodeContext: DecodeContext;
  /** Families both sides announced (IPv4 unicast when the peer sent no multiprotocol capability). */
  readonly families: readonly Family[];
  /** RFC 2918 route refresh: the peer may ask for our table again. */
  readonly routeRefresh: boolean;
  /** RFC 7313 enhanced route refresh: the resent table is framed by BoRR and EoRR. */
  readonly enhancedRouteRefresh: boolean;
  /** IPv4 unicast NLRI may carry an IPv6 next hop (RFC 8950). */
  readonly extendedNextHop: boolean;
  /** Both sides announced graceful restart. */
  readonly gracefulRestart: boolean;
  /** The peer's graceful restart capability, if any. */
  readonly peerGracefulRestart?: PeerGracefulRestart;
  /** The peer's FQDN capability, if any. */
  readonly peerHostname?: string;
  /** The codes of every capability the peer announced. */
  readonly peerCapabilities: readonly number[];
}

/** The result of validating a peer's OPEN. */
export type OpenValidation =
  | { readonly ok: true; readonly negotiated: Negotiated }
  | { readonly ok: false; readonly notification: NotificationToSend; readonly reason: string };

/** Builds our OPEN message (RFC 4271 §4.2) with the capabilities of `local`. */
export function buildOpen(local: LocalOpenConfig): OpenMessage {
  const caps: Capability[] = [];
  for (const f of local.families) caps.push({ code: 1, afi: f.afi, safi: f.safi });
  caps.push({ code: 2 });
  caps.push({ code: 70 });
  if (local.extendedNextHop) caps.push({ code: 5, entries: [{ afi: 1, safi: 1, nextHopAfi: 2 }] });
  if (local.extendedMessage) caps.push({ code: 6 });
  if (local.gracefulRestart) {
    const gr = local.gracefulRestart;
    caps.push({
      code: 64,
      restarting: gr.restarting,
      notification: false,
      restartTime: Math.min(4095, Math.max(0, Math.floor(gr.restartTime))),
      families: local.families.map((f) => ({ afi: f.afi, safi: f.safi, forwarding: gr.forwarding })),
    });
  }
  caps.push({ code: 65, asn: local.asn });
  if (local.hostname !== undefined) {
    caps.push({ code: 73, hostname: local.hostname.slice(0, 255), domain: "" });
  }
  return {
    type: 1,
    version: 4,
    asn: local.asn > 0xffff ? AS_TRANS : local.asn,
    holdTime: local.holdTime,
    routerId: local.routerId,
    capabilities: caps,
  };
}

function notify(subcode: number, reason: string, data?: Uint8Array): OpenValidation {
  return { ok: false, notification: { code: ErrorCode.OPEN_MESSAGE, subcode, data }, reason };
}

/**
 * Validates the peer's OPEN against our configuration (RFC 4271 §6.2) and returns what was negotiated.
 */
export function validateOpen(
  peer: OpenMessage,
  local: LocalOpenConfig,
  expect: PeerExpectation,
): OpenValidation {
  // RFC 4271 §6.2: the data of Unsupported Version Number is the largest version we support.
  if (peer.version !== 4) {
    return notify(
      OpenSubcode.UNSUPPORTED_VERSION_NUMBER,
      `unsupported version ${peer.version}`,
      new Uint8Array([0, 4]),
    );
  }
  // RFC 4271 §6.2: an optional parameter we do not recognise (anything but capabilities) is refused.
  const unsupported = peer.otherParams?.[0];
  if (unsupported !== undefined) {
    return notify(
      OpenSubcode.UNSUPPORTED_OPTIONAL_PARAMETER,
      `unsupported optional parameter ${unsupported.type}`,
    );
  }
  const caps = peer.capabilities;
  const as4 = caps.find((c) => c.code === 65) as { code: 65; asn: number } | undefined;
  const peerAsn = as4 ? as4.asn : peer.asn;
  if (peerAsn !== expect.peerAsn) {
    return notify(OpenSubcode.BAD_PEER_AS, `peer AS ${peerAsn}, expected ${expect.peerAsn}`);
  }
  const internal = peerAsn === local.asn;
  // RFC 6286 §2.2: the identifier is non-zero, and differs from ours within an AS.
  if (peer.routerId === "0.0.0.0" || (internal && peer.routerId === local.routerId)) {
    return notify(OpenSubcode.BAD_BGP_IDENTIFIER, `bad BGP identifier ${peer.routerId}`);
  }
  const hold = negotiateHoldTime(local.holdTime, peer.holdTime);
  if (!hold.ok) {
    return { ok: false, notification: hold.notification, reason: `unacceptable hold time ${peer.holdTime}` };
  }

  // RFC 4760 §8: a peer without multiprotocol capabilities speaks IPv4 unicast only.
  const peerFamilies = caps.filter((c) => c.code === 1) as { code: 1; afi: Afi; safi: number }[];
  const offered = peerFamilies.length > 0 ? peerFamilies : [{ code: 1 as const, afi: 1 as Afi, safi: 1 }];
  const families = local.families.filter((f) => offered.some((o) => o.afi === f.afi && o.safi === f.safi));
  if (families.length === 0) {
    // RFC 5492 §5: a required capability is missing; the data lists the capabilities we need.
    const data = new Uint8Array(local.families.length * 6);
    local.families.forEach((f, i) => data.set([1, 4, 0, f.afi, 0, f.safi], i * 6));
    return notify(OpenSubcode.UNSUPPORTED_CAPABILITY, "no common address family", data);
  }

  const has = (code: number) => caps.some((c) => c.code === code);
  const enh = caps.find((c) => c.code === 5) as Extract<Capability, { code: 5 }> | undefined;
  const extendedNextHop = !!local.extendedNextHop &&
    !!enh?.entries.some((e) => e.afi === 1 && e.safi === 1 && e.nextHopAfi === 2);
  const gr = caps.find((c) => c.code === 64) as Extract<Capability, { code: 64 }> | undefined;
  const fqdn = caps.find((c) => c.code === 73) as Extract<Capability, { code: 73 }> | undefined;
  const extendedMessage = !!local.extendedMessage && has(6);

  return {
    ok: true,
    negotiated: {
      holdTime: hold.holdTime,
      peerAsn,
      peerRouterId: peer.routerId,
      internal,
      // RFC 6793: 4-octet AS paths only when both sides announced the capability (we always do).
      decodeContext: { fourOctetAs: !!as4, addPath: [], maxMessageSize: extendedMessage ? 65535 : 4096 },
      families,
      routeRefresh: has(2),
      enhancedRouteRefresh: has(70),
      extendedNextHop,
      gracefulRestart: !!local.gracefulRestart && !!gr,
      peerGracefulRestart: gr
        ? { restarting: gr.restarting, restartTime: gr.restartTime, families: gr.families }
        : undefined,
      peerHostname: fqdn?.hostname,
      peerCapabilities: caps.map((c) => c.code),
    },
  };
}
