/**
 * The ExaBGP vectors of the shared corpus: every message decodes, and re-encodes to the same bytes when
 * canonical (otherwise to the same attributes, modulo order and the Extended Length bit).
 */
import { assert, assertEquals } from "../assert.ts";
import { decodeMessage, encodeMessage, frameLength } from "../../lib/wire/message.ts";
import type { DecodeContext, Message, UpdateMessage } from "../../lib/wire/types.ts";
import { CORPUS, fromHex, readCorpus, toHex } from "./hex.ts";
import { attributeSet, normalised, withoutAttributes } from "./compare.ts";
import { decodeUpdate, isEndOfRib } from "../../lib/wire/update.ts";
import { prefixToString } from "../../lib/wire/nlri.ts";

interface Vector {
  file: string;
  line: number;
  bytes: Uint8Array;
  ctx: DecodeContext;
}

function contextFor(file: string): DecodeContext {
  const addPath = /addpath|path-information/.test(file) ? [{ afi: 1 as const, safi: 1 }] : [];
  return { fourOctetAs: !/no-asn4/.test(file), addPath, maxMessageSize: 65535 };
}

function encodingVectors(): Vector[] {
  const out: Vector[] = [];
  for (
    const entry of [...Deno.readDirSync(CORPUS + "vectors/encoding")].sort((a, b) => a.name < b.name ? -1 : 1)
  ) {
    const text = readCorpus("vectors/encoding/" + entry.name);
    text.split("\n").forEach((line, i) => {
      const m = /^\d+:raw:([0-9A-F:]+)$/i.exec(line.trim());
      if (m) out.push({ file: entry.name, line: i + 1, bytes: fromHex(m[1]), ctx: contextFor(entry.name) });
    });
  }
  return out;
}

const vectors = encodingVectors();

/**
 * Vectors ExaBGP sends on purpose with flags that make the attribute well-known (Optional bit clear) but a
 * type code nobody knows: RFC 4271 §6.3 "Unrecognized Well-known Attribute" with the attribute as data.
 */
const EXPECTED_ERRORS: Record<string, [number, number, string]> = {
  "conf-generic-attribute.ci:6": [3, 2, "60990400000064"],
  "conf-generic-attribute.ci:9": [3, 2, "7099000400000064"],
};

Deno.test("the ExaBGP encoding vectors are present", () => {
  assert(
    vectors.length > 150,
    `Expected the ExaBGP vectors in ${CORPUS}vectors/encoding, found ${vectors.length}`,
  );
});

Deno.test("decodeMessage() decodes every ExaBGP encoding vector", () => {
  for (const v of vectors) {
    const where = `${v.file}:${v.line}`;
    assertEquals(frameLength(v.bytes, 0, 65535), v.bytes.length, where);
    const r = decodeMessage(v.bytes, v.ctx);
    const expected = EXPECTED_ERRORS[where];
    if (expected !== undefined) {
      assert(!r.ok, `${where} should fail`);
      assertEquals([r.error.code, r.error.subcode, toHex(r.error.data), r.error.action], [
        ...expected,
        "session-reset",
      ], where);
    } else assert(r.ok, `${where}: ${!r.ok && r.error.reason}`);
  }
});

Deno.test("encodeMessage() re-encodes every ExaBGP vector to the same bytes or the same attributes", () => {
  let identical = 0;
  for (const v of vectors) {
    const where = `${v.file}:${v.line}`;
    if (EXPECTED_ERRORS[where] !== undefined) continue;
    const r = decodeMessage(v.bytes, v.ctx);
    if (!r.ok) throw new Error(`${where}: ${r.error.reason}`);
    const again = encodeMessage(r.value, v.ctx, { markPartial: false });
    if (toHex(again) === toHex(v.bytes)) {
      identical++;
      continue;
    }
    if (Deno.env.get("WIRE_VECTORS_VERBOSE")) console.log(where, toHex(v.bytes), toHex(again));
    // Not canonical (attribute order, optional parameter grouping, Extended Length): compare meaning.
    const back = decodeMessage(again, v.ctx);
    assert(back.ok, where);
    assertEquals(normalised(back.value), normalised(r.value), where);
    if (r.value.type === 2) {
      assertEquals(attributeSet(again.subarray(19)), attributeSet(v.bytes.subarray(19)), where);
      assertEquals(withoutAttributes(again.subarray(19)), withoutAttributes(v.bytes.subarray(19)), where);
    }
  }
  // The others differ only in attribute order (ExaBGP puts MP_REACH_NLRI last, we put it first as RFC 7606
  // §5.1 asks) or in an Extended Length bit on a short attribute, as the attribute comparison above shows.
  assert(identical >= 78, `Only ${identical} of ${vectors.length} vectors re-encode identically`);
});

Deno.test("decodeMessage() reads the values ExaBGP expects in its vectors", () => {
  const find = (file: string, line: number): Message => {
    const v = vectors.find((x) => x.file === file && x.line === line);
    assert(v !== undefined, `${file}:${line} not found`);
    const r = decodeMessage(v.bytes, v.ctx);
    assert(r.ok);
    return r.value;
  };
  const ap = find("conf-addpath.ci", 3) as UpdateMessage;
  assertEquals(ap.nlri.map((p) => [prefixToString(p), p.pathId]), [["193.0.2.1/32", 0x01020304]]);
  assertEquals(ap.attributes.nextHop, "10.0.0.1");
  assertEquals(ap.attributes.localPref, 100);
  const eor = find("conf-unknowncap.ci", 4) as UpdateMessage;
  assertEquals(isEndOfRib(eor), { afi: 1, safi: 1 });
});

Deno.test("decodeMessage() decodes every ExaBGP decoding vector to a value, raw for families it does not interpret", () => {
  const ctx: DecodeContext = { fourOctetAs: true, addPath: [], maxMessageSize: 65535 };
  let messages = 0;
  for (const entry of Deno.readDirSync(CORPUS + "vectors/decoding")) {
    const lines = readCorpus("vectors/decoding/" + entry.name).split("\n");
    const kind = lines[0];
    if (kind.startsWith("nlri")) continue; // a bare NLRI, not a message
    const bytes = fromHex(lines.slice(1).filter((l) => !l.startsWith("{")).join(""));
    messages++;
    // Some vectors hold a whole message, others only the UPDATE body.
    const isWhole = bytes.length >= 16 && bytes.subarray(0, 16).every((b) => b === 0xff);
    const r = isWhole ? decodeMessage(bytes, ctx) : decodeUpdate(bytes, ctx);
    assert(r.ok, `${entry.name}: ${!r.ok && r.error.reason}`);
    const value = "update" in r.value ? r.value.update : r.value;
    if (value.type !== 2) continue;
    const a = value.attributes;
    if (/ipv4 unicast/.test(kind)) {
      assertEquals(a.unknown, undefined, entry.name);
    } else if (kind !== "update") {
      // flowspec, BGP-LS, SR policy, EVPN: the MP attribute survives as raw bytes.
      assert(a.unknown?.some((x) => x.code === 14 || x.code === 15), entry.name);
    }
  }
  assert(messages >= 20, `Expected the ExaBGP decoding vectors, found ${messages}`);
});

Deno.test("decodeMessage() reads ExaBGP's ipv4-unicast decoding vectors as ExaBGP does", () => {
  const ctx: DecodeContext = { fourOctetAs: true, addPath: [], maxMessageSize: 4096 };
  const one = decodeMessage(fromHex(readCorpus("vectors/decoding/ipv4-unicast-1").split("\n")[1]), ctx);
  assert(one.ok && one.value.type === 2);
  assertEquals(one.value.nlri.map(prefixToString), [
    "0.0.0.0/0",
    "0.0.0.0/0",
    "0.0.0.0/0",
    "0.0.0.0/0",
    "1.1.1.1/32",
  ]);
  assertEquals([one.value.attributes.nextHop, one.value.attributes.med, one.value.attributes.localPref], [
    "101.1.101.1",
    200,
    100,
  ]);
  const two = decodeMessage(fromHex(readCorpus("vectors/decoding/ipv4-unicast-2").split("\n")[1]), ctx);
  assert(two.ok && two.value.type === 2);
  assertEquals(two.value.attributes.asPath, [{ type: 2, asns: [43690, 43690, 43690] }]);
  assertEquals(two.value.attributes.aggregator, { asn: 11141290, address: "10.10.10.10" });
  assertEquals(two.value.attributes.atomicAggregate, true);
});

interface ExaUpdate {
  attribute?: Record<string, unknown>;
  announce?: Record<string, Record<string, { nlri: string; "path-information"?: string }[]>>;
  withdraw?: Record<string, { nlri: string; "path-information"?: string }[]>;
}

/** Path identifiers as ExaBGP prints them (dotted quad) to numbers. */
function pathIdOf(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const [a, b, c, d] = text.split(".").map(Number);
  return ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
}

const ORIGIN_NAMES = ["igp", "egp", "incomplete"];
const SEGMENT_NAMES: Record<string, number> = {
  "as-set": 1,
  "as-sequence": 2,
  "as-confed-sequence": 3,
  "as-confed-set": 4,
};

Deno.test("decodeMessage() agrees with ExaBGP's JSON for every unicast vector", () => {
  let compared = 0;
  for (const entry of [...Deno.readDirSync(CORPUS + "vectors/encoding")]) {
    const ctx = contextFor(entry.name);
    let last: Uint8Array | undefined;
    for (const line of readCorpus("vectors/encoding/" + entry.name).split("\n")) {
      const raw = /^\d+:raw:([0-9A-F:]+)$/i.exec(line.trim());
      if (raw) last = fromHex(raw[1]);
      const json = /^\d+:json:(.*)$/.exec(line.trim());
      if (!json || last === undefined) continue;
      let parsed: { neighbor?: { message?: { update?: ExaUpdate } } };
      try {
        parsed = JSON.parse(json[1]);
      } catch {
        continue; // ExaBGP's own note: some of its JSON lines are malformed
      }
      const exa = parsed.neighbor?.message?.update;
      const r = decodeMessage(last, ctx);
      if (exa === undefined || !r.ok || r.value.type !== 2) continue;
      const u = r.value;
      const where = `${entry.name}: ${json[1].slice(0, 160)}`;
      const a = u.attributes;
      const attr = exa.attribute ?? {};
      if (attr.origin !== undefined) assertEquals(ORIGIN_NAMES[a.origin!], attr.origin, where);
      if (attr["local-preference"] !== undefined) assertEquals(a.localPref, attr["local-preference"], where);
      if (attr.med !== undefined) assertEquals(a.med, attr.med, where);
      if (attr.community !== undefined) {
        assertEquals(a.communities?.map((c) => [c >>> 16, c & 0xffff]), attr.community, where);
      }
      if (attr["large-community"] !== undefined) {
        assertEquals(a.largeCommunities, attr["large-community"], where);
      }
      if (attr["originator-id"] !== undefined) assertEquals(a.originatorId, attr["originator-id"], where);
      if (attr["cluster-list"] !== undefined) assertEquals(a.clusterList, attr["cluster-list"], where);
      if (attr["as-path"] !== undefined) {
        const segs = Object.values(attr["as-path"] as Record<string, { element: string; value: number[] }>);
        assertEquals(a.asPath, segs.map((s) => ({ type: SEGMENT_NAMES[s.element], asns: s.value })), where);
      }
      if (attr["extended-community"] !== undefined) {
        const values = (attr["extended-community"] as { value: number }[]).map((x) => x.value);
        if (values.every(Number.isSafeInteger)) {
          const ours = a.extendedCommunities?.map((c) => Number(BigInt("0x" + toHex(c))));
          assertEquals(ours, values, where);
        }
      }
      for (const [family, byNextHop] of Object.entries(exa.announce ?? {})) {
        if (family !== "ipv4 unicast" && family !== "ipv6 unicast") continue;
        const expected = Object.entries(byNextHop).flatMap(([nh, list]) =>
          list.map((x) => `${x.nlri}#${pathIdOf(x["path-information"])}@${nh}`)
        );
        const inField = u.nlri.map((p) => `${prefixToString(p)}#${p.pathId}@${a.nextHop}`);
        const inMp = (a.mpReach?.nlri ?? []).map((p) =>
          `${prefixToString(p)}#${p.pathId}@${a.mpReach!.nextHops[0]}`
        );
        const isV6 = (x: string) => x.split("#")[0].includes(":");
        const ours = [...inField, ...inMp].filter((x) => isV6(x) === (family === "ipv6 unicast"));
        assertEquals(ours.sort(), expected.sort(), where);
        compared++;
      }
      for (const [family, list] of Object.entries(exa.withdraw ?? {})) {
        if (family !== "ipv4 unicast" && family !== "ipv6 unicast") continue;
        const expected = list.map((x) => `${x.nlri}#${pathIdOf(x["path-information"])}`);
        const ours = [...u.withdrawn, ...(a.mpUnreach?.withdrawn ?? [])].map((p) =>
          `${prefixToString(p)}#${p.pathId}`
        );
        assertEquals(ours.sort(), expected.sort(), where);
        compared++;
      }
    }
  }
  assert(compared >= 50, `Only ${compared} unicast vectors compared with ExaBGP's JSON`);
});
