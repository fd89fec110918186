/**
 * An ASCII output buffer for route lines: text is written straight into one reusable byte array and handed
 * to a flush callback in large blocks, so printing millions of lines allocates almost nothing.
 *
 * @module
 */

const DIGITS: readonly Uint8Array[] = Array.from(
  { length: 256 },
  (_, i) => new TextEncoder().encode(String(i)),
);

/**
 * Collects ASCII text and numbers as bytes; calls `flush` with a view of the filled part whenever the
 * buffer is full and on {@linkcode LineBuffer.flush}. The view is only valid during the call.
 *
 * @example
 * ```ts
 * const out = new LineBuffer((bytes) => Deno.stdout.writeSync(bytes));
 * out.ascii("BGP4MP|");
 * out.uint(1486801678);
 * out.flush();
 * ```
 */
export class LineBuffer {
  #buf: Uint8Array;
  #pos = 0;
  #flush: ((bytes: Uint8Array) => void) | undefined;

  /**
   * @param flush receives the filled part when the buffer is full; without it the buffer grows instead
   * (a scratch buffer read back with {@linkcode LineBuffer.view}).
   */
  constructor(flush?: (bytes: Uint8Array) => void, size = 1 << 18) {
    this.#buf = new Uint8Array(size);
    this.#flush = flush;
  }

  /** Makes room for n more bytes (flushing, or growing). */
  #room(n: number): void {
    if (this.#pos + n <= this.#buf.length) return;
    if (this.#flush) this.flush();
    if (this.#pos + n > this.#buf.length) {
      const bigger = new Uint8Array(Math.max(2 * this.#buf.length, this.#pos + n));
      bigger.set(this.#buf.subarray(0, this.#pos));
      this.#buf = bigger;
    }
  }

  /** Writes a string of ASCII characters (one byte each; other characters are not expected here). */
  ascii(text: string): void {
    const n = text.length;
    this.#room(n);
    const buf = this.#buf;
    let pos = this.#pos;
    for (let i = 0; i < n; i++) buf[pos++] = text.charCodeAt(i);
    this.#pos = pos;
  }

  /** Writes bytes (e.g. a pre-rendered part of a line). */
  bytes(data: Uint8Array): void {
    const n = data.length;
    this.#room(n);
    if (n < 16) {
      const buf = this.#buf;
      let pos = this.#pos;
      for (let i = 0; i < n; i++) buf[pos++] = data[i];
      this.#pos = pos;
    } else {
      this.#buf.set(data, this.#pos);
      this.#pos += n;
    }
  }

  /**
   * Writes a whole route line in one call (the hot path of `speaker decode`): `head`, the IPv4 prefix whose
   * `length` bits start at `bytes[offset]` as "a.b.c.d/len" (bits past the length read as zero), then
   * "|pathId" unless `pathId` is negative, then `tail`.
   */
  ipv4Line(
    head: LineBuffer,
    bytes: Uint8Array,
    offset: number,
    length: number,
    pathId: number,
    tail: LineBuffer,
  ): void {
    const h = head.#pos;
    const t = tail.#pos;
    const need = h + 19 + 11 + t;
    if (this.#pos + need > this.#buf.length) this.#room(need);
    const buf = this.#buf;
    let pos = this.#pos;
    const from = head.#buf;
    for (let i = 0; i < h; i++) buf[pos++] = from[i];
    const nb = length > 32 ? 4 : (length + 7) >> 3;
    for (let k = 0; k < 4; k++) {
      if (k) buf[pos++] = 46;
      let v = k < nb ? bytes[offset + k] : 0;
      if (k === nb - 1 && length & 7) v &= (0xff00 >> (length & 7)) & 0xff;
      const d = DIGITS[v];
      buf[pos++] = d[0];
      if (d.length > 1) buf[pos++] = d[1];
      if (d.length > 2) buf[pos++] = d[2];
    }
    buf[pos++] = 47;
    const d = DIGITS[length & 255];
    buf[pos++] = d[0];
    if (d.length > 1) buf[pos++] = d[1];
    if (d.length > 2) buf[pos++] = d[2];
    if (pathId >= 0) {
      buf[pos++] = 124;
      this.#pos = pos;
      this.uint(pathId);
      pos = this.#pos;
    }
    const rest = tail.#buf;
    for (let i = 0; i < t; i++) buf[pos++] = rest[i];
    this.#pos = pos;
  }

  /** Appends the bytes buffered in `src` (a scratch buffer holding a pre-rendered part of a line). */
  append(src: LineBuffer): void {
    const n = src.#pos;
    this.#room(n);
    const from = src.#buf;
    const buf = this.#buf;
    let pos = this.#pos;
    for (let i = 0; i < n; i++) buf[pos++] = from[i];
    this.#pos = pos;
  }

  /** Writes one byte (a separator such as `|` or `\n`). */
  byte(value: number): void {
    this.#room(1);
    this.#buf[this.#pos++] = value;
  }

  /** Writes a non-negative integer below 2^53 in decimal. */
  uint(value: number): void {
    if (value < 256) {
      const d = DIGITS[value];
      this.#room(3);
      const buf = this.#buf;
      let pos = this.#pos;
      buf[pos++] = d[0];
      if (d.length > 1) buf[pos++] = d[1];
      if (d.length > 2) buf[pos++] = d[2];
      this.#pos = pos;
      return;
    }
    this.#room(16);
    let digits = 1;
    for (let v = value; v >= 10; v = Math.floor(v / 10)) digits++;
    const buf = this.#buf;
    let at = this.#pos + digits;
    this.#pos = at;
    do {
      const q = Math.floor(value / 10);
      buf[--at] = 48 + value - q * 10;
      value = q;
    } while (value > 0);
  }

  /** Writes the 4 bytes at `offset` of `addr` as a dotted quad. */
  ipv4(addr: Uint8Array, offset = 0): void {
    this.#room(15);
    const buf = this.#buf;
    let pos = this.#pos;
    for (let k = 0; k < 4; k++) {
      if (k) buf[pos++] = 46;
      const d = DIGITS[addr[offset + k]];
      buf[pos++] = d[0];
      if (d.length > 1) buf[pos++] = d[1];
      if (d.length > 2) buf[pos++] = d[2];
    }
    this.#pos = pos;
  }

  /** The bytes written since the last {@linkcode LineBuffer.reset} (for a buffer that never flushes). */
  view(): Uint8Array {
    return this.#buf.subarray(0, this.#pos);
  }

  /** Forgets the buffered bytes without flushing them. */
  reset(): void {
    this.#pos = 0;
  }

  /** Hands the buffered bytes to the flush callback. */
  flush(): void {
    if (this.#pos === 0 || !this.#flush) return;
    this.#flush(this.#buf.subarray(0, this.#pos));
    this.#pos = 0;
  }
}

/** Renders ASCII text to bytes once (for parts of lines that repeat). */
export function asciiBytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}
