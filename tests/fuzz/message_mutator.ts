/**
 * Seeded mutations of BGP messages for the session fuzzer: bit flips, byte overwrites, length field
 * changes (header and inner fields), truncation, extension, splicing of two messages and type changes.
 * Each case draws from its own generator seeded by (run seed, case number), so any single case can be
 * reproduced without replaying the others.
 *
 * @module
 */

/** mulberry32: a small seeded generator of numbers in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The generator of case `index` of a run seeded with `seed`. */
export function caseRandom(seed: number, index: number): () => number {
  return mulberry32((seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0);
}

/** The mutation operators, named for the report. */
export const MUTATIONS = [
  "bit-flip",
  "byte-overwrite",
  "header-length",
  "inner-length",
  "truncate",
  "extend",
  "splice",
  "type",
  "duplicate-range",
] as const;

/** One operator's name. */
export type Mutation = typeof MUTATIONS[number];

const INTERESTING = [0x00, 0x01, 0x02, 0x7f, 0x80, 0xfe, 0xff, 0x10, 0x20, 0x40, 0xc0, 0x18, 0x21, 0x81];

/** A mutant and how it was made. */
export interface Mutant {
  readonly bytes: Uint8Array;
  readonly operations: readonly Mutation[];
}

function setU16(b: Uint8Array, at: number, v: number): void {
  b[at] = (v >>> 8) & 0xff;
  b[at + 1] = v & 0xff;
}

/**
 * Mutates `seed` with 1–3 operators drawn from `rand`; `other` is the second parent of a splice. With
 * probability `fixHeader` the header length is made to match the mutant again, so that most mutants reach
 * the body decoders instead of failing at framing.
 */
export function mutate(
  seed: Uint8Array,
  other: Uint8Array,
  rand: () => number,
  fixHeader = 0.7,
): Mutant {
  const pick = (n: number) => Math.floor(rand() * n);
  let b = seed.slice();
  const operations: Mutation[] = [];
  const rounds = 1 + pick(3);
  for (let r = 0; r < rounds; r++) {
    const op = MUTATIONS[pick(MUTATIONS.length)];
    operations.push(op);
    switch (op) {
      case "bit-flip":
        for (let k = 1 + pick(4); k > 0 && b.length > 0; k--) b[pick(b.length)] ^= 1 << pick(8);
        break;
      case "byte-overwrite":
        if (b.length > 19) {
          b[19 + pick(b.length - 19)] = rand() < 0.5 ? INTERESTING[pick(INTERESTING.length)] : pick(256);
        }
        break;
      case "header-length":
        if (b.length >= 18) setU16(b, 16, rand() < 0.5 ? b.length + pick(9) - 4 : pick(65536));
        break;
      case "inner-length":
        // Body fields are mostly lengths: nudge a 1- or 2-octet field.
        if (b.length > 21) {
          const at = 19 + pick(b.length - 20);
          if (rand() < 0.5) b[at] = (b[at] + pick(9) - 4) & 0xff;
          else setU16(b, at, (((b[at] << 8) | b[at + 1]) + pick(17) - 8) & 0xffff);
        }
        break;
      case "truncate":
        b = b.slice(0, pick(b.length + 1));
        break;
      case "extend": {
        const extra = new Uint8Array(1 + pick(64));
        for (let i = 0; i < extra.length; i++) extra[i] = rand() < 0.3 ? 0xff : pick(256);
        const out = new Uint8Array(b.length + extra.length);
        out.set(b);
        out.set(extra, b.length);
        b = out;
        break;
      }
      case "splice": {
        const cut = pick(b.length + 1);
        const from = pick(other.length + 1);
        const out = new Uint8Array(cut + other.length - from);
        out.set(b.subarray(0, cut));
        out.set(other.subarray(from), cut);
        b = out;
        break;
      }
      case "type":
        if (b.length > 18) b[18] = rand() < 0.8 ? 1 + pick(5) : pick(256);
        break;
      case "duplicate-range":
        if (b.length > 20) {
          const start = 19 + pick(b.length - 19);
          const end = Math.min(b.length, start + 1 + pick(16));
          const out = new Uint8Array(b.length + end - start);
          out.set(b.subarray(0, end));
          out.set(b.subarray(start), end);
          b = out;
        }
        break;
    }
  }
  if (b.length >= 18 && b.length <= 0xffff && rand() < fixHeader) setU16(b, 16, b.length);
  return { bytes: b, operations };
}

/**
 * Whether a receiver that frames `stream` as the speaker does (RFC 4271 §4.1: 19-octet header, length
 * 19..maxMessageSize) would be left waiting for more bytes: a partial header at the end, or a message whose
 * length field runs past the end. A receiver that meets a bad marker or length stops there (not waiting).
 */
export function leavesReceiverWaiting(stream: Uint8Array, maxMessageSize: number): boolean {
  let at = 0;
  for (;;) {
    const left = stream.length - at;
    if (left === 0) return false;
    if (left < 19) return true;
    for (let i = 0; i < 16; i++) if (stream[at + i] !== 0xff) return false;
    const length = (stream[at + 16] << 8) | stream[at + 17];
    if (length < 19 || length > maxMessageSize) return false;
    if (length > left) return true;
    at += length;
  }
}

/**
 * Whether a receiver framing `stream` from its start either meets a message boundary exactly at `offset`
 * or stops before it on a header error: false when a message runs across `offset`, so that the bytes after
 * it (a probe) would be read as part of that message.
 */
export function framedUpTo(stream: Uint8Array, offset: number, maxMessageSize: number): boolean {
  let at = 0;
  while (at < offset) {
    if (stream.length - at < 19) return false;
    for (let i = 0; i < 16; i++) if (stream[at + i] !== 0xff) return true;
    const length = (stream[at + 16] << 8) | stream[at + 17];
    if (length < 19 || length > maxMessageSize) return true;
    at += length;
  }
  return at === offset;
}
