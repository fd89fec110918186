/**
 * Small pieces the transport tests share: a deterministic byte pattern, collectors for a connection's
 * bytes and close, and a port nobody listens on. Loopback only.
 *
 * @module
 */

import type { BgpConnection } from "../../lib/transport/connection.ts";

/** Byte `i` of the test stream; a shifted or dropped byte changes every later comparison. */
export function patternByte(i: number): number {
  return (i * 31 + (i >>> 11)) & 0xff;
}

/** `length` bytes of the pattern starting at stream offset `start`. */
export function patternChunk(start: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = patternByte(start + i);
  return out;
}

/** Resolves with the close error (or undefined) when the connection reports its close. */
export function closeOf(conn: BgpConnection): Promise<Error | undefined> {
  return new Promise((resolve) => conn.onClose((err) => resolve(err)));
}

/** Writes `total` pattern bytes in `chunk`-sized writes, honouring backpressure; resolves with how often
 * write() said the buffer was full. */
export async function writePattern(conn: BgpConnection, total: number, chunk = 64 * 1024): Promise<number> {
  let full = 0;
  for (let offset = 0; offset < total; offset += chunk) {
    const n = Math.min(chunk, total - offset);
    if (!conn.write(patternChunk(offset, n))) {
      full++;
      await conn.drained();
      if (conn.closed) throw new Error(`Connection closed after ${offset} bytes`);
    }
  }
  return full;
}

/**
 * Checks incoming bytes against the pattern as they arrive; `done` resolves with the byte count once
 * `total` bytes were received, and rejects on the first wrong byte or a close before that.
 */
export function verifyPattern(conn: BgpConnection, total: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let received = 0;
    conn.onData((chunk) => {
      for (let i = 0; i < chunk.length; i++) {
        if (chunk[i] !== patternByte(received + i)) {
          reject(new Error(`Byte ${received + i} is ${chunk[i]}, expected ${patternByte(received + i)}`));
          conn.destroy();
          return;
        }
      }
      received += chunk.length;
      if (received === total) resolve(received);
    });
  });
}

/** Collects everything received until the connection closes. */
export function collectUntilClose(conn: BgpConnection): Promise<{ bytes: Uint8Array; err?: Error }> {
  const chunks: Uint8Array[] = [];
  conn.onData((chunk) => chunks.push(chunk));
  return closeOf(conn).then((err) => {
    const bytes = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
    let offset = 0;
    for (const c of chunks) {
      bytes.set(c, offset);
      offset += c.length;
    }
    return { bytes, err };
  });
}

/** A loopback port that was free a moment ago (bound, read, released). */
export function unusedPort(hostname = "127.0.0.1"): number {
  const listener = Deno.listen({ hostname, port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** Resolves after `ms`. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves with the first value a callback-registering function delivers. */
export function nextConnection(): {
  push: (conn: BgpConnection) => void;
  next: () => Promise<BgpConnection>;
} {
  const ready: BgpConnection[] = [];
  const waiting: ((conn: BgpConnection) => void)[] = [];
  return {
    push: (conn) => {
      const waiter = waiting.shift();
      if (waiter) waiter(conn);
      else ready.push(conn);
    },
    next: () => {
      const conn = ready.shift();
      return conn ? Promise.resolve(conn) : new Promise((resolve) => waiting.push(resolve));
    },
  };
}
