/**
 * Static (bytes, message) pairs: each decodes to the message and the message encodes to the bytes.
 */
import { assert, assertEquals } from "../assert.ts";
import {
  decodeMessage,
  encodeMessage,
  END_OF_RIB_IPV4_UNICAST,
  END_OF_RIB_IPV6_UNICAST,
  endOfRib,
  KEEPALIVE,
} from "../../lib/wire/message.ts";
import { isEndOfRib } from "../../lib/wire/update.ts";
import { parsePrefix } from "../../lib/wire/nlri.ts";
import type { DecodeContext, Message } from "../../lib/wire/types.ts";
import { fromHex, toHex } from "./hex.ts";

const CTX: DecodeContext = { fourOctetAs: true, addPath: [], maxMessageSize: 4096 };
const M = "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF";
const p = (text: string) => parsePrefix(text)!;

/** A whole message from its type and body; the header length is computed. */
function msg(type: number, body: string): string {
  const length = 19 + body.replace(/ /g, "").length / 2;
  return M + length.toString(16).padStart(4, "0").toUpperCase() + type.toString(16).padStart(2, "0") +
    body.replace(/ /g, "");
}

const pairs: { name: string; hex: string; message: Message; ctx?: DecodeContext }[] = [
  { name: "KEEPALIVE", hex: msg(4, ""), message: { type: 4 } },
  {
    name: "OPEN with multiprotocol, route refresh, 4-octet AS, graceful restart and FQDN",
    hex: msg(
      1,
      "04 5BA0 005A 0A630001 31" + " 0206 0104 00010001" + " 0206 0104 00020001" + " 0202 0200" +
        " 0206 4104 00030D40" + " 0208 4006 8078 0001 01 80" + " 0209 4907 05 73706B6572 00",
    ),
    message: {
      type: 1,
      version: 4,
      asn: 23456,
      holdTime: 90,
      routerId: "10.99.0.1",
      capabilities: [
        { code: 1, afi: 1, safi: 1 },
        { code: 1, afi: 2, safi: 1 },
        { code: 2 },
        { code: 65, asn: 200000 },
        {
          code: 64,
          restarting: true,
          notification: false,
          restartTime: 120,
          families: [{ afi: 1, safi: 1, forwarding: true }],
        },
        { code: 73, hostname: "spker", domain: "" },
      ],
    },
  },
  {
    name: "UPDATE announcing IPv4 prefixes with communities and large communities",
    hex: msg(
      2,
      "0000 0035" + " 40010100" + " 40020A 0202 0000FDE9 00030D40" + " 4003040A630001" + " 800404000000C8" +
        " C00804FDE90064" + " C0200C 0000FDE9 00000001 0000002A" + " 18CB0071" + " 20C6336407",
    ),
    message: {
      type: 2,
      withdrawn: [],
      attributes: {
        origin: 0,
        asPath: [{ type: 2, asns: [65001, 200000] }],
        nextHop: "10.99.0.1",
        med: 200,
        communities: [0xfde90064],
        largeCommunities: [[65001, 1, 42]],
      },
      nlri: [p("203.0.113.0/24"), p("198.51.100.7/32")],
    },
  },
  {
    name: "UPDATE announcing IPv6 with a global and a link-local next hop",
    hex: msg(
      2,
      "0000 0034" +
        " 800E2A 0002 01 20 FD990000000000000000000000000001 FE800000000000000000000000000001 00" +
        " 2020010DB8" + " 40010100" + " 400200",
    ),
    message: {
      type: 2,
      withdrawn: [],
      attributes: {
        mpReach: { afi: 2, safi: 1, nextHops: ["fd99::1", "fe80::1"], nlri: [p("2001:db8::/32")] },
        origin: 0,
        asPath: [],
      },
      nlri: [],
    },
  },
  {
    name: "UPDATE withdrawing IPv4 and IPv6 prefixes with ADD-PATH",
    hex: msg(2, "0008 00000007 1864400A" + " 000F" + " 800F0C 0002 01 00000002 2020010DB8"),
    message: {
      type: 2,
      withdrawn: [{ ...p("100.64.10.0/24"), pathId: 7 }],
      attributes: { mpUnreach: { afi: 2, safi: 1, withdrawn: [{ ...p("2001:db8::/32"), pathId: 2 }] } },
      nlri: [],
    },
    ctx: { fourOctetAs: true, addPath: [{ afi: 1, safi: 1 }, { afi: 2, safi: 1 }], maxMessageSize: 4096 },
  },
  {
    name: "NOTIFICATION Cease/Administrative Shutdown with an RFC 9003 communication",
    hex: msg(3, "0602 09 6D61696E74656E616E"),
    message: {
      type: 3,
      code: 6,
      subcode: 2,
      data: fromHex("09" + "6D61696E74656E616E"),
      shutdownMessage: "maintenan",
    },
  },
  {
    name: "NOTIFICATION UPDATE Message Error/Missing Well-known Attribute",
    hex: msg(3, "0303 01"),
    message: { type: 3, code: 3, subcode: 3, data: fromHex("01") },
  },
  {
    name: "ROUTE-REFRESH Beginning of Route Refresh for IPv6 unicast",
    hex: msg(5, "0002 01 01"),
    message: { type: 5, afi: 2, safi: 1, subtype: 1 },
  },
];

for (const { name, hex, message, ctx } of pairs) {
  Deno.test(`decodeMessage() and encodeMessage() agree on ${name}`, () => {
    const bytes = fromHex(hex);
    const r = decodeMessage(bytes, ctx ?? CTX);
    assert(r.ok, !r.ok ? r.error.reason : "");
    assertEquals(r.value, message);
    assertEquals(toHex(encodeMessage(message, ctx ?? CTX)), toHex(bytes));
  });
}

Deno.test("KEEPALIVE and the End-of-RIB constants are the RFC 4271 and RFC 4724 messages", () => {
  assertEquals(toHex(KEEPALIVE), M + "001304");
  assertEquals(toHex(END_OF_RIB_IPV4_UNICAST), M + "00170200000000");
  assertEquals(toHex(END_OF_RIB_IPV6_UNICAST), M + "001D0200000006800F03000201");
  for (
    const family of [{ afi: 1 as const, safi: 1 }, { afi: 2 as const, safi: 1 }, { afi: 1 as const, safi: 2 }]
  ) {
    const r = decodeMessage(endOfRib(family), CTX);
    assert(r.ok && r.value.type === 2);
    assertEquals(isEndOfRib(r.value), family);
  }
});

Deno.test("isEndOfRib() recognises End-of-RIB of families the codec keeps raw, and nothing else", () => {
  const flowspec = decodeMessage(fromHex(M + "001D0200000006800F03000185"), CTX);
  assert(flowspec.ok && flowspec.value.type === 2);
  assertEquals(isEndOfRib(flowspec.value), { afi: 1, safi: 133 });
  const withdraw = decodeMessage(fromHex(M + "001B0200041864400A0000"), CTX);
  assert(withdraw.ok && withdraw.value.type === 2);
  assertEquals(isEndOfRib(withdraw.value), undefined);
});

Deno.test("decodeNotification() ignores a shutdown communication that is not UTF-8 or overruns the data", () => {
  for (const data of ["02C328", "05414243", "03414243"]) {
    const r = decodeMessage(fromHex(msg(3, "0604" + data)), CTX);
    assert(r.ok && r.value.type === 3);
    const expected = data === "03414243" ? "ABC" : undefined;
    assertEquals(r.value.shutdownMessage, expected, data);
    assertEquals(toHex(r.value.data), data);
  }
});

Deno.test("encodeMessage() cuts a long shutdown communication at 255 octets on a character boundary", () => {
  const text = "é".repeat(200); // 400 octets of UTF-8
  const bytes = encodeMessage({
    type: 3,
    code: 6,
    subcode: 2,
    data: new Uint8Array(0),
    shutdownMessage: text,
  }, CTX);
  assertEquals(bytes[21], 254);
  const r = decodeMessage(bytes, CTX);
  assert(r.ok && r.value.type === 3);
  assertEquals(r.value.shutdownMessage, "é".repeat(127));
});

Deno.test("decodeMessage() keeps the ORF entries of a ROUTE-REFRESH (RFC 5291) and rejects short ones (RFC 7313 §5)", () => {
  const orf = decodeMessage(fromHex(msg(5, "0001 00 01 40 0007 AABBCC")), CTX);
  assert(orf.ok && orf.value.type === 5);
  assertEquals(orf.value.orf, fromHex("400007AABBCC"));
  assertEquals(toHex(encodeMessage(orf.value, CTX)), msg(5, "0001 00 01 40 0007 AABBCC"));
  for (const body of ["0001 01 01 00", "0001 02 01 00", "000100"]) {
    const whole = fromHex(msg(5, body));
    const r = decodeMessage(whole, CTX);
    assert(!r.ok, body);
    assertEquals([r.error.code, r.error.subcode, toHex(r.error.data), r.error.action], [
      7,
      1,
      toHex(whole),
      "session-reset",
    ], body);
  }
});
