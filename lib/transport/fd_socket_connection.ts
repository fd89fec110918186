/**
 * {@linkcode BgpConnection} over a connected socket fd that FFI created (to set MD5 or TTL before
 * connect()), handed to the event loop as a `node:net` Socket.
 *
 * @module
 */

import net from "node:net";
import {
  type BgpConnection,
  ConnectionCallbacks,
  type ConnectionOptions,
  DEFAULT_HIGH_WATER_MARK,
  DEFAULT_LINGER_MS,
} from "./connection.ts";
import type { IpFamily, SocketEndpoint } from "./socket_address.ts";
import { callbackError, ConnectionError, describeSocketError } from "./transport_error.ts";

/** A BGP connection over a `node:net` Socket that owns a connected fd; closing it closes the fd. */
export class FdSocketConnection implements BgpConnection {
  /** See {@linkcode BgpConnection.localAddress}. */
  readonly localAddress: string;
  /** See {@linkcode BgpConnection.localPort}. */
  readonly localPort: number;
  /** See {@linkcode BgpConnection.remoteAddress}. */
  readonly remoteAddress: string;
  /** See {@linkcode BgpConnection.remotePort}. */
  readonly remotePort: number;
  /** See {@linkcode BgpConnection.family}. */
  readonly family: IpFamily;
  #socket: net.Socket;
  #callbacks = new ConnectionCallbacks();
  #closing = false;
  #ended = false;
  #error: Error | undefined;
  #lingerMs: number;
  #lingerTimer: ReturnType<typeof setTimeout> | undefined;
  #bytesReceived = 0;
  #corked = false;

  /**
   * Takes ownership of a connected socket fd. `local` and `remote` come from getsockname()/getpeername(),
   * which the caller has already read.
   */
  constructor(fd: number, local: SocketEndpoint, remote: SocketEndpoint, options: ConnectionOptions = {}) {
    this.localAddress = local.address;
    this.localPort = local.port;
    this.remoteAddress = remote.address;
    this.remotePort = remote.port;
    this.family = remote.family;
    this.#lingerMs = options.lingerMs ?? DEFAULT_LINGER_MS;
    this.#socket = new net.Socket({
      fd,
      readable: true,
      writable: true,
      writableHighWaterMark: options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK,
    } as net.SocketConstructorOpts);
    this.#socket.setNoDelay(true);
    // Not flowing until onData(): the socket reads up to its readable high-water mark, then stops.
    this.#socket.pause();
    this.#socket.on("error", (err) => {
      const { code, reason } = describeSocketError(err);
      this.#error ??= new ConnectionError(this.remoteAddress, this.remotePort, code, reason, { cause: err });
    });
    this.#socket.on("close", () => this.#finish());
  }

  get bufferedAmount(): number {
    return this.#socket.writableLength;
  }
  get bytesSent(): number {
    return Math.max(0, this.#socket.bytesWritten - this.#socket.writableLength);
  }
  get bytesReceived(): number {
    return this.#bytesReceived;
  }
  get closed(): boolean {
    return this.#closing || this.#ended;
  }

  onData(cb: (chunk: Uint8Array) => void): void {
    if (this.closed) return;
    this.#callbacks.setData(cb);
    if (this.#socket.listenerCount("data") === 0) {
      this.#socket.on("data", (chunk: Uint8Array) => {
        this.#bytesReceived += chunk.byteLength;
        if (this.#closing) return;
        const failure = this.#callbacks.data(chunk);
        if (failure !== undefined) {
          this.#error ??= callbackError(this.remoteAddress, this.remotePort, failure);
          this.#closing = true;
          this.#socket.destroy();
        }
      });
    }
    this.#socket.resume();
  }

  onClose(cb: (err?: Error) => void): void {
    this.#callbacks.addClose(cb);
  }

  write(bytes: Uint8Array): boolean {
    if (this.closed) return false;
    if (!this.#corked) {
      // Writes made in the same turn of the event loop leave as one writev() instead of one each: a session
      // writing 4 KiB UPDATEs one by one would otherwise pay a syscall per message.
      this.#corked = true;
      this.#socket.cork();
      queueMicrotask(() => {
        this.#corked = false;
        this.#socket.uncork();
      });
    }
    return this.#socket.write(bytes);
  }

  drained(): Promise<void> {
    if (this.#ended || !this.#socket.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.#socket.off("drain", done);
        this.#socket.off("close", done);
        resolve();
      };
      this.#socket.on("drain", done);
      this.#socket.on("close", done);
    });
  }

  pause(): void {
    if (!this.closed) this.#socket.pause();
  }

  resume(): void {
    if (!this.closed) this.#socket.resume();
  }

  close(): void {
    if (this.closed) return;
    this.#closing = true;
    this.#callbacks.clearData();
    // Keep reading (and dropping) until the peer's FIN so our FIN is not turned into a RST.
    if (this.#socket.listenerCount("data") === 0) {
      this.#socket.on("data", (chunk: Uint8Array) => this.#bytesReceived += chunk.byteLength);
    }
    this.#socket.resume();
    this.#lingerTimer = setTimeout(() => this.#socket.destroy(), this.#lingerMs);
    this.#socket.end();
  }

  destroy(): void {
    if (this.#ended) return;
    this.#closing = true;
    this.#socket.destroy();
  }

  #finish(): void {
    if (this.#ended) return;
    this.#ended = true;
    if (this.#lingerTimer !== undefined) clearTimeout(this.#lingerTimer);
    this.#callbacks.closed(this.#error);
  }
}
