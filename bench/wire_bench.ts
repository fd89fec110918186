/**
 * Wire codec throughput: decode and encode of UPDATEs carrying 1, 100 and 500 IPv4 /32 or IPv6 /128
 * prefixes. `deno bench bench/wire_bench.ts` gives the time per message and then prints prefixes per
 * second for each case (the target: 20 million per second each way at 500); `deno run` prints only
 * the latter. validateUpdate is the session's path for received routes it does not keep; packUpdates is
 * the bulk announcement path.
 *
 * @module
 */
import { decodeMessage, encodeMessage } from "../lib/wire/message.ts";
import { packUpdates } from "../lib/wire/packer.ts";
import { validateUpdate } from "../lib/wire/update.ts";
import type { DecodeContext, Message, PathAttributes, Prefix } from "../lib/wire/types.ts";

const ctx: DecodeContext = { fourOctetAs: true, addPath: [], maxMessageSize: 65535 };
const asPath = [{ type: 2 as const, asns: [65001, 65002, 65003] }];
const v4Attrs: PathAttributes = {
  origin: 0,
  asPath,
  nextHop: "10.99.0.1",
  med: 10,
  communities: [0xfde90001],
};
const v6Attrs: PathAttributes = {
  origin: 0,
  asPath,
  med: 10,
  communities: [0xfde90001],
  mpReach: { afi: 2, safi: 1, nextHops: ["fd99::1", "fe80::1"], nlri: [] },
};

function v4(n: number): Prefix[] {
  return Array.from({ length: n }, (_, i) => ({
    afi: 1,
    length: 32,
    addr: new Uint8Array([100, 64 + (i >> 16), (i >> 8) & 255, i & 255]),
  }));
}

function v6(n: number): Prefix[] {
  return Array.from({ length: n }, (_, i) => {
    const addr = new Uint8Array(16);
    addr.set([0x20, 0x01, 0x0d, 0xb8], 0);
    addr[14] = i >> 8;
    addr[15] = i & 255;
    return { afi: 2, length: 128, addr };
  });
}

interface Case {
  name: string;
  prefixes: number;
  message: Message;
  bytes: Uint8Array;
  pack: () => Uint8Array[];
}

const cases: Case[] = [];
for (const n of [1, 100, 500]) {
  const p4 = v4(n);
  const m4: Message = { type: 2, withdrawn: [], attributes: v4Attrs, nlri: p4 };
  cases.push({
    name: `IPv4 ${n} x /32`,
    prefixes: n,
    message: m4,
    bytes: encodeMessage(m4, ctx),
    pack: () => packUpdates({ groups: [{ attributes: v4Attrs, nlri: p4 }] }, ctx),
  });
  const p6 = v6(n);
  const m6: Message = {
    type: 2,
    withdrawn: [],
    attributes: { ...v6Attrs, mpReach: { ...v6Attrs.mpReach!, nlri: p6 } },
    nlri: [],
  };
  cases.push({
    name: `IPv6 ${n} x /128`,
    prefixes: n,
    message: m6,
    bytes: encodeMessage(m6, ctx),
    pack: () => packUpdates({ groups: [{ attributes: v6Attrs, nlri: p6 }] }, ctx),
  });
}

const operations: { op: string; run: (c: Case) => unknown }[] = [
  { op: "decodeMessage", run: (c) => decodeMessage(c.bytes, ctx) },
  { op: "validateUpdate", run: (c) => validateUpdate(c.bytes.subarray(19), ctx) },
  { op: "encodeMessage", run: (c) => encodeMessage(c.message, ctx) },
  { op: "packUpdates", run: (c) => c.pack() },
];

for (const c of cases) {
  for (const { op, run } of operations) {
    Deno.bench({ name: `${op} ${c.name}`, group: `${op} ${c.prefixes}`, fn: () => void run(c) });
  }
}

/**
 * Prints prefixes per second for every case: the best of five 50 ms windows after a warm-up, so that
 * other processes on a shared machine disturb the figure less.
 */
function printRates(): void {
  console.log("\nprefixes per second, best of 5 windows (target: 20 M/s each way at 500 prefixes):");
  for (const { op, run } of operations) {
    for (const c of cases) {
      for (let i = 0; i < 2000; i++) run(c);
      let best = 0;
      for (let window = 0; window < 5; window++) {
        let iterations = 0;
        const t0 = performance.now();
        let t = t0;
        while (t - t0 < 50) {
          for (let i = 0; i < 50; i++) run(c);
          iterations += 50;
          t = performance.now();
        }
        best = Math.max(best, (iterations * c.prefixes) / ((t - t0) / 1000));
      }
      console.log(
        `${op.padEnd(15)} ${c.name.padEnd(17)} ${(best / 1e6).toFixed(2).padStart(7)} M prefixes/s`,
      );
    }
  }
}

// `deno run` prints the rates at once; `deno bench` prints them after its own table.
if (import.meta.main) printRates();
else globalThis.addEventListener("unload", printRates);
