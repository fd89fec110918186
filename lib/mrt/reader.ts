/**
 * Streaming MRT record framing (RFC 6396 §2, §3).
 *
 * An MRT file is a sequence of records, each a 12-byte common header (timestamp, type, subtype, length)
 * followed by `length` bytes of body. The `_ET` types (RFC 6396 §3) carry a 4-byte microsecond timestamp
 * that is counted in `length` and is split off here. The framer holds only the bytes of the record being
 * assembled, so a file of any size is read in constant memory; gzip files are detected by their magic bytes
 * and decompressed on the fly.
 *
 * @example
 * ```ts
 * import { openMrtFile, readMrtRecords } from "./reader.ts";
 * for await (const item of readMrtRecords(await openMrtFile("updates.gz"))) {
 *   if (item.kind === "record") console.log(item.record.type, item.record.subtype);
 * }
 * ```
 *
 * @module
 */

/** MRT record types (RFC 6396 §4, and the deprecated types of its Appendix B). */
export const MrtType = {
  /** Deprecated MRTd "BGP" records (RFC 6396 Appendix B.2.1). */
  BGP: 5,
  TABLE_DUMP: 12,
  TABLE_DUMP_V2: 13,
  BGP4MP: 16,
  BGP4MP_ET: 17,
  ISIS: 32,
  ISIS_ET: 33,
  OSPFV3: 48,
  OSPFV3_ET: 49,
} as const;

/** The size of the MRT common header (RFC 6396 §2). */
export const MRT_HEADER_LENGTH = 12;

/** One MRT record: its common header and a view of its body (valid as long as the caller keeps it). */
export interface MrtRecord {
  /** Seconds since the Unix epoch (RFC 6396 §2). */
  readonly timestamp: number;
  /** Microseconds of the extended timestamp (RFC 6396 §3); 0 for types without it. */
  readonly microseconds: number;
  readonly type: number;
  readonly subtype: number;
  /** The record body, without the common header and without the microsecond field of `_ET` types. */
  readonly body: Uint8Array;
  /** Byte offset of the record header in the (decompressed) stream. */
  readonly offset: number;
}

/** The stream ended inside a record: the header or the body announced more bytes than were left. */
export interface MrtTruncation {
  /** Byte offset of the incomplete record's header in the (decompressed) stream. */
  readonly offset: number;
  /** How many bytes the record needed (header, microseconds and body). */
  readonly expected: number;
  /** How many bytes were left. */
  readonly available: number;
}

/** What {@linkcode readMrtRecords} yields: a complete record, or the truncation that ends the stream. */
export type MrtReadItem =
  | { readonly kind: "record"; readonly record: MrtRecord }
  | { readonly kind: "truncated"; readonly truncation: MrtTruncation };

/** True for the record types whose header carries the RFC 6396 §3 microsecond timestamp. */
export function hasExtendedTimestamp(type: number): boolean {
  return type === MrtType.BGP4MP_ET || type === MrtType.ISIS_ET || type === MrtType.OSPFV3_ET;
}

/**
 * Splits a byte stream delivered in arbitrary chunks into MRT records. Pure: no I/O.
 *
 * Push chunks with {@linkcode MrtFramer.push}, drain complete records with {@linkcode MrtFramer.next}, and
 * call {@linkcode MrtFramer.finish} at end of stream to learn whether a record was cut short.
 * Chunks are referenced, not copied, unless a record spans chunks; pushed chunks must not be modified.
 *
 * @example
 * ```ts
 * const framer = new MrtFramer();
 * framer.push(new Uint8Array([0, 0, 0, 1, 0, 16, 0, 5, 0, 0, 0, 0]));
 * const record = framer.next(); // { timestamp: 1, type: 16, subtype: 5, body: <empty>, ... }
 * ```
 */
export class MrtFramer {
  #chunks: Uint8Array[] = [];
  #chunkIndex = 0;
  #chunkPos = 0;
  #buffered = 0;
  #offset = 0;
  #maxRecord: number;
  #damaged: MrtTruncation | undefined;

  /**
   * @param maxRecordLength a header announcing a longer body is treated as damaged framing: the stream
   * cannot be resynchronised (RFC 6396 has no record marker), so reading stops there.
   */
  constructor(maxRecordLength = DEFAULT_MAX_RECORD_LENGTH) {
    this.#maxRecord = maxRecordLength;
  }

  /** Set once a header announced an impossible length; no further records will be returned. */
  get damaged(): MrtTruncation | undefined {
    return this.#damaged;
  }

  /** Adds the next chunk of the stream. */
  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
  }

  /** Bytes pushed but not yet returned as records. */
  get buffered(): number {
    return this.#buffered;
  }

  /** Returns the next complete record, or undefined when more bytes are needed. */
  next(): MrtRecord | undefined {
    if (this.#damaged || this.#buffered < MRT_HEADER_LENGTH) return undefined;
    // The header is read in place when the current chunk holds it (the common case), else from a copy.
    let h = this.#chunks[this.#chunkIndex];
    let at = this.#chunkPos;
    if (h.length - at < MRT_HEADER_LENGTH + 4) {
      h = this.#peek(MRT_HEADER_LENGTH + 4);
      at = 0;
    }
    const type = (h[at + 4] << 8) | h[at + 5];
    const length = u32(h, at + 8);
    if (length > this.#maxRecord) {
      this.#damaged = {
        offset: this.#offset,
        expected: MRT_HEADER_LENGTH + length,
        available: this.#buffered,
      };
      return undefined;
    }
    const total = MRT_HEADER_LENGTH + length;
    if (this.#buffered < total) return undefined;
    const first = this.#chunks[this.#chunkIndex];
    let bytes: Uint8Array;
    let base: number;
    if (first.length - this.#chunkPos >= total) {
      // The record lies in one chunk: its body is a view of that chunk, no copy.
      bytes = first;
      base = this.#chunkPos;
      this.#consume(total);
    } else {
      bytes = this.#take(total);
      base = 0;
    }
    const timestamp = u32(bytes, base);
    const subtype = (bytes[base + 6] << 8) | bytes[base + 7];
    const offset = this.#offset;
    this.#offset += total;
    // RFC 6396 §3: "The Microsecond Timestamp is included in the computation of the Length field value."
    if (hasExtendedTimestamp(type) && length >= 4) {
      const microseconds = u32(bytes, base + 12);
      return {
        timestamp,
        microseconds,
        type,
        subtype,
        body: bytes.subarray(base + 16, base + total),
        offset,
      };
    }
    return {
      timestamp,
      microseconds: 0,
      type,
      subtype,
      body: bytes.subarray(base + 12, base + total),
      offset,
    };
  }

  /** At end of stream: the truncation of the last record, or undefined when the stream ended cleanly. */
  finish(): MrtTruncation | undefined {
    if (this.#damaged) return { ...this.#damaged, available: this.#buffered };
    if (this.#buffered === 0) return undefined;
    let expected = MRT_HEADER_LENGTH;
    if (this.#buffered >= MRT_HEADER_LENGTH) {
      expected = MRT_HEADER_LENGTH + u32(this.#peek(MRT_HEADER_LENGTH), 8);
    }
    return { offset: this.#offset, expected, available: this.#buffered };
  }

  /** Returns the first n buffered bytes (or fewer if fewer are buffered) without consuming them. */
  #peek(n: number): Uint8Array {
    const first = this.#chunks[this.#chunkIndex];
    const avail = first.length - this.#chunkPos;
    if (avail >= n) return first.subarray(this.#chunkPos, this.#chunkPos + n);
    const want = Math.min(n, this.#buffered);
    const out = new Uint8Array(want);
    this.#copy(out, want, false);
    return out;
  }

  /** Consumes n bytes that lie in the current chunk. */
  #consume(n: number): void {
    this.#chunkPos += n;
    if (this.#chunkPos === this.#chunks[this.#chunkIndex].length) this.#advance();
    this.#buffered -= n;
    this.#compact();
  }

  /** Consumes n buffered bytes that span chunks, as a fresh copy. */
  #take(n: number): Uint8Array {
    const out = new Uint8Array(n);
    this.#copy(out, n, true);
    this.#buffered -= n;
    this.#compact();
    return out;
  }

  /** Drops the references to consumed chunks now and then, so the chunk list stays short. */
  #compact(): void {
    if (this.#chunkIndex > 64) {
      this.#chunks = this.#chunks.slice(this.#chunkIndex);
      this.#chunkIndex = 0;
    }
  }

  #advance(): void {
    this.#chunks[this.#chunkIndex] = EMPTY;
    this.#chunkIndex++;
    this.#chunkPos = 0;
  }

  #copy(out: Uint8Array, n: number, consume: boolean): void {
    let index = this.#chunkIndex;
    let pos = this.#chunkPos;
    let filled = 0;
    while (filled < n) {
      const chunk = this.#chunks[index];
      const part = Math.min(chunk.length - pos, n - filled);
      out.set(chunk.subarray(pos, pos + part), filled);
      filled += part;
      pos += part;
      if (pos === chunk.length) {
        if (consume) this.#chunks[index] = EMPTY;
        index++;
        pos = 0;
      }
    }
    if (consume) {
      this.#chunkIndex = index;
      this.#chunkPos = pos;
    }
  }
}

const EMPTY = new Uint8Array(0);

function u32(b: Uint8Array, i: number): number {
  return ((b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]) >>> 0;
}

/** 256 MiB: far above any real record (a full-table RIB entry is a few hundred KiB). */
export const DEFAULT_MAX_RECORD_LENGTH = 256 * 1024 * 1024;

/** Frames records out of one in-memory buffer (the whole file already read). */
export function* readMrtBuffer(bytes: Uint8Array): Generator<MrtReadItem> {
  const framer = new MrtFramer();
  framer.push(bytes);
  for (let record = framer.next(); record; record = framer.next()) yield { kind: "record", record };
  const truncation = framer.finish();
  if (truncation) yield { kind: "truncated", truncation };
}

/**
 * Reads MRT records from a byte stream (plain MRT; use {@linkcode decompressedStream} first for gzip).
 * A record cut short at the end is reported as a final `truncated` item, never thrown.
 */
export async function* readMrtRecords(stream: ReadableStream<Uint8Array>): AsyncGenerator<MrtReadItem> {
  const framer = new MrtFramer();
  for await (const chunk of stream) {
    framer.push(chunk);
    for (let record = framer.next(); record; record = framer.next()) yield { kind: "record", record };
    if (framer.damaged) break;
  }
  const truncation = framer.finish();
  if (truncation) yield { kind: "truncated", truncation };
}

/** Compression of an MRT file, recognised by its first bytes. */
export type MrtCompression = "none" | "gzip" | "bzip2";

/** Detects gzip (1f 8b, RFC 1952 §2.3.1) and bzip2 ("BZh") by their magic bytes. */
export function detectCompression(head: Uint8Array): MrtCompression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return "gzip";
  if (head.length >= 3 && head[0] === 0x42 && head[1] === 0x5a && head[2] === 0x68) return "bzip2";
  return "none";
}

/**
 * Wraps a raw file stream so that it yields MRT bytes: gzip is decompressed, plain MRT passes through,
 * bzip2 is reported as an error because no decompressor is available.
 *
 * `DecompressionStream` reads one gzip member and rejects a truncated file. When `reopen` can read the
 * same bytes again (a file), such a failure is taken over by node:zlib, which decodes files of several
 * concatenated members (RFC 1952 §2.2) as zcat and bgpdump do, and yields what a truncated file holds;
 * the bytes already delivered are skipped.
 */
export async function decompressedStream(
  raw: ReadableStream<Uint8Array>,
  reopen?: () => Promise<ReadableStream<Uint8Array>>,
): Promise<ReadableStream<Uint8Array>> {
  const reader = raw.getReader();
  const head: Uint8Array[] = [];
  let headLength = 0;
  // Read until at least 3 bytes are known (or the stream ends) to recognise the magic.
  while (headLength < 3) {
    const { value, done } = await reader.read();
    if (done) break;
    if (value.length === 0) continue;
    head.push(value);
    headLength += value.length;
  }
  const first = concat(head, headLength);
  const compression = detectCompression(first);
  if (compression === "bzip2") {
    await reader.cancel();
    throw new Error("bzip2-compressed MRT is not supported; decompress it with bunzip2 first");
  }
  let pending: Uint8Array | undefined = first.length > 0 ? first : undefined;
  const joined = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (pending) {
        controller.enqueue(pending);
        pending = undefined;
        return;
      }
      const { value, done } = await reader.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  }, { highWaterMark: 0 });
  if (compression !== "gzip") return joined;
  const web = joined.pipeThrough(
    new DecompressionStream("gzip") as unknown as TransformStream<Uint8Array, Uint8Array>,
  );
  return reopen ? withGunzipFallback(web, reopen) : web;
}

/** See {@linkcode decompressedStream}: `web`, continued by node:zlib over `reopen()` if it fails. */
function withGunzipFallback(
  web: ReadableStream<Uint8Array>,
  reopen: () => Promise<ReadableStream<Uint8Array>>,
): ReadableStream<Uint8Array> {
  const primary = web.getReader();
  let fallback: ReadableStreamDefaultReader<Uint8Array> | undefined;
  let delivered = 0;
  let skip = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!fallback) {
        try {
          const { value, done } = await primary.read();
          if (done) controller.close();
          else {
            delivered += value.length;
            controller.enqueue(value);
          }
          return;
        } catch {
          fallback = (await nodeGunzip(await reopen())).getReader();
          skip = delivered;
        }
      }
      for (;;) {
        const { value, done } = await fallback.read();
        if (done) return controller.close();
        if (skip >= value.length) {
          skip -= value.length;
          continue;
        }
        controller.enqueue(skip > 0 ? value.subarray(skip) : value);
        skip = 0;
        return;
      }
    },
    cancel(reason) {
      return fallback ? fallback.cancel(reason) : primary.cancel(reason);
    },
  }, { highWaterMark: 0 });
}

/** Gunzips with node:zlib (loaded only when needed): all members, and Z_SYNC_FLUSH for a cut file. */
async function nodeGunzip(raw: ReadableStream<Uint8Array>): Promise<ReadableStream<Uint8Array>> {
  const { constants, createGunzip } = await import("node:zlib");
  const { pipeline, Readable } = await import("node:stream");
  const gunzip = createGunzip({ chunkSize: 1 << 18, finishFlush: constants.Z_SYNC_FLUSH });
  // pipeline() destroys the gunzip stream on an input error, which errors the returned stream.
  pipeline(Readable.fromWeb(raw as Parameters<typeof Readable.fromWeb>[0]), gunzip, () => {});
  return Readable.toWeb(gunzip) as unknown as ReadableStream<Uint8Array>;
}

/**
 * The bytes of an open file as a stream of chunks of up to `chunkSize` bytes, read synchronously: for a
 * regular file a blocking read is short, and it saves a thread-pool round trip per chunk. Closes the file
 * at the end.
 */
export function fileChunks(file: Deno.FsFile, chunkSize = 1 << 20): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      const buf = new Uint8Array(chunkSize);
      const n = file.readSync(buf);
      if (n === null) {
        file.close();
        controller.close();
      } else controller.enqueue(n === chunkSize ? buf : buf.subarray(0, n));
    },
    cancel() {
      file.close();
    },
  }, { highWaterMark: 0 });
}

/**
 * Opens an MRT file (plain or gzip) as a stream of MRT bytes. Throws if the file cannot be opened. A gzip
 * file of several members, or a truncated one, is read again with node:zlib (see
 * {@linkcode decompressedStream}).
 */
export async function openMrtFile(path: string): Promise<ReadableStream<Uint8Array>> {
  const file = await Deno.open(path, { read: true });
  return decompressedStream(fileChunks(file), async () => fileChunks(await Deno.open(path, { read: true })));
}

function concat(parts: Uint8Array[], length: number): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(length);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
