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
/** IPv4 (IANA AFI 1). */
export const AFI_IPV4: Afi = 1;
/** IPv6 (IANA AFI 2). */
export const AFI_IPV6: Afi = 2;

/** Subsequent address family identifier; the speaker uses unicast (1) only, others are carried as numbers. */
export type Safi = number;
/** Unicast (IANA SAFI 1). */
export const SAFI_UNICAST = 1;

/** An address family as negotiated on a session (AFI + SAFI). */
export interface Family {
  /** Address family identifier. */
  readonly afi: Afi;
  /** Subsequent address family identifier. */
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
  /** The address family of `addr`. */
  readonly afi: Afi;
  /** Prefix length in bits (0-32 or 0-128). */
  readonly length: number;
  /** Network address, 4 or 16 bytes, host bits zero. */
  readonly addr: Uint8Array;
  /** ADD-PATH path identifier (RFC 7911), when negotiated. */
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
/** One of the {@linkcode MessageType} values. */
export type MessageType = typeof MessageType[keyof typeof MessageType];

/** ORIGIN values (RFC 4271 §5.1.1). */
export const Origin = { IGP: 0, EGP: 1, INCOMPLETE: 2 } as const;
/** One of the {@linkcode Origin} values. */
export type Origin = typeof Origin[keyof typeof Origin];

/** AS_PATH segment types (RFC 4271 §4.3, RFC 5065). */
export const SegmentType = { AS_SET: 1, AS_SEQUENCE: 2, AS_CONFED_SEQUENCE: 3, AS_CONFED_SET: 4 } as const;
/** One of the {@linkcode SegmentType} values. */
export type SegmentType = typeof SegmentType[keyof typeof SegmentType];

/** One AS_PATH or AS4_PATH segment; ASNs are always held as 32-bit numbers. */
export interface AsPathSegment {
  /** AS_SET, AS_SEQUENCE or a confederation segment. */
  readonly type: SegmentType;
  /** The AS numbers of the segment, in order. */
  readonly asns: readonly number[];
}

/** AGGREGATOR / AS4_AGGREGATOR: the aggregating AS and its BGP identifier (dotted IPv4 string). */
export interface Aggregator {
  /** The AS that aggregated the route. */
  readonly asn: number;
  /** The BGP identifier of the aggregating speaker. */
  readonly address: string;
}

/** MP_REACH_NLRI (RFC 4760). Next hops are textual addresses; IPv6 may carry a link-local second one. */
export interface MpReach {
  /** Address family of the next hops and prefixes. */
  readonly afi: Afi;
  /** Subsequent address family. */
  readonly safi: Safi;
  /** The next hop(s) as text: one global address, optionally followed by a link-local one. */
  readonly nextHops: readonly string[];
  /** The reachable prefixes. */
  readonly nlri: readonly Prefix[];
}

/** MP_UNREACH_NLRI (RFC 4760). An empty `withdrawn` list for a family is its End-of-RIB marker. */
export interface MpUnreach {
  /** Address family of the withdrawn prefixes. */
  readonly afi: Afi;
  /** Subsequent address family. */
  readonly safi: Safi;
  /** The withdrawn prefixes. */
  readonly withdrawn: readonly Prefix[];
}

/** A path attribute the codec does not interpret, kept byte for byte. */
export interface RawAttribute {
  /** Attribute flags as received (the Extended Length bit cleared; the encoder sets it as needed). */
  readonly flags: number;
  /** Attribute type code. */
  readonly code: number;
  /** Attribute value, byte for byte. */
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
  /** ORIGIN (type 1). */
  origin?: Origin;
  /** AS_PATH (type 2); from a 2-octet peer, merged with AS4_PATH (RFC 6793 §4.2.3). */
  asPath?: AsPathSegment[];
  /** IPv4 NEXT_HOP attribute as dotted text. */
  nextHop?: string;
  /** MULTI_EXIT_DISC (type 4). */
  med?: number;
  /** LOCAL_PREF (type 5). */
  localPref?: number;
  /** ATOMIC_AGGREGATE (type 6) is present. */
  atomicAggregate?: boolean;
  /** AGGREGATOR (type 7); from a 2-octet peer, merged with AS4_AGGREGATOR. */
  aggregator?: Aggregator;
  /** COMMUNITIES (type 8, RFC 1997). */
  communities?: number[];
  /** ORIGINATOR_ID (type 9, RFC 4456) as dotted text. */
  originatorId?: string;
  /** CLUSTER_LIST (type 10, RFC 4456) as dotted text. */
  clusterList?: string[];
  /** MP_REACH_NLRI (type 14, RFC 4760) for IPv4/IPv6 unicast and multicast. */
  mpReach?: MpReach;
  /** MP_UNREACH_NLRI (type 15, RFC 4760) for IPv4/IPv6 unicast and multicast. */
  mpUnreach?: MpUnreach;
  /** EXTENDED_COMMUNITIES (type 16, RFC 4360), 8 bytes each. */
  extendedCommunities?: Uint8Array[];
  /** AS4_PATH (type 17, RFC 6793) as received. */
  as4Path?: AsPathSegment[];
  /** AS4_AGGREGATOR (type 18, RFC 6793) as received. */
  as4Aggregator?: Aggregator;
  /** LARGE_COMMUNITY (type 32, RFC 8092). */
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
  /** Message type 1. */
  readonly type: 1;
  /** BGP version (4). */
  readonly version: number;
  /** My Autonomous System (2 octets; AS_TRANS for a 4-octet AS). */
  readonly asn: number;
  /** Proposed hold time in seconds. */
  readonly holdTime: number;
  /** BGP identifier as dotted IPv4 text. */
  readonly routerId: string;
  /** Capabilities from every Capabilities optional parameter, in order. */
  readonly capabilities: readonly Capability[];
  /** Optional parameters other than capabilities (type != 2), kept raw. */
  readonly otherParams?: readonly { readonly type: number; readonly value: Uint8Array }[];
}

/** UPDATE message (RFC 4271 §4.3). IPv4 unicast NLRI/withdrawals live here; others in mpReach/mpUnreach. */
export interface UpdateMessage {
  /** Message type 2. */
  readonly type: 2;
  /** Withdrawn IPv4 unicast prefixes. */
  readonly withdrawn: readonly Prefix[];
  /** Path attributes. */
  readonly attributes: PathAttributes;
  /** Announced IPv4 unicast prefixes. */
  readonly nlri: readonly Prefix[];
}

/** NOTIFICATION (RFC 4271 §4.5); `shutdownMessage` is the RFC 9003 communication of a Cease 2 or 4. */
export interface NotificationMessage {
  /** Message type 3. */
  readonly type: 3;
  /** Error code. */
  readonly code: number;
  /** Error subcode. */
  readonly subcode: number;
  /** Data as received (or to send). */
  readonly data: Uint8Array;
  /** The RFC 9003 shutdown communication, when present and valid UTF-8. */
  readonly shutdownMessage?: string;
}

/** KEEPALIVE (RFC 4271 §4.4): the header alone. */
export interface KeepaliveMessage {
  /** Message type 4. */
  readonly type: 4;
}

/** ROUTE-REFRESH (RFC 2918); subtype 0 normal, 1 BoRR, 2 EoRR (RFC 7313). */
export interface RouteRefreshMessage {
  /** Message type 5. */
  readonly type: 5;
  /** Address family to refresh. */
  readonly afi: Afi;
  /** Subsequent address family to refresh. */
  readonly safi: Safi;
  /** 0 normal request, 1 BoRR, 2 EoRR (RFC 7313). */
  readonly subtype: number;
  /** Outbound Route Filtering entries after the fixed fields (RFC 5291 §4), raw; absent when none. */
  readonly orf?: Uint8Array;
}

/** Any BGP message, discriminated by `type`. */
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
  /** Both sides advertised the 4-octet AS capability (RFC 6793). */
  readonly fourOctetAs: boolean;
  /** Families for which path identifiers are present (RFC 7911). */
  readonly addPath: readonly Family[];
  /** 4096, or 65535 when the extended message capability was negotiated (RFC 8654). */
  readonly maxMessageSize: number;
}

/** The context of a session before OPENs are exchanged, and of RFC 4271 peers without options. */
export const DEFAULT_DECODE_CONTEXT: DecodeContext = {
  /** Both sides advertised the 4-octet AS capability (RFC 6793). */
  fourOctetAs: false,
  /** Families for which path identifiers are present (RFC 7911). */
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
  /** NOTIFICATION error code. */
  readonly code: number;
  /** NOTIFICATION error subcode. */
  readonly subcode: number;
  /** NOTIFICATION data as RFC 4271 §6 prescribes (e.g. the erroneous attribute). */
  readonly data: Uint8Array;
  /** What the receiver does (RFC 7606 §2). */
  readonly action: ErrorAction;
  /** A short human-readable reason for logs, e.g. "ORIGIN length 2, expected 1". */
  readonly reason: string;
}

/** The result of a decode: a value or an error, never a thrown exception. */
export type Decoded<T> = { readonly ok: true; readonly value: T } | {
  readonly ok: false;
  readonly error: BgpError;
};
