/**
 * A minimal receiving BGP session for `speaker listen`: answers the peer's OPEN, keeps the session alive,
 * and turns every UPDATE into route events. It never announces anything.
 *
 * The protocol logic is a pure class fed with bytes and time; the caller owns the socket and the timers.
 *
 * @module
 */
import { AS_TRANS } from "../session/open_policy.ts";
import { decodeOpen } from "../wire/open.ts";
import { decodeMessage, encodeMessage, frameLength, KEEPALIVE, MAX_MESSAGE_SIZE } from "../wire/message.ts";
import { decodeUpdate, isEndOfRib } from "../wire/update.ts";
import { prefixToString } from "../wire/nlri.ts";
import {
  type Capability,
  type DecodeContext,
  DEFAULT_DECODE_CONTEXT,
  type Message,
  type PathAttributes,
  type Prefix,
} from "../wire/types.ts";

/** What a receiver announces about itself in its OPEN. */
export interface ReceiverIdentity {
  readonly asn: number;
  readonly routerId: string;
  readonly holdTime: number;
  /** When set, a peer with another AS is refused with NOTIFICATION 2/2 (Bad Peer AS). */
  readonly peerAsn?: number;
}

/** One route event seen on the session. */
export type RouteEvent =
  | {
    readonly kind: "announce";
    readonly prefix: string;
    readonly nextHop: string;
    readonly asPath: readonly number[];
    readonly origin: "igp" | "egp" | "incomplete";
    readonly localPref?: number;
    readonly med?: number;
    readonly communities: readonly string[];
  }
  | { readonly kind: "withdraw"; readonly prefix: string; readonly reason?: string }
  | { readonly kind: "end-of-rib"; readonly family: "ipv4" | "ipv6" }
  | {
    readonly kind: "up";
    readonly peerAsn: number;
    readonly peerRouterId: string;
    readonly holdTime: number;
  }
  | { readonly kind: "down"; readonly reason: string };

/** What the caller must do after feeding bytes or time. */
export interface ReceiverOutput {
  send: Uint8Array[];
  events: RouteEvent[];
  /** Set when the session is over: send what is in `send`, then close. */
  close: boolean;
}

const ORIGINS = ["igp", "egp", "incomplete"] as const;

/** The receiving side of one BGP session. */
export class RouteReceiver {
  #identity: ReceiverIdentity;
  #buffer = new Uint8Array(0);
  #ctx: DecodeContext = DEFAULT_DECODE_CONTEXT;
  #established = false;
  #closed = false;
  #holdTime = 0;
  #lastReceived: number;
  #lastSent: number;

  constructor(identity: ReceiverIdentity, now: number) {
    this.#identity = identity;
    this.#lastReceived = now;
    this.#lastSent = now;
  }

  /** Our OPEN, sent as soon as the TCP connection is up (RFC 4271 §8.2.2). */
  open(now: number): Uint8Array {
    this.#lastSent = now;
    const caps: Capability[] = [
      { code: 1, afi: 1, safi: 1 },
      { code: 1, afi: 2, safi: 1 },
      { code: 2 },
      { code: 5, entries: [{ afi: 1, safi: 1, nextHopAfi: 2 }] },
      { code: 65, asn: this.#identity.asn },
    ];
    return encodeMessage({
      type: 1,
      version: 4,
      asn: this.#identity.asn > 0xffff ? AS_TRANS : this.#identity.asn,
      holdTime: this.#identity.holdTime,
      routerId: this.#identity.routerId,
      capabilities: caps,
    }, DEFAULT_DECODE_CONTEXT);
  }

  /** Feeds received bytes. */
  receive(chunk: Uint8Array, now: number): ReceiverOutput {
    const out: ReceiverOutput = { send: [], events: [], close: false };
    if (this.#closed) return out;
    this.#lastReceived = now;
    const joined = new Uint8Array(this.#buffer.length + chunk.length);
    joined.set(this.#buffer);
    joined.set(chunk, this.#buffer.length);
    let offset = 0;
    while (!this.#closed) {
      const length = frameLength(joined, offset, this.#ctx.maxMessageSize);
      if (typeof length !== "number") {
        this.#fail(out, length.code, length.subcode, length.data, length.reason);
        break;
      }
      // frameLength() checks the header only: wait until the whole message is here.
      if (length === 0 || offset + length > joined.length) break;
      this.#message(joined.subarray(offset, offset + length), out);
      offset += length;
    }
    this.#buffer = joined.slice(offset);
    return out;
  }

  /** Runs the keepalive and hold timers; call about once a second. */
  tick(now: number): ReceiverOutput {
    const out: ReceiverOutput = { send: [], events: [], close: false };
    if (this.#closed || !this.#established || this.#holdTime === 0) return out;
    if (now - this.#lastReceived > this.#holdTime * 1000) {
      this.#fail(out, 4, 0, new Uint8Array(0), "hold timer expired");
      return out;
    }
    if (now - this.#lastSent >= (this.#holdTime * 1000) / 3) {
      out.send.push(KEEPALIVE);
      this.#lastSent = now;
    }
    return out;
  }

  #message(bytes: Uint8Array, out: ReceiverOutput) {
    const type = bytes[18];
    if (!this.#established && type !== 1) {
      this.#fail(out, 5, 1, new Uint8Array([type]), "message before OPEN"); // RFC 6608: FSM error in OpenSent
      return;
    }
    if (type === 1) {
      this.#onOpen(bytes, out);
      return;
    }
    if (type === 2) {
      const decoded = decodeUpdate(bytes.subarray(19), this.#ctx);
      if (!decoded.ok) {
        const e = decoded.error;
        this.#fail(out, e.code, e.subcode, e.data, e.reason);
        return;
      }
      this.#onUpdate(decoded.value.update.withdrawn, decoded.value.update.nlri, decoded.value, out);
      return;
    }
    const decoded = decodeMessage(bytes, this.#ctx);
    if (!decoded.ok) {
      const e = decoded.error;
      this.#fail(out, e.code, e.subcode, e.data, e.reason);
      return;
    }
    this.#other(decoded.value, out);
  }

  #onOpen(bytes: Uint8Array, out: ReceiverOutput) {
    if (this.#established) {
      this.#fail(out, 5, 3, new Uint8Array(0), "OPEN on an established session");
      return;
    }
    const decoded = decodeOpen(bytes.subarray(19));
    if (!decoded.ok) {
      const e = decoded.error;
      this.#fail(out, e.code, e.subcode, e.data, e.reason);
      return;
    }
    const open = decoded.value;
    const as4 = open.capabilities.find((c): c is { code: 65; asn: number } => c.code === 65);
    const peerAsn = as4 ? as4.asn : open.asn;
    if (open.version !== 4) {
      this.#fail(out, 2, 1, new Uint8Array([0, 4]), `unsupported version ${open.version}`);
      return;
    }
    if (this.#identity.peerAsn !== undefined && peerAsn !== this.#identity.peerAsn) {
      this.#fail(out, 2, 2, new Uint8Array(0), `peer AS ${peerAsn}, expected ${this.#identity.peerAsn}`);
      return;
    }
    if (open.holdTime === 1 || open.holdTime === 2) {
      this.#fail(out, 2, 6, new Uint8Array(0), `unacceptable hold time ${open.holdTime}`);
      return;
    }
    // We advertise neither ADD-PATH nor extended messages, so neither applies.
    this.#ctx = { fourOctetAs: as4 !== undefined, addPath: [], maxMessageSize: MAX_MESSAGE_SIZE };
    this.#holdTime = Math.min(open.holdTime, this.#identity.holdTime);
    this.#established = true;
    out.send.push(KEEPALIVE);
    out.events.push({ kind: "up", peerAsn, peerRouterId: open.routerId, holdTime: this.#holdTime });
  }

  #onUpdate(
    withdrawn: readonly Prefix[],
    nlri: readonly Prefix[],
    decoded: { update: { attributes: PathAttributes }; treatAsWithdraw?: { reason: string } },
    out: ReceiverOutput,
  ) {
    const attrs = decoded.update.attributes;
    const eor = isEndOfRib(decoded.update as never);
    if (eor) {
      out.events.push({ kind: "end-of-rib", family: eor.afi === 1 ? "ipv4" : "ipv6" });
      return;
    }
    for (const p of withdrawn) out.events.push({ kind: "withdraw", prefix: prefixToString(p) });
    for (const p of attrs.mpUnreach?.withdrawn ?? []) {
      out.events.push({ kind: "withdraw", prefix: prefixToString(p) });
    }
    const announced = [...nlri, ...(attrs.mpReach?.nlri ?? [])];
    if (decoded.treatAsWithdraw) {
      // RFC 7606 §2: the announced prefixes are withdrawn, and the session stays up.
      for (const p of announced) {
        out.events.push({
          kind: "withdraw",
          prefix: prefixToString(p),
          reason: decoded.treatAsWithdraw.reason,
        });
      }
      return;
    }
    const asPath = (attrs.asPath ?? []).flatMap((s) => s.asns);
    const communities = (attrs.communities ?? []).map((c) => `${c >>> 16}:${c & 0xffff}`);
    for (const p of nlri) {
      out.events.push({
        kind: "announce",
        prefix: prefixToString(p),
        nextHop: attrs.nextHop ?? attrs.mpReach?.nextHops[0] ?? "",
        asPath,
        origin: ORIGINS[attrs.origin ?? 0],
        localPref: attrs.localPref,
        med: attrs.med,
        communities,
      });
    }
    for (const p of attrs.mpReach?.nlri ?? []) {
      out.events.push({
        kind: "announce",
        prefix: prefixToString(p),
        nextHop: attrs.mpReach?.nextHops[0] ?? "",
        asPath,
        origin: ORIGINS[attrs.origin ?? 0],
        localPref: attrs.localPref,
        med: attrs.med,
        communities,
      });
    }
  }

  #other(msg: Message, out: ReceiverOutput) {
    if (msg.type === 3) {
      const text = msg.shutdownMessage ? `: "${msg.shutdownMessage}"` : "";
      out.events.push({ kind: "down", reason: `NOTIFICATION ${msg.code}/${msg.subcode} received${text}` });
      this.#closed = true;
      out.send.length = 0;
      out.close = true;
    }
    // KEEPALIVE and ROUTE-REFRESH need no answer from a receiver that announces nothing.
  }

  #fail(out: ReceiverOutput, code: number, subcode: number, data: Uint8Array, reason: string) {
    out.send.push(encodeMessage({ type: 3, code, subcode, data }, this.#ctx));
    out.events.push({ kind: "down", reason: `NOTIFICATION ${code}/${subcode} sent: ${reason}` });
    this.#closed = true;
    out.close = true;
  }
}
