/**
 * An ASCII output buffer for route lines: text is written straight into one reusable byte array and handed
 * to a flush callback in large blocks, so printing millions of lines allocates almost nothing.
 *
 * @module
 */

/** Up to this many bytes a copy loop beats a native `set` call. */
const COPY_LOOP_MAX = 32;

/** ASCII codes of the lower-case hex digits. */
const HEX = new Uint8Array([48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 97, 98, 99, 100, 101, 102]);

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
  #viewCache: Uint8Array = new Uint8Array(0);

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
    if (h > COPY_LOOP_MAX) {
      buf.set(head.#whole(), pos);
      pos += h;
    } else {
      const from = head.#buf;
      for (let i = 0; i < h; i++) buf[pos++] = from[i];
    }
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
    if (t > COPY_LOOP_MAX) {
      buf.set(tail.#whole(), pos);
      pos += t;
    } else {
      const rest = tail.#buf;
      for (let i = 0; i < t; i++) buf[pos++] = rest[i];
    }
    this.#pos = pos;
  }

  /** A view of the buffered bytes, made once per content length (for `set`, which copies natively). */
  #whole(): Uint8Array {
    const v = this.#viewCache;
    if (v.length === this.#pos && v.buffer === this.#buf.buffer) return v;
    return this.#viewCache = this.#buf.subarray(0, this.#pos);
  }

  /**
   * Writes the 16 bytes at `offset` of `addr` as IPv6 text, exactly as `ipv6ToString` of lib/wire/address.ts
   * does (RFC 5952: lower case, no leading zeros, the first longest run of two or more zero groups as "::";
   * IPv4-mapped and IPv4-compatible addresses end in a dotted quad), without building a string.
   */
  ipv6(addr: Uint8Array, offset = 0): void {
    this.#room(46);
    let bestStart = -1;
    let bestLen = 0;
    for (let i = 0; i < 8;) {
      if (addr[offset + 2 * i] !== 0 || addr[offset + 2 * i + 1] !== 0) {
        i++;
        continue;
      }
      let j = i;
      while (j < 8 && addr[offset + 2 * j] === 0 && addr[offset + 2 * j + 1] === 0) j++;
      if (j - i > bestLen) {
        bestStart = i;
        bestLen = j - i;
      }
      i = j;
    }
    if (bestLen < 2) bestStart = -1;
    const buf = this.#buf;
    let pos = this.#pos;
    if (
      bestStart === 0 &&
      (bestLen === 6 || (bestLen === 5 && addr[offset + 10] === 0xff && addr[offset + 11] === 0xff))
    ) {
      buf[pos++] = 58;
      buf[pos++] = 58;
      if (bestLen === 5) {
        for (let k = 0; k < 4; k++) buf[pos++] = 102; // "ffff"
        buf[pos++] = 58;
      }
      this.#pos = pos;
      this.ipv4(addr, offset + 12);
      return;
    }
    for (let i = 0; i < 8; i++) {
      if (i === bestStart) {
        buf[pos++] = 58;
        buf[pos++] = 58;
        i += bestLen - 1;
        continue;
      }
      if (i > 0 && buf[pos - 1] !== 58) buf[pos++] = 58;
      const hi = addr[offset + 2 * i];
      const lo = addr[offset + 2 * i + 1];
      if (hi >= 0x10) buf[pos++] = HEX[hi >> 4];
      if (hi > 0) buf[pos++] = HEX[hi & 15];
      if (hi > 0 || lo >= 0x10) buf[pos++] = HEX[lo >> 4];
      buf[pos++] = HEX[lo & 15];
    }
    this.#pos = pos;
  }

  /** Appends the bytes buffered in `src` (a scratch buffer holding a pre-rendered part of a line). */
  append(src: LineBuffer): void {
    const n = src.#pos;
    this.#room(n);
    const buf = this.#buf;
    if (n > COPY_LOOP_MAX) {
      buf.set(src.#whole(), this.#pos);
      this.#pos += n;
      return;
    }
    const from = src.#buf;
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
    const buf = this.#buf;
    if (value < 0x80000000) {
      // Integer arithmetic: ASNs, community halves and lengths all fit.
      let v = value | 0;
      let digits = 3;
      for (let t = (v / 1000) | 0; t > 0; t = (t / 10) | 0) digits++;
      let at = this.#pos + digits;
      this.#pos = at;
      do {
        const q = (v / 10) | 0;
        buf[--at] = 48 + v - q * 10;
        v = q;
      } while (v > 0);
      return;
    }
    let digits = 1;
    for (let v = value; v >= 10; v = Math.floor(v / 10)) digits++;
    let at = this.#pos + digits;
    this.#pos = at;
    do {
      // % is exact on doubles, where value - 10 * floor(value / 10) can round near 2^53.
      const r = value % 10;
      buf[--at] = 48 + r;
      value = (value - r) / 10;
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
