/**
 * Passive open: one `Deno.listen` socket that accepts configured neighbors only. MD5 keys are set per
 * neighbor on the listener's fd (accepted connections inherit them), a TTL on each accepted connection,
 * and anyone else gets a NOTIFICATION Cease / Connection Rejected and is closed.
 *
 * @module
 */

import type { BgpConnection, ConnectionOptions } from "./connection.ts";
import { DEFAULT_LINGER_MS } from "./connection.ts";
import { socketFamily } from "./libc.ts";
import { ipFamily, normalizeIp, type SocketEndpoint } from "./socket_address.ts";
import { MD5_MAX_KEY_BYTES, requireSocketFd, setMd5Key, setMinTtl, setTtl } from "./socket_options.ts";
import { TcpConnConnection } from "./tcp_conn_connection.ts";
import { describeSocketError, ListenError } from "./transport_error.ts";

/**
 * RFC 4271 §4.5 NOTIFICATION with RFC 4486 §4 Cease (6) / Connection Rejected (5): the 16-byte all-ones
 * marker, length 21 (header 19 + code + subcode), type 3, code 6, subcode 5, no data.
 */
export const CEASE_CONNECTION_REJECTED: Uint8Array = Uint8Array.of(
  ...new Array<number>(16).fill(0xff),
  0x00,
  0x15,
  0x03,
  0x06,
  0x05,
);

/** Transport settings of one configured neighbor. */
export interface NeighborTransport {
  /** RFC 2385 password; empty or undefined means none. */
  readonly md5Password?: string;
  /** TTL or hop limit of packets sent on accepted connections (1 for eBGP single-hop). */
  readonly ttl?: number;
  /**
   * RFC 5082 GTSM minimum TTL or hop limit accepted. Set on the accepted socket, so it guards everything
   * after the handshake; the listener itself answers SYNs with the system default TTL.
   */
  readonly minTtl?: number;
}

/** Where to listen and whom to accept. */
export interface ListenOptions extends ConnectionOptions {
  /** `0.0.0.0`, `::` (dual-stack, also `[::]`) or one local address. */
  readonly address: string;
  /** 179 in production (needs root or CAP_NET_BIND_SERVICE); 0 picks a free port. */
  readonly port: number;
  /** Configured neighbors by address (IPv4-mapped IPv6 is the same as IPv4). */
  readonly neighbors: ReadonlyMap<string, NeighborTransport>;
  /** Receives each accepted connection from a configured neighbor; the callee owns it. */
  readonly onConnection: (conn: BgpConnection) => void;
  /** Told about each connection from an unknown address, after the NOTIFICATION is queued. */
  readonly onRejected?: (remote: SocketEndpoint) => void;
  /** Told about failures that do not stop the listener (an accept error, a TTL that could not be set). */
  readonly onError?: (err: Error) => void;
}

/** An open passive listener. */
export interface PeerListener {
  /** The bound address (canonical text) and port (the real one when 0 was asked for). */
  readonly address: string;
  /** The bound port. */
  readonly port: number;
  /**
   * Replaces the neighbor set: adds, changes (MD5 key rotation) and removes keys on the listener. Applies to
   * connections accepted from now on; established ones are unaffected. Validates the whole map first and
   * throws without changing anything when an entry is invalid.
   */
  updateNeighbors(neighbors: ReadonlyMap<string, NeighborTransport>): void;
  /** Stops accepting and closes connections still being rejected; resolves when all are closed. */
  close(): Promise<void>;
}

// Connections from unknown addresses held at once while their NOTIFICATION is flushed; beyond this they
// are closed without one, so a flood cannot pile up sockets.
const MAX_REJECTING = 64;
const ACCEPT_RETRY_MS = 100;

/**
 * Listens for BGP connections from configured neighbors.
 *
 * @example
 * ```ts ignore
 * const listener = listenPeers({
 *   address: "::",
 *   port: 179,
 *   neighbors: new Map([["10.99.0.2", { md5Password: "s3cret", ttl: 1 }]]),
 *   onConnection: (conn) => session.attach(conn),
 * });
 * await listener.close();
 * ```
 */
export function listenPeers(options: ListenOptions): PeerListener {
  const address = normalizeIp(options.address);
  if (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535) {
    throw new RangeError(`Invalid listen port: ${options.port}`);
  }
  let listener: Deno.TcpListener;
  try {
    listener = Deno.listen({ hostname: address, port: options.port, transport: "tcp" });
  } catch (err) {
    const { code, reason } = describeSocketError(err);
    throw new ListenError(address, options.port, code, reason, { cause: err });
  }
  try {
    return new NeighborListener(listener, address, options);
  } catch (err) {
    listener.close();
    throw err;
  }
}

type NeighborTable = Map<string, NeighborTransport>;

function normalizeNeighbors(neighbors: ReadonlyMap<string, NeighborTransport>): NeighborTable {
  const table: NeighborTable = new Map();
  for (const [address, settings] of neighbors) {
    const key = normalizeIp(address);
    const password = settings.md5Password ?? "";
    if (new TextEncoder().encode(password).length > MD5_MAX_KEY_BYTES) {
      throw new RangeError(`MD5 password for ${key} is longer than ${MD5_MAX_KEY_BYTES} bytes`);
    }
    for (const [name, value] of [["TTL", settings.ttl], ["Minimum TTL", settings.minTtl]] as const) {
      if (value !== undefined && (!Number.isInteger(value) || value < 1 || value > 255)) {
        throw new RangeError(`${name} for ${key} must be an integer from 1 to 255, got ${value}`);
      }
    }
    table.set(key, settings);
  }
  return table;
}

class NeighborListener implements PeerListener {
  readonly address: string;
  readonly port: number;
  #listener: Deno.TcpListener;
  #options: ListenOptions;
  #neighbors: NeighborTable = new Map();
  #fd: number | undefined;
  #closed = false;
  #acceptTask: Promise<void>;
  #rejecting = new Set<Deno.TcpConn>();
  #rejectTasks = new Set<Promise<void>>();
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #retryWake: (() => void) | undefined;

  constructor(listener: Deno.TcpListener, address: string, options: ListenOptions) {
    this.#listener = listener;
    this.#options = options;
    this.address = address;
    this.port = (listener.addr as Deno.NetAddr).port;
    this.updateNeighbors(options.neighbors);
    this.#acceptTask = this.#acceptLoop();
  }

  updateNeighbors(neighbors: ReadonlyMap<string, NeighborTransport>): void {
    const next = normalizeNeighbors(neighbors);
    const passwordOf = (table: NeighborTable, address: string) => table.get(address)?.md5Password ?? "";
    const changes: [string, string][] = [];
    for (const address of new Set([...this.#neighbors.keys(), ...next.keys()])) {
      const before = passwordOf(this.#neighbors, address);
      const after = passwordOf(next, address);
      if (before !== after) changes.push([address, after]);
    }
    // After close() the fd number may already belong to another socket: only the table changes.
    if (changes.length > 0 && !this.#closed) {
      const fd = this.#listenerFd();
      const family = socketFamily(fd);
      for (const [address, password] of changes) {
        // An IPv6 neighbor can never reach an IPv4 socket: no key to set.
        if (family === 4 && ipFamily(address) === 6) continue;
        setMd5Key(fd, address, password);
      }
    }
    this.#neighbors = next;
  }

  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#listener.close();
      if (this.#retryTimer !== undefined) clearTimeout(this.#retryTimer);
      this.#retryWake?.();
      for (const conn of this.#rejecting) closeQuietly(conn);
    }
    await this.#acceptTask;
    await Promise.allSettled([...this.#rejectTasks]);
  }

  #listenerFd(): number {
    this.#fd ??= requireSocketFd({ localAddress: this.address, localPort: this.port, listening: true });
    return this.#fd;
  }

  async #acceptLoop(): Promise<void> {
    while (!this.#closed) {
      let conn: Deno.TcpConn;
      try {
        conn = await this.#listener.accept();
      } catch (err) {
        if (this.#closed || err instanceof Deno.errors.BadResource) return;
        const { reason } = describeSocketError(err);
        this.#report(new Error(`Accepting on port ${this.port} failed: ${reason}`, { cause: err }));
        // EMFILE and the like: wait a little instead of spinning.
        await new Promise<void>((resolve) => {
          this.#retryWake = resolve;
          this.#retryTimer = setTimeout(resolve, ACCEPT_RETRY_MS);
        });
        continue;
      }
      if (this.#closed) {
        closeQuietly(conn);
        return;
      }
      this.#admit(conn);
    }
  }

  #admit(conn: Deno.TcpConn): void {
    const remoteAddr = conn.remoteAddr as Deno.NetAddr;
    const remote: SocketEndpoint = {
      family: ipFamily(remoteAddr.hostname),
      address: normalizeIp(remoteAddr.hostname),
      port: remoteAddr.port,
    };
    const neighbor = this.#neighbors.get(remote.address);
    if (neighbor === undefined) {
      this.#reject(conn, remote);
      return;
    }
    let connection: BgpConnection;
    try {
      if (neighbor.ttl !== undefined || neighbor.minTtl !== undefined) {
        const localAddr = conn.localAddr as Deno.NetAddr;
        const fd = requireSocketFd({
          localAddress: localAddr.hostname,
          localPort: localAddr.port,
          remoteAddress: remoteAddr.hostname,
          remotePort: remoteAddr.port,
        });
        if (neighbor.ttl !== undefined) setTtl(fd, remote.family, neighbor.ttl);
        if (neighbor.minTtl !== undefined) setMinTtl(fd, remote.family, neighbor.minTtl);
      }
      connection = new TcpConnConnection(conn, this.#options);
    } catch (err) {
      closeQuietly(conn);
      this.#report(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    try {
      this.#options.onConnection(connection);
    } catch (err) {
      connection.destroy();
      this.#report(err instanceof Error ? err : new Error(String(err)));
    }
  }

  #reject(conn: Deno.TcpConn, remote: SocketEndpoint): void {
    if (this.#rejecting.size >= MAX_REJECTING) {
      closeQuietly(conn);
    } else {
      this.#rejecting.add(conn);
      const task = this.#sendRejection(conn).finally(() => {
        this.#rejecting.delete(conn);
        this.#rejectTasks.delete(task);
      });
      this.#rejectTasks.add(task);
    }
    try {
      this.#options.onRejected?.(remote);
    } catch (err) {
      this.#report(err instanceof Error ? err : new Error(String(err)));
    }
  }

  /** Writes the NOTIFICATION, sends FIN, and reads until the peer closes or the linger ends. */
  async #sendRejection(conn: Deno.TcpConn): Promise<void> {
    const timer = setTimeout(() => closeQuietly(conn), this.#options.lingerMs ?? DEFAULT_LINGER_MS);
    try {
      let offset = 0;
      while (offset < CEASE_CONNECTION_REJECTED.length) {
        offset += await conn.write(CEASE_CONNECTION_REJECTED.subarray(offset));
      }
      await conn.closeWrite();
      const sink = new Uint8Array(4096);
      while (await conn.read(sink) !== null) {
        // Dropped: only the peer's FIN matters.
      }
    } catch {
      // Reset or closed by the linger timer: nothing more to do.
    } finally {
      clearTimeout(timer);
      closeQuietly(conn);
    }
  }

  #report(err: Error): void {
    try {
      this.#options.onError?.(err);
    } catch {
      // A failing error callback must not stop the listener.
    }
  }
}

function closeQuietly(conn: Deno.TcpConn): void {
  try {
    conn.close();
  } catch {
    // Already closed.
  }
}
