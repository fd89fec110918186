import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { gunzipSync } from "node:zlib";
import {
  asPathText,
  BgpdumpTextSink,
  communityText,
  JsonLinesSink,
  type LineHead,
  type PrefixView,
  routeFields,
  type RouteSink,
} from "../../lib/mrt/bgpdump_format.ts";
import { BgpdumpRouteLister } from "../../lib/mrt/bgpdump_routes.ts";
import { LineBuffer } from "../../lib/mrt/line_buffer.ts";
import { type MrtRecord, readMrtBuffer } from "../../lib/mrt/reader.ts";
import type { PathAttributes } from "../../lib/wire/types.ts";

const CORPUS = new URL("../../../shared/corpus/mrt/", import.meta.url).pathname;

/** Runs `write` against a sink and returns the text it produced. */
function render(make: (out: LineBuffer) => RouteSink, write: (sink: RouteSink) => void): string {
  const parts: string[] = [];
  const out = new LineBuffer((bytes) => parts.push(new TextDecoder().decode(bytes)), 64);
  write(make(out));
  out.flush();
  return parts.join("");
}

const text = (write: (sink: RouteSink) => void) => render((out) => new BgpdumpTextSink(out), write);
const head = (
  type: string,
  time: string,
  entry: LineHead["entry"],
  peer: string,
  peerAs: number,
): LineHead => {
  // "1000.000042" is a BGP4MP_ET time: seconds and microseconds.
  const [seconds, micro] = time.split(".");
  const base = { type, time, timestamp: Number(seconds), entry, peer, peerAs };
  return micro === undefined ? base : { ...base, microseconds: Number(micro) };
};
const v4 = (bytes: number[], length: number): PrefixView => ({
  afi: 1,
  length,
  bytes: new Uint8Array(bytes),
  offset: 0,
});

Deno.test("asPathText() renders sequences, sets and confederation segments as bgpdump does", () => {
  strictEqual(
    asPathText([
      { type: 3, asns: [65001, 65002] },
      { type: 2, asns: [64496, 64497] },
      { type: 1, asns: [1, 2] },
      { type: 4, asns: [3, 4] },
      { type: 2, asns: [4200000000] },
    ]),
    "(65001 65002) 64496 64497 {1,2} [3,4] 4200000000",
  );
  strictEqual(asPathText([]), "");
});

Deno.test("communityText() names the RFC 1997 well-known communities", () => {
  strictEqual(
    communityText([0xffffff01, 0xffffff02, 0xffffff03, (65000 << 16) + 100, 0xffff0000]),
    "no-export no-advertise local-AS 65000:100 65535:0",
  );
});

Deno.test("BgpdumpTextSink writes A, W, B and STATE lines in the bgpdump -m format", () => {
  const attrs: PathAttributes = {
    origin: 0,
    asPath: [{ type: 2, asns: [64496, 4200000000] }, { type: 1, asns: [1, 2] }],
    nextHop: "192.0.2.1",
    localPref: 100,
    med: 5,
    communities: [(64496 << 16) + 1, 0xffffff01],
    atomicAggregate: true,
    aggregator: { asn: 64496, address: "192.0.2.9" },
  };
  const out = text((sink) => {
    sink.route(
      head("BGP4MP", "1000", "A", "192.0.2.1", 64496),
      v4([203, 0, 113], 24),
      undefined,
      routeFields(attrs),
    );
    sink.route(head("TABLE_DUMP2_AP", "1000", "B", "192.0.2.1", 64496), v4([10, 255], 9), 7, routeFields({}));
    sink.withdraw(head("BGP4MP_AP", "1000.000042", "W", "2001:db8::1", 64496), v4([198, 51, 100], 22), 3);
    sink.state(head("BGP4MP", "1000", "STATE", "192.0.2.1", 64496), 6, 1);
  });
  strictEqual(
    out,
    "BGP4MP|1000|A|192.0.2.1|64496|203.0.113.0/24|64496 4200000000 {1,2}|IGP|192.0.2.1|100|5|" +
      "64496:1 no-export|AG|64496 192.0.2.9|\n" +
      // No attributes: INCOMPLETE origin, INADDR_NONE next hop, zeros; host bits of 10.255/9 cleared.
      "TABLE_DUMP2_AP|1000|B|192.0.2.1|64496|10.128.0.0/9|7||INCOMPLETE|255.255.255.255|0|0||NAG||\n" +
      "BGP4MP_AP|1000.000042|W|2001:db8::1|64496|198.51.100.0/22|3\n" +
      "BGP4MP|1000|STATE|192.0.2.1|64496|6|1\n",
  );
});

Deno.test("BgpdumpTextSink keeps bgpdump's quirks: MRTd BGP lines, signed MP MED, INADDR_NONE aggregator", () => {
  const out = text((sink) => {
    // Deprecated MRTd "BGP" lines have no COMMUNITY field when there are no communities.
    sink.route(head("BGP", "1", "A", "192.0.2.1", 1), v4([10], 8), undefined, routeFields({ origin: 0 }));
    // IPv4 routes of MP_REACH_NLRI print LOCAL_PREF and MED with %d.
    const big = routeFields({ med: 0xfffffffe, localPref: 0x80000000 }, "192.0.2.2", true);
    sink.route(head("BGP4MP", "1", "A", "192.0.2.1", 1), v4([10], 8), undefined, big);
    // An aggregator whose address is 255.255.255.255 looks like "none" to bgpdump.
    const none = routeFields({ aggregator: { asn: 5, address: "255.255.255.255" } });
    sink.route(head("BGP4MP", "1", "A", "192.0.2.1", 1), v4([10], 8), undefined, none);
  });
  deepStrictEqual(out.split("\n"), [
    "BGP|1|A|192.0.2.1|1|10.0.0.0/8||IGP|255.255.255.255|0|0|NAG||",
    "BGP4MP|1|A|192.0.2.1|1|10.0.0.0/8||INCOMPLETE|192.0.2.2|-2147483648|-2||NAG||",
    "BGP4MP|1|A|192.0.2.1|1|10.0.0.0/8||INCOMPLETE|255.255.255.255|0|0||NAG||",
    "",
  ]);
});

Deno.test("JsonLinesSink writes the same fields as typed JSON", () => {
  const attrs: PathAttributes = {
    origin: 1,
    asPath: [{ type: 2, asns: [64496] }],
    nextHop: "192.0.2.1",
    communities: [(64496 << 16) + 1],
    aggregator: { asn: 64496, address: "192.0.2.9" },
  };
  const out = render((o) => new JsonLinesSink(o), (sink) => {
    sink.route(head("BGP4MP", "1000", "A", "192.0.2.1", 64496), v4([203, 0, 113], 24), 9, routeFields(attrs));
    sink.withdraw(head("BGP4MP", "1000", "W", "192.0.2.1", 64496), v4([203, 0, 113], 24));
    sink.state(head("BGP4MP_ET", "1000.000042", "STATE", "192.0.2.1", 64496), 1, 2);
  });
  deepStrictEqual(out.trim().split("\n").map((l) => JSON.parse(l)), [
    {
      type: "BGP4MP",
      timestamp: 1000,
      entry: "A",
      peer: "192.0.2.1",
      peerAs: 64496,
      prefix: "203.0.113.0/24",
      pathId: 9,
      asPath: "64496",
      origin: "EGP",
      nextHop: "192.0.2.1",
      localPref: 0,
      med: 0,
      communities: ["64496:1"],
      atomicAggregate: false,
      aggregator: { asn: 64496, address: "192.0.2.9" },
    },
    {
      type: "BGP4MP",
      timestamp: 1000,
      entry: "W",
      peer: "192.0.2.1",
      peerAs: 64496,
      prefix: "203.0.113.0/24",
    },
    {
      type: "BGP4MP_ET",
      timestamp: 1000,
      microseconds: 42,
      entry: "STATE",
      peer: "192.0.2.1",
      peerAs: 64496,
      oldState: 1,
      newState: 2,
    },
  ]);
});

/** A small deterministic PRNG (mulberry32) so the fuzz cases are the same on every run. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

Deno.test("BgpdumpRouteLister never throws on mutated corpus records (bounded fuzz)", () => {
  const records: MrtRecord[] = [];
  for (const name of ["bird6_bgp", "openbgpd_bgp", "quagga_rib", "bview.ipv4_unicast_add_path.gz"]) {
    let bytes = Deno.readFileSync(CORPUS + name);
    if (name.endsWith(".gz")) bytes = new Uint8Array(gunzipSync(bytes));
    for (const item of readMrtBuffer(bytes)) if (item.kind === "record") records.push(item.record);
  }
  const random = prng(20261121);
  const sink = new BgpdumpTextSink(new LineBuffer(() => {}));
  let warnings = 0;
  const lister = new BgpdumpRouteLister(sink, () => warnings++);
  // The peer index tables stay in place so RIB records are listed, not skipped.
  for (const r of records) lister.add(r);
  for (let n = 0; n < 3000; n++) {
    const r = records[Math.floor(random() * records.length)];
    const body = r.body.slice();
    const mode = random();
    let mutated = body;
    if (mode < 0.5) {
      for (let k = 0; k < 1 + random() * 4; k++) {
        body[Math.floor(random() * body.length)] ^= 1 << (random() * 8);
      }
    } else if (mode < 0.8) {
      mutated = body.subarray(0, Math.floor(random() * body.length));
    } else {
      // Change a length byte: any byte whose value looks like a length is a candidate.
      body[Math.floor(random() * body.length)] = Math.floor(random() * 256);
    }
    lister.add({ ...r, body: mutated });
  }
  ok(warnings > 0, "mutations were noticed");
});

Deno.test("BgpdumpRouteLister types BGP4MP_ET and *_LOCAL lines as Debian's bgpdump 1.6.2 does", () => {
  // The first record of a corpus file re-framed as BGP4MP_ET (microseconds 1234) and as MESSAGE_LOCAL;
  // the expected lines are what `bgpdump -m` printed for the same bytes.
  const bytes = new Uint8Array(gunzipSync(Deno.readFileSync(CORPUS + "updates.20070211.0141.gz")));
  const [first] = [...readMrtBuffer(bytes)];
  ok(first.kind === "record");
  const r = first.record;
  const lines: string[] = [];
  const out = new LineBuffer((b) => lines.push(...new TextDecoder().decode(b).trim().split("\n")));
  const lister = new BgpdumpRouteLister(new BgpdumpTextSink(out), (w) => lines.push(`warning ${w.reason}`));
  lister.add({ ...r, type: 17, microseconds: 1234 });
  lister.add({ ...r, subtype: 6 });
  out.flush();
  const tail = "|196.44.98.0/23|3561 3491 29614 24890|IGP|195.66.224.39|0|0||NAG||";
  strictEqual(lines[0], "BGP4MP_ET|1171158060.001234|A|195.66.224.39|3561" + tail);
  strictEqual(lines[3], "BGP4MP_LOCAL|1171158060|A|195.66.224.39|3561" + tail);
  strictEqual(lines.length, 6);
});
