/**
 * Active open towards a BGP peer. A plain session uses `Deno.connect`; a session with an MD5 password, a
 * TTL, a minimum TTL or a source address needs options set before connect(), so it goes through an FFI
 * socket that is then handed to the event loop. Both return the same {@linkcode BgpConnection}.
 *
 * @module
 */

import type { BgpConnection, ConnectionOptions } from "./connection.ts";
import { FdSocketConnection } from "./fd_socket_connection.ts";
import {
  bindSocket,
  closeFd,
  Errno,
  errnoMessage,
  getIntOption,
  openTcpSocket,
  OsError,
  pollWritable,
  probeFd,
  SO_ERROR,
  SOL_SOCKET,
  startConnect,
} from "./libc.ts";
import { type IpFamily, ipFamily, normalizeIp } from "./socket_address.ts";
import { setMd5Key, setMinTtl, setTtl } from "./socket_options.ts";
import { TcpConnConnection } from "./tcp_conn_connection.ts";
import { ConnectError, describeSocketError } from "./transport_error.ts";

/** The BGP port (RFC 4271 §8.2.1). */
export const BGP_PORT = 179;

// A pending poll() holds a pool thread; short slices let an abort or the deadline end the wait promptly.
const POLL_SLICE_MS = 100;

/** Where and how to connect. */
export interface ConnectOptions extends ConnectionOptions {
  /** The peer's IPv4 or IPv6 address. */
  readonly remoteAddress: string;
  /** Default 179. */
  readonly remotePort?: number;
  /** Source address to bind before connecting (the kernel picks the port). */
  readonly localAddress?: string;
  /** RFC 2385 TCP MD5 password; empty or undefined means none. Never appears in errors. */
  readonly md5Password?: string;
  /** TTL (IPv4) or hop limit (IPv6) of sent packets: 1 for eBGP single-hop, N for `--ebgp-multihop N`. */
  readonly ttl?: number;
  /** RFC 5082 GTSM: minimum TTL or hop limit accepted from the peer. */
  readonly minTtl?: number;
  /** Give up after this long (the SYN timeout is what an MD5 mismatch looks like). */
  readonly timeoutMs: number;
  /** Aborts the attempt; the promise then rejects with code `EABORTED`. */
  readonly signal?: AbortSignal;
}

/**
 * Opens a TCP connection to a BGP peer. Rejects with a {@linkcode ConnectError}
 * (`Connect to 10.99.0.2:179 failed: connection refused`, code `ECONNREFUSED`) on refusal, timeout
 * (`ETIMEDOUT`), abort (`EABORTED`) or any socket error; no fd is left open on failure.
 *
 * @example
 * ```ts ignore
 * const conn = await connectPeer({ remoteAddress: "10.99.0.2", md5Password: "s3cret", ttl: 1, timeoutMs: 5000 });
 * ```
 */
export async function connectPeer(options: ConnectOptions): Promise<BgpConnection> {
  const remoteAddress = normalizeIp(options.remoteAddress);
  const remotePort = options.remotePort ?? BGP_PORT;
  if (!Number.isInteger(remotePort) || remotePort < 1 || remotePort > 65535) {
    throw new RangeError(`Invalid port for ${remoteAddress}: ${remotePort}`);
  }
  if (!Number.isFinite(options.timeoutMs) || options.timeoutMs <= 0) {
    throw new RangeError(`Invalid connect timeout for ${remoteAddress}: ${options.timeoutMs} ms`);
  }
  const needsFfi = Boolean(options.md5Password) || options.ttl !== undefined ||
    options.minTtl !== undefined || options.localAddress !== undefined;
  return await (needsFfi
    ? connectWithOptions(remoteAddress, remotePort, options)
    : connectPlain(remoteAddress, remotePort, options));
}

async function connectPlain(
  remoteAddress: string,
  remotePort: number,
  options: ConnectOptions,
): Promise<BgpConnection> {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, options.timeoutMs);
  const onAbort = () => controller.abort();
  options.signal?.addEventListener("abort", onAbort, { once: true });
  try {
    if (options.signal?.aborted) throw abortError(remoteAddress, remotePort);
    const conn = await Deno.connect({
      hostname: remoteAddress,
      port: remotePort,
      transport: "tcp",
      signal: controller.signal,
    });
    return new TcpConnConnection(conn, options);
  } catch (err) {
    if (err instanceof ConnectError) throw err;
    if (timedOut) throw timeoutError(remoteAddress, remotePort, options.timeoutMs);
    if (options.signal?.aborted) throw abortError(remoteAddress, remotePort);
    const { code, reason } = describeSocketError(err);
    throw new ConnectError(remoteAddress, remotePort, code, reason, { cause: err });
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener("abort", onAbort);
  }
}

async function connectWithOptions(
  remoteAddress: string,
  remotePort: number,
  options: ConnectOptions,
): Promise<BgpConnection> {
  const deadline = performance.now() + options.timeoutMs;
  const family: IpFamily = ipFamily(remoteAddress);
  if (options.signal?.aborted) throw abortError(remoteAddress, remotePort);
  let fd: number;
  try {
    fd = openTcpSocket(family);
  } catch (err) {
    throw wrap(remoteAddress, remotePort, err);
  }
  try {
    if (options.md5Password) setMd5Key(fd, remoteAddress, options.md5Password);
    if (options.ttl !== undefined) setTtl(fd, family, options.ttl);
    if (options.minTtl !== undefined) setMinTtl(fd, family, options.minTtl);
    if (options.localAddress !== undefined) {
      const local = normalizeIp(options.localAddress);
      if (ipFamily(local) !== family) {
        throw new ConnectError(
          remoteAddress,
          remotePort,
          "EAFNOSUPPORT",
          `local address ${local} is not of the peer's address family`,
        );
      }
      bindSocket(fd, local, 0, family);
    }
    if (!startConnect(fd, remoteAddress, remotePort, family)) {
      await waitConnected(fd, deadline, remoteAddress, remotePort, options);
    }
    const probe = probeFd(fd);
    // Writable without a peer address means the connect did not complete after all.
    if (probe.local === undefined || !("remote" in probe) || probe.remote === undefined) {
      throw new OsError("connect()", Errno.ENOTCONN);
    }
    // From here the socket object owns the fd and closes it.
    return new FdSocketConnection(fd, probe.local, probe.remote, options);
  } catch (err) {
    closeFd(fd);
    throw wrap(remoteAddress, remotePort, err);
  }
}

async function waitConnected(
  fd: number,
  deadline: number,
  remoteAddress: string,
  remotePort: number,
  options: ConnectOptions,
): Promise<void> {
  while (true) {
    if (options.signal?.aborted) throw abortError(remoteAddress, remotePort);
    const remaining = deadline - performance.now();
    if (remaining <= 0) throw timeoutError(remoteAddress, remotePort, options.timeoutMs);
    if (await pollWritable(fd, Math.min(remaining, POLL_SLICE_MS))) break;
  }
  const soError = getIntOption(fd, SOL_SOCKET, SO_ERROR, "getsockopt(SO_ERROR)");
  if (soError !== 0) throw new OsError("connect()", soError);
}

function wrap(remoteAddress: string, remotePort: number, err: unknown): Error {
  if (err instanceof ConnectError) return err;
  if (err instanceof OsError && err.call !== "connect()") {
    // A socket option or bind failed: say which, e.g. "setting IP_TTL: invalid argument".
    const reason = `${err.call[0].toLowerCase()}${err.call.slice(1)}: ${errnoMessage(err.errno)}`;
    return new ConnectError(remoteAddress, remotePort, err.code, reason, { cause: err });
  }
  if (err instanceof OsError || !(err instanceof Error) || "code" in err) {
    const { code, reason } = describeSocketError(err);
    return new ConnectError(remoteAddress, remotePort, code, reason, { cause: err });
  }
  // Setup errors (an over-long password, a bad TTL) keep their own message, prefixed with the peer.
  return new ConnectError(remoteAddress, remotePort, "EINVAL", err.message, { cause: err });
}

function timeoutError(remoteAddress: string, remotePort: number, timeoutMs: number): ConnectError {
  return new ConnectError(remoteAddress, remotePort, "ETIMEDOUT", `timed out after ${timeoutMs} ms`);
}

function abortError(remoteAddress: string, remotePort: number): ConnectError {
  return new ConnectError(remoteAddress, remotePort, "EABORTED", "aborted");
}
