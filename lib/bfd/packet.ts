/**
 * BFD Control packets (RFC 5880 §4.1): encoding, and decoding with every reception check of §6.8.6 that
 * does not need session state. Decode failures are values ({@linkcode BfdDecodeError}), never exceptions:
 * a malformed datagram from the network is counted and dropped, it cannot throw.
 *
 * ```
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * |Vers |  Diag   |Sta|P|F|C|A|D|M|  Detect Mult  |    Length     |
 * |                       My Discriminator                        |
 * |                      Your Discriminator                       |
 * |                    Desired Min TX Interval                    |
 * |                   Required Min RX Interval                    |
 * |                 Required Min Echo RX Interval                 |
 * ```
 *
 * @module
 */

/** RFC 5880 §4.1: the protocol version this codec speaks. */
export const BFD_VERSION = 1;

/** RFC 5880 §4.1: length of a Control packet without the authentication section. */
export const CONTROL_PACKET_LENGTH = 24;

/** RFC 5880 §4.1 session states, by their wire value (0..3). */
export const BFD_STATES = ["AdminDown", "Down", "Init", "Up"] as const;

/** A BFD session state (RFC 5880 §4.1, §6.2). */
export type BfdState = typeof BFD_STATES[number];

/** RFC 5880 §4.1 diagnostic codes: the local system's reason for the last change of session state. */
export const Diagnostic = {
  None: 0,
  ControlDetectionTimeExpired: 1,
  EchoFunctionFailed: 2,
  NeighborSignaledSessionDown: 3,
  ForwardingPlaneReset: 4,
  PathDown: 5,
  ConcatenatedPathDown: 6,
  AdministrativelyDown: 7,
  ReverseConcatenatedPathDown: 8,
} as const;

/** A diagnostic code (0..31 on the wire; 0..8 are defined). */
export type DiagnosticCode = number;

const DIAGNOSTIC_NAMES: readonly string[] = [
  "no diagnostic",
  "control detection time expired",
  "echo function failed",
  "neighbor signaled session down",
  "forwarding plane reset",
  "path down",
  "concatenated path down",
  "administratively down",
  "reverse concatenated path down",
];

/** A readable name of a diagnostic code (`"control detection time expired"`). */
export function diagnosticName(code: DiagnosticCode): string {
  return DIAGNOSTIC_NAMES[code] ?? `diagnostic ${code}`;
}

/** One BFD Control packet, with intervals in microseconds as on the wire. */
export interface ControlPacket {
  readonly diagnostic: DiagnosticCode;
  readonly state: BfdState;
  /** P: the sender asks for verification of a parameter change (a Poll Sequence, §6.5). */
  readonly poll: boolean;
  /** F: the answer to a packet with P set. */
  readonly final: boolean;
  /** C: the sender's BFD does not share fate with its control plane. */
  readonly controlPlaneIndependent: boolean;
  /** A: an authentication section follows (never set by this implementation). */
  readonly authenticationPresent: boolean;
  /** D: the sender wishes to run Demand mode. */
  readonly demand: boolean;
  /** M: reserved for multipoint; always 0. */
  readonly multipoint: boolean;
  /** Detection time multiplier, never 0. */
  readonly detectMult: number;
  readonly myDiscriminator: number;
  readonly yourDiscriminator: number;
  readonly desiredMinTxUs: number;
  readonly requiredMinRxUs: number;
  readonly requiredMinEchoRxUs: number;
}

/** The default values of a packet, so callers name only what matters to them. */
export const EMPTY_CONTROL_PACKET: ControlPacket = {
  diagnostic: Diagnostic.None,
  state: "Down",
  poll: false,
  final: false,
  controlPlaneIndependent: false,
  authenticationPresent: false,
  demand: false,
  multipoint: false,
  detectMult: 3,
  myDiscriminator: 1,
  yourDiscriminator: 0,
  desiredMinTxUs: 1_000_000,
  requiredMinRxUs: 1_000_000,
  requiredMinEchoRxUs: 0,
};

/** Why a received packet was discarded (RFC 5880 §6.8.6, in the order the checks run). */
export type BfdDecodeErrorKind =
  | "truncated"
  | "bad-version"
  | "bad-length"
  | "zero-detect-mult"
  | "multipoint"
  | "zero-my-discriminator"
  | "zero-your-discriminator"
  | "unexpected-authentication"
  | "missing-authentication";

/** A decode failure: the kind, for counters, and a message naming the offending value. */
export interface BfdDecodeError {
  readonly kind: BfdDecodeErrorKind;
  readonly message: string;
}

/** The result of {@linkcode decodeControlPacket}. */
export type DecodeResult =
  | { readonly ok: true; readonly packet: ControlPacket }
  | { readonly ok: false; readonly error: BfdDecodeError };

/** Options of {@linkcode decodeControlPacket}. */
export interface DecodeOptions {
  /** Whether authentication is configured for the session (never, in this implementation). */
  readonly authentication?: boolean;
}

function fail(kind: BfdDecodeErrorKind, message: string): DecodeResult {
  return { ok: false, error: { kind, message } };
}

/**
 * Decodes one BFD Control packet and applies the checks of RFC 5880 §6.8.6 that need no session: version,
 * length, detect multiplier, multipoint bit, My Discriminator, Your Discriminator against the state, and
 * the A bit against the configured authentication. Bytes after the Length field are ignored. Never throws.
 *
 * @example
 * ```ts
 * import { decodeControlPacket, EMPTY_CONTROL_PACKET, encodeControlPacket } from "./packet.ts";
 * const r = decodeControlPacket(encodeControlPacket({ ...EMPTY_CONTROL_PACKET, myDiscriminator: 7 }));
 * if (r.ok) console.log(r.packet.myDiscriminator); // 7
 * ```
 */
export function decodeControlPacket(bytes: Uint8Array, options: DecodeOptions = {}): DecodeResult {
  if (bytes.byteLength < CONTROL_PACKET_LENGTH) {
    return fail(
      "truncated",
      `BFD packet of ${bytes.byteLength} bytes is shorter than ${CONTROL_PACKET_LENGTH}`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const b0 = bytes[0];
  const b1 = bytes[1];
  const version = b0 >> 5;
  // RFC 5880 §6.8.6: "If the version number is not correct (1), the packet MUST be discarded."
  if (version !== BFD_VERSION) return fail("bad-version", `BFD version ${version} is not ${BFD_VERSION}`);
  const authenticationPresent = (b1 & 0x04) !== 0;
  const length = bytes[3];
  // RFC 5880 §6.8.6: Length below the minimum (24, or 26 with the A bit), or above the payload.
  const minimum = authenticationPresent ? CONTROL_PACKET_LENGTH + 2 : CONTROL_PACKET_LENGTH;
  if (length < minimum) return fail("bad-length", `BFD Length ${length} is below the minimum ${minimum}`);
  if (length > bytes.byteLength) {
    return fail("bad-length", `BFD Length ${length} exceeds the ${bytes.byteLength} bytes received`);
  }
  const detectMult = bytes[2];
  if (detectMult === 0) return fail("zero-detect-mult", "BFD Detect Mult is zero");
  const multipoint = (b1 & 0x01) !== 0;
  if (multipoint) return fail("multipoint", "BFD Multipoint bit is set");
  const myDiscriminator = view.getUint32(4);
  if (myDiscriminator === 0) return fail("zero-my-discriminator", "BFD My Discriminator is zero");
  const yourDiscriminator = view.getUint32(8);
  const state = BFD_STATES[(b1 >> 6) & 0x03];
  // RFC 5880 §6.8.6: a zero Your Discriminator is only valid while the sender is Down or AdminDown.
  if (yourDiscriminator === 0 && state !== "Down" && state !== "AdminDown") {
    return fail("zero-your-discriminator", `BFD Your Discriminator is zero in state ${state}`);
  }
  // RFC 5880 §6.8.6: the A bit must match whether authentication is in use.
  if (authenticationPresent && !options.authentication) {
    return fail(
      "unexpected-authentication",
      "BFD packet is authenticated but no authentication is configured",
    );
  }
  if (!authenticationPresent && options.authentication) {
    return fail("missing-authentication", "BFD packet is not authenticated but authentication is configured");
  }
  return {
    ok: true,
    packet: {
      diagnostic: b0 & 0x1f,
      state,
      poll: (b1 & 0x20) !== 0,
      final: (b1 & 0x10) !== 0,
      controlPlaneIndependent: (b1 & 0x08) !== 0,
      authenticationPresent,
      demand: (b1 & 0x02) !== 0,
      multipoint,
      detectMult,
      myDiscriminator,
      yourDiscriminator,
      desiredMinTxUs: view.getUint32(12),
      requiredMinRxUs: view.getUint32(16),
      requiredMinEchoRxUs: view.getUint32(20),
    },
  };
}

/**
 * Encodes a Control packet without authentication (24 bytes). Field values are masked to their widths;
 * the A bit is encoded as given, for tests that need such a packet.
 *
 * @example
 * ```ts
 * import { EMPTY_CONTROL_PACKET, encodeControlPacket } from "./packet.ts";
 * encodeControlPacket({ ...EMPTY_CONTROL_PACKET, state: "Up", yourDiscriminator: 9 }).length; // 24
 * ```
 */
export function encodeControlPacket(packet: ControlPacket): Uint8Array {
  const out = new Uint8Array(CONTROL_PACKET_LENGTH);
  const view = new DataView(out.buffer);
  out[0] = (BFD_VERSION << 5) | (packet.diagnostic & 0x1f);
  out[1] = (BFD_STATES.indexOf(packet.state) << 6) |
    (packet.poll ? 0x20 : 0) |
    (packet.final ? 0x10 : 0) |
    (packet.controlPlaneIndependent ? 0x08 : 0) |
    (packet.authenticationPresent ? 0x04 : 0) |
    (packet.demand ? 0x02 : 0) |
    (packet.multipoint ? 0x01 : 0);
  out[2] = packet.detectMult & 0xff;
  out[3] = CONTROL_PACKET_LENGTH;
  view.setUint32(4, packet.myDiscriminator >>> 0);
  view.setUint32(8, packet.yourDiscriminator >>> 0);
  view.setUint32(12, packet.desiredMinTxUs >>> 0);
  view.setUint32(16, packet.requiredMinRxUs >>> 0);
  view.setUint32(20, packet.requiredMinEchoRxUs >>> 0);
  return out;
}
