/**
 * A BGP peer written by hand for hostile-peer, fuzz and fault tests: a real TCP connection over which the
 * test sends any bytes it likes (valid or not) and reads the speaker's messages frame by frame.
 *
 * It connects through `node:net` because, unlike `Deno.connect`, it can bind the source address: every
 * test session on loopback comes from its own 127.0.0.x address, which the speaker matches against its
 * configured neighbors.
 *
 * @example
 * ```ts ignore
 * const peer = await RawBgpPeer.connect({ host: "127.0.0.1", port: 17901, localAddress: "127.0.0.10" });
 * await peer.establish({ asn: 65000 });
 * await peer.send(frame(9, new Uint8Array(0)));      // unknown message type
 * const n = await peer.expectNotification(2_000);     // { code: 1, subcode: 3, data: [9] }
 * await peer.close();
 * ```
 *
 * @module
 */

import net from "node:net";
import type { Buffer } from "node:buffer";
import { decodeMessage, encodeMessage, KEEPALIVE } from "../../lib/wire/message.ts";
import type {
  Capability,
  DecodeContext,
  Message,
  NotificationMessage,
  OpenMessage,
} from "../../lib/wire/types.ts";

/** One message as it arrived: its type and all its octets, header included. */
export interface BgpFrame {
  /** The header's type octet. */
  readonly type: number;
  /** The whole message, header included. */
  readonly bytes: Uint8Array;
}

/** What {@linkcode RawBgpPeer.next} returns when no message came. */
export type NoFrame = "closed" | "timeout";

/** How to connect. */
export interface ConnectOptions {
  /** The speaker's address. */
  readonly host: string;
  /** The speaker's BGP port. */
  readonly port: number;
  /** Source address to bind (a 127.0.0.x address on loopback, so the speaker sees a given neighbor). */
  readonly localAddress?: string;
  /** Bound of the TCP connect, ms (default 3000). */
  readonly timeoutMs?: number;
}

/** Our OPEN, as a well-behaved peer would send it; every field can be made wrong on purpose. */
export interface OpenOptions {
  /** Our AS (default 65000); 4-octet values go in the capability with AS_TRANS in the header. */
  readonly asn?: number;
  /** The 2-octet AS field when it must differ from what `asn` implies. */
  readonly headerAsn?: number;
  /** Hold time offered (default 90). */
  readonly holdTime?: number;
  /** BGP identifier (default 192.0.2.1 style: 10.99.0.2). */
  readonly routerId?: string;
  /** Version (default 4). */
  readonly version?: number;
  /**
   * Capabilities (default: multiprotocol IPv4 and IPv6 unicast, route refresh, enhanced route refresh,
   * 4-octet AS with `asn`).
   */
  readonly capabilities?: readonly Capability[];
  /** Optional parameters other than capabilities. */
  readonly otherParams?: readonly { readonly type: number; readonly value: Uint8Array }[];
}

/** The 2-octet AS placeholder of a 4-octet AS speaker (RFC 6793 §9). */
const AS_TRANS = 23456;

/** The default capabilities of our OPEN with AS `asn`. */
export function defaultCapabilities(asn: number): Capability[] {
  return [
    { code: 1, afi: 1, safi: 1 },
    { code: 1, afi: 2, safi: 1 },
    { code: 2 },
    { code: 70 },
    { code: 65, asn },
  ];
}

/** An encoded OPEN message from `options`. */
export function openMessage(options: OpenOptions = {}): Uint8Array {
  const asn = options.asn ?? 65000;
  const open: OpenMessage = {
    type: 1,
    version: options.version ?? 4,
    asn: options.headerAsn ?? (asn > 0xffff ? AS_TRANS : asn),
    holdTime: options.holdTime ?? 90,
    routerId: options.routerId ?? "10.99.0.2",
    capabilities: options.capabilities ?? defaultCapabilities(asn),
    otherParams: options.otherParams,
  };
  return encodeMessage(open, { fourOctetAs: false, addPath: [], maxMessageSize: 4096 });
}

/** A message with a correct marker and length field around `body`. */
export function frame(type: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(19 + body.length);
  out.fill(0xff, 0, 16);
  out[16] = out.length >>> 8;
  out[17] = out.length & 0xff;
  out[18] = type;
  out.set(body, 19);
  return out;
}

/** The same bytes with the header's length field set to `length` (whatever the real size). */
export function withLengthField(message: Uint8Array, length: number): Uint8Array {
  const out = message.slice();
  out[16] = (length >>> 8) & 0xff;
  out[17] = length & 0xff;
  return out;
}

/** One path attribute: flags, type code and value; the extended length bit follows the value's size. */
export function attribute(flags: number, code: number, value: Uint8Array | readonly number[]): Uint8Array {
  const v = value instanceof Uint8Array ? value : Uint8Array.from(value);
  const extended = (flags & 0x10) !== 0 || v.length > 255;
  const out = new Uint8Array((extended ? 4 : 3) + v.length);
  out[0] = extended ? flags | 0x10 : flags;
  out[1] = code;
  if (extended) {
    out[2] = v.length >>> 8;
    out[3] = v.length & 0xff;
    out.set(v, 4);
  } else {
    out[2] = v.length;
    out.set(v, 3);
  }
  return out;
}

/** Concatenates byte arrays. */
export function concat(...parts: readonly (Uint8Array | readonly number[])[]): Uint8Array {
  const arrays = parts.map((p) => p instanceof Uint8Array ? p : Uint8Array.from(p));
  const out = new Uint8Array(arrays.reduce((n, a) => n + a.length, 0));
  let at = 0;
  for (const a of arrays) {
    out.set(a, at);
    at += a.length;
  }
  return out;
}

/**
 * An UPDATE message from its three raw fields; the two length fields are computed unless given (to make
 * them lie).
 */
export function updateMessage(parts: {
  readonly withdrawn?: Uint8Array | readonly number[];
  readonly attributes?: Uint8Array | readonly number[];
  readonly nlri?: Uint8Array | readonly number[];
  readonly withdrawnLength?: number;
  readonly attributesLength?: number;
}): Uint8Array {
  const withdrawn = concat(parts.withdrawn ?? []);
  const attributes = concat(parts.attributes ?? []);
  const nlri = concat(parts.nlri ?? []);
  const wl = parts.withdrawnLength ?? withdrawn.length;
  const al = parts.attributesLength ?? attributes.length;
  return frame(2, concat([wl >>> 8, wl & 0xff], withdrawn, [al >>> 8, al & 0xff], attributes, nlri));
}

/** A NOTIFICATION as the test reads it. */
export interface ReceivedNotification {
  readonly code: number;
  readonly subcode: number;
  readonly data: Uint8Array;
  readonly shutdownMessage?: string;
}

/** A test's BGP endpoint on one TCP connection. */
export class RawBgpPeer {
  #socket: net.Socket;
  #buffer = new Uint8Array(0);
  #frames: BgpFrame[] = [];
  #waiter: (() => void) | undefined;
  #closed = false;
  #error: string | undefined;
  #keepaliveTimer: ReturnType<typeof setInterval> | undefined;
  #ctx: DecodeContext = { fourOctetAs: true, addPath: [], maxMessageSize: 65535 };
  #peerOpen: OpenMessage | undefined;

  private constructor(socket: net.Socket) {
    this.#socket = socket;
    socket.on(
      "data",
      (chunk: Buffer) => this.#onData(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length)),
    );
    socket.on("close", () => {
      this.#closed = true;
      this.#stopKeepalives();
      this.#wake();
    });
    socket.on("error", (err: Error) => {
      this.#error = err.message;
    });
  }

  /** Opens a TCP connection; rejects when it is refused or not up within the timeout. */
  static connect(options: ConnectOptions): Promise<RawBgpPeer> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({
        host: options.host,
        port: options.port,
        localAddress: options.localAddress,
      });
      socket.setNoDelay(true);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`Connecting to ${options.host}:${options.port} timed out`));
      }, options.timeoutMs ?? 3_000);
      socket.once("connect", () => {
        clearTimeout(timer);
        resolve(new RawBgpPeer(socket));
      });
      socket.once("error", (err: Error) => {
        clearTimeout(timer);
        socket.destroy();
        reject(err);
      });
    });
  }

  /**
   * Waits (bounded) for one connection to `host:port` from the speaker in active mode and returns it; the
   * listening socket is closed again before this resolves.
   */
  static accept(host: string, port: number, timeoutMs: number): Promise<RawBgpPeer> {
    return new Promise((resolve, reject) => {
      const server = net.createServer({ noDelay: true });
      const timer = setTimeout(() => {
        server.close();
        reject(new Error(`No connection to ${host}:${port} within ${timeoutMs} ms`));
      }, timeoutMs);
      server.once("connection", (socket: net.Socket) => {
        clearTimeout(timer);
        server.close();
        resolve(new RawBgpPeer(socket));
      });
      server.once("error", (err: Error) => {
        clearTimeout(timer);
        reject(err);
      });
      server.listen(port, host);
    });
  }

  /** True once the connection is closed (by either side). */
  get closed(): boolean {
    return this.#closed;
  }

  /** The speaker's OPEN, once {@linkcode establish} saw it. */
  get peerOpen(): OpenMessage | undefined {
    return this.#peerOpen;
  }

  /** The local address of the connection. */
  get localAddress(): string | undefined {
    return this.#socket.localAddress;
  }

  /** The decode context of received messages (4-octet AS, extended messages). */
  get decodeContext(): DecodeContext {
    return this.#ctx;
  }

  #onData(chunk: Uint8Array): void {
    const joined = new Uint8Array(this.#buffer.length + chunk.length);
    joined.set(this.#buffer);
    joined.set(chunk, this.#buffer.length);
    let at = 0;
    while (joined.length - at >= 19) {
      const length = (joined[at + 16] << 8) | joined[at + 17];
      if (length < 19) {
        this.#error = `the speaker sent a message with length ${length}`;
        this.#socket.destroy();
        return;
      }
      if (joined.length - at < length) break;
      this.#frames.push({ type: joined[at + 18], bytes: joined.slice(at, at + length) });
      at += length;
    }
    this.#buffer = joined.slice(at);
    this.#wake();
  }

  #wake(): void {
    const w = this.#waiter;
    this.#waiter = undefined;
    w?.();
  }

  /** Writes `bytes`; resolves once the socket accepted them (or the connection is gone). */
  send(bytes: Uint8Array): Promise<void> {
    if (this.#closed || this.#socket.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      this.#socket.write(bytes, () => resolve());
    });
  }

  /** The next message, or why there is none: the connection closed, or nothing came within `timeoutMs`. */
  async next(timeoutMs: number): Promise<BgpFrame | NoFrame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const f = this.#frames.shift();
      if (f) return f;
      if (this.#closed) return "closed";
      const left = deadline - Date.now();
      if (left <= 0) return "timeout";
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        this.#waiter = resolve;
        timer = setTimeout(resolve, left);
      });
      clearTimeout(timer);
    }
  }

  /** Decodes a received frame with the session's context; throws when the speaker sent something invalid. */
  decode(f: BgpFrame): Message {
    const r = decodeMessage(f.bytes, this.#ctx);
    if (!r.ok) throw new Error(`The speaker sent an invalid message: ${r.error.reason}`);
    return r.value;
  }

  /**
   * Sends our OPEN, reads the speaker's OPEN and KEEPALIVE, and answers with a KEEPALIVE: the session is
   * Established on both sides when this resolves. Throws with what came instead. `openBytes` replaces our
   * OPEN (its capabilities must still match `options` for the decode context).
   */
  async establish(
    options: OpenOptions = {},
    timeoutMs = 5_000,
    openBytes: Uint8Array = openMessage(options),
  ): Promise<OpenMessage> {
    await this.send(openBytes);
    const open = await this.#expectType(1, timeoutMs, "OPEN");
    const peerOpen = this.decode(open) as OpenMessage;
    this.#peerOpen = peerOpen;
    const ours = options.capabilities ?? defaultCapabilities(options.asn ?? 65000);
    const theirs = peerOpen.capabilities;
    this.#ctx = {
      fourOctetAs: ours.some((c) => c.code === 65) && theirs.some((c) => c.code === 65),
      addPath: [],
      maxMessageSize: ours.some((c) => c.code === 6) && theirs.some((c) => c.code === 6) ? 65535 : 4096,
    };
    await this.#expectType(4, timeoutMs, "KEEPALIVE");
    await this.send(KEEPALIVE);
    return peerOpen;
  }

  async #expectType(type: number, timeoutMs: number, name: string): Promise<BgpFrame> {
    const f = await this.next(timeoutMs);
    if (typeof f === "string") throw new Error(`Expected ${name} from the speaker, got ${this.#describe(f)}`);
    if (f.type !== type) {
      const detail = f.type === 3 ? ` ${JSON.stringify(this.#notification(f))}` : "";
      throw new Error(`Expected ${name} from the speaker, got message type ${f.type}${detail}`);
    }
    return f;
  }

  #describe(why: NoFrame): string {
    return why === "closed"
      ? `a closed connection${this.#error ? ` (${this.#error})` : ""}`
      : "nothing in time";
  }

  #notification(f: BgpFrame): ReceivedNotification {
    const m = this.decode(f) as NotificationMessage;
    return { code: m.code, subcode: m.subcode, data: m.data, shutdownMessage: m.shutdownMessage };
  }

  /**
   * Reads until a NOTIFICATION (skipping KEEPALIVEs, UPDATEs and ROUTE-REFRESHes) and returns it; throws
   * when the connection closes without one or nothing comes within `timeoutMs`.
   */
  async expectNotification(timeoutMs: number): Promise<ReceivedNotification> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const f = await this.next(Math.max(0, deadline - Date.now()));
      if (typeof f === "string") throw new Error(`Expected a NOTIFICATION, got ${this.#describe(f)}`);
      if (f.type === 3) return this.#notification(f);
    }
  }

  /**
   * Collects what arrives for `ms` and returns the frames; fails fast (returns early) when a NOTIFICATION
   * arrives or the connection closes. Use it to prove a session stays up.
   */
  async collect(
    ms: number,
  ): Promise<{ frames: BgpFrame[]; notification?: ReceivedNotification; closed: boolean }> {
    const frames: BgpFrame[] = [];
    const deadline = Date.now() + ms;
    for (;;) {
      const left = deadline - Date.now();
      if (left <= 0) return { frames, closed: false };
      const f = await this.next(left);
      if (f === "timeout") return { frames, closed: false };
      if (f === "closed") return { frames, closed: true };
      frames.push(f);
      if (f.type === 3) return { frames, notification: this.#notification(f), closed: this.#closed };
    }
  }

  /** Waits until the speaker closes the connection; true if it did within `timeoutMs`. */
  async waitClosed(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.#closed) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      const f = await this.next(left);
      if (f === "timeout") return false;
    }
    return true;
  }

  /** Sends a KEEPALIVE every `intervalMs` until the connection closes or {@linkcode close} is called. */
  startKeepalives(intervalMs: number): void {
    this.#stopKeepalives();
    this.#keepaliveTimer = setInterval(() => {
      if (!this.#closed) this.#socket.write(KEEPALIVE);
    }, intervalMs);
  }

  #stopKeepalives(): void {
    if (this.#keepaliveTimer !== undefined) clearInterval(this.#keepaliveTimer);
    this.#keepaliveTimer = undefined;
  }

  /** Closes the connection (FIN) and waits, bounded, until it is gone. */
  async close(): Promise<void> {
    this.#stopKeepalives();
    if (this.#closed) return;
    this.#socket.end();
    const deadline = Date.now() + 1_000;
    while (!this.#closed && Date.now() < deadline) await this.next(deadline - Date.now());
    if (!this.#closed) this.#socket.destroy();
    this.#frames = [];
  }

  /** Resets the connection at once (no FIN exchange). */
  destroy(): void {
    this.#stopKeepalives();
    this.#socket.destroy();
  }
}
