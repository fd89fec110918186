import { deepStrictEqual, ok, rejects, strictEqual } from "node:assert/strict";
import {
  decompressedStream,
  detectCompression,
  MrtFramer,
  type MrtReadItem,
  openMrtFile,
  readMrtBuffer,
  readMrtRecords,
} from "../../lib/mrt/reader.ts";

/** One MRT record: common header (RFC 6396 §2) and body. */
function record(timestamp: number, type: number, subtype: number, body: number[]): number[] {
  const n = body.length;
  return [
    timestamp >>> 24,
    (timestamp >>> 16) & 255,
    (timestamp >>> 8) & 255,
    timestamp & 255,
    type >> 8,
    type & 255,
    subtype >> 8,
    subtype & 255,
    n >>> 24,
    (n >>> 16) & 255,
    (n >>> 8) & 255,
    n & 255,
    ...body,
  ];
}

function streamOf(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (const c of chunks) controller.enqueue(c);
      controller.close();
    },
  });
}

async function collect(items: AsyncIterable<MrtReadItem>): Promise<MrtReadItem[]> {
  const out: MrtReadItem[] = [];
  for await (const item of items) out.push(item);
  return out;
}

const TWO_RECORDS = new Uint8Array([
  ...record(1000, 16, 5, [1, 2, 3, 4, 5]),
  ...record(1001, 13, 1, []),
]);

Deno.test("MrtFramer returns the same records whatever the chunk boundaries", () => {
  const whole = [...readMrtBuffer(TWO_RECORDS)];
  const framer = new MrtFramer();
  const pieces = [];
  for (let i = 0; i < TWO_RECORDS.length; i++) {
    framer.push(TWO_RECORDS.subarray(i, i + 1));
    for (let r = framer.next(); r; r = framer.next()) pieces.push({ kind: "record", record: r });
  }
  strictEqual(framer.finish(), undefined);
  deepStrictEqual(pieces, whole);
  strictEqual(whole.length, 2);
  const first = whole[0];
  ok(first.kind === "record");
  deepStrictEqual(
    { ...first.record, body: [...first.record.body] },
    { timestamp: 1000, microseconds: 0, type: 16, subtype: 5, body: [1, 2, 3, 4, 5], offset: 0 },
  );
});

Deno.test("MrtFramer splits the microsecond timestamp off BGP4MP_ET records", () => {
  // RFC 6396 §3: the microseconds field is counted in the length and precedes the body.
  const bytes = new Uint8Array(record(7, 17, 4, [0, 1, 0xe2, 0x40, 9, 9]));
  const [item] = [...readMrtBuffer(bytes)];
  ok(item.kind === "record");
  strictEqual(item.record.microseconds, 123456);
  deepStrictEqual([...item.record.body], [9, 9]);
});

Deno.test("MrtFramer reports a truncated final record instead of throwing", () => {
  // The first record (17 bytes) and 3 bytes of the second one's header.
  const items = [...readMrtBuffer(TWO_RECORDS.subarray(0, 20))];
  strictEqual(items.length, 2);
  ok(items[0].kind === "record");
  deepStrictEqual(items[1], { kind: "truncated", truncation: { offset: 17, expected: 12, available: 3 } });
  const cut = [...readMrtBuffer(TWO_RECORDS.subarray(0, 15))];
  deepStrictEqual(cut, [{ kind: "truncated", truncation: { offset: 0, expected: 17, available: 15 } }]);
});

Deno.test("MrtFramer stops at an impossible record length without buffering the rest", () => {
  const bad = new Uint8Array([...record(1, 16, 1, []).slice(0, 8), 0xdc, 0x36, 0x40, 0x00, 1, 2, 3]);
  const framer = new MrtFramer(1 << 20);
  framer.push(new Uint8Array([...TWO_RECORDS, ...bad]));
  strictEqual(framer.next()?.timestamp, 1000);
  strictEqual(framer.next()?.timestamp, 1001);
  strictEqual(framer.next(), undefined);
  deepStrictEqual(framer.damaged, { offset: 29, expected: 12 + 0xdc364000, available: 15 });
  deepStrictEqual(framer.finish(), { offset: 29, expected: 12 + 0xdc364000, available: 15 });
});

Deno.test("detectCompression() recognises gzip and bzip2 by their magic bytes", () => {
  strictEqual(detectCompression(new Uint8Array([0x1f, 0x8b, 8])), "gzip");
  strictEqual(detectCompression(new Uint8Array([0x42, 0x5a, 0x68, 0x39])), "bzip2");
  strictEqual(detectCompression(TWO_RECORDS), "none");
  strictEqual(detectCompression(new Uint8Array([0x1f])), "none");
});

Deno.test("readMrtRecords() reads gzip and plain streams alike, even with a 1-byte first chunk", async () => {
  const { gzipSync } = await import("node:zlib");
  const gz = new Uint8Array(gzipSync(TWO_RECORDS));
  for (const bytes of [gz, TWO_RECORDS]) {
    const stream = await decompressedStream(streamOf([bytes.subarray(0, 1), bytes.subarray(1)]));
    const items = await collect(readMrtRecords(stream));
    deepStrictEqual(items.map((i) => i.kind === "record" ? i.record.timestamp : -1), [1000, 1001]);
  }
});

Deno.test("readMrtRecords() ends with the truncation of a cut file", async () => {
  const items = await collect(readMrtRecords(streamOf([TWO_RECORDS.subarray(0, 20)])));
  deepStrictEqual(items.map((i) => i.kind), ["record", "truncated"]);
});

Deno.test("decompressedStream() refuses bzip2 with a clear message", async () => {
  await rejects(
    decompressedStream(streamOf([new Uint8Array([0x42, 0x5a, 0x68, 0x39, 0x31])])),
    /bzip2-compressed MRT is not supported/,
  );
});

Deno.test("decompressedStream() passes an empty stream through", async () => {
  const items = await collect(readMrtRecords(await decompressedStream(streamOf([]))));
  deepStrictEqual(items, []);
});

Deno.test("openMrtFile() reads every member of a multi-member gzip file and what a cut one holds", async () => {
  const { gzipSync } = await import("node:zlib");
  const one = new Uint8Array(record(1, 16, 5, [1, 2, 3]));
  const two = new Uint8Array(record(2, 16, 5, [4, 5, 6, 7]));
  const path = await Deno.makeTempFile({ suffix: ".gz" });
  try {
    // RFC 1952 §2.2: a gzip file is a series of members; zcat and bgpdump read them all.
    Deno.writeFileSync(path, new Uint8Array([...gzipSync(one), ...gzipSync(two)]));
    let items = await collect(readMrtRecords(await openMrtFile(path)));
    deepStrictEqual(items.map((i) => i.kind === "record" ? i.record.timestamp : -1), [1, 2]);
    // A download cut inside the deflate data: the complete records, then the truncation.
    const big = new Uint8Array(
      Array.from({ length: 400 }, (_, i) => record(i, 16, 5, [i & 255, 7, 7, 7])).flat(),
    );
    const gz = gzipSync(big, { level: 0 });
    Deno.writeFileSync(path, gz.subarray(0, gz.length >> 1));
    items = await collect(readMrtRecords(await openMrtFile(path)));
    const records = items.filter((i) => i.kind === "record");
    ok(records.length > 100 && records.length < 400, `${records.length} records`);
    strictEqual(items[items.length - 1].kind, "truncated");
  } finally {
    Deno.removeSync(path);
  }
});
