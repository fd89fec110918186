/**
 * A bounded, reproducible fuzz test: 20,000 mutations (bit flips, byte overwrites, length field changes,
 * truncation, extension) of the corpus messages never make a decoder throw; each yields a value or a BGP
 * error value, and every decoded UPDATE, NOTIFICATION and ROUTE-REFRESH re-encodes and decodes again.
 */
import { assert, assertEquals } from "../assert.ts";
import { decodeMessage, encodeMessage, frameLength } from "../../lib/wire/message.ts";
import { decodeUpdate, validateUpdate } from "../../lib/wire/update.ts";
import { decodePathAttributes } from "../../lib/wire/attributes.ts";
import { decodeOpen } from "../../lib/wire/open.ts";
import { decodePrefixes } from "../../lib/wire/nlri.ts";
import type { BgpError, DecodeContext, Decoded } from "../../lib/wire/types.ts";
import { CORPUS, fromHex, readCorpus } from "./hex.ts";
import { bgpStreams } from "./pcap.ts";

const MUTANTS = 20_000;
const SEED = 0x5eed_b9b;

/** mulberry32: a small seeded PRNG, so every run sees the same mutants. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function corpusMessages(): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const e of Deno.readDirSync(CORPUS + "vectors/encoding")) {
    for (const line of readCorpus("vectors/encoding/" + e.name).split("\n")) {
      const m = /^\d+:raw:([0-9A-F:]+)$/i.exec(line.trim());
      if (m) out.push(fromHex(m[1]));
    }
  }
  for (const e of Deno.readDirSync(CORPUS + "pcap")) {
    for (const s of bgpStreams(Deno.readFileSync(CORPUS + "pcap/" + e.name))) out.push(...s.messages);
  }
  const live = Deno.readFileSync(new URL("./fixtures/live_sessions.pcap", import.meta.url));
  for (const s of bgpStreams(live)) out.push(...s.messages);
  return out;
}

function mutate(src: Uint8Array, rand: () => number): Uint8Array {
  const pick = (n: number) => Math.floor(rand() * n);
  let b = src.slice();
  const rounds = 1 + pick(3);
  for (let r = 0; r < rounds; r++) {
    switch (pick(7)) {
      case 0: { // flip a bit
        if (b.length > 0) b[pick(b.length)] ^= 1 << pick(8);
        break;
      }
      case 1: { // overwrite a byte past the marker
        if (b.length > 19) b[19 + pick(b.length - 19)] = pick(256);
        break;
      }
      case 2: { // change a length-looking byte by a small amount
        if (b.length > 19) {
          const at = 19 + pick(b.length - 19);
          b[at] = (b[at] + pick(9) - 4) & 0xff;
        }
        break;
      }
      case 3: { // truncate
        b = b.slice(0, pick(b.length + 1));
        break;
      }
      case 4: { // extend with random bytes
        const extra = new Uint8Array(1 + pick(16)).map(() => pick(256));
        const next = new Uint8Array(b.length + extra.length);
        next.set(b);
        next.set(extra, b.length);
        b = next;
        break;
      }
      case 5: { // fix the header length to the new size (so the body decoders are reached)
        if (b.length >= 19) {
          b[16] = b.length >> 8;
          b[17] = b.length & 0xff;
        }
        break;
      }
      case 6: { // duplicate a slice of the body
        if (b.length > 20) {
          const from = 19 + pick(b.length - 19);
          const len = 1 + pick(Math.min(12, b.length - from));
          const next = new Uint8Array(b.length + len);
          next.set(b.subarray(0, from + len));
          next.set(b.subarray(from, from + len), from + len);
          next.set(b.subarray(from + len), from + 2 * len);
          b = next;
        }
        break;
      }
    }
  }
  return b;
}

const ACTIONS = new Set(["session-reset", "treat-as-withdraw", "attribute-discard"]);

function checkError(e: BgpError, where: string): void {
  assert(e.code >= 1 && e.code <= 7, `${where}: error code ${e.code}`);
  assert(Number.isInteger(e.subcode) && e.subcode >= 0 && e.subcode <= 255, `${where}: subcode ${e.subcode}`);
  assert(e.data instanceof Uint8Array, `${where}: data`);
  assert(ACTIONS.has(e.action), `${where}: action ${e.action}`);
  assert(typeof e.reason === "string" && e.reason.length > 0, `${where}: reason`);
}

function checkDecoded<T>(r: Decoded<T>, where: string): void {
  if (r.ok) assert(r.value !== undefined, `${where}: ok without a value`);
  else checkError(r.error, where);
}

const contexts: DecodeContext[] = [
  { fourOctetAs: false, addPath: [], maxMessageSize: 4096 },
  { fourOctetAs: true, addPath: [{ afi: 1, safi: 1 }, { afi: 2, safi: 1 }], maxMessageSize: 65535 },
];

Deno.test(`no decoder throws on ${MUTANTS} mutated corpus messages, and each yields a value or a BGP error`, () => {
  const seeds = corpusMessages();
  assert(seeds.length > 200, `Expected the corpus messages, found ${seeds.length}`);
  const rand = prng(SEED);
  let decoded = 0;
  for (let n = 0; n < MUTANTS; n++) {
    const m = mutate(seeds[n % seeds.length], rand);
    const where = `mutant ${n}`;
    const ctx = contexts[n & 1];
    const framed = frameLength(m, 0, ctx.maxMessageSize);
    if (typeof framed !== "number") checkError(framed, where);
    const r = decodeMessage(m, ctx);
    checkDecoded(r, where);
    const body = m.subarray(Math.min(19, m.length));
    const full = decodeUpdate(body, ctx);
    const fast = validateUpdate(body, ctx);
    checkDecoded(full, where);
    checkDecoded(fast, where);
    // The fast path judges exactly as the full decode does.
    const verdict = (x: typeof full) =>
      x.ok
        ? ["ok", x.value.treatAsWithdraw?.subcode, x.value.discarded.length]
        : [x.error.code, x.error.subcode, x.error.action];
    assertEquals(verdict(fast), verdict(full), where);
    checkDecoded(decodeOpen(body), where);
    checkDecoded(decodePrefixes(body, (n & 2) ? 2 : 1, (n & 4) !== 0), where);
    for (const mrtRibEntry of [false, true]) {
      const a = decodePathAttributes(body, ctx, { mrtRibEntry });
      assert(typeof a.attributes === "object", where);
      for (const e of a.errors) checkError(e, where);
    }
    if (r.ok && r.value.type !== 1) {
      // What decodes must encode again and decode to a value.
      decoded++;
      const again = decodeMessage(encodeMessage(r.value, ctx, { markPartial: false }), ctx);
      assert(again.ok, `${where}: re-encoded message does not decode: ${!again.ok && again.error.reason}`);
    }
  }
  assert(
    decoded > MUTANTS / 20,
    `Only ${decoded} mutants decoded: the mutations are too destructive to be useful`,
  );
});
