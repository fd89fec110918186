/**
 * The BGP transport: TCP connections to and from peers, with RFC 2385 MD5 keys, TTL / hop limit for eBGP
 * single-hop and multihop, and RFC 5082 GTSM, behind one {@linkcode BgpConnection} interface.
 *
 * - {@linkcode connectPeer}: active open (`Deno.connect`, or an FFI socket when MD5, TTL or a source
 *   address must be set before connect()).
 * - {@linkcode listenPeers}: passive open on one address and port, configured neighbors only; others get
 *   a NOTIFICATION Cease / Connection Rejected.
 *
 * Permissions: `--allow-net` for `Deno.connect`/`Deno.listen`, and `--allow-ffi=/lib/x86_64-linux-gnu/libc.so.6`
 * (Debian x86_64) for MD5, TTL, source addresses and per-neighbor options on the listener.
 *
 * @example
 * ```ts ignore
 * import { connectPeer, listenPeers } from "./lib/transport/mod.ts";
 * const conn = await connectPeer({ remoteAddress: "10.99.0.2", md5Password: "s3cret", ttl: 1, timeoutMs: 5000 });
 * conn.onData((chunk) => framer.push(chunk));
 * conn.onClose((err) => session.closed(err));
 * if (!conn.write(open)) await conn.drained();
 * ```
 *
 * @module
 */

export type { BgpConnection, ConnectionOptions } from "./connection.ts";
export { DEFAULT_HIGH_WATER_MARK, DEFAULT_LINGER_MS } from "./connection.ts";
export { BGP_PORT, type ConnectOptions, connectPeer } from "./connect.ts";
export {
  CEASE_CONNECTION_REJECTED,
  type ListenOptions,
  listenPeers,
  type NeighborTransport,
  type PeerListener,
} from "./listen.ts";
export { ConnectError, ConnectionError, ListenError } from "./transport_error.ts";
export {
  formatEndpoint,
  type IpFamily,
  ipFamily,
  normalizeIp,
  type SocketEndpoint,
} from "./socket_address.ts";
export { findSocketFd, getTtl, setMd5Key, setMinTtl, setTtl } from "./socket_options.ts";
export { libcAvailable } from "./libc.ts";
