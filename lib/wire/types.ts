/**
 * The BGP-4 data model shared by the wire codec, the sessions and the MRT reader.
 *
 * Values of these types are plain data: decoding produces them, encoding consumes them, and nothing in
 * them refers to a socket or a clock.
 *
 * @module
 */

/** Address family identifier (IANA): 1 = IPv4, 2 = IPv6. */
export type Afi = 1 | 2;
export const AFI_IPV4: Afi = 1;
export const AFI_IPV6: Afi = 2;

/** Subsequent address family identifier; the speaker uses unicast (1) only, others are carried as numbers. */
export type Safi = number;
export const SAFI_UNICAST = 1;

/** An address family as negotiated on a session (AFI + SAFI). */
export interface Family {
  readonly afi: Afi;
  readonly safi: Safi;
}

/**
 * An IP prefix. `addr` holds the network address in network byte order: 4 bytes for IPv4, 16 for IPv6,
 * with every bit past `length` zero. `pathId` is the ADD-PATH path identifier when the family negotiated
 * ADD-PATH receive (RFC 7911), otherwise undefined.
 *
 * Decoded prefixes may share one backing buffer: `addr` can be a view (subarray) of a larger buffer, so
 * treat it as read-only and copy it (`addr.slice()`) before keeping it beyond the decoded message.
 */
export interface Prefix {
  readonly afi: Afi;
  readonly length: number;
  readonly addr: Uint8Array;
  readonly pathId?: number;
}

/** BGP message types (RFC 4271 §4.1, RFC 2918). */
export const MessageType = {
  OPEN: 1,
  UPDATE: 2,
  NOTIFICATION: 3,
  KEEPALIVE: 4,
  ROUTE_REFRESH: 5,
} as const;
export type MessageType = typeof MessageType[keyof typeof MessageType];

/** ORIGIN values (RFC 4271 §5.1.1). */
export const Origin = { IGP: 0, EGP: 1, INCOMPLETE: 2 } as const;
export type Origin = typeof Origin[keyof typeof Origin];

/** AS_PATH segment types (RFC 4271 §4.3, RFC 5065). */
export const SegmentType = { AS_SET: 1, AS_SEQUENCE: 2, AS_CONFED_SEQUENCE: 3, AS_CONFED_SET: 4 } as const;
export type SegmentType = typeof SegmentType[keyof typeof SegmentType];

/** One AS_PATH or AS4_PATH segment; ASNs are always held as 32-bit numbers. */
export interface AsPathSegment {
  readonly type: SegmentType;
  readonly asns: readonly number[];
}

/** AGGREGATOR / AS4_AGGREGATOR: the aggregating AS and its BGP identifier (dotted IPv4 string). */
export interface Aggregator {
  readonly asn: number;
  readonly address: string;
}

/** MP_REACH_NLRI (RFC 4760). Next hops are textual addresses; IPv6 may carry a link-local second one. */
export interface MpReach {
  readonly afi: Afi;
  readonly safi: Safi;
  /** The next hop(s) as text: one global address, optionally followed by a link-local one. */
  readonly nextHops: readonly string[];
  readonly nlri: readonly Prefix[];
}

/** MP_UNREACH_NLRI (RFC 4760). An empty `withdrawn` list for a family is its End-of-RIB marker. */
export interface MpUnreach {
  readonly afi: Afi;
  readonly safi: Safi;
  readonly withdrawn: readonly Prefix[];
}

/** A path attribute the codec does not interpret, kept byte for byte. */
export interface RawAttribute {
  readonly flags: number;
  readonly code: number;
  readonly value: Uint8Array;
}

/** Attribute type codes (IANA "BGP Path Attributes"). */
export const AttrCode = {
  ORIGIN: 1,
  AS_PATH: 2,
  NEXT_HOP: 3,
  MULTI_EXIT_DISC: 4,
  LOCAL_PREF: 5,
  ATOMIC_AGGREGATE: 6,
  AGGREGATOR: 7,
  COMMUNITIES: 8,
  ORIGINATOR_ID: 9,
  CLUSTER_LIST: 10,
  MP_REACH_NLRI: 14,
  MP_UNREACH_NLRI: 15,
  EXTENDED_COMMUNITIES: 16,
  AS4_PATH: 17,
  AS4_AGGREGATOR: 18,
  LARGE_COMMUNITY: 32,
} as const;

/** Attribute flag bits (RFC 4271 §4.3). */
export const AttrFlag = { OPTIONAL: 0x80, TRANSITIVE: 0x40, PARTIAL: 0x20, EXTENDED_LENGTH: 0x10 } as const;

/**
 * The path attributes of one UPDATE. Every field is optional because a withdraw-only UPDATE carries none.
 * Communities are 32-bit numbers (high 16 bits = AS); extended communities are 8-byte values;
 * large communities are `[global, local1, local2]` triples.
 */
export interface PathAttributes {
  origin?: Origin;
  asPath?: AsPathSegment[];
  /** IPv4 NEXT_HOP attribute as dotted text. */
  nextHop?: string;
  med?: number;
  localPref?: number;
  atomicAggregate?: boolean;
  aggregator?: Aggregator;
  communities?: number[];
  originatorId?: string;
  clusterList?: string[];
  mpReach?: MpReach;
  mpUnreach?: MpUnreach;
  extendedCommunities?: Uint8Array[];
  as4Path?: AsPathSegment[];
  as4Aggregator?: Aggregator;
  largeCommunities?: [number, number, number][];
  /** Attributes not listed above (and unknown optional transitive ones, re-sent with the Partial bit). */
  unknown?: RawAttribute[];
  /**
   * Type codes of recognised optional transitive attributes above that arrived with the Partial bit set
   * (RFC 4271 §4.3); the encoder sets the bit on them again. Absent when none did.
   */
  partial?: number[];
}

/** Capability codes (IANA "Capability Codes"). */
export const CapabilityCode = {
  MULTIPROTOCOL: 1,
  ROUTE_REFRESH: 2,
  EXTENDED_NEXT_HOP: 5,
  EXTENDED_MESSAGE: 6,
  GRACEFUL_RESTART: 64,
  FOUR_OCTET_AS: 65,
  ADD_PATH: 69,
  ENHANCED_ROUTE_REFRESH: 70,
  LONG_LIVED_GRACEFUL_RESTART: 71,
  FQDN: 73,
} as const;

/** One capability from an OPEN (RFC 5492), decoded when known, raw otherwise. */
export type Capability =
  | { readonly code: 1; readonly afi: Afi; readonly safi: Safi }
  | { readonly code: 2 }
  | {
    readonly code: 5;
    readonly entries: readonly { readonly afi: Afi; readonly safi: Safi; readonly nextHopAfi: Afi }[];
  }
  | { readonly code: 6 }
  | {
    readonly code: 64;
    /** R bit: the sender has restarted. */
    readonly restarting: boolean;
    /** N bit (RFC 8538): graceful notification supported. */
    readonly notification: boolean;
    readonly restartTime: number;
    /** Per family, F bit: forwarding state preserved. */
    readonly families: readonly { readonly afi: Afi; readonly safi: Safi; readonly forwarding: boolean }[];
  }
  | { readonly code: 65; readonly asn: number }
  | {
    readonly code: 69;
    /** mode: 1 receive, 2 send, 3 both (RFC 7911). */
    readonly entries: readonly { readonly afi: Afi; readonly safi: Safi; readonly mode: 1 | 2 | 3 }[];
  }
  | { readonly code: 70 }
  | {
    readonly code: 71;
    readonly entries: readonly {
      readonly afi: Afi;
      readonly safi: Safi;
      readonly forwarding: boolean;
      readonly staleTime: number;
    }[];
  }
  | { readonly code: 73; readonly hostname: string; readonly domain: string }
  | { readonly code: number; readonly raw: Uint8Array };

/** OPEN message (RFC 4271 §4.2). `asn` is the 2-octet field; the real AS is in capability 65 if present. */
export interface OpenMessage {
  readonly type: 1;
  readonly version: number;
  readonly asn: number;
  readonly holdTime: number;
  /** BGP identifier as dotted IPv4 text. */
  readonly routerId: string;
  readonly capabilities: readonly Capability[];
  /** Optional parameters other than capabilities (type != 2), kept raw. */
  readonly otherParams?: readonly { readonly type: number; readonly value: Uint8Array }[];
}

/** UPDATE message (RFC 4271 §4.3). IPv4 unicast NLRI/withdrawals live here; others in mpReach/mpUnreach. */
export interface UpdateMessage {
  readonly type: 2;
  readonly withdrawn: readonly Prefix[];
  readonly attributes: PathAttributes;
  readonly nlri: readonly Prefix[];
}

/** NOTIFICATION (RFC 4271 §4.5); `shutdownMessage` is the RFC 9003 communication of a Cease 2 or 4. */
export interface NotificationMessage {
  readonly type: 3;
  readonly code: number;
  readonly subcode: number;
  readonly data: Uint8Array;
  readonly shutdownMessage?: string;
}

export interface KeepaliveMessage {
  readonly type: 4;
}

/** ROUTE-REFRESH (RFC 2918); subtype 0 normal, 1 BoRR, 2 EoRR (RFC 7313). */
export interface RouteRefreshMessage {
  readonly type: 5;
  readonly afi: Afi;
  readonly safi: Safi;
  readonly subtype: number;
  /** Outbound Route Filtering entries after the fixed fields (RFC 5291 §4), raw; absent when none. */
  readonly orf?: Uint8Array;
}

export type Message =
  | OpenMessage
  | UpdateMessage
  | NotificationMessage
  | KeepaliveMessage
  | RouteRefreshMessage;

/**
 * What the decoder knows about the session a message came from.
 * `addPath` lists the families for which the *receiver* expects path identifiers.
 */
export interface DecodeContext {
  readonly fourOctetAs: boolean;
  readonly addPath: readonly Family[];
  /** 4096, or 65535 when the extended message capability was negotiated (RFC 8654). */
  readonly maxMessageSize: number;
}

/** The context of a session before OPENs are exchanged, and of RFC 4271 peers without options. */
export const DEFAULT_DECODE_CONTEXT: DecodeContext = {
  fourOctetAs: false,
  addPath: [],
  maxMessageSize: 4096,
};

/** NOTIFICATION error codes (RFC 4271 §4.5, RFC 7313 §5). */
export const ErrorCode = {
  MESSAGE_HEADER: 1,
  OPEN_MESSAGE: 2,
  UPDATE_MESSAGE: 3,
  HOLD_TIMER_EXPIRED: 4,
  FSM: 5,
  CEASE: 6,
  ROUTE_REFRESH_MESSAGE: 7,
} as const;

/** How the receiver must react to an error (RFC 7606 §2 adds the last two to RFC 4271's reset). */
export type ErrorAction = "session-reset" | "treat-as-withdraw" | "attribute-discard";

/**
 * A decode failure as a value: the NOTIFICATION to send (code, subcode, data) and the RFC 7606 action.
 * Only "session-reset" errors end the session; the others are applied and reported.
 */
export interface BgpError {
  readonly code: number;
  readonly subcode: number;
  readonly data: Uint8Array;
  readonly action: ErrorAction;
  /** A short human-readable reason for logs, e.g. "ORIGIN length 2, expected 1". */
  readonly reason: string;
}

/** The result of a decode: a value or an error, never a thrown exception. */
export type Decoded<T> = { readonly ok: true; readonly value: T } | {
  readonly ok: false;
  readonly error: BgpError;
};
