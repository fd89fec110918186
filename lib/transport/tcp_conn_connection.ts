/**
 * {@linkcode BgpConnection} over a `Deno.TcpConn` (from `Deno.connect` or a `Deno.listen` accept): one read
 * loop that stops while paused, and a write queue that coalesces small writes into batches.
 *
 * @module
 */

import {
  type BgpConnection,
  ConnectionCallbacks,
  type ConnectionOptions,
  DEFAULT_HIGH_WATER_MARK,
  DEFAULT_LINGER_MS,
} from "./connection.ts";
import { type IpFamily, ipFamily, normalizeIp } from "./socket_address.ts";
import { callbackError, ConnectionError, describeSocketError } from "./transport_error.ts";

// One read takes what the kernel has, up to this; each chunk is copied out at its real size.
const READ_SIZE = 256 * 1024;
// Queued writes are joined into one kernel write of about this size, fewer round trips through the runtime.
const WRITE_BATCH = 256 * 1024;

/** A BGP connection over a `Deno.TcpConn`; owns the conn and closes it. */
export class TcpConnConnection implements BgpConnection {
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
  #conn: Deno.TcpConn;
  #callbacks = new ConnectionCallbacks();
  #highWaterMark: number;
  #lingerMs: number;
  #queue: Uint8Array[] = [];
  #queued = 0;
  #writing = false;
  #needDrain = false;
  #drainWaiters: (() => void)[] = [];
  #readTask: Promise<void> | undefined;
  #writeTask: Promise<void> | undefined;
  #paused = false;
  #resumeWaiter: (() => void) | undefined;
  #closing = false;
  #ended = false;
  #connClosed = false;
  #lingerTimer: ReturnType<typeof setTimeout> | undefined;
  #bytesSent = 0;
  #bytesReceived = 0;

  /** Wraps an open conn; the connection takes ownership of it. */
  constructor(conn: Deno.TcpConn, options: ConnectionOptions = {}) {
    this.#conn = conn;
    const local = conn.localAddr as Deno.NetAddr;
    const remote = conn.remoteAddr as Deno.NetAddr;
    this.localAddress = normalizeIp(local.hostname);
    this.localPort = local.port;
    this.remoteAddress = normalizeIp(remote.hostname);
    this.remotePort = remote.port;
    this.family = ipFamily(this.remoteAddress);
    this.#highWaterMark = options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK;
    this.#lingerMs = options.lingerMs ?? DEFAULT_LINGER_MS;
    conn.setNoDelay(true);
  }

  get bufferedAmount(): number {
    return this.#queued;
  }
  get bytesSent(): number {
    return this.#bytesSent;
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
    this.#startReading();
  }

  onClose(cb: (err?: Error) => void): void {
    this.#callbacks.addClose(cb);
  }

  write(bytes: Uint8Array): boolean {
    if (this.closed) return false;
    if (bytes.byteLength > 0) {
      this.#queue.push(bytes);
      this.#queued += bytes.byteLength;
      if (!this.#writing) this.#writeTask = this.#pump();
    }
    if (this.#queued >= this.#highWaterMark) this.#needDrain = true;
    return !this.#needDrain;
  }

  drained(): Promise<void> {
    if (!this.#needDrain || this.#ended) return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    this.#paused = false;
    this.#wakeReader();
  }

  close(): void {
    if (this.closed) return;
    this.#closing = true;
    this.#callbacks.clearData();
    this.#paused = false;
    this.#wakeReader();
    this.#lingerTimer = setTimeout(() => this.#end(undefined), this.#lingerMs);
    this.#startReading();
    if (!this.#writing) this.#writeTask = this.#pump();
  }

  destroy(): void {
    this.#end(undefined);
  }

  #startReading(): void {
    if (this.#readTask === undefined) this.#readTask = this.#readLoop();
  }

  #wakeReader(): void {
    const wake = this.#resumeWaiter;
    this.#resumeWaiter = undefined;
    wake?.();
  }

  async #readLoop(): Promise<void> {
    const buffer = new Uint8Array(READ_SIZE);
    try {
      while (!this.#ended) {
        if (this.#paused) {
          await new Promise<void>((resolve) => this.#resumeWaiter = resolve);
          continue;
        }
        const n = await this.#conn.read(buffer);
        if (n === null) break;
        this.#bytesReceived += n;
        if (this.#closing) continue;
        const failure = this.#callbacks.data(buffer.slice(0, n));
        if (failure !== undefined) {
          this.#end(callbackError(this.remoteAddress, this.remotePort, failure));
          return;
        }
      }
      this.#end(undefined);
    } catch (err) {
      this.#end(this.#ended ? undefined : this.#error(err));
    }
  }

  async #pump(): Promise<void> {
    this.#writing = true;
    try {
      while (this.#queue.length > 0 && !this.#ended) {
        const batch = this.#takeBatch();
        let offset = 0;
        while (offset < batch.byteLength) offset += await this.#conn.write(batch.subarray(offset));
        this.#queued -= batch.byteLength;
        this.#bytesSent += batch.byteLength;
        if (this.#needDrain && this.#queued <= this.#highWaterMark / 2) this.#releaseDrain();
      }
    } catch (err) {
      this.#end(this.#ended ? undefined : this.#error(err));
      return;
    } finally {
      this.#writing = false;
    }
    if (this.#closing && !this.#ended) {
      try {
        // FIN after the queued bytes; the read loop drains the peer's last bytes until its FIN.
        await this.#conn.closeWrite();
      } catch {
        this.#end(undefined);
      }
    }
  }

  #takeBatch(): Uint8Array {
    const first = this.#queue.shift()!;
    if (first.byteLength >= WRITE_BATCH || this.#queue.length === 0) return first;
    let size = first.byteLength;
    let count = 0;
    while (count < this.#queue.length && size + this.#queue[count].byteLength <= WRITE_BATCH) {
      size += this.#queue[count].byteLength;
      count++;
    }
    if (count === 0) return first;
    const batch = new Uint8Array(size);
    batch.set(first, 0);
    let offset = first.byteLength;
    for (const chunk of this.#queue.splice(0, count)) {
      batch.set(chunk, offset);
      offset += chunk.byteLength;
    }
    return batch;
  }

  #releaseDrain(): void {
    this.#needDrain = false;
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const resolve of waiters) resolve();
  }

  #error(err: unknown): Error {
    const { code, reason } = describeSocketError(err);
    return new ConnectionError(this.remoteAddress, this.remotePort, code, reason, { cause: err });
  }

  #end(err: Error | undefined): void {
    if (this.#ended) return;
    this.#ended = true;
    if (this.#lingerTimer !== undefined) clearTimeout(this.#lingerTimer);
    this.#queue = [];
    this.#queued = 0;
    this.#releaseDrain();
    this.#wakeReader();
    if (!this.#connClosed) {
      this.#connClosed = true;
      try {
        this.#conn.close();
      } catch {
        // Already closed by the runtime.
      }
    }
    // Report the close only once the pending read and write ops have settled, so a caller that awaits it
    // leaves no op behind.
    void Promise.allSettled([this.#readTask, this.#writeTask]).then(() => this.#callbacks.closed(err));
  }
}
