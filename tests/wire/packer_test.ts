import { assert, assertEquals, assertThrows } from "../assert.ts";
import { packUpdates } from "../../lib/wire/packer.ts";
import { decodeMessage, encodeMessage } from "../../lib/wire/message.ts";
import { parsePrefix, prefixToString } from "../../lib/wire/nlri.ts";
import type { DecodeContext, Family, PathAttributes, Prefix, UpdateMessage } from "../../lib/wire/types.ts";
import { toHex } from "./hex.ts";

const v4Attrs: PathAttributes = { origin: 0, asPath: [{ type: 2, asns: [65001] }], nextHop: "10.99.0.1" };
const v6Attrs: PathAttributes = {
  origin: 0,
  asPath: [{ type: 2, asns: [65001] }],
  mpReach: { afi: 2, safi: 1, nextHops: ["fd99::1", "fe80::1"], nlri: [] },
};

function bulkV4(n: number, len = 32): Prefix[] {
  // 100.64.0.0/10 is the bulk test range.
  return Array.from(
    { length: n },
    (_, i) => parsePrefix(`100.${64 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}/${len}`)!,
  );
}

function bulkV6(n: number): Prefix[] {
  return Array.from({ length: n }, (_, i) => parsePrefix(`2001:db8::${i.toString(16)}/128`)!);
}

function decodeAll(messages: Uint8Array[], ctx: DecodeContext): UpdateMessage[] {
  return messages.map((m) => {
    const r = decodeMessage(m, ctx);
    assert(r.ok && r.value.type === 2, !r.ok ? r.error.reason : "not an UPDATE");
    return r.value;
  });
}

const ctxFor = (max: number, addPath: Family[] = []): DecodeContext => ({
  fourOctetAs: true,
  addPath,
  maxMessageSize: max,
});

Deno.test("packUpdates() fills each IPv4 UPDATE to the byte and loses no prefix", () => {
  const nlri = bulkV4(5000);
  const msgs = packUpdates({ groups: [{ attributes: v4Attrs, nlri }] }, {
    maxMessageSize: 4096,
    fourOctetAs: true,
    addPath: [],
  });
  const decoded = decodeAll(msgs, ctxFor(4096));
  assertEquals(decoded.flatMap((u) => u.nlri.map(prefixToString)), nlri.map(prefixToString));
  for (const u of decoded) assertEquals(u.attributes, v4Attrs);
  // Each message but the last has no room for one more /32 (5 octets).
  for (const m of msgs.slice(0, -1)) assert(m.length + 5 > 4096 && m.length <= 4096, `length ${m.length}`);
  const perMessage = Math.floor((4096 - 19 - 4 - (msgs[0].length - 19 - 4 - 5 * decoded[0].nlri.length)) / 5);
  assertEquals(msgs.length, Math.ceil(5000 / perMessage));
});

Deno.test("packUpdates() puts IPv6 prefixes in MP_REACH_NLRI with global and link-local next hops", () => {
  const nlri = bulkV6(1000);
  const msgs = packUpdates({ groups: [{ attributes: v6Attrs, nlri }] }, {
    maxMessageSize: 4096,
    fourOctetAs: true,
    addPath: [],
  });
  const decoded = decodeAll(msgs, ctxFor(4096));
  assertEquals(
    decoded.flatMap((u) => u.attributes.mpReach!.nlri.map(prefixToString)),
    nlri.map(prefixToString),
  );
  for (const u of decoded) assertEquals(u.attributes.mpReach!.nextHops, ["fd99::1", "fe80::1"]);
  for (const m of msgs.slice(0, -1)) assert(m.length + 17 > 4096, `length ${m.length}`);
});

Deno.test("packUpdates() writes the same bytes as encodeMessage() for a small UPDATE", () => {
  const nlri = bulkV6(3);
  const [packed] = packUpdates({ groups: [{ attributes: v6Attrs, nlri }] }, {
    maxMessageSize: 4096,
    fourOctetAs: true,
    addPath: [],
  });
  const direct = encodeMessage({
    type: 2,
    withdrawn: [],
    attributes: { ...v6Attrs, mpReach: { ...v6Attrs.mpReach!, nlri } },
    nlri: [],
  }, ctxFor(4096));
  assertEquals(toHex(packed), toHex(direct));
});

Deno.test("packUpdates() packs withdrawals of IPv4 and IPv6 with ADD-PATH identifiers", () => {
  const v4 = bulkV4(2000, 24).map((p, i) => ({ ...p, pathId: i + 1 }));
  const v6 = bulkV6(700).map((p) => ({ ...p, pathId: 7 }));
  const addPath = [{ afi: 1 as const, safi: 1 }, { afi: 2 as const, safi: 1 }];
  const msgs = packUpdates({
    groups: [],
    withdrawals: [{ afi: 1, safi: 1, withdrawn: v4 }, { afi: 2, safi: 1, withdrawn: v6 }],
  }, { maxMessageSize: 4096, fourOctetAs: true, addPath });
  const decoded = decodeAll(msgs, ctxFor(4096, addPath));
  const ids = (ps: readonly Prefix[]) => ps.map((p) => `${prefixToString(p)}#${p.pathId}`);
  assertEquals(decoded.flatMap((u) => ids(u.withdrawn)), ids(v4));
  assertEquals(decoded.flatMap((u) => ids(u.attributes.mpUnreach?.withdrawn ?? [])), ids(v6));
  // 2000 IPv4 /24 with path ids: 8 octets each, 4073 octets of room per message.
  assertEquals(msgs.filter((m) => decodeMessage(m, ctxFor(4096, addPath)).ok).length, msgs.length);
  assertEquals(decoded.filter((u) => u.withdrawn.length > 0).length, Math.ceil(2000 / Math.floor(4073 / 8)));
});

Deno.test("packUpdates() uses 65535-octet messages with the extended message capability", () => {
  const msgs = packUpdates({ groups: [{ attributes: v4Attrs, nlri: bulkV4(20000) }] }, {
    maxMessageSize: 65535,
    fourOctetAs: true,
    addPath: [],
  });
  assertEquals(msgs.length, 2);
  assert(msgs[0].length > 65530 && msgs[0].length <= 65535);
});

Deno.test("packUpdates() sends IPv4 prefixes with an IPv6 next hop in MP_REACH_NLRI (RFC 8950)", () => {
  const nlri = bulkV4(10, 24);
  const msgs = packUpdates({ groups: [{ attributes: { ...v4Attrs, nextHop: "fd99::1" }, nlri }] }, {
    maxMessageSize: 4096,
    fourOctetAs: true,
    addPath: [],
    ipv4NextHopIsIpv6: true,
  });
  const [u] = decodeAll(msgs, ctxFor(4096));
  assertEquals(u.nlri, []);
  assertEquals(u.attributes.nextHop, undefined);
  assertEquals(u.attributes.mpReach?.afi, 1);
  assertEquals(u.attributes.mpReach?.nextHops, ["fd99::1"]);
  assertEquals(u.attributes.mpReach?.nlri.map(prefixToString), nlri.map(prefixToString));
});

Deno.test("packUpdates() encodes 4-octet AS numbers for a 2-octet peer with AS_TRANS and AS4_PATH", () => {
  const attributes: PathAttributes = { ...v4Attrs, asPath: [{ type: 2, asns: [4200000001, 65001] }] };
  const msgs = packUpdates({ groups: [{ attributes, nlri: bulkV4(1) }] }, {
    maxMessageSize: 4096,
    fourOctetAs: false,
    addPath: [],
  });
  const [u] = decodeAll(msgs, { fourOctetAs: false, addPath: [], maxMessageSize: 4096 });
  assertEquals(u.attributes.asPath, [{ type: 2, asns: [4200000001, 65001] }]);
  assertEquals(u.attributes.as4Path, [{ type: 2, asns: [4200000001, 65001] }]);
});

Deno.test("packUpdates() rejects attributes that leave no room for a prefix", () => {
  const communities = Array.from({ length: 1100 }, (_, i) => i);
  assertThrows(() =>
    packUpdates({ groups: [{ attributes: { ...v4Attrs, communities }, nlri: bulkV4(1) }] }, {
      maxMessageSize: 4096,
      fourOctetAs: true,
      addPath: [],
    }), RangeError);
});
