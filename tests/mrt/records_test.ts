import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { gunzipSync } from "node:zlib";
import { decodeBgp4mp, decodeLegacyBgp, decodeMrtBody, decodeTableDumpV2 } from "../../lib/mrt/records.ts";
import { type MrtRecord, readMrtBuffer } from "../../lib/mrt/reader.ts";

const CORPUS = new URL("../../../shared/corpus/mrt/", import.meta.url).pathname;

const u16 = (n: number) => [n >> 8, n & 255];
const u32 = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
const V6 = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];

Deno.test("decodeBgp4mp() reads a STATE_CHANGE_AS4 between IPv6 addresses", () => {
  const body = new Uint8Array([
    ...u32(4200000000),
    ...u32(65000),
    ...u16(3),
    ...u16(2),
    ...V6,
    ...V6.map((b, i) => i === 15 ? 2 : b),
    ...u16(6),
    ...u16(1),
  ]);
  deepStrictEqual(decodeBgp4mp(5, body), {
    kind: "bgp4mp-state",
    peerAs: 4200000000,
    localAs: 65000,
    interfaceIndex: 3,
    afi: 2,
    peerIp: "2001:db8::1",
    localIp: "2001:db8::2",
    oldState: 6,
    newState: 1,
  });
});

Deno.test("decodeBgp4mp() accepts the 8-byte state changes old Zebra wrote", () => {
  const body = new Uint8Array([...u16(286), ...u16(12654), ...u16(1), ...u16(2)]);
  const r = decodeBgp4mp(0, body);
  ok(r.kind === "bgp4mp-state");
  deepStrictEqual([r.peerIp, r.peerAs, r.oldState, r.newState], ["0.0.0.0", 286, 1, 2]);
});

Deno.test("decodeBgp4mp() rejects a state change of the wrong length as a value", () => {
  const body = new Uint8Array([...u16(1), ...u16(2), ...u16(0), ...u16(1), 10, 0, 0, 1, 10, 0, 0, 2, 0, 1]);
  deepStrictEqual(decodeBgp4mp(0, body), {
    kind: "undecoded",
    reason: "BGP4MP state change has bad length 18",
  });
});

Deno.test("decodeBgp4mp() tells the AS4, LOCAL and ADDPATH message subtypes apart", () => {
  const message = [...new Array(16).fill(0xff), ...u16(19), 4];
  for (
    const [subtype, as4, local, addPath] of [
      [1, false, false, false],
      [4, true, false, false],
      [6, false, true, false],
      [7, true, true, false],
      [8, false, false, true],
      [9, true, false, true],
      [10, false, true, true],
      [11, true, true, true],
    ] as const
  ) {
    const asns = as4 ? [...u32(64496), ...u32(64497)] : [...u16(64496), ...u16(64497)];
    const body = new Uint8Array([...asns, ...u16(0), ...u16(1), 192, 0, 2, 1, 192, 0, 2, 2, ...message]);
    const r = decodeBgp4mp(subtype, body);
    ok(r.kind === "bgp4mp-message", `subtype ${subtype}`);
    deepStrictEqual(
      [r.as4, r.local, r.addPath, r.peerAs, r.localAs, r.peerIp, r.localIp, r.message.length],
      [as4, local, addPath, 64496, 64497, "192.0.2.1", "192.0.2.2", 19],
    );
  }
});

Deno.test("decodeTableDumpV2() reads a PEER_INDEX_TABLE with IPv6 and 4-octet AS peers", () => {
  const body = new Uint8Array([
    ...[192, 0, 2, 255],
    ...u16(4),
    ..."view".split("").map((c) => c.charCodeAt(0)),
    ...u16(2),
    ...[0, 10, 0, 0, 1, 198, 51, 100, 1, ...u16(64496)],
    ...[3, 10, 0, 0, 2, ...V6, ...u32(4200000000)],
  ]);
  deepStrictEqual(decodeTableDumpV2(1, body), {
    kind: "peer-index-table",
    collectorId: "192.0.2.255",
    viewName: "view",
    peers: [
      { afi: 1, bgpId: "10.0.0.1", ip: "198.51.100.1", asn: 64496 },
      { afi: 2, bgpId: "10.0.0.2", ip: "2001:db8::1", asn: 4200000000 },
    ],
  });
});

Deno.test("decodeTableDumpV2() reads RIB_IPV4_UNICAST_ADDPATH entries with their path identifiers", () => {
  const attrs = [0x40, 1, 1, 0];
  const body = new Uint8Array([
    ...u32(7),
    24,
    203,
    0,
    113,
    ...u16(1),
    ...u16(0),
    ...u32(1500000000),
    ...u32(42),
    ...u16(attrs.length),
    ...attrs,
  ]);
  const r = decodeTableDumpV2(8, body);
  ok(r.kind === "rib");
  deepStrictEqual(
    [r.afi, r.safi, r.addPath, r.sequence, r.prefixLength, [...r.prefixBytes]],
    [1, 1, true, 7, 24, [203, 0, 113]],
  );
  deepStrictEqual(r.entries.map((e) => [e.peerIndex, e.originatedTime, e.pathId, [...e.attributes]]), [
    [0, 1500000000, 42, attrs],
  ]);
});

Deno.test("decodeLegacyBgp() reads MRTd BGP UPDATE and STATE_CHANGE records", () => {
  const update = decodeLegacyBgp(
    1,
    new Uint8Array([...u16(5409), 195, 211, 222, 254, ...u16(12654), 1, 2, 3, 4, 0]),
  );
  ok(update.kind === "legacy-update");
  deepStrictEqual([update.peerAs, update.peerIp, update.localAs, update.localIp, [...update.update]], [
    5409,
    "195.211.222.254",
    12654,
    "1.2.3.4",
    [0],
  ]);
  deepStrictEqual(decodeLegacyBgp(3, new Uint8Array([...u16(513), 192, 65, 184, 1, ...u16(3), ...u16(2)])), {
    kind: "legacy-state",
    peerAs: 513,
    peerIp: "192.65.184.1",
    oldState: 3,
    newState: 2,
  });
  strictEqual(decodeLegacyBgp(7, new Uint8Array(12)).kind, "quiet");
});

Deno.test("decodeMrtBody() turns every truncation of every corpus record into a value, never a throw", () => {
  // Bounded: each record of a few corpus files, cut at every length up to 64 bytes and at a few more.
  let checked = 0;
  for (
    const name of [
      "bird-mrtdump_rib",
      "bird6_bgp",
      "openbgpd_bgp",
      "openbgpd_rib_table",
      "openbgpd_rib_table-v2",
      "quagga_rib",
    ]
  ) {
    const bytes = Deno.readFileSync(CORPUS + name);
    for (const item of readMrtBuffer(bytes)) {
      if (item.kind !== "record") continue;
      const r = item.record;
      const cuts = new Set([
        ...Array(Math.min(64, r.body.length)).keys(),
        r.body.length >> 1,
        r.body.length - 1,
      ]);
      for (const cut of cuts) {
        const record: MrtRecord = { ...r, body: r.body.subarray(0, cut) };
        const body = decodeMrtBody(record);
        ok(typeof body.kind === "string");
        checked++;
      }
    }
  }
  ok(checked > 1000, `only ${checked} cases`);
});

Deno.test("decodeMrtBody() decodes every record of a gzip corpus file", () => {
  const bytes = new Uint8Array(gunzipSync(Deno.readFileSync(CORPUS + "updates.20100722.2015.gz")));
  const kinds = new Map<string, number>();
  for (const item of readMrtBuffer(bytes)) {
    ok(item.kind === "record");
    const kind = decodeMrtBody(item.record).kind;
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
  }
  // PROVENANCE.md: 2193 records, BGP4MP MESSAGE×789, MESSAGE_AS4×1364, STATE_CHANGE_AS4×40.
  deepStrictEqual(Object.fromEntries(kinds), { "bgp4mp-message": 2153, "bgp4mp-state": 40 });
});

Deno.test("decodeTableDumpV2() reads RIB_GENERIC for IPv6 unicast and refuses other families as values", () => {
  const attrs = [0x40, 1, 1, 2];
  const entry = [...u16(3), ...u32(1), ...u16(attrs.length), ...attrs];
  const v6 = decodeTableDumpV2(
    6,
    new Uint8Array([...u32(9), ...u16(2), 1, 32, 0x20, 0x01, 0x0d, 0xb8, ...u16(1), ...entry]),
  );
  ok(v6.kind === "rib");
  deepStrictEqual([v6.afi, v6.safi, v6.prefixLength, [...v6.prefixBytes], v6.entries.length], [2, 1, 32, [
    0x20,
    0x01,
    0x0d,
    0xb8,
  ], 1]);
  const vpn = decodeTableDumpV2(6, new Uint8Array([...u32(9), ...u16(1), 128, 88, ...new Array(11).fill(0)]));
  deepStrictEqual(vpn, { kind: "undecoded", reason: "RIB_GENERIC for AFI 1 SAFI 128 is not supported" });
});
