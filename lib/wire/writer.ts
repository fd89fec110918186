/**
 * A growable big-endian byte writer for the encoders (the packer writes into its own fixed buffer).
 *
 * @module
 */

/**
 * Appends big-endian integers and byte strings to a buffer that grows on demand.
 *
 * @example
 * ```ts
 * const w = new WireWriter();
 * w.u8(1);
 * w.u16(0x0203);
 * w.finish(); // Uint8Array [1, 2, 3]
 * ```
 */
export class WireWriter {
  #buf: Uint8Array;
  #pos = 0;

  /** Starts with room for `capacity` bytes. */
  constructor(capacity = 256) {
    this.#buf = new Uint8Array(capacity);
  }

  /** The number of bytes written so far. */
  get length(): number {
    return this.#pos;
  }

  /** Makes room for `n` more bytes. */
  ensure(n: number): void {
    const need = this.#pos + n;
    if (need <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < need) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#buf.subarray(0, this.#pos));
    this.#buf = next;
  }

  /** Appends one byte. */
  u8(v: number): void {
    this.ensure(1);
    this.#buf[this.#pos++] = v & 0xff;
  }

  /** Appends a 2-octet big-endian integer. */
  u16(v: number): void {
    this.ensure(2);
    const b = this.#buf;
    b[this.#pos++] = (v >>> 8) & 0xff;
    b[this.#pos++] = v & 0xff;
  }

  /** Appends a 4-octet big-endian integer. */
  u32(v: number): void {
    this.ensure(4);
    const b = this.#buf;
    b[this.#pos++] = (v >>> 24) & 0xff;
    b[this.#pos++] = (v >>> 16) & 0xff;
    b[this.#pos++] = (v >>> 8) & 0xff;
    b[this.#pos++] = v & 0xff;
  }

  /** Appends bytes. */
  bytes(v: Uint8Array): void {
    this.ensure(v.length);
    this.#buf.set(v, this.#pos);
    this.#pos += v.length;
  }

  /** Overwrites a 2-octet big-endian integer at `at` (a position already written). */
  patchU16(at: number, v: number): void {
    this.#buf[at] = (v >>> 8) & 0xff;
    this.#buf[at + 1] = v & 0xff;
  }

  /** Overwrites one byte at `at`. */
  patchU8(at: number, v: number): void {
    this.#buf[at] = v & 0xff;
  }

  /** Moves the bytes from `from` to the end back by `by` bytes (used to drop an unneeded length octet). */
  shiftBack(from: number, by: number): void {
    this.#buf.copyWithin(from - by, from, this.#pos);
    this.#pos -= by;
  }

  /** Direct access to the underlying buffer (valid until the next write). */
  get buffer(): Uint8Array {
    return this.#buf;
  }

  /** Advances the write position by `n` bytes the caller filled through {@linkcode buffer}. */
  skip(n: number): void {
    this.ensure(n);
    this.#pos += n;
  }

  /** Forgets what was written, keeping the buffer (for a writer reused across calls). */
  reset(): void {
    this.#pos = 0;
  }

  /** A copy of the bytes written. */
  finish(): Uint8Array {
    return this.#buf.slice(0, this.#pos);
  }
}
