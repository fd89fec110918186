/**
 * The only door to libc: the socket calls Deno does not expose (socket options such as TCP_MD5SIG, TTL,
 * binding a source address before connect), through `Deno.dlopen`. Every call reads errno right after it
 * and turns a failure into an {@linkcode OsError}; nothing here keeps state except the lazily opened
 * library.
 *
 * Permissions: the library is opened by absolute path when `--allow-ffi=<that path>` is granted (a scoped
 * grant resolves a bare `libc.so.6` against the working directory, and the path must match as written:
 * `/lib/...` and `/usr/lib/...` are different grants even where one is a symlink), and by the bare name with
 * an unscoped `--allow-ffi`. The minimal grant on Debian x86_64 is
 * `--allow-ffi=/lib/x86_64-linux-gnu/libc.so.6`. No pointer is ever dereferenced (that would need the unscoped grant): errno is
 * copied out with `memcpy`.
 *
 * @module
 */

import { formatIp, type IpFamily, parseIp, type SocketEndpoint, unmapIpv4 } from "./socket_address.ts";

// Linux x86_64/aarch64 values (bits/socket.h, netinet/in.h, netinet/tcp.h, poll.h).
/** Address family IPv4. */
export const AF_INET = 2;
/** Address family IPv6. */
export const AF_INET6 = 10;
const SOCK_STREAM = 1;
const SOCK_DGRAM = 2;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
/** Socket-level options. */
export const SOL_SOCKET = 1;
/** The pending error of a socket, read after a nonblocking connect. */
export const SO_ERROR = 4;
/** 1 when the socket is listening. */
export const SO_ACCEPTCONN = 30;
/** IPv4-level options. */
export const IPPROTO_IP = 0;
/** TTL of sent IPv4 packets. */
export const IP_TTL = 2;
/** Minimum TTL of received IPv4 packets (GTSM). */
export const IP_MINTTL = 21;
/** IPv6-level options. */
export const IPPROTO_IPV6 = 41;
/** Hop limit of sent unicast IPv6 packets. */
export const IPV6_UNICAST_HOPS = 16;
/** Minimum hop limit of received IPv6 packets (GTSM). */
export const IPV6_MINHOPCOUNT = 73;
/** TCP-level options. */
export const IPPROTO_TCP = 6;
/** RFC 2385 TCP MD5 signature key, per peer address. */
export const TCP_MD5SIG = 14;
const POLLOUT = 0x004;

/** errno values the transport tells apart (asm-generic/errno.h). */
export const Errno = {
  EPERM: 1,
  ENOENT: 2,
  EINTR: 4,
  EBADF: 9,
  ENOMEM: 12,
  EACCES: 13,
  EINVAL: 22,
  ENFILE: 23,
  EMFILE: 24,
  ENOTSOCK: 88,
  ENOPROTOOPT: 92,
  EAFNOSUPPORT: 97,
  EADDRINUSE: 98,
  EADDRNOTAVAIL: 99,
  ENETDOWN: 100,
  ENETUNREACH: 101,
  ECONNABORTED: 103,
  ECONNRESET: 104,
  ENOBUFS: 105,
  EISCONN: 106,
  ENOTCONN: 107,
  ETIMEDOUT: 110,
  ECONNREFUSED: 111,
  EHOSTDOWN: 112,
  EHOSTUNREACH: 113,
  EALREADY: 114,
  EINPROGRESS: 115,
} as const;

const MESSAGES: Record<number, string> = {
  [Errno.EPERM]: "operation not permitted",
  [Errno.ENOENT]: "no such entry",
  [Errno.EINTR]: "interrupted",
  [Errno.EBADF]: "bad file descriptor",
  [Errno.ENOMEM]: "out of memory",
  [Errno.EACCES]: "permission denied",
  [Errno.EINVAL]: "invalid argument",
  [Errno.ENFILE]: "too many open files in the system",
  [Errno.EMFILE]: "too many open files",
  [Errno.ENOTSOCK]: "not a socket",
  [Errno.ENOPROTOOPT]: "option not supported",
  [Errno.EAFNOSUPPORT]: "address family not supported",
  [Errno.EADDRINUSE]: "address in use",
  [Errno.EADDRNOTAVAIL]: "address not available",
  [Errno.ENETDOWN]: "network down",
  [Errno.ENETUNREACH]: "network unreachable",
  [Errno.ECONNABORTED]: "connection aborted",
  [Errno.ECONNRESET]: "connection reset",
  [Errno.ENOBUFS]: "no buffer space",
  [Errno.EISCONN]: "already connected",
  [Errno.ENOTCONN]: "not connected",
  [Errno.ETIMEDOUT]: "timed out",
  [Errno.ECONNREFUSED]: "connection refused",
  [Errno.EHOSTDOWN]: "host down",
  [Errno.EHOSTUNREACH]: "no route to host",
  [Errno.EALREADY]: "connection already in progress",
};

/** The symbolic name of an errno value (`ECONNREFUSED`), or `E<number>` for one not listed. */
export function errnoCode(errno: number): string {
  for (const [name, value] of Object.entries(Errno)) if (value === errno) return name;
  return `E${errno}`;
}

/** A short lower-case description of an errno value (`connection refused`). */
export function errnoMessage(errno: number): string {
  return MESSAGES[errno] ?? `error ${errno}`;
}

/** A failed libc call: `errno`, its name in `code`, and a message naming the call. */
export class OsError extends Error {
  /** The raw errno value. */
  readonly errno: number;
  /** The symbolic errno name, e.g. `ECONNREFUSED`. */
  readonly code: string;
  /** What failed: `connect()`, `Setting IP_TTL`, ... */
  readonly call: string;
  /** `call` names what failed; `errno` is the value read right after it. */
  constructor(call: string, errno: number) {
    super(`${call} failed: ${errnoMessage(errno)}`);
    this.name = "OsError";
    this.call = call;
    this.errno = errno;
    this.code = errnoCode(errno);
  }
}

const SYMBOLS = {
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
  getsockopt: { parameters: ["i32", "i32", "i32", "buffer", "buffer"], result: "i32" },
  bind: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  connect: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  getsockname: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  getpeername: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  // Runs on a pool thread so the event loop keeps going while a connect is pending.
  poll: { parameters: ["buffer", "u64", "i32"], result: "i32", nonblocking: true },
  __errno_location: { parameters: [], result: "pointer" },
  memcpy: { parameters: ["buffer", "pointer", "usize"], result: "pointer" },
} as const satisfies Deno.ForeignLibraryInterface;

type Libc = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

let libc: Libc | undefined;

/** Absolute paths tried in order before the bare soname; the first one the ffi grant covers is used. */
function libcCandidates(): string[] {
  const arch = Deno.build.arch;
  return [
    // Debian's libc6 installs here (also the path inside the distroless-style image, which has no /usr merge).
    `/lib/${arch}-linux-gnu/libc.so.6`,
    `/usr/lib/${arch}-linux-gnu/libc.so.6`,
    "/usr/lib64/libc.so.6",
    "/lib64/libc.so.6",
    "/usr/lib/libc.so.6",
    "/lib/libc.so.6",
  ];
}

/**
 * Opens libc with `symbols`: the usual absolute paths first (the first one the ffi grant covers), then the
 * bare soname. Shared by every FFI user of the project, each with its own symbol table.
 */
export function dlopenLibc<S extends Deno.ForeignLibraryInterface>(
  symbols: S,
  purpose: string,
): Deno.DynamicLibrary<S>["symbols"] {
  if (Deno.build.os !== "linux") throw new Error(`${purpose} through libc need Linux`);
  for (const path of [...libcCandidates(), "libc.so.6"]) {
    // Query first so a scoped grant never triggers an interactive permission prompt.
    if (Deno.permissions.querySync({ name: "ffi", path }).state !== "granted") continue;
    try {
      return Deno.dlopen(path, symbols).symbols;
    } catch {
      // Not present at this path; try the next one.
    }
  }
  throw new Error(
    `Cannot open libc for ${purpose}: run with --allow-ffi=${
      libcCandidates()[0]
    } (or --allow-ffi) on a glibc system`,
  );
}

function open(): Libc {
  libc ??= dlopenLibc(SYMBOLS, "socket options");
  return libc;
}

/** The libc symbols errno is read through. */
export interface ErrnoSymbols {
  __errno_location(): Deno.PointerValue;
  memcpy(dst: BufferSource, src: Deno.PointerValue, n: bigint): Deno.PointerValue;
}

const errnoBox = new Int32Array(1);

/** The calling thread's errno; read it right after the failed call. */
export function lastErrno(c: ErrnoSymbols): number {
  // Copied out with memcpy: Deno.UnsafePointerView would need an unscoped --allow-ffi.
  c.memcpy(errnoBox, c.__errno_location(), 4n);
  return errnoBox[0];
}

/** Throws an OsError carrying errno when a call returned -1. */
export function check(c: ErrnoSymbols, result: number, call: string): number {
  if (result === -1) throw new OsError(call, lastErrno(c));
  return result;
}

/** True when libc can be opened with the current permissions; never throws. */
export function libcAvailable(): boolean {
  try {
    open();
    return true;
  } catch {
    return false;
  }
}

/** Opens a nonblocking close-on-exec TCP socket of the family; the caller owns the fd. */
export function openTcpSocket(family: IpFamily): number {
  const c = open();
  return check(
    c,
    c.socket(family === 4 ? AF_INET : AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0),
    "socket()",
  );
}

/** Opens a close-on-exec UDP socket of the family; the caller owns the fd. */
export function openUdpSocket(family: IpFamily): number {
  const c = open();
  return check(c, c.socket(family === 4 ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0), "socket()");
}

/** Closes an fd this process owns; errors are ignored (the fd is gone either way on Linux). */
export function closeFd(fd: number): void {
  open().close(fd);
}

/**
 * Encodes a `sockaddr_in` (16 bytes) or `sockaddr_in6` (28 bytes) for a socket of `socketFamily`; an IPv4
 * address for an IPv6 socket becomes IPv4-mapped. Pass `size` to pad the result (e.g. 128 for a
 * `sockaddr_storage`).
 */
export function encodeSockaddr(
  address: string,
  port: number,
  socketFamily: IpFamily,
  size?: number,
): Uint8Array {
  const raw = parseIp(address);
  const ip = unmapIpv4(raw);
  const length = socketFamily === 4 ? 16 : 28;
  const out = new Uint8Array(Math.max(size ?? length, length));
  const view = new DataView(out.buffer);
  if (socketFamily === 4) {
    if (ip.length !== 4) throw new TypeError(`IPv6 address ${address} on an IPv4 socket`);
    view.setUint16(0, AF_INET, true);
    view.setUint16(2, port, false);
    out.set(ip, 4);
  } else {
    view.setUint16(0, AF_INET6, true);
    view.setUint16(2, port, false);
    if (ip.length === 4) {
      out[18] = 0xff;
      out[19] = 0xff;
      out.set(ip, 20);
    } else {
      out.set(ip, 8);
    }
  }
  return out;
}

/** Decodes a `sockaddr_in`/`sockaddr_in6`; IPv4-mapped IPv6 is reported as IPv4. */
export function decodeSockaddr(bytes: Uint8Array): SocketEndpoint | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const family = view.getUint16(0, true);
  const port = view.getUint16(2, false);
  if (family === AF_INET) {
    return { family: 4, address: formatIp(bytes.subarray(4, 8)), port };
  }
  if (family === AF_INET6) {
    const ip = unmapIpv4(bytes.subarray(8, 24));
    return { family: ip.length === 4 ? 4 : 6, address: formatIp(ip), port };
  }
  return undefined;
}

/** The socket-level family of an fd (what `socket()` was called with), from its own address. */
export function socketFamily(fd: number): IpFamily {
  const c = open();
  const buf = new Uint8Array(128);
  const len = new Uint32Array([buf.length]);
  check(c, c.getsockname(fd, buf, len), "getsockname()");
  const family = new DataView(buf.buffer).getUint16(0, true);
  if (family === AF_INET) return 4;
  if (family === AF_INET6) return 6;
  throw new Error(`Socket ${fd} is not an IP socket`);
}

/** The probe result for one fd: undefined when it is closed or not an IP socket. */
export interface FdProbe {
  /** The socket's own address. */
  readonly local: SocketEndpoint;
  /** Undefined when the socket is not connected (a listener or an unconnected socket). */
  readonly remote?: SocketEndpoint;
  /** The raw errno of getsockname(), 0 on success; EBADF marks a free fd number. */
  readonly errno: number;
}

/** Reads both addresses of an fd without throwing; `errno` tells a free fd (EBADF) from a non-socket. */
export function probeFd(fd: number): FdProbe | { readonly errno: number; readonly local?: undefined } {
  const c = open();
  const buf = new Uint8Array(128);
  const len = new Uint32Array([buf.length]);
  if (c.getsockname(fd, buf, len) === -1) return { errno: lastErrno(c) };
  const local = decodeSockaddr(buf);
  if (local === undefined) return { errno: Errno.ENOTSOCK };
  len[0] = buf.length;
  buf.fill(0);
  const remote = c.getpeername(fd, buf, len) === -1 ? undefined : decodeSockaddr(buf);
  return { local, remote, errno: 0 };
}

/** `setsockopt()` with raw bytes. */
export function setSocketOption(
  fd: number,
  level: number,
  name: number,
  value: Uint8Array,
  call: string,
): void {
  const c = open();
  check(c, c.setsockopt(fd, level, name, value, value.byteLength), call);
}

/** `setsockopt()` with an int value. */
export function setIntOption(fd: number, level: number, name: number, value: number, call: string): void {
  setSocketOption(fd, level, name, new Uint8Array(new Int32Array([value]).buffer), call);
}

/** `getsockopt()` of an int value. */
export function getIntOption(fd: number, level: number, name: number, call: string): number {
  const c = open();
  const value = new Int32Array(1);
  const len = new Uint32Array([4]);
  check(c, c.getsockopt(fd, level, name, new Uint8Array(value.buffer), new Uint8Array(len.buffer)), call);
  return value[0];
}

/** Binds an fd to a local address (port 0 lets the kernel choose). */
export function bindSocket(fd: number, address: string, port: number, family: IpFamily): void {
  const c = open();
  const sa = encodeSockaddr(address, port, family);
  check(c, c.bind(fd, sa, sa.byteLength), `Binding ${address}`);
}

/**
 * Starts a nonblocking connect. Returns true when already connected, false when in progress (wait with
 * {@linkcode pollWritable}, then read `SO_ERROR`); throws an {@linkcode OsError} on immediate failure.
 */
export function startConnect(fd: number, address: string, port: number, family: IpFamily): boolean {
  const c = open();
  const sa = encodeSockaddr(address, port, family);
  if (c.connect(fd, sa, sa.byteLength) === 0) return true;
  const errno = lastErrno(c);
  if (errno === Errno.EINPROGRESS) return false;
  throw new OsError("connect()", errno);
}

/**
 * Waits up to `timeoutMs` for an fd to become writable (or to fail). Returns true when the kernel reported
 * any event (POLLOUT, POLLERR, POLLHUP), false on timeout. Occupies a pool thread while it waits, so keep
 * `timeoutMs` short and call it in a loop.
 */
export async function pollWritable(fd: number, timeoutMs: number): Promise<boolean> {
  const c = open();
  const pfd = new Uint8Array(8);
  const view = new DataView(pfd.buffer);
  view.setInt32(0, fd, true);
  view.setInt16(4, POLLOUT, true);
  const n = await c.poll(pfd, 1n, Math.max(0, Math.floor(timeoutMs)));
  // A -1 here is EINTR or a bad fd; errno is unreadable (it belonged to the pool thread): report no event
  // and let the caller's SO_ERROR check or deadline decide.
  return n > 0 && view.getInt16(6, true) !== 0;
}

/** Local address of a socket fd. */
export function localEndpoint(fd: number): SocketEndpoint {
  const c = open();
  const buf = new Uint8Array(128);
  const len = new Uint32Array([buf.length]);
  check(c, c.getsockname(fd, buf, len), "getsockname()");
  const ep = decodeSockaddr(buf);
  if (ep === undefined) throw new Error(`Socket ${fd} is not an IP socket`);
  return ep;
}
