/**
 * The hostile-peer cases: malformed messages a peer may send, each with what RFC 4271 §6 (as revised by
 * RFC 7606, RFC 5492 and RFC 6608) says the speaker must do about it.
 *
 * A case is sent either as the first message of a connection (where our OPEN goes) or once the session is
 * Established. It expects either a NOTIFICATION with an exact code, subcode and data, or that the session
 * survives: treat-as-withdraw (the prefixes count as withdrawn, a log line says why), attribute discard
 * or plain acceptance (the prefixes count as received).
 *
 * @module
 */

import {
  attribute,
  concat,
  defaultCapabilities,
  frame,
  openMessage,
  type OpenOptions,
  updateMessage,
  withLengthField,
} from "./raw_bgp_peer.ts";
import { KEEPALIVE } from "../../lib/wire/message.ts";
import { encodeOpenBody } from "../../lib/wire/open.ts";

/** What the speaker must answer. */
export type Expectation =
  | {
    /** A NOTIFICATION with this code and subcode, then the connection closes. */
    readonly notification: readonly [code: number, subcode: number];
    /** The NOTIFICATION's data in hex; omitted: not checked. */
    readonly data?: string;
  }
  | {
    /** The session stays up. */
    readonly stays: "treat-as-withdraw" | "attribute-discard" | "accepted";
    /** Prefixes the speaker must count as received (announced) after the message. */
    readonly received: number;
    /** The speaker answers the message itself (a ROUTE-REFRESH); otherwise only KEEPALIVEs may follow it. */
    readonly answered?: boolean;
  }
  | {
    /** The OPEN is accepted: the session comes up. */
    readonly established: true;
  };

/** One hostile case. */
export interface HostileCase {
  /** What is wrong, as a sentence fragment. */
  readonly name: string;
  /** The RFC text that decides the expectation. */
  readonly rule: string;
  /** Sent instead of our OPEN (`"open"`) or once the session is up (`"established"`). */
  readonly stage: "open" | "established";
  /** The bytes to send. */
  readonly bytes: Uint8Array;
  /** Changes to our OPEN of the `"established"` stage (e.g. extended messages). */
  readonly open?: OpenOptions;
  readonly expect: Expectation;
  /**
   * The speaker does not do this yet: the id of the bug in /tmp/team/bugs.md. The case is reported as
   * ignored (not run) until the fix lands; then remove this field.
   */
  readonly pendingFix?: string;
}

const hex = (bytes: Uint8Array | readonly number[]) =>
  Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("").toUpperCase();

/** ORIGIN IGP. */
export const ORIGIN = attribute(0x40, 1, [0]);
/** AS_PATH: one AS_SEQUENCE of [65000] in 4-octet form (our OPEN announces 4-octet AS). */
export const AS_PATH = attribute(0x40, 2, [2, 1, 0, 0, 0xfd, 0xe8]);
/** NEXT_HOP 10.99.0.2. */
export const NEXT_HOP = attribute(0x40, 3, [10, 99, 0, 2]);
/** The three well-known mandatory attributes of an IPv4 announcement. */
export const MANDATORY = concat(ORIGIN, AS_PATH, NEXT_HOP);
/** NLRI 198.51.100.0/24. */
export const NLRI = [24, 198, 51, 100];

/** An MP_REACH_NLRI for IPv6 unicast with next hop `nextHop` and NLRI `nlri` (raw). */
function mpReachV6(nextHop: readonly number[], nlri: readonly number[]): Uint8Array {
  return attribute(0x80, 14, [0, 2, 1, nextHop.length, ...nextHop, 0, ...nlri]);
}

const V6_NEXT_HOP = [0xfd, 0x99, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];
/** 2001:db8::/32 as NLRI. */
const V6_NLRI = [32, 0x20, 0x01, 0x0d, 0xb8];

const announce = (attributes: Uint8Array, nlri: readonly number[] = NLRI) =>
  updateMessage({ attributes, nlri });

/** An OPEN of about 5,000 octets: 25 unknown capabilities of 190 octets, in RFC 9072 extended parameters. */
const HUGE_OPEN = frame(
  1,
  encodeOpenBody({
    type: 1,
    version: 4,
    asn: 65000,
    holdTime: 90,
    routerId: "10.99.0.2",
    capabilities: [
      ...defaultCapabilities(65000),
      ...Array.from({ length: 25 }, (_, i) => ({ code: 200 + i, raw: new Uint8Array(190) })),
    ],
  }),
);

/** `count` /32 NLRI in 100.64.0.0/10, five octets each. */
function manyHostRoutes(count: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < count; i++) out.push(32, 100, 64 + (i >> 16), (i >> 8) & 0xff, i & 0xff);
  return out;
}

/** `count` valid announcements of 198.51.100.0/24 back to back (about 47 octets each). */
function burst(count: number): Uint8Array {
  const one = announce(MANDATORY);
  const out = new Uint8Array(one.length * count);
  for (let i = 0; i < count; i++) out.set(one, i * one.length);
  return out;
}

const short = (type: number, bodyLength: number) => frame(type, new Uint8Array(bodyLength));

function badMarker(): Uint8Array {
  const m = KEEPALIVE.slice();
  m[3] = 0x00;
  return m;
}

/** Every case, header errors first. */
export const HOSTILE_CASES: readonly HostileCase[] = [
  // ---------------------------------------------------------------------------------------------
  // Message header (RFC 4271 §6.1)
  {
    name: "a marker that is not all ones",
    rule: "RFC 4271 §6.1: Connection Not Synchronized",
    stage: "established",
    bytes: badMarker(),
    expect: { notification: [1, 1], data: "" },
  },
  {
    name: "a length field below 19",
    rule: "RFC 4271 §6.1: Bad Message Length, data = the length field",
    stage: "established",
    bytes: withLengthField(KEEPALIVE, 18),
    expect: { notification: [1, 2], data: "0012" },
  },
  {
    name: "a length field above 4096 without extended messages",
    rule: "RFC 4271 §6.1 (RFC 8654 not negotiated): Bad Message Length",
    stage: "established",
    bytes: withLengthField(frame(2, new Uint8Array(4)), 4097),
    expect: { notification: [1, 2], data: "1001" },
  },
  {
    name: "a KEEPALIVE longer than 19 octets",
    rule: "RFC 4271 §6.1: a KEEPALIVE is exactly 19 octets",
    stage: "established",
    bytes: frame(4, new Uint8Array(1)),
    expect: { notification: [1, 2], data: "0014" },
  },
  {
    name: "an UPDATE shorter than 23 octets",
    rule: "RFC 4271 §6.1: Bad Message Length",
    stage: "established",
    bytes: short(2, 2),
    expect: { notification: [1, 2], data: "0015" },
  },
  {
    name: "an OPEN shorter than 29 octets",
    rule: "RFC 4271 §6.1: Bad Message Length",
    stage: "open",
    bytes: short(1, 5),
    expect: { notification: [1, 2], data: "0018" },
  },
  {
    name: "a NOTIFICATION shorter than 21 octets",
    rule: "RFC 4271 §6.1: Bad Message Length",
    stage: "established",
    bytes: short(3, 1),
    expect: { notification: [1, 2], data: "0014" },
  },
  {
    name: "message type 6 (unknown)",
    rule: "RFC 4271 §6.1: Bad Message Type, data = the type",
    stage: "established",
    bytes: frame(6, new Uint8Array(0)),
    expect: { notification: [1, 3], data: "06" },
  },
  {
    name: "message type 0",
    rule: "RFC 4271 §6.1: Bad Message Type, data = the type",
    stage: "established",
    bytes: frame(0, new Uint8Array(0)),
    expect: { notification: [1, 3], data: "00" },
  },
  {
    name: "a BoRR of 5 octets",
    rule:
      "RFC 7313 §5: a BoRR/EoRR not of 4 octets is ROUTE-REFRESH Message Error / Invalid Message Length, " +
      "data = the message",
    stage: "established",
    bytes: frame(5, Uint8Array.from([0, 1, 1, 1, 0])),
    expect: { notification: [7, 1], data: hex(frame(5, Uint8Array.from([0, 1, 1, 1, 0]))) },
  },
  {
    name: "a ROUTE-REFRESH with trailing octets (an ORF that was not negotiated)",
    rule: "RFC 5291 §4: octets after a subtype 0 ROUTE-REFRESH are ORF entries; without the ORF capability " +
      "they are ignored and the table is resent",
    stage: "established",
    bytes: frame(5, Uint8Array.from([0, 1, 0, 1, 0])),
    expect: { stays: "accepted", received: 0, answered: true },
  },
  {
    name: "an OPEN of about 5,000 octets (RFC 9072 extended optional parameters)",
    rule: "RFC 8654 §4 / RFC 4271 §6.1: an OPEN is never longer than 4096 octets: Bad Message Length",
    stage: "open",
    bytes: HUGE_OPEN,
    expect: { notification: [1, 2], data: hex(HUGE_OPEN.subarray(16, 18)) },
  },
  {
    name: "silence: no KEEPALIVE for longer than the hold time",
    rule: "RFC 4271 §6.5: Hold Timer Expired",
    stage: "established",
    bytes: new Uint8Array(0),
    expect: { notification: [4, 0] },
  },
  {
    name: "an UPDATE of 60,000 octets after extended messages were negotiated",
    rule: "RFC 8654 §3: with the Extended Message capability on both sides, messages up to 65,535 octets",
    stage: "established",
    open: { capabilities: [...defaultCapabilities(65000), { code: 6 }] },
    bytes: announce(MANDATORY, manyHostRoutes(11_990)),
    expect: { stays: "accepted", received: 11_990 },
  },
  {
    name: "an UPDATE of 60,000 octets without extended messages",
    rule: "RFC 4271 §6.1: Bad Message Length, data = the length field",
    stage: "established",
    bytes: announce(MANDATORY, manyHostRoutes(11_990)),
    expect: { notification: [1, 2], data: hex(announce(MANDATORY, manyHostRoutes(11_990)).subarray(16, 18)) },
  },
  // ---------------------------------------------------------------------------------------------
  // OPEN (RFC 4271 §6.2, RFC 5492, RFC 6286, RFC 6793)
  {
    name: "version 5",
    rule: "RFC 4271 §6.2: Unsupported Version Number, data = the largest version supported (4)",
    stage: "open",
    bytes: openMessage({ version: 5 }),
    expect: { notification: [2, 1], data: "0004" },
  },
  {
    name: "a peer AS other than the configured one",
    rule: "RFC 4271 §6.2: Bad Peer AS",
    stage: "open",
    bytes: openMessage({ asn: 65099 }),
    expect: { notification: [2, 2] },
  },
  {
    name: "a 4-octet AS capability that disagrees with the configured AS",
    rule: "RFC 6793 §4.1: the capability's AS is the peer's AS; RFC 4271 §6.2 Bad Peer AS",
    stage: "open",
    bytes: openMessage({ asn: 4200000001, headerAsn: 65000 }),
    expect: { notification: [2, 2] },
  },
  {
    name: "hold time 1",
    rule: "RFC 4271 §6.2: a hold time of one or two seconds is Unacceptable Hold Time",
    stage: "open",
    bytes: openMessage({ holdTime: 1 }),
    expect: { notification: [2, 6] },
  },
  {
    name: "hold time 2",
    rule: "RFC 4271 §6.2: Unacceptable Hold Time",
    stage: "open",
    bytes: openMessage({ holdTime: 2 }),
    expect: { notification: [2, 6] },
  },
  {
    name: "BGP identifier 0.0.0.0",
    rule: "RFC 6286 §2.2: a zero identifier is Bad BGP Identifier",
    stage: "open",
    bytes: openMessage({ routerId: "0.0.0.0" }),
    expect: { notification: [2, 3] },
  },
  {
    name: "an unsupported optional parameter (type 1, deprecated authentication)",
    rule: "RFC 4271 §6.2: Unsupported Optional Parameter",
    stage: "open",
    bytes: openMessage({ otherParams: [{ type: 1, value: Uint8Array.from([0]) }] }),
    expect: { notification: [2, 4] },
  },
  {
    name: "optional parameters whose length disagrees with the message",
    rule: "RFC 4271 §6.2: a malformed recognized optional parameter is an unspecific OPEN error (subcode 0)",
    stage: "open",
    bytes: (() => {
      const m = openMessage();
      const out = m.slice();
      out[28] = m[28] + 1; // Opt Parm Len one more than present
      return out;
    })(),
    expect: { notification: [2, 0] },
  },
  {
    name: "no address family in common (IPv6 only to an IPv4 neighbor)",
    rule: "RFC 5492 §5: Unsupported Capability, data = the capabilities we need",
    stage: "open",
    bytes: openMessage({ capabilities: [{ code: 1, afi: 2, safi: 1 }, { code: 65, asn: 65000 }] }),
    expect: { notification: [2, 7], data: "010400010001" },
  },
  {
    name: "an unknown capability (code 200)",
    rule: "RFC 5492 §3: an unknown capability is ignored",
    stage: "open",
    bytes: openMessage({
      capabilities: [...defaultCapabilities(65000), { code: 200, raw: Uint8Array.from([1, 2, 3]) }],
    }),
    expect: { established: true },
  },
  // ---------------------------------------------------------------------------------------------
  // Messages in the wrong state (RFC 4271 §8.2.2, subcodes of RFC 6608)
  {
    name: "an UPDATE instead of an OPEN",
    rule: "RFC 4271 §8.2.2 OpenSent, RFC 6608: FSM Error / Receive Unexpected Message in OpenSent",
    stage: "open",
    bytes: announce(MANDATORY),
    expect: { notification: [5, 1] },
  },
  {
    name: "a KEEPALIVE instead of an OPEN",
    rule: "RFC 4271 §8.2.2 OpenSent, RFC 6608: FSM Error / OpenSent",
    stage: "open",
    bytes: KEEPALIVE,
    expect: { notification: [5, 1] },
  },
  {
    name: "a second OPEN on an Established session",
    rule: "RFC 4271 §8.2.2 Established, RFC 6608: FSM Error / Receive Unexpected Message in Established",
    stage: "established",
    bytes: openMessage(),
    expect: { notification: [5, 3] },
  },
  // ---------------------------------------------------------------------------------------------
  // UPDATE: fatal errors (RFC 4271 §6.3 as kept by RFC 7606)
  {
    name: "a withdrawn routes length running past the message",
    rule: "RFC 7606 §4: an unparseable UPDATE is Malformed Attribute List, session reset",
    stage: "established",
    bytes: updateMessage({ withdrawn: [24, 198, 51, 100], withdrawnLength: 40 }),
    expect: { notification: [3, 1] },
  },
  {
    name: "a total path attribute length running past the message",
    rule: "RFC 7606 §4: Malformed Attribute List, session reset",
    stage: "established",
    bytes: updateMessage({ attributes: MANDATORY, attributesLength: 200 }),
    expect: { notification: [3, 1] },
  },
  {
    name: "an IPv4 prefix length of 33",
    rule: "RFC 7606 §5.3: a malformed NLRI field is Invalid Network Field, session reset",
    stage: "established",
    bytes: announce(MANDATORY, [33, 198, 51, 100, 1, 1]),
    expect: { notification: [3, 10] },
  },
  {
    name: "an NLRI prefix cut short",
    rule: "RFC 7606 §5.3: Invalid Network Field, session reset",
    stage: "established",
    bytes: announce(MANDATORY, [24, 198, 51]),
    expect: { notification: [3, 10] },
  },
  {
    name: "a withdrawn prefix length of 40",
    rule: "RFC 7606 §5.3: Invalid Network Field, session reset",
    stage: "established",
    bytes: updateMessage({ withdrawn: [40, 198, 51, 100, 1, 1] }),
    expect: { notification: [3, 10] },
  },
  {
    name: "an MP_REACH_NLRI with a 5-octet IPv6 next hop",
    rule: "RFC 7606 §7.11: a malformed MP_REACH_NLRI resets the session (Optional Attribute Error)",
    stage: "established",
    bytes: updateMessage({
      attributes: concat(ORIGIN, AS_PATH, mpReachV6([0x20, 1, 0xd, 0xb8, 0], V6_NLRI)),
    }),
    expect: {
      notification: [3, 9],
      data: hex(mpReachV6([0x20, 1, 0xd, 0xb8, 0], V6_NLRI)),
    },
  },
  {
    name: "an MP_REACH_NLRI with an IPv6 prefix length of 129",
    rule: "RFC 7606 §7.11 and §5.3: session reset",
    stage: "established",
    bytes: updateMessage({
      attributes: concat(ORIGIN, AS_PATH, mpReachV6(V6_NEXT_HOP, [129, ...new Array(17).fill(0)])),
    }),
    expect: { notification: [3, 9] },
  },
  {
    name: "an MP_UNREACH_NLRI of 2 octets",
    rule: "RFC 7606 §7.11: session reset",
    stage: "established",
    bytes: updateMessage({ attributes: attribute(0x80, 15, [0, 2]) }),
    expect: { notification: [3, 9], data: "800F020002" },
  },
  {
    name: "MP_REACH_NLRI twice",
    rule: "RFC 7606 §3 g: a repeated MP_REACH_NLRI is Malformed Attribute List",
    stage: "established",
    bytes: updateMessage({
      attributes: concat(ORIGIN, AS_PATH, mpReachV6(V6_NEXT_HOP, V6_NLRI), mpReachV6(V6_NEXT_HOP, V6_NLRI)),
    }),
    expect: { notification: [3, 1] },
  },
  {
    name: "an unrecognized well-known attribute (code 99)",
    rule: "RFC 4271 §6.3: Unrecognized Well-known Attribute, data = the attribute",
    stage: "established",
    bytes: announce(concat(MANDATORY, attribute(0x40, 99, [0xaa]))),
    expect: { notification: [3, 2], data: "406301AA" },
  },
  {
    name: "a bad marker in the middle of a 1 MB burst of valid UPDATEs",
    rule: "RFC 4271 §6.1: the NOTIFICATION must reach the peer although more data is on its way",
    stage: "established",
    bytes: concat(burst(2_000), badMarker(), burst(20_000)),
    expect: { notification: [1, 1], data: "" },
  },
  {
    name: "a malformed UPDATE followed by 1 MB of valid UPDATEs",
    rule: "RFC 7606 §4: Malformed Attribute List; the NOTIFICATION must not be lost in a reset",
    stage: "established",
    bytes: concat(updateMessage({ attributes: MANDATORY, attributesLength: 200 }), burst(22_000)),
    expect: { notification: [3, 1] },
  },
  // ---------------------------------------------------------------------------------------------
  // UPDATE: RFC 7606 treat-as-withdraw (the session stays, the prefixes count as withdrawn)
  {
    name: "ORIGIN flagged optional",
    rule:
      "RFC 7606 §3 c: conflicting Optional/Transitive bits make the attribute malformed: treat-as-withdraw",
    stage: "established",
    bytes: announce(concat(attribute(0xc0, 1, [0]), AS_PATH, NEXT_HOP)),
    expect: { stays: "treat-as-withdraw", received: 0 },
  },
  {
    name: "MULTI_EXIT_DISC flagged transitive",
    rule: "RFC 7606 §3 c: treat-as-withdraw",
    stage: "established",
    bytes: announce(concat(MANDATORY, attribute(0xc0, 4, [0, 0, 0, 1]))),
    expect: { stays: "treat-as-withdraw", received: 0 },
  },
  {
    name: "an ORIGIN of 2 octets",
    rule: "RFC 7606 §7.1: treat-as-withdraw",
    stage: "established",
    bytes: announce(concat(attribute(0x40, 1, [0, 0]), AS_PATH, NEXT_HOP)),
    expect: { stays: "treat-as-withdraw", received: 0 },
  },
  {
    name: "an ORIGIN value of 5",
    rule: "RFC 7606 §7.1: treat-as-withdraw",
    stage: "established",
    bytes: announce(concat(attribute(0x40, 1, [5]), AS_PATH, NEXT_HOP)),
    expect: { stays: "treat-as-withdraw", received: 0 },
  },
  {
    name: "an AS_PATH segment running past the attribute",
    rule: "RFC 7606 §7.2: treat-as-withdraw",
    stage: "established",
    bytes: announce(concat(ORIGIN, attribute(0x40, 2, [2, 3, 0, 0, 0xfd, 0xe8]), NEXT_HOP)),
    expect: { stays: "treat-as-withdraw", received: 0 },
  },
  {
    name: "a NEXT_HOP of 5 octets",
    rule: "RFC 7606 §7.3: treat-as-withdraw",
    stage: "established",
    bytes: announce(concat(ORIGIN, AS_PATH, attribute(0x40, 3, [10, 99, 0, 2, 0]))),
    expect: { stays: "treat-as-withdraw", received: 0 },
  },
  {
    name: "a MULTI_EXIT_DISC of 3 octets",
    rule: "RFC 7606 §7.4: treat-as-withdraw",
    stage: "established",
    bytes: announce(concat(MANDATORY, attribute(0x80, 4, [0, 0, 1]))),
    expect: { stays: "treat-as-withdraw", received: 0 },
  },
  {
    name: "COMMUNITIES of 5 octets",
    rule: "RFC 7606 §7.8: treat-as-withdraw",
    stage: "established",
    bytes: announce(concat(MANDATORY, attribute(0xc0, 8, [0, 1, 0, 2, 0xff]))),
    expect: { stays: "treat-as-withdraw", received: 0 },
  },
  {
    name: "a missing ORIGIN with NLRI",
    rule: "RFC 7606 §3 d: a missing well-known mandatory attribute: treat-as-withdraw",
    stage: "established",
    bytes: announce(concat(AS_PATH, NEXT_HOP)),
    expect: { stays: "treat-as-withdraw", received: 0 },
  },
  {
    name: "a missing AS_PATH with NLRI",
    rule: "RFC 7606 §3 d: treat-as-withdraw",
    stage: "established",
    bytes: announce(concat(ORIGIN, NEXT_HOP)),
    expect: { stays: "treat-as-withdraw", received: 0 },
  },
  {
    name: "a missing NEXT_HOP with IPv4 NLRI",
    rule: "RFC 7606 §3 d: treat-as-withdraw",
    stage: "established",
    bytes: announce(concat(ORIGIN, AS_PATH)),
    expect: { stays: "treat-as-withdraw", received: 0 },
  },
  {
    name: "a missing ORIGIN with MP_REACH_NLRI",
    rule: "RFC 7606 §3 d: treat-as-withdraw",
    stage: "established",
    bytes: updateMessage({ attributes: concat(AS_PATH, mpReachV6(V6_NEXT_HOP, V6_NLRI)) }),
    expect: { stays: "treat-as-withdraw", received: 0 },
  },
  {
    name: "an attribute running past the attribute field",
    rule: "RFC 7606 §4: the last attribute overruns the Total Attribute Length: treat-as-withdraw",
    stage: "established",
    bytes: announce(concat(MANDATORY, [0xc0, 8, 8, 0xfd, 0xe9, 0, 1])),
    expect: { stays: "treat-as-withdraw", received: 0 },
  },
  // ---------------------------------------------------------------------------------------------
  // UPDATE: RFC 7606 attribute discard and accepted oddities (the prefixes count as received)
  {
    name: "ORIGIN twice",
    rule: "RFC 7606 §3 g: all but the first occurrence are discarded",
    stage: "established",
    bytes: announce(concat(MANDATORY, attribute(0x40, 1, [2]))),
    expect: { stays: "attribute-discard", received: 1 },
  },
  {
    name: "an ATOMIC_AGGREGATE of 1 octet",
    rule: "RFC 7606 §7.6: attribute discard",
    stage: "established",
    bytes: announce(concat(MANDATORY, attribute(0x40, 6, [0]))),
    expect: { stays: "attribute-discard", received: 1 },
  },
  {
    name: "an AGGREGATOR of 6 octets from a 4-octet AS peer",
    rule: "RFC 7606 §7.7: attribute discard",
    stage: "established",
    bytes: announce(concat(MANDATORY, attribute(0xc0, 7, [0xfd, 0xe9, 10, 99, 0, 2]))),
    expect: { stays: "attribute-discard", received: 1 },
  },
  {
    name: "a LOCAL_PREF from an external peer",
    rule: "RFC 7606 §7.5: LOCAL_PREF from an external neighbor is discarded",
    stage: "established",
    bytes: announce(concat(MANDATORY, attribute(0x40, 5, [0, 0, 0, 100]))),
    expect: { stays: "attribute-discard", received: 1 },
  },
  {
    name: "an unknown optional transitive attribute",
    rule: "RFC 4271 §5: unrecognized optional transitive attributes are accepted",
    stage: "established",
    bytes: announce(concat(MANDATORY, attribute(0xc0, 250, [1, 2, 3]))),
    expect: { stays: "accepted", received: 1 },
  },
  {
    name: "a withdraw-only UPDATE without any attribute",
    rule: "RFC 7606 §3 d: well-known attributes are needed only with NLRI",
    stage: "established",
    bytes: updateMessage({ withdrawn: NLRI }),
    expect: { stays: "accepted", received: 0 },
  },
  {
    name: "a ROUTE-REFRESH for an AFI that was not negotiated",
    rule: "RFC 2918 §4: a ROUTE-REFRESH for an AFI/SAFI not advertised is ignored",
    stage: "established",
    bytes: frame(5, Uint8Array.from([0, 25, 0, 70])),
    expect: { stays: "accepted", received: 0 },
  },
  {
    name: "a ROUTE-REFRESH for IPv6 unicast on a session that negotiated IPv4 unicast only",
    rule: "RFC 2918 §4: ignored",
    stage: "established",
    bytes: frame(5, Uint8Array.from([0, 2, 0, 1])),
    expect: { stays: "accepted", received: 0 },
  },
];
