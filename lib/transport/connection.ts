/**
 * The one connection interface a BGP session talks to, whatever opened the socket: `Deno.connect`,
 * `Deno.listen`, or an FFI socket carrying an MD5 key or a TTL (see `connect.ts` and `listen.ts`).
 *
 * @module
 */

import type { IpFamily } from "./socket_address.ts";

/**
 * A TCP connection to a BGP peer, with backpressure both ways.
 *
 * Sending: {@linkcode BgpConnection.write} always takes the bytes (the connection keeps a reference until
 * they are in the kernel, so do not modify them afterwards) and returns false once
 * {@linkcode BgpConnection.bufferedAmount} reaches the high-water mark; then stop producing and
 * `await drained()`. Large writes (tens of KiB of packed UPDATEs) are cheaper than many small ones.
 *
 * Receiving: chunks arrive through the {@linkcode BgpConnection.onData} callback as they are read, each
 * owned by the receiver. Reading stops while the session is {@linkcode BgpConnection.pause}d, so the kernel
 * (and TCP flow control towards the peer) holds the rest: nothing is buffered without bound.
 *
 * Closing: each {@linkcode BgpConnection.onClose} callback fires exactly once, after the socket is fully
 * closed, with an error when the connection failed (reset, broken pipe) and without one after an orderly
 * end (either side). One registered after the fact still fires (asynchronously).
 *
 * @example
 * ```ts ignore
 * const conn = await connectPeer({ remoteAddress: "10.99.0.2", timeoutMs: 5000 });
 * conn.onData((chunk) => framer.push(chunk));
 * conn.onClose((err) => fsm.dispatch(err ? "TcpConnectionFails" : "TcpConnectionClosed"));
 * for (const update of updates) if (!conn.write(update)) await conn.drained();
 * ```
 */
export interface BgpConnection {
  /** Local address in canonical text (IPv4-mapped IPv6 shown as IPv4): the session's own next hop. */
  readonly localAddress: string;
  /** Local TCP port. */
  readonly localPort: number;
  /** Remote address in canonical text (IPv4-mapped IPv6 shown as IPv4). */
  readonly remoteAddress: string;
  /** Remote TCP port. */
  readonly remotePort: number;
  /** Family of the remote address (4 also for an IPv4 peer on a dual-stack IPv6 socket). */
  readonly family: IpFamily;
  /** Bytes accepted by write() and not yet handed to the kernel. */
  readonly bufferedAmount: number;
  /** Total bytes handed to the kernel so far. */
  readonly bytesSent: number;
  /** Total bytes received so far. */
  readonly bytesReceived: number;
  /** True once close() or destroy() was called or the connection ended. */
  readonly closed: boolean;
  /**
   * Sets the receiver of incoming bytes (one receiver; a second call replaces it) and starts reading; until
   * then nothing is read, so the peer's FIN goes unnoticed too. If the receiver throws, the connection is
   * destroyed and onClose gets a `ConnectionError` with code `ECALLBACK` and the thrown error as
   * its cause.
   */
  onData(cb: (chunk: Uint8Array) => void): void;
  /**
   * Adds a callback run once when the connection has closed; `err` (a `ConnectionError`) is set
   * when it failed. Callbacks must not throw.
   */
  onClose(cb: (err?: Error) => void): void;
  /** Queues bytes for sending; false means the buffer is full: await drained() before writing more. */
  write(bytes: Uint8Array): boolean;
  /**
   * Resolves when there is room to write again: at once unless a write() returned false since the last
   * drain, and at the latest when the connection closes (check `closed`). Never rejects.
   */
  drained(): Promise<void>;
  /** Stops reading from the socket (receive backpressure); a read already under way may deliver one more chunk. */
  pause(): void;
  /** Resumes reading after pause(). */
  resume(): void;
  /**
   * Orderly close: sends what is queued, then FIN; incoming bytes are read and dropped until the peer
   * closes too (so an unread KEEPALIVE cannot turn our FIN into a RST that loses a NOTIFICATION), and after
   * a short linger the socket is closed regardless. No more onData calls.
   */
  close(): void;
  /** Immediate close: queued bytes are dropped. */
  destroy(): void;
}

/** Tuning shared by the implementations. */
export interface ConnectionOptions {
  /** write() returns false once this many bytes are queued (default 1 MiB). */
  readonly highWaterMark?: number;
  /** How long close() waits for the peer's FIN before closing anyway (default 2000 ms). */
  readonly lingerMs?: number;
}

/** Default write() high-water mark: 1 MiB keeps the kernel busy without holding much memory per peer. */
export const DEFAULT_HIGH_WATER_MARK = 1 << 20;
/** Default close() linger. */
export const DEFAULT_LINGER_MS = 2000;

/**
 * The callback bookkeeping both implementations share: one data receiver, and close callbacks that each
 * fire exactly once, even when registered after the close.
 */
export class ConnectionCallbacks {
  #data: ((chunk: Uint8Array) => void) | undefined;
  #close: ((err?: Error) => void)[] = [];
  #closed = false;
  #closeError: Error | undefined;

  /** Sets the data receiver. */
  setData(cb: (chunk: Uint8Array) => void): void {
    this.#data = cb;
  }

  /** Drops the data receiver (closing: later bytes are discarded). */
  clearData(): void {
    this.#data = undefined;
  }

  /**
   * Delivers a chunk to the receiver if there is one. Returns what the receiver threw: the connection then
   * closes with that error instead of letting it escape into the event loop and end the process.
   */
  data(chunk: Uint8Array): Error | undefined {
    try {
      this.#data?.(chunk);
      return undefined;
    } catch (err) {
      return err instanceof Error ? err : new Error(String(err));
    }
  }

  /** Adds a close callback; if already closed, schedules it. */
  addClose(cb: (err?: Error) => void): void {
    if (this.#closed) queueMicrotask(() => cb(this.#closeError));
    else this.#close.push(cb);
  }

  /** Records the close (first call wins) and runs the callbacks. */
  closed(err?: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closeError = err;
    this.#data = undefined;
    const callbacks = this.#close;
    this.#close = [];
    for (const cb of callbacks) cb(err);
  }
}
