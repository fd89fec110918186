/**
 * Property tests: decode(encode(m)) is m for generated OPEN, UPDATE (IPv4 and IPv6, with and without
 * ADD-PATH, 2- and 4-octet AS), NOTIFICATION and ROUTE-REFRESH messages.
 */
import fc from "fast-check";
import { assert, assertEquals } from "../assert.ts";
import { decodeMessage, encodeMessage } from "../../lib/wire/message.ts";
import { ipv4ToString, ipv6ToString } from "../../lib/wire/address.ts";
import { shutdownCommunication } from "../../lib/wire/notification.ts";
import type {
  AsPathSegment,
  Capability,
  DecodeContext,
  Message,
  PathAttributes,
  Prefix,
  SegmentType,
} from "../../lib/wire/types.ts";

const SEED = 20261121;
const u32 = fc.nat({ max: 0xffffffff });
const u16 = fc.nat({ max: 0xffff });
const u8 = fc.nat({ max: 0xff });
const ipv4Text = fc.uint8Array({ minLength: 4, maxLength: 4 }).map((b) => ipv4ToString(b));
const ipv6Text = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => ipv6ToString(b));

function prefix(afi: 1 | 2, addPath: boolean): fc.Arbitrary<Prefix> {
  const max = afi === 1 ? 32 : 128;
  return fc.record({
    length: fc.nat({ max }),
    bytes: fc.uint8Array({ minLength: max / 8, maxLength: max / 8 }),
    pathId: u32,
  }).map(({ length, bytes, pathId }) => {
    for (let i = 0; i < bytes.length; i++) {
      const keep = Math.max(0, Math.min(8, length - 8 * i));
      bytes[i] &= (0xff00 >> keep) & 0xff;
    }
    return addPath ? { afi, length, addr: bytes, pathId } : { afi, length, addr: bytes };
  });
}

function segments(asn: fc.Arbitrary<number>, confed: boolean): fc.Arbitrary<AsPathSegment[]> {
  const type = fc.constantFrom<SegmentType>(
    ...(confed ? [1, 2, 3, 4] as SegmentType[] : [1, 2] as SegmentType[]),
  );
  return fc.array(fc.record({ type, asns: fc.array(asn, { minLength: 1, maxLength: 8 }) }), { maxLength: 3 });
}

function attributes(four: boolean, addPath: boolean): fc.Arbitrary<PathAttributes> {
  const asn = four ? u32 : u16;
  const known = {
    origin: fc.constantFrom<0 | 1 | 2>(0, 1, 2),
    asPath: segments(asn, true),
    nextHop: ipv4Text,
    med: u32,
    localPref: u32,
    atomicAggregate: fc.constant(true),
    aggregator: fc.record({ asn, address: ipv4Text }),
    communities: fc.array(u32, { minLength: 1, maxLength: 6 }),
    originatorId: ipv4Text,
    clusterList: fc.array(ipv4Text, { minLength: 1, maxLength: 4 }),
    mpReach: fc.record({
      afi: fc.constant<2>(2),
      safi: fc.constant(1),
      nextHops: fc.oneof(fc.tuple(ipv6Text), fc.tuple(ipv6Text, ipv6Text)),
      nlri: fc.array(prefix(2, addPath), { maxLength: 20 }),
    }),
    mpUnreach: fc.record({
      afi: fc.constant<2>(2),
      safi: fc.constant(1),
      withdrawn: fc.array(prefix(2, addPath), { maxLength: 20 }),
    }),
    extendedCommunities: fc.array(fc.uint8Array({ minLength: 8, maxLength: 8 }), {
      minLength: 1,
      maxLength: 4,
    }),
    largeCommunities: fc.array(fc.tuple(u32, u32, u32), { minLength: 1, maxLength: 4 }),
    unknown: fc.uniqueArray(fc.integer({ min: 200, max: 255 }), { minLength: 1, maxLength: 3 }).chain((
      codes,
    ) =>
      fc.tuple(
        ...codes.sort((a, b) => a - b).map((code) =>
          fc.record({
            // Optional non-transitive, or optional transitive already marked Partial (RFC 4271 §5).
            flags: fc.constantFrom(0x80, 0xe0),
            code: fc.constant(code),
            value: fc.uint8Array({ maxLength: 300 }),
          })
        ),
      )
    ),
  };
  // AS4_PATH/AS4_AGGREGATOR between 4-octet speakers are carried as they are; towards a 2-octet peer
  // they would be merged, which the RFC 6793 tests cover.
  const as4 = four
    ? { as4Path: segments(u32, false), as4Aggregator: fc.record({ asn: u32, address: ipv4Text }) }
    : {};
  return fc.record({ ...known, ...as4 }, { requiredKeys: [] }) as fc.Arbitrary<PathAttributes>;
}

function update(four: boolean, addPath: boolean): fc.Arbitrary<Message> {
  return fc.record({
    type: fc.constant<2>(2),
    withdrawn: fc.array(prefix(1, addPath), { maxLength: 20 }),
    attributes: attributes(four, addPath),
    nlri: fc.array(prefix(1, addPath), { maxLength: 20 }),
  });
}

/** fast-check builds records without a prototype; compare against ordinary objects. */
function plain(x: unknown): unknown {
  if (Array.isArray(x)) return x.map(plain);
  if (x instanceof Uint8Array || x === null || typeof x !== "object") return x;
  return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, plain(v)]));
}

function roundTrips(m: Message, ctx: DecodeContext): void {
  const bytes = encodeMessage(m, ctx);
  const r = decodeMessage(bytes, ctx);
  assert(r.ok, !r.ok ? r.error.reason : "");
  assertEquals(r.value, plain(m));
}

for (const four of [true, false]) {
  for (const addPath of [false, true]) {
    const name = `${four ? "4" : "2"}-octet AS, ${addPath ? "with" : "without"} ADD-PATH`;
    Deno.test(`decodeMessage() inverts encodeMessage() for UPDATEs (${name})`, () => {
      const ctx: DecodeContext = {
        fourOctetAs: four,
        addPath: addPath ? [{ afi: 1, safi: 1 }, { afi: 2, safi: 1 }] : [],
        maxMessageSize: 65535,
      };
      fc.assert(fc.property(update(four, addPath), (m) => roundTrips(m, ctx)), { seed: SEED, numRuns: 150 });
    });
  }
}

const family = { afi: fc.constantFrom<1 | 2>(1, 2), safi: u8 };
const capability: fc.Arbitrary<Capability> = fc.oneof(
  fc.record({ code: fc.constant<1>(1), ...family }),
  fc.constant<Capability>({ code: 2 }),
  fc.record({
    code: fc.constant<5>(5),
    entries: fc.array(fc.record({ afi: family.afi, safi: u16, nextHopAfi: family.afi }), {
      minLength: 1,
      maxLength: 3,
    }),
  }),
  fc.constant<Capability>({ code: 6 }),
  fc.record({
    code: fc.constant<64>(64),
    restarting: fc.boolean(),
    notification: fc.boolean(),
    restartTime: fc.nat({ max: 4095 }),
    families: fc.array(fc.record({ ...family, forwarding: fc.boolean() }), { maxLength: 3 }),
  }),
  fc.record({ code: fc.constant<65>(65), asn: u32 }),
  fc.record({
    code: fc.constant<69>(69),
    entries: fc.array(fc.record({ ...family, mode: fc.constantFrom<1 | 2 | 3>(1, 2, 3) }), {
      minLength: 1,
      maxLength: 3,
    }),
  }),
  fc.constant<Capability>({ code: 70 }),
  fc.record({
    code: fc.constant<71>(71),
    entries: fc.array(
      fc.record({ ...family, forwarding: fc.boolean(), staleTime: fc.nat({ max: 0xffffff }) }),
      {
        maxLength: 3,
      },
    ),
  }),
  fc.record({
    code: fc.constant<73>(73),
    hostname: fc.string({ maxLength: 40 }),
    domain: fc.string({ maxLength: 40 }),
  }),
  fc.record({
    code: fc.integer({ min: 74, max: 255 }),
    raw: fc.uint8Array({ maxLength: 30 }),
  }),
);

Deno.test("decodeMessage() inverts encodeMessage() for OPENs, with RFC 9072 parameters when needed", () => {
  const open = fc.record({
    type: fc.constant<1>(1),
    version: u8,
    asn: u16,
    holdTime: u16,
    routerId: ipv4Text,
    capabilities: fc.array(capability, { maxLength: 40, size: "max" }),
    otherParams: fc.array(
      fc.record({ type: fc.integer({ min: 3, max: 254 }), value: fc.uint8Array({ maxLength: 20 }) }),
      {
        minLength: 1,
        maxLength: 2,
      },
    ),
  }, { requiredKeys: ["type", "version", "asn", "holdTime", "routerId", "capabilities"] });
  const ctx: DecodeContext = { fourOctetAs: true, addPath: [], maxMessageSize: 4096 };
  let extended = 0;
  fc.assert(
    fc.property(open, (m) => {
      roundTrips(m as Message, ctx);
      if (encodeMessage(m as Message, ctx)[28] === 255) extended++;
    }),
    { seed: SEED, numRuns: 300 },
  );
  assert(extended > 10, `Only ${extended} OPENs used RFC 9072 extended parameters`);
});

Deno.test("decodeMessage() inverts encodeMessage() for NOTIFICATIONs and RFC 9003 shutdown communications", () => {
  const ctx: DecodeContext = { fourOctetAs: true, addPath: [], maxMessageSize: 4096 };
  const plain = fc.record({
    type: fc.constant<3>(3),
    code: fc.integer({ min: 0, max: 5 }),
    subcode: u8,
    data: fc.uint8Array({ maxLength: 100 }),
  });
  fc.assert(fc.property(plain, (m) => roundTrips(m, ctx)), { seed: SEED, numRuns: 200 });
  const shutdown = fc.record({
    subcode: fc.constantFrom(2, 4),
    text: fc.string({ unit: "binary", maxLength: 60 }),
  }).map(({ subcode, text }): Message => ({
    type: 3,
    code: 6,
    subcode,
    data: shutdownCommunication(text),
    shutdownMessage: text,
  }));
  fc.assert(fc.property(shutdown, (m) => roundTrips(m, ctx)), { seed: SEED, numRuns: 200 });
});

Deno.test("decodeMessage() inverts encodeMessage() for ROUTE-REFRESH with RFC 7313 subtypes", () => {
  const ctx: DecodeContext = { fourOctetAs: true, addPath: [], maxMessageSize: 4096 };
  const rr = fc.record({ type: fc.constant<5>(5), ...family, subtype: u8 });
  fc.assert(fc.property(rr, (m) => roundTrips(m, ctx)), { seed: SEED, numRuns: 100 });
});
