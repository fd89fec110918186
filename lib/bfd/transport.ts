/**
 * BFD over UDP: the receive side (RFC 5881 single hop on port 3784, RFC 5883 multihop on port 4784) and
 * one send socket per session (source port 49152–65535, TTL / hop limit 255), IPv4 and IPv6.
 *
 * The TTL rule is checked here, in user space, from the TTL the kernel reports with every datagram
 * (`IP_RECVTTL` / `IPV6_RECVHOPLIMIT`): single hop accepts only 255 (RFC 5881 §5, the GTSM check that
 * proves the sender is directly connected), multihop at least a configured minimum (RFC 5883 §2). The
 * kernel's `IP_MINTTL` / `IPV6_MINHOPCOUNT` are not used: on Linux they filter TCP only, and a UDP
 * datagram with TTL 254 still arrives on a socket that has them set (checked on kernel 6.18).
 *
 * Sockets work in whatever network namespace the process runs in. Each listener waits for datagrams with
 * one `poll` on a pool thread, so an idle listener costs no CPU.
 *
 * @module
 */

import { type ReceivedDatagram, UdpSocket } from "./udp_libc.ts";
import type { IpFamily, SocketEndpoint } from "../transport/socket_address.ts";
import { OsError } from "../transport/libc.ts";

/** RFC 5881 §4: destination port of single-hop Control packets. */
export const SINGLE_HOP_PORT = 3784;
/** RFC 5883 §5: destination port of multihop Control packets. */
export const MULTIHOP_PORT = 4784;
/** RFC 5881 §4: the range of source ports. */
export const SOURCE_PORT_MIN = 49152;
/** RFC 5881 §4: the range of source ports. */
export const SOURCE_PORT_MAX = 65535;
/** RFC 5881 §5: the TTL / hop limit of every packet sent, and the only one accepted on a single hop. */
export const BFD_TTL = 255;
/** The default lowest TTL accepted on a multihop session (up to 254 routers in between). */
export const DEFAULT_MULTIHOP_MIN_TTL = 1;

/** Single hop (RFC 5881) or multihop (RFC 5883). */
export type BfdHopMode = "single" | "multi";

/** A datagram that passed the TTL check, for the BFD service to decode. */
export interface BfdDatagram {
  readonly data: Uint8Array;
  readonly source: SocketEndpoint;
  readonly ttl: number;
  readonly ifIndex: number;
  readonly mode: BfdHopMode;
}

/** Why the transport dropped a datagram before decoding it. */
export type TransportDropReason = "ttl" | "truncated";

/** Options of {@linkcode BfdListener.open}. */
export interface BfdListenerOptions {
  readonly family: IpFamily;
  readonly mode: BfdHopMode;
  /** Local address to bind; default the wildcard. */
  readonly address?: string;
  /** Port; default 3784 (single hop) or 4784 (multihop). */
  readonly port?: number;
  /** Multihop only: the lowest TTL accepted (default {@linkcode DEFAULT_MULTIHOP_MIN_TTL}). */
  readonly minTtl?: number;
  /** Called for every datagram that passes the TTL check. */
  readonly onDatagram: (datagram: BfdDatagram) => void;
  /** Called for every datagram dropped here (wrong TTL, truncated). */
  readonly onDrop?: (reason: TransportDropReason, source: SocketEndpoint, ttl: number) => void;
  /** Called when reading from the socket fails (the listener keeps going after a short pause). */
  readonly onError?: (error: Error) => void;
}

/** After a read error, wait this long before polling again, so a persistent error cannot spin. */
const ERROR_PAUSE_MS = 100;
/** Datagrams read per wake-up at most, so one busy socket cannot hold the event loop. */
const BATCH = 64;

/**
 * A BFD receive socket for one family and mode. Datagrams are read as soon as they arrive, checked for
 * their TTL and handed to `onDatagram`.
 *
 * @example
 * ```ts ignore
 * const l = BfdListener.open({ family: 4, mode: "single", onDatagram: (d) => console.log(d.source) });
 * await l.close();
 * ```
 */
export class BfdListener {
  readonly #socket: UdpSocket;
  readonly #options: BfdListenerOptions;
  readonly #loop: Promise<void>;
  readonly #local: SocketEndpoint;

  private constructor(socket: UdpSocket, options: BfdListenerOptions) {
    this.#socket = socket;
    this.#options = options;
    this.#local = socket.localEndpoint();
    this.#loop = this.#run();
  }

  /** Binds the socket (throws an `OsError`, e.g. EADDRINUSE) and starts reading. */
  static open(options: BfdListenerOptions): BfdListener {
    const socket = UdpSocket.open({
      family: options.family,
      address: options.address,
      port: options.port ?? (options.mode === "single" ? SINGLE_HOP_PORT : MULTIHOP_PORT),
      receiveTtl: true,
    });
    return new BfdListener(socket, options);
  }

  /** The bound address and port. */
  get local(): SocketEndpoint {
    return this.#local;
  }

  /** The mode this listener serves. */
  get mode(): BfdHopMode {
    return this.#options.mode;
  }

  #accepts(ttl: number): boolean {
    if (this.#options.mode === "single") return ttl === BFD_TTL;
    return ttl >= (this.#options.minTtl ?? DEFAULT_MULTIHOP_MIN_TTL);
  }

  #deliver(d: ReceivedDatagram): void {
    const o = this.#options;
    if (d.truncated) {
      o.onDrop?.("truncated", d.source, d.ttl);
    } else if (!this.#accepts(d.ttl)) {
      // RFC 5881 §5 / RFC 5883 §2: a packet with the wrong TTL is discarded before any other check.
      o.onDrop?.("ttl", d.source, d.ttl);
    } else {
      o.onDatagram({ data: d.data, source: d.source, ttl: d.ttl, ifIndex: d.ifIndex, mode: o.mode });
    }
  }

  async #run(): Promise<void> {
    while (await this.#socket.wait()) {
      try {
        for (let i = 0; i < BATCH; i++) {
          const d = this.#socket.receive();
          if (d === undefined) break;
          this.#deliver(d);
        }
      } catch (error) {
        if (this.#socket.closed) break;
        this.#options.onError?.(error instanceof Error ? error : new Error(String(error)));
        await new Promise((r) => setTimeout(r, ERROR_PAUSE_MS));
      }
    }
  }

  /** Stops reading and closes the socket; resolves once the reader has ended. */
  async close(): Promise<void> {
    await this.#socket.close();
    await this.#loop;
  }
}

/** Options of {@linkcode BfdSender.open}. */
export interface BfdSenderOptions {
  readonly family: IpFamily;
  /** Source address; default: the kernel chooses per route. */
  readonly localAddress?: string;
  /** TTL / hop limit (default 255; tests send 254 to check the receiver drops it). */
  readonly ttl?: number;
  /** Source port; default a random free one in 49152–65535. */
  readonly port?: number;
  /** Draws the random port; default `Math.random`. */
  readonly random?: () => number;
}

/** Bind attempts at random source ports before giving up (each one is a single syscall). */
const PORT_ATTEMPTS = 64;

/**
 * The send socket of one session: a fixed source port in 49152–65535 (RFC 5881 §4: the same port for
 * every packet of a session, unique per session) and TTL 255.
 */
export class BfdSender {
  readonly #socket: UdpSocket;

  private constructor(socket: UdpSocket) {
    this.#socket = socket;
  }

  /** Opens and binds the socket; throws an `OsError` when no port can be bound. */
  static open(options: BfdSenderOptions): BfdSender {
    const base = {
      family: options.family,
      address: options.localAddress,
      sendTtl: options.ttl ?? BFD_TTL,
    };
    if (options.port !== undefined) return new BfdSender(UdpSocket.open({ ...base, port: options.port }));
    const random = options.random ?? Math.random;
    const span = SOURCE_PORT_MAX - SOURCE_PORT_MIN + 1;
    let last: unknown;
    for (let i = 0; i < PORT_ATTEMPTS; i++) {
      const port = SOURCE_PORT_MIN + Math.floor(random() * span) % span;
      try {
        return new BfdSender(UdpSocket.open({ ...base, port }));
      } catch (error) {
        // Only a taken port is worth another try.
        if (!(error instanceof OsError) || error.code !== "EADDRINUSE") throw error;
        last = error;
      }
    }
    throw last;
  }

  /** The bound source address and port. */
  get local(): SocketEndpoint {
    return this.#socket.localEndpoint();
  }

  /** Sends one packet; returns 0 or the errno of a failure (a lost packet is the protocol's business). */
  send(data: Uint8Array, address: string, port: number): number {
    return this.#socket.send(data, address, port);
  }

  /** Closes the socket. */
  async close(): Promise<void> {
    await this.#socket.close();
  }
}
