/**
 * Socket options BGP needs and Deno does not offer: the TCP MD5 signature key (RFC 2385), the TTL or hop
 * limit of sent packets (eBGP single-hop and multihop), the minimum accepted TTL (GTSM, RFC 5082), and
 * finding the fd behind a socket Deno owns so these can be set on it.
 *
 * @module
 */

import {
  encodeSockaddr,
  Errno,
  getIntOption,
  IP_MINTTL,
  IP_TTL,
  IPPROTO_IP,
  IPPROTO_IPV6,
  IPPROTO_TCP,
  IPV6_MINHOPCOUNT,
  IPV6_UNICAST_HOPS,
  OsError,
  probeFd,
  setIntOption,
  setSocketOption,
  SO_ACCEPTCONN,
  socketFamily,
  SOL_SOCKET,
  TCP_MD5SIG,
} from "./libc.ts";
import { formatEndpoint, type IpFamily, parseIp, sameIp } from "./socket_address.ts";

/** RFC 2385 keys are at most TCP_MD5SIG_MAXKEYLEN (80) bytes on Linux. */
export const MD5_MAX_KEY_BYTES = 80;

// struct tcp_md5sig (linux/tcp.h): sockaddr_storage tcpm_addr (128), u8 flags, u8 prefixlen, u16 keylen,
// u32 ifindex, u8 key[80].
const MD5SIG_SIZE = 216;
const MD5SIG_KEYLEN_OFFSET = 130;
const MD5SIG_KEY_OFFSET = 136;

/**
 * Sets (or, with an empty password, deletes) the TCP MD5 signature key for one peer address on a socket.
 * On a listener the key applies to connections it accepts from that address; on an active socket it must
 * be set before connect(). An IPv4 peer on an IPv6 socket is keyed by its IPv4-mapped address, which is
 * what the kernel matches for dual-stack listeners. Deleting a key that does not exist is not an error.
 * Error messages never contain the password.
 *
 * @example
 * ```ts ignore
 * setMd5Key(fd, "10.99.0.2", "s3cret");
 * setMd5Key(fd, "10.99.0.2", ""); // remove it again
 * ```
 */
export function setMd5Key(fd: number, peerAddress: string, password: string): void {
  const key = new TextEncoder().encode(password);
  if (key.length > MD5_MAX_KEY_BYTES) {
    throw new RangeError(`MD5 password for ${peerAddress} is longer than ${MD5_MAX_KEY_BYTES} bytes`);
  }
  const family = socketFamily(fd);
  const sig = new Uint8Array(MD5SIG_SIZE);
  sig.set(encodeSockaddr(peerAddress, 0, family, 128), 0);
  new DataView(sig.buffer).setUint16(MD5SIG_KEYLEN_OFFSET, key.length, true);
  sig.set(key, MD5SIG_KEY_OFFSET);
  try {
    setSocketOption(fd, IPPROTO_TCP, TCP_MD5SIG, sig, `Setting the MD5 key for ${peerAddress}`);
  } catch (err) {
    if (key.length === 0 && err instanceof OsError && err.errno === Errno.ENOENT) return;
    throw err;
  } finally {
    sig.fill(0);
    key.fill(0);
  }
}

function checkTtl(value: number, what: string): void {
  if (!Number.isInteger(value) || value < 1 || value > 255) {
    throw new RangeError(`${what} must be an integer from 1 to 255, got ${value}`);
  }
}

/**
 * Sets the TTL (IPv4) or unicast hop limit (IPv6) of packets the socket sends. `family` is the family of
 * the peer: an IPv4 peer on a dual-stack IPv6 socket still uses IP_TTL.
 */
export function setTtl(fd: number, family: IpFamily, ttl: number): void {
  checkTtl(ttl, "TTL");
  if (family === 4) setIntOption(fd, IPPROTO_IP, IP_TTL, ttl, "Setting IP_TTL");
  else setIntOption(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, ttl, "Setting IPV6_UNICAST_HOPS");
}

/** Reads back the TTL or hop limit set with {@linkcode setTtl}. */
export function getTtl(fd: number, family: IpFamily): number {
  return family === 4
    ? getIntOption(fd, IPPROTO_IP, IP_TTL, "Reading IP_TTL")
    : getIntOption(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, "Reading IPV6_UNICAST_HOPS");
}

/**
 * RFC 5082 (GTSM): drop received packets whose TTL or hop limit is below `minTtl` (e.g. 254 for a peer one
 * hop away that sends with 255).
 */
export function setMinTtl(fd: number, family: IpFamily, minTtl: number): void {
  checkTtl(minTtl, "Minimum TTL");
  if (family === 4) setIntOption(fd, IPPROTO_IP, IP_MINTTL, minTtl, "Setting IP_MINTTL");
  else setIntOption(fd, IPPROTO_IPV6, IPV6_MINHOPCOUNT, minTtl, "Setting IPV6_MINHOPCOUNT");
}

/** Reads back the minimum TTL or hop count set with {@linkcode setMinTtl} (0 when unset). */
export function getMinTtl(fd: number, family: IpFamily): number {
  return family === 4
    ? getIntOption(fd, IPPROTO_IP, IP_MINTTL, "Reading IP_MINTTL")
    : getIntOption(fd, IPPROTO_IPV6, IPV6_MINHOPCOUNT, "Reading IPV6_MINHOPCOUNT");
}

/** What identifies a socket when looking for its fd. */
export interface SocketMatch {
  /** Local address; omit to accept any (e.g. a listener on `0.0.0.0` or `::`). */
  readonly localAddress?: string;
  /** Local port. */
  readonly localPort: number;
  /** Remote end for a connected socket; omit both for a listener. */
  readonly remoteAddress?: string;
  /** Remote port of a connected socket. */
  readonly remotePort?: number;
  /** True to match only listening sockets (SO_ACCEPTCONN). */
  readonly listening?: boolean;
}

// New fds take the lowest free number, so a socket just opened sits right after the last busy fd or in an
// early gap; a long run of free numbers means nothing further up is ours to find.
const FREE_RUN_LIMIT = 1024;
const FD_LIMIT = 1 << 16;

/**
 * Finds the fd of a socket Deno owns (a `Deno.listen` listener or a `Deno.TcpConn`) by probing fds with
 * getsockname()/getpeername() and matching addresses and ports (IPv4-mapped IPv6 equals IPv4). Returns
 * undefined when no fd matches. The fd stays owned by Deno: never close it.
 *
 * @example
 * ```ts ignore
 * const listener = Deno.listen({ hostname: "0.0.0.0", port: 179 });
 * const fd = findSocketFd({ localPort: 179, listening: true });
 * ```
 */
export function findSocketFd(match: SocketMatch): number | undefined {
  const local = match.localAddress === undefined ? undefined : parseIp(match.localAddress);
  const remote = match.remoteAddress === undefined ? undefined : parseIp(match.remoteAddress);
  let freeRun = 0;
  for (let fd = 3; fd < FD_LIMIT && freeRun < FREE_RUN_LIMIT; fd++) {
    const probe = probeFd(fd);
    if (probe.errno === Errno.EBADF) {
      freeRun++;
      continue;
    }
    freeRun = 0;
    if (probe.local === undefined || probe.local.port !== match.localPort) continue;
    if (local !== undefined && !sameIp(parseIp(probe.local.address), local)) continue;
    if (remote !== undefined || match.remotePort !== undefined) {
      if (probe.remote === undefined) continue;
      if (match.remotePort !== undefined && probe.remote.port !== match.remotePort) continue;
      if (remote !== undefined && !sameIp(parseIp(probe.remote.address), remote)) continue;
    } else if (probe.remote !== undefined) {
      continue;
    }
    if (match.listening && getIntOption(fd, SOL_SOCKET, SO_ACCEPTCONN, "Reading SO_ACCEPTCONN") !== 1) {
      continue;
    }
    return fd;
  }
  return undefined;
}

/** {@linkcode findSocketFd} that throws a message naming the socket when nothing matches. */
export function requireSocketFd(match: SocketMatch): number {
  const fd = findSocketFd(match);
  if (fd === undefined) {
    const local = formatEndpoint(match.localAddress ?? "*", match.localPort);
    const remote = match.remoteAddress === undefined
      ? ""
      : ` to ${formatEndpoint(match.remoteAddress, match.remotePort ?? 0)}`;
    throw new Error(`Cannot find the fd of socket ${local}${remote}`);
  }
  return fd;
}
