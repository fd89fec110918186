/**
 * The libc calls BFD's UDP transport needs and `lib/transport/libc.ts` lacks: datagram sockets, `sendto`,
 * `recvmsg` with the received TTL / hop limit as a control message (RFC 5881 §5 needs it; `node:dgram`
 * cannot report it), an `eventfd` to wake a waiting `poll`, and `poll` on a pool thread.
 *
 * Buffers handed to the kernel by address (the iovec, the control buffer, the msghdr) are allocated as
 * whole `ArrayBuffer`s, which V8 never moves, and are kept referenced by the socket object that owns them.
 * Nothing is ever read through a raw pointer: the kernel writes into those buffers and they are read as
 * typed arrays.
 *
 * Permissions: `--allow-ffi` (pointer addresses of buffers, `Deno.UnsafePointer.of`, need the unscoped
 * grant).
 *
 * @module
 */

import {
  AF_INET,
  AF_INET6,
  check,
  decodeSockaddr,
  dlopenLibc,
  encodeSockaddr,
  lastErrno,
  OsError,
} from "../transport/libc.ts";
import type { IpFamily, SocketEndpoint } from "../transport/socket_address.ts";

const SOCK_DGRAM = 2;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const IPPROTO_IP = 0;
const IPPROTO_IPV6 = 41;
const IP_TTL = 2;
const IP_PKTINFO = 8;
const IP_RECVTTL = 12;
const IP_MINTTL = 21;
const IPV6_UNICAST_HOPS = 16;
const IPV6_V6ONLY = 26;
const IPV6_RECVPKTINFO = 49;
const IPV6_PKTINFO = 50;
const IPV6_RECVHOPLIMIT = 51;
const IPV6_HOPLIMIT = 52;
const IPV6_MINHOPCOUNT = 73;
const MSG_DONTWAIT = 0x40;
const MSG_TRUNC = 0x20;
const EFD_NONBLOCK = 0o4000;
const EFD_CLOEXEC = 0o2000000;
const POLLIN = 0x001;
/** errno: no datagram waiting (EAGAIN/EWOULDBLOCK). */
export const EAGAIN = 11;
/** errno: interrupted by a signal. */
export const EINTR = 4;

const SYMBOLS = {
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
  bind: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  getsockname: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  sendto: { parameters: ["i32", "buffer", "usize", "i32", "buffer", "u32"], result: "isize" },
  recvmsg: { parameters: ["i32", "buffer", "i32"], result: "isize" },
  eventfd: { parameters: ["u32", "i32"], result: "i32" },
  write: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  // Runs on a pool thread: one waiting poll per socket, woken by data or by the socket's eventfd.
  poll: { parameters: ["buffer", "u64", "i32"], result: "i32", nonblocking: true },
  __errno_location: { parameters: [], result: "pointer" },
  memcpy: { parameters: ["buffer", "pointer", "usize"], result: "pointer" },
} as const satisfies Deno.ForeignLibraryInterface;

type Libc = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

let libc: Libc | undefined;

function open(): Libc {
  if (libc !== undefined) return libc;
  // Buffer addresses go into the msghdr, which needs the unscoped grant; asking first never prompts.
  if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") {
    throw new Error("BFD sockets need --allow-ffi (unscoped: buffer addresses are passed to recvmsg)");
  }
  libc = dlopenLibc(SYMBOLS, "BFD sockets");
  return libc;
}

function pointerValue(buffer: Uint8Array): bigint {
  return BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(buffer)));
}

function intBytes(value: number): Uint8Array {
  return new Uint8Array(new Int32Array([value]).buffer);
}

/** True when libc can be opened with the current permissions; never throws. */
export function udpLibcAvailable(): boolean {
  try {
    open();
    Deno.UnsafePointer.of(new Uint8Array(new ArrayBuffer(8)));
    return true;
  } catch {
    return false;
  }
}

/** One datagram read by {@linkcode UdpSocket.receive}. */
export interface ReceivedDatagram {
  /** The payload (a copy, owned by the caller). */
  readonly data: Uint8Array;
  /** The sender. */
  readonly source: SocketEndpoint;
  /** The TTL (IPv4) or hop limit (IPv6) the datagram arrived with; -1 when the kernel did not say. */
  readonly ttl: number;
  /** Index of the interface it arrived on; 0 when unknown. */
  readonly ifIndex: number;
  /** True when the datagram was longer than the receive buffer and was cut. */
  readonly truncated: boolean;
}

/** Options of {@linkcode UdpSocket.open}. */
export interface UdpSocketOptions {
  readonly family: IpFamily;
  /** Local address to bind; default the wildcard of the family. */
  readonly address?: string;
  /** Local port; 0 lets the kernel pick. */
  readonly port: number;
  /** TTL / hop limit of every datagram sent (RFC 5881 §5: 255). */
  readonly sendTtl?: number;
  /** Ask the kernel for the TTL and interface of every received datagram. */
  readonly receiveTtl?: boolean;
  /** `IP_MINTTL` / `IPV6_MINHOPCOUNT`: the kernel drops datagrams below this TTL (where it enforces it). */
  readonly minTtl?: number;
}

const RECEIVE_SIZE = 2048;
const CONTROL_SIZE = 256;

/**
 * A nonblocking UDP socket opened through libc. {@linkcode wait} parks a `poll` on a pool thread until a
 * datagram is readable or {@linkcode close} wakes it through an eventfd, so nothing spins.
 *
 * @example
 * ```ts ignore
 * const s = UdpSocket.open({ family: 4, port: 3784, receiveTtl: true });
 * while (await s.wait()) for (let d = s.receive(); d; d = s.receive()) console.log(d.ttl);
 * ```
 */
export class UdpSocket {
  readonly #fd: number;
  readonly #wakeFd: number;
  readonly #family: IpFamily;
  #closed = false;
  #waiting: Promise<boolean> | undefined;
  // Buffers the kernel writes into by address: whole ArrayBuffers, kept alive by this object.
  readonly #payload = new Uint8Array(new ArrayBuffer(RECEIVE_SIZE));
  readonly #control = new Uint8Array(new ArrayBuffer(CONTROL_SIZE));
  readonly #name = new Uint8Array(new ArrayBuffer(128));
  readonly #iov = new Uint8Array(new ArrayBuffer(16));
  readonly #msghdr = new Uint8Array(new ArrayBuffer(64));
  readonly #pollFds = new Uint8Array(new ArrayBuffer(16));

  private constructor(fd: number, wakeFd: number, family: IpFamily) {
    this.#fd = fd;
    this.#wakeFd = wakeFd;
    this.#family = family;
    const iov = new DataView(this.#iov.buffer);
    iov.setBigUint64(0, pointerValue(this.#payload), true);
    iov.setBigUint64(8, BigInt(RECEIVE_SIZE), true);
    const pfd = new DataView(this.#pollFds.buffer);
    pfd.setInt32(0, fd, true);
    pfd.setInt16(4, POLLIN, true);
    pfd.setInt32(8, wakeFd, true);
    pfd.setInt16(12, POLLIN, true);
  }

  /** Opens, configures and binds a socket; closes it again and throws an `OsError` on any failure. */
  static open(options: UdpSocketOptions): UdpSocket {
    const c = open();
    const domain = options.family === 4 ? AF_INET : AF_INET6;
    const fd = check(c, c.socket(domain, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), "socket()");
    let wakeFd = -1;
    try {
      const set = (level: number, name: number, value: number, call: string) =>
        check(c, c.setsockopt(fd, level, name, intBytes(value), 4), call);
      if (options.family === 4) {
        if (options.sendTtl !== undefined) set(IPPROTO_IP, IP_TTL, options.sendTtl, "Setting IP_TTL");
        if (options.receiveTtl) {
          set(IPPROTO_IP, IP_RECVTTL, 1, "Setting IP_RECVTTL");
          set(IPPROTO_IP, IP_PKTINFO, 1, "Setting IP_PKTINFO");
        }
        if (options.minTtl !== undefined) set(IPPROTO_IP, IP_MINTTL, options.minTtl, "Setting IP_MINTTL");
      } else {
        set(IPPROTO_IPV6, IPV6_V6ONLY, 1, "Setting IPV6_V6ONLY");
        if (options.sendTtl !== undefined) {
          set(IPPROTO_IPV6, IPV6_UNICAST_HOPS, options.sendTtl, "Setting IPV6_UNICAST_HOPS");
        }
        if (options.receiveTtl) {
          set(IPPROTO_IPV6, IPV6_RECVHOPLIMIT, 1, "Setting IPV6_RECVHOPLIMIT");
          set(IPPROTO_IPV6, IPV6_RECVPKTINFO, 1, "Setting IPV6_RECVPKTINFO");
        }
        if (options.minTtl !== undefined) {
          set(IPPROTO_IPV6, IPV6_MINHOPCOUNT, options.minTtl, "Setting IPV6_MINHOPCOUNT");
        }
      }
      const any = options.family === 4 ? "0.0.0.0" : "::";
      const sa = encodeSockaddr(options.address ?? any, options.port, options.family);
      check(c, c.bind(fd, sa, sa.byteLength), "bind()");
      wakeFd = check(c, c.eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC), "eventfd()");
      return new UdpSocket(fd, wakeFd, options.family);
    } catch (error) {
      c.close(fd);
      if (wakeFd >= 0) c.close(wakeFd);
      throw error;
    }
  }

  /** The socket's family. */
  get family(): IpFamily {
    return this.#family;
  }

  /** True once {@linkcode close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** The bound local address and port. */
  localEndpoint(): SocketEndpoint {
    const c = open();
    const buf = new Uint8Array(new ArrayBuffer(128));
    const len = new Uint32Array([128]);
    check(c, c.getsockname(this.#fd, buf, new Uint8Array(len.buffer)), "getsockname()");
    const ep = decodeSockaddr(buf);
    if (ep === undefined) throw new Error("BFD socket has no IP address");
    return ep;
  }

  /**
   * Sends one datagram. Returns 0 on success or the errno of a failure (EAGAIN when the send buffer is
   * full, ENETUNREACH…): a lost BFD packet is not an exception, the protocol tolerates it.
   */
  send(data: Uint8Array, address: string, port: number): number {
    if (this.#closed) return 9; // EBADF
    const c = open();
    const sa = encodeSockaddr(address, port, this.#family);
    const n = Number(c.sendto(this.#fd, data, BigInt(data.byteLength), MSG_DONTWAIT, sa, sa.byteLength));
    return n === -1 ? lastErrno(c) : 0;
  }

  /**
   * Reads one waiting datagram without blocking, or returns undefined when none is waiting (or the socket
   * is closed). Throws an `OsError` on any other failure.
   */
  receive(): ReceivedDatagram | undefined {
    if (this.#closed) return undefined;
    const c = open();
    const hdr = new DataView(this.#msghdr.buffer);
    this.#msghdr.fill(0);
    hdr.setBigUint64(0, pointerValue(this.#name), true);
    hdr.setUint32(8, this.#name.byteLength, true);
    hdr.setBigUint64(16, pointerValue(this.#iov), true);
    hdr.setBigUint64(24, 1n, true);
    hdr.setBigUint64(32, pointerValue(this.#control), true);
    hdr.setBigUint64(40, BigInt(CONTROL_SIZE), true);
    const n = Number(c.recvmsg(this.#fd, this.#msghdr, MSG_DONTWAIT));
    if (n === -1) {
      const errno = lastErrno(c);
      if (errno === EAGAIN || errno === EINTR) return undefined;
      throw new OsError("recvmsg()", errno);
    }
    const source = decodeSockaddr(this.#name);
    if (source === undefined) throw new Error("recvmsg() returned a datagram without an IP sender");
    const flags = hdr.getInt32(48, true);
    const controlLength = Number(hdr.getBigUint64(40, true));
    const { ttl, ifIndex } = this.#parseControl(controlLength);
    return {
      data: this.#payload.slice(0, Math.min(n, RECEIVE_SIZE)),
      source,
      ttl,
      ifIndex,
      truncated: (flags & MSG_TRUNC) !== 0,
    };
  }

  #parseControl(length: number): { ttl: number; ifIndex: number } {
    const view = new DataView(this.#control.buffer);
    let ttl = -1;
    let ifIndex = 0;
    // struct cmsghdr { size_t len; int level; int type; data… } with 8-byte alignment (CMSG_NXTHDR).
    for (let off = 0; off + 16 <= length;) {
      const len = Number(view.getBigUint64(off, true));
      if (len < 16 || off + len > length) break;
      const level = view.getInt32(off + 8, true);
      const type = view.getInt32(off + 12, true);
      if (level === IPPROTO_IP && type === IP_TTL && len >= 20) ttl = view.getInt32(off + 16, true);
      if (level === IPPROTO_IPV6 && type === IPV6_HOPLIMIT && len >= 20) ttl = view.getInt32(off + 16, true);
      // struct in_pktinfo { int ifindex; … } and struct in6_pktinfo { in6_addr; unsigned ifindex; }.
      if (level === IPPROTO_IP && type === IP_PKTINFO && len >= 20) ifIndex = view.getInt32(off + 16, true);
      if (level === IPPROTO_IPV6 && type === IPV6_PKTINFO && len >= 36) {
        ifIndex = view.getUint32(off + 32, true);
      }
      off += (len + 7) & ~7;
    }
    return { ttl, ifIndex };
  }

  /**
   * Waits on a pool thread until a datagram is readable (true) or the socket is closed (false). At most
   * one wait is pending at a time; a second call returns the same promise.
   */
  wait(): Promise<boolean> {
    if (this.#closed) return Promise.resolve(false);
    this.#waiting ??= this.#poll().finally(() => this.#waiting = undefined);
    return this.#waiting;
  }

  async #poll(): Promise<boolean> {
    const c = open();
    const view = new DataView(this.#pollFds.buffer);
    view.setInt16(6, 0, true);
    view.setInt16(14, 0, true);
    // -1: no timeout; close() writes the eventfd, which ends the poll.
    await c.poll(this.#pollFds, 2n, -1);
    if (this.#closed) return false;
    return view.getInt16(6, true) !== 0;
  }

  /** Closes the socket; a pending {@linkcode wait} resolves false. Safe to call twice. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const c = open();
    const waiting = this.#waiting;
    if (waiting !== undefined) {
      c.write(this.#wakeFd, new Uint8Array(new BigUint64Array([1n]).buffer), 8n);
      await waiting;
    }
    c.close(this.#fd);
    c.close(this.#wakeFd);
  }
}
