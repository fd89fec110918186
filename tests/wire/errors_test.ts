/**
 * Every error path of RFC 4271 §6 and RFC 7606 with its exact code, subcode, data and action.
 */
import { assert, assertEquals } from "../assert.ts";
import { decodeMessage, frameLength } from "../../lib/wire/message.ts";
import { type DecodedUpdate, decodeUpdate } from "../../lib/wire/update.ts";
import { decodePathAttributes, encodePathAttributes } from "../../lib/wire/attributes.ts";
import { decodeOpen } from "../../lib/wire/open.ts";
import type { BgpError, DecodeContext, Decoded } from "../../lib/wire/types.ts";
import { fromHex, toHex } from "./hex.ts";

const CTX4: DecodeContext = { fourOctetAs: true, addPath: [], maxMessageSize: 4096 };
const CTX2: DecodeContext = { fourOctetAs: false, addPath: [], maxMessageSize: 4096 };

const MARKER = "FF".repeat(16);
const ORIGIN = "40010100";
const AS_PATH4 = "40020602010000FDE9"; // AS_SEQUENCE 65001
const NEXT_HOP = "400304C0000201"; // 192.0.2.1
const MANDATORY = ORIGIN + AS_PATH4 + NEXT_HOP;
const MANDATORY2 = ORIGIN + "4002040201FDE9" + NEXT_HOP; // AS_PATH with 2-octet AS 65001
const NLRI = "18CB0071"; // 203.0.113.0/24

function hex2(n: number): string {
  return n.toString(16).padStart(4, "0");
}

/** An UPDATE body from hex parts. */
function body(attrs: string, nlri = NLRI, withdrawn = ""): Uint8Array {
  return fromHex(hex2(withdrawn.length / 2) + withdrawn + hex2(attrs.length / 2) + attrs + nlri);
}

type Expect = [code: number, subcode: number, data: string, action: BgpError["action"]];

function shape(e: BgpError): Expect {
  return [e.code, e.subcode, toHex(e.data), e.action];
}

function fatal(r: Decoded<DecodedUpdate>): Expect {
  assert(!r.ok, "Expected a session reset");
  return shape(r.error);
}

function withdrawn(r: Decoded<DecodedUpdate>): Expect {
  assert(r.ok, !r.ok ? `Unexpected session reset: ${r.error.reason}` : "");
  assert(r.value.treatAsWithdraw !== undefined, "Expected treat-as-withdraw");
  return shape(r.value.treatAsWithdraw);
}

function discarded(r: Decoded<DecodedUpdate>): Expect[] {
  assert(r.ok, !r.ok ? `Unexpected session reset: ${r.error.reason}` : "");
  assertEquals(r.value.treatAsWithdraw, undefined);
  return r.value.discarded.map(shape);
}

function header(length: number, type: number, marker = MARKER): Uint8Array {
  return fromHex(
    marker + hex2(length) + type.toString(16).padStart(2, "0") + "00".repeat(Math.max(0, length - 19)),
  );
}

// ---- RFC 4271 §6.1 Message Header errors

Deno.test("frameLength() waits for a whole header", () => {
  assertEquals(frameLength(fromHex(MARKER + "00"), 0, 4096), 0);
  assertEquals(frameLength(header(19, 4), 0, 4096), 19);
  const two = new Uint8Array([...header(19, 4), ...header(23, 2)]);
  assertEquals(frameLength(two, 19, 4096), 23);
});

Deno.test("frameLength() reports a bad marker as Connection Not Synchronized", () => {
  const e = frameLength(header(19, 4, "FF".repeat(15) + "FE"), 0, 4096);
  assert(typeof e !== "number");
  assertEquals(shape(e), [1, 1, "", "session-reset"]);
});

Deno.test("frameLength() reports bad lengths with the length as data", () => {
  const cases: [number, number, number][] = [
    [18, 4, 4096], // below the header
    [4097, 2, 4096], // above the negotiated maximum
    [28, 1, 4096], // OPEN below 29
    [22, 2, 4096], // UPDATE below 23
    [20, 3, 4096], // NOTIFICATION below 21
    [20, 4, 4096], // KEEPALIVE other than 19
    [5000, 1, 65535], // OPEN above 4096 even with extended messages (RFC 8654 §4)
  ];
  for (const [length, type, max] of cases) {
    const e = frameLength(
      header(Math.max(length, 19), type).map((b, i) => i === 16 ? length >> 8 : i === 17 ? length & 255 : b),
      0,
      max,
    );
    assert(typeof e !== "number", `length ${length} type ${type}`);
    assertEquals(
      shape(e),
      [1, 2, hex2(length).toUpperCase(), "session-reset"],
      `length ${length} type ${type}`,
    );
  }
  assertEquals(frameLength(header(5000, 2), 0, 65535), 5000);
});

Deno.test("frameLength() reports an unknown type with the type as data", () => {
  for (const type of [0, 6, 255]) {
    const e = frameLength(header(19, type), 0, 4096);
    assert(typeof e !== "number");
    assertEquals(shape(e), [1, 3, type.toString(16).padStart(2, "0").toUpperCase(), "session-reset"]);
  }
});

Deno.test("decodeMessage() rejects a buffer whose length disagrees with the header", () => {
  const r = decodeMessage(new Uint8Array([...header(19, 4), 0]), CTX4);
  assert(!r.ok);
  assertEquals(shape(r.error), [1, 2, "0013", "session-reset"]);
});

// ---- RFC 4271 §6.2 OPEN errors (syntax; values are judged by the session's OPEN policy)

Deno.test("decodeOpen() rejects optional parameters that disagree with their length", () => {
  const base = "04FDE900B4C0000201";
  for (const params of ["05" + "0202020000", "04" + "020302", "03" + "02030200"]) {
    const r = decodeOpen(fromHex(base + params));
    assert(!r.ok, params);
    assertEquals(shape(r.error), [2, 0, "", "session-reset"], params);
  }
});

Deno.test("decodeOpen() reads RFC 9072 extended optional parameters", () => {
  // Non-Ext OP Len 255, Non-Ext OP Type 255, Extended Opt. Parm. Length 9, one parameter with a 2-octet length.
  const r = decodeOpen(fromHex("04FDE900B4C0000201" + "FF" + "FF" + "0009" + "02" + "0006" + "41040000FDE9"));
  assert(r.ok, !r.ok ? r.error.reason : "");
  assertEquals(r.value.capabilities, [{ code: 65, asn: 65001 }]);
  const truncated = decodeOpen(fromHex("04FDE900B4C0000201" + "FF" + "FF" + "0009" + "02" + "0006" + "4104"));
  assert(!truncated.ok);
  assertEquals(shape(truncated.error), [2, 0, "", "session-reset"]);
});

// ---- RFC 4271 §6.3 / RFC 7606 UPDATE errors

Deno.test("decodeUpdate() resets the session when the withdrawn or attribute lengths overrun", () => {
  assertEquals(fatal(decodeUpdate(fromHex("0005000000"), CTX4)), [3, 1, "", "session-reset"]);
  assertEquals(fatal(decodeUpdate(fromHex("00000010400101"), CTX4)), [3, 1, "", "session-reset"]);
  assertEquals(fatal(decodeUpdate(fromHex("00"), CTX4)), [3, 1, "", "session-reset"]);
});

Deno.test("decodeUpdate() resets the session on a malformed NLRI or withdrawn field (RFC 7606 §5.3)", () => {
  assertEquals(fatal(decodeUpdate(body(MANDATORY, "21CB007101FF"), CTX4)), [3, 10, "", "session-reset"]);
  assertEquals(fatal(decodeUpdate(body(MANDATORY, "18CB00"), CTX4)), [3, 10, "", "session-reset"]);
  assertEquals(fatal(decodeUpdate(body("", "", "20CB0071"), CTX4)), [3, 10, "", "session-reset"]);
});

Deno.test("decodeUpdate() treats a malformed ORIGIN as withdraw (RFC 7606 §7.1)", () => {
  assertEquals(withdrawn(decodeUpdate(body("4001020000" + AS_PATH4 + NEXT_HOP), CTX4)), [
    3,
    5,
    "4001020000",
    "treat-as-withdraw",
  ]);
  assertEquals(withdrawn(decodeUpdate(body("40010103" + AS_PATH4 + NEXT_HOP), CTX4)), [
    3,
    6,
    "40010103",
    "treat-as-withdraw",
  ]);
});

Deno.test("decodeUpdate() reports attribute flags that conflict with the type", () => {
  // ORIGIN marked optional; MED marked transitive; Partial on a well-known attribute.
  assertEquals(withdrawn(decodeUpdate(body("C0010100" + AS_PATH4 + NEXT_HOP), CTX4)), [
    3,
    4,
    "C0010100",
    "treat-as-withdraw",
  ]);
  assertEquals(withdrawn(decodeUpdate(body(MANDATORY + "C00404000000FF"), CTX4)), [
    3,
    4,
    "C00404000000FF",
    "treat-as-withdraw",
  ]);
  assertEquals(withdrawn(decodeUpdate(body("60010100" + AS_PATH4 + NEXT_HOP), CTX4)), [
    3,
    4,
    "60010100",
    "treat-as-withdraw",
  ]);
  // ATOMIC_AGGREGATE flags error: attribute discard (RFC 7606 §7.6).
  assertEquals(discarded(decodeUpdate(body(MANDATORY + "C00600"), CTX4)), [[
    3,
    4,
    "C00600",
    "attribute-discard",
  ]]);
});

Deno.test("decodeUpdate() treats a malformed AS_PATH as withdraw with Malformed AS_PATH (RFC 7606 §7.2)", () => {
  for (const path of ["40020602020000FDE9", "400206050100000001", "4002020200", "40020102"]) {
    assertEquals(withdrawn(decodeUpdate(body(ORIGIN + path + NEXT_HOP), CTX4)), [
      3,
      11,
      "",
      "treat-as-withdraw",
    ], path);
  }
  // A 2-octet peer's AS_PATH is read with 2-octet AS numbers: the same bytes are two ASes there.
  const r = decodeUpdate(body(ORIGIN + "400206020200010002" + NEXT_HOP), CTX2);
  assert(r.ok && r.value.treatAsWithdraw === undefined);
  assertEquals(r.value.update.attributes.asPath, [{ type: 2, asns: [1, 2] }]);
});

Deno.test("decodeUpdate() checks the length of every fixed-size attribute", () => {
  const cases: [string, BgpError["action"]][] = [
    ["400305C000020101", "treat-as-withdraw"], // NEXT_HOP
    ["800403000001", "treat-as-withdraw"], // MED
    ["40050500000000FF", "treat-as-withdraw"], // LOCAL_PREF
    ["80090300000A", "treat-as-withdraw"], // ORIGINATOR_ID
    ["800A050A0000010A", "treat-as-withdraw"], // CLUSTER_LIST
    ["C0080500010002FF", "treat-as-withdraw"], // COMMUNITIES
    ["C00800", "treat-as-withdraw"], // empty COMMUNITIES
    ["C010070002FDE9000000", "treat-as-withdraw"], // EXTENDED_COMMUNITIES
    ["C0200B" + "0000FDE900000001000000", "treat-as-withdraw"], // LARGE_COMMUNITY of 11 octets
    ["40060100", "attribute-discard"], // ATOMIC_AGGREGATE
    ["C00706FDE9C0000201", "attribute-discard"], // AGGREGATOR of 6 octets from a 4-octet peer
    ["C0120700" + "00FDE9C00002", "attribute-discard"], // AS4_AGGREGATOR
  ];
  for (const [attr, action] of cases) {
    const attrs = attr.startsWith("4003") ? ORIGIN + AS_PATH4 + attr : MANDATORY + attr;
    const r = decodeUpdate(body(attrs), CTX4);
    const got = action === "treat-as-withdraw" ? [withdrawn(r)] : discarded(r);
    assertEquals(got, [[3, 5, attr.toUpperCase(), action]], attr);
  }
});

Deno.test("decodeUpdate() discards a malformed AS4_PATH (RFC 6793 §6)", () => {
  assertEquals(discarded(decodeUpdate(body(MANDATORY2 + "C0110602020000FDE9"), CTX2)), [[
    3,
    9,
    "C0110602020000FDE9",
    "attribute-discard",
  ]]);
  // Confederation segments are not allowed in AS4_PATH.
  assertEquals(discarded(decodeUpdate(body(MANDATORY2 + "C0110603010000FDE9"), CTX2)), [[
    3,
    9,
    "C0110603010000FDE9",
    "attribute-discard",
  ]]);
});

Deno.test("decodeUpdate() resets the session on a malformed MP_REACH_NLRI or MP_UNREACH_NLRI (RFC 7606 §7.11)", () => {
  const badNextHop = "800E0A0002010520010DB80000";
  assertEquals(fatal(decodeUpdate(body(ORIGIN + AS_PATH4 + badNextHop, ""), CTX4)), [
    3,
    9,
    badNextHop,
    "session-reset",
  ]);
  const badNlri = "800E1600020110" + "20010DB8000000000000000000000001" + "00" + "81";
  assertEquals(fatal(decodeUpdate(body(ORIGIN + AS_PATH4 + badNlri, ""), CTX4)), [
    3,
    9,
    badNlri,
    "session-reset",
  ]);
  const shortUnreach = "800F020002";
  assertEquals(fatal(decodeUpdate(body(shortUnreach, ""), CTX4)), [3, 9, shortUnreach, "session-reset"]);
  const overrun = "800E0400020110";
  assertEquals(fatal(decodeUpdate(body(ORIGIN + AS_PATH4 + overrun, ""), CTX4)), [
    3,
    9,
    overrun,
    "session-reset",
  ]);
});

Deno.test("decodeUpdate() discards repeated attributes but resets on a repeated MP_REACH_NLRI (RFC 7606 §3 g)", () => {
  const r = decodeUpdate(body(MANDATORY + "40010102"), CTX4);
  assertEquals(discarded(r), [[3, 1, "", "attribute-discard"]]);
  assert(r.ok);
  assertEquals(r.value.update.attributes.origin, 0);
  const mp = "800F03000201";
  assertEquals(fatal(decodeUpdate(body(mp + mp, ""), CTX4)), [3, 1, "", "session-reset"]);
  // Codes above 31 and above 63 are tracked as well.
  const large = "C0200C0000FDE90000000100000002";
  assertEquals(discarded(decodeUpdate(body(MANDATORY + large + large), CTX4)), [[
    3,
    1,
    "",
    "attribute-discard",
  ]]);
  const unknown = "C0C80101";
  assertEquals(discarded(decodeUpdate(body(MANDATORY + unknown + unknown), CTX4)), [[
    3,
    1,
    "",
    "attribute-discard",
  ]]);
});

Deno.test("decodeUpdate() rejects an unrecognized well-known attribute with the attribute as data", () => {
  assertEquals(fatal(decodeUpdate(body(MANDATORY + "406301AA"), CTX4)), [3, 2, "406301AA", "session-reset"]);
});

Deno.test("decodeUpdate() reports missing well-known attributes only when there is NLRI (RFC 7606 §3 d)", () => {
  assertEquals(withdrawn(decodeUpdate(body(AS_PATH4 + NEXT_HOP), CTX4)), [3, 3, "01", "treat-as-withdraw"]);
  assertEquals(withdrawn(decodeUpdate(body(ORIGIN + NEXT_HOP), CTX4)), [3, 3, "02", "treat-as-withdraw"]);
  assertEquals(withdrawn(decodeUpdate(body(ORIGIN + AS_PATH4), CTX4)), [3, 3, "03", "treat-as-withdraw"]);
  // IPv6 announcements need no NEXT_HOP attribute.
  const mp = "800E1A00020110" + "20010DB8000000000000000000000001" + "00" + "2020010DB8";
  assertEquals(discarded(decodeUpdate(body(ORIGIN + AS_PATH4 + mp, ""), CTX4)), []);
  assertEquals(withdrawn(decodeUpdate(body(AS_PATH4 + mp, ""), CTX4)), [3, 3, "01", "treat-as-withdraw"]);
  // A withdraw-only UPDATE needs no attributes.
  assertEquals(discarded(decodeUpdate(body("", "", NLRI), CTX4)), []);
});

Deno.test("decodeUpdate() treats an attribute running past the attribute field as withdraw (RFC 7606 §4)", () => {
  assertEquals(withdrawn(decodeUpdate(body(MANDATORY + "C00808FDE90001"), CTX4)), [
    3,
    5,
    "C00808FDE90001",
    "treat-as-withdraw",
  ]);
  assertEquals(withdrawn(decodeUpdate(body(MANDATORY + "C0"), CTX4)), [3, 1, "", "treat-as-withdraw"]);
  assertEquals(withdrawn(decodeUpdate(body(MANDATORY + "D00800"), CTX4)), [3, 1, "", "treat-as-withdraw"]);
});

Deno.test("decodePathAttributes() keeps unknown optional attributes and sets Partial on transitive ones when re-encoding", () => {
  const { attributes, errors } = decodePathAttributes(fromHex("C0FE02ABCD" + "80FD01EE"), CTX4);
  assertEquals(errors, []);
  assertEquals(attributes.unknown, [
    { flags: 0xc0, code: 254, value: fromHex("ABCD") },
    { flags: 0x80, code: 253, value: fromHex("EE") },
  ]);
  assertEquals(toHex(encodePathAttributes(attributes, CTX4)), "80FD01EE" + "E0FE02ABCD");
  assertEquals(
    toHex(encodePathAttributes(attributes, CTX4, { markPartial: false })),
    "80FD01EE" + "C0FE02ABCD",
  );
});

Deno.test("decodePathAttributes() merges AS4_PATH and AS4_AGGREGATOR from a 2-octet peer (RFC 6793 §4.2.3)", () => {
  // AS_PATH 100 23456 200, AS4_PATH 70000 200 -> 100 70000 200.
  const merged = decodePathAttributes(
    fromHex("400208020300645BA000C8" + "C0110A020200011170000000C8"),
    CTX2,
  );
  assertEquals(merged.errors, []);
  assertEquals(merged.attributes.asPath, [{ type: 2, asns: [100, 70000, 200] }]);
  // An AS4_PATH longer than the AS_PATH is ignored.
  const longer = decodePathAttributes(fromHex("40020402015BA0" + "C0110A020200011170000000C8"), CTX2);
  assertEquals(longer.attributes.asPath, [{ type: 2, asns: [23456] }]);
  // AGGREGATOR AS_TRANS + AS4_AGGREGATOR -> the 4-octet aggregator.
  const agg = decodePathAttributes(fromHex("C007065BA0C0000201" + "C01208000111700A000001"), CTX2);
  assertEquals(agg.attributes.aggregator, { asn: 70000, address: "10.0.0.1" });
  // AGGREGATOR not AS_TRANS: AS4_AGGREGATOR and AS4_PATH are ignored.
  const ignored = decodePathAttributes(
    fromHex("40020402010064" + "C0070600C8C0000201" + "C01208000111700A000001" + "C01106020100011170"),
    CTX2,
  );
  assertEquals(ignored.attributes.aggregator, { asn: 200, address: "192.0.2.1" });
  assertEquals(ignored.attributes.asPath, [{ type: 2, asns: [100] }]);
});

Deno.test("decodePathAttributes() reads MRT RIB entry attributes (RFC 6396 §4.3.4)", () => {
  // 4-octet AS_PATH regardless of the context, abbreviated MP_REACH_NLRI with a global and link-local next hop.
  const bytes = fromHex(
    "40020602010000FDE9" + "800E21" + "20" + "20010DB8000000000000000000000001" +
      "FE800000000000000000000000000001",
  );
  const { attributes, errors } = decodePathAttributes(bytes, CTX2, { mrtRibEntry: true });
  assertEquals(errors, []);
  assertEquals(attributes.asPath, [{ type: 2, asns: [65001] }]);
  assertEquals(attributes.mpReach, { afi: 2, safi: 1, nextHops: ["2001:db8::1", "fe80::1"], nlri: [] });
});
