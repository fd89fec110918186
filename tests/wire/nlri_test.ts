import { deepStrictEqual, strictEqual } from "node:assert/strict";
import {
  decodePrefixes,
  encodePrefixes,
  ipv4ToString,
  ipv6ToString,
  parseIpv4,
  parseIpv6,
  parsePrefix,
  prefixToString,
} from "../../lib/wire/nlri.ts";

const bytes = (...b: number[]) => new Uint8Array(b);

Deno.test("decodePrefixes() reads IPv4 prefixes of every byte length", () => {
  const r = decodePrefixes(bytes(0, 8, 10, 24, 203, 0, 113, 32, 198, 51, 100, 7), 1, false);
  strictEqual(r.ok, true);
  if (!r.ok) return;
  deepStrictEqual(r.value.map(prefixToString), [
    "0.0.0.0/0",
    "10.0.0.0/8",
    "203.0.113.0/24",
    "198.51.100.7/32",
  ]);
});

Deno.test("decodePrefixes() masks host bits past the prefix length", () => {
  const r = decodePrefixes(bytes(13, 11, 13), 1, false);
  strictEqual(r.ok && prefixToString(r.value[0]), "11.8.0.0/13");
});

Deno.test("decodePrefixes() reads ADD-PATH path identifiers", () => {
  const r = decodePrefixes(bytes(0, 0, 0, 7, 24, 203, 0, 113, 0xff, 0xff, 0xff, 0xff, 0), 1, true);
  strictEqual(r.ok, true);
  if (!r.ok) return;
  deepStrictEqual(r.value.map((p) => [prefixToString(p), p.pathId]), [["203.0.113.0/24", 7], [
    "0.0.0.0/0",
    0xffffffff,
  ]]);
});

Deno.test("decodePrefixes() rejects an IPv4 length above 32 as Invalid Network Field", () => {
  const r = decodePrefixes(bytes(33, 1, 2, 3, 4, 5), 1, false);
  strictEqual(r.ok, false);
  if (r.ok) return;
  deepStrictEqual([r.error.code, r.error.subcode, r.error.data.length, r.error.action], [
    3,
    10,
    0,
    "session-reset",
  ]);
});

Deno.test("decodePrefixes() rejects an IPv6 length above 128 and truncated prefixes", () => {
  strictEqual(decodePrefixes(bytes(129, ...new Array(17).fill(0)), 2, false).ok, false);
  strictEqual(decodePrefixes(bytes(24, 1, 2), 1, false).ok, false);
  strictEqual(decodePrefixes(bytes(0, 0, 1), 1, true).ok, false);
  strictEqual(decodePrefixes(bytes(0, 0, 0, 1), 1, true).ok, false);
});

Deno.test("encodePrefixes() is the inverse of decodePrefixes()", () => {
  const wire = bytes(0, 0, 0, 1, 32, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 2, 0);
  const r = decodePrefixes(wire, 2, true);
  strictEqual(r.ok, true);
  if (!r.ok) return;
  deepStrictEqual(r.value.map(prefixToString), ["2001:db8::/32", "::/0"]);
  deepStrictEqual(encodePrefixes(r.value, true), wire);
});

Deno.test("ipv6ToString() follows RFC 5952", () => {
  const t = (s: string) => ipv6ToString(parseIpv6(s)!);
  strictEqual(t("2001:0db8:0000:0000:0000:0000:0000:0001"), "2001:db8::1");
  strictEqual(t("2001:db8:0:1:1:1:1:1"), "2001:db8:0:1:1:1:1:1");
  strictEqual(t("2001:0:0:1:0:0:0:1"), "2001:0:0:1::1");
  strictEqual(t("2001:db8:0:0:1:0:0:1"), "2001:db8::1:0:0:1");
  strictEqual(t("::"), "::");
  strictEqual(t("::1"), "::1");
  strictEqual(t("FE80::ABCD"), "fe80::abcd");
  strictEqual(t("::ffff:192.0.2.1"), "::ffff:192.0.2.1");
  strictEqual(t("1::"), "1::");
});

Deno.test("parseIpv6() and parseIpv4() reject malformed text", () => {
  for (
    const s of [
      "",
      ":",
      "1:2:3:4:5:6:7",
      "1:2:3:4:5:6:7:8:9",
      "1::2::3",
      "12345::",
      "g::",
      "1:2:3:4:5:6:7::8:9",
    ]
  ) {
    strictEqual(parseIpv6(s), undefined, s);
  }
  for (const s of ["", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.1.1.1", "a.b.c.d", "1..2.3"]) {
    strictEqual(parseIpv4(s), undefined, s);
  }
  strictEqual(ipv4ToString(parseIpv4("203.0.113.255")!), "203.0.113.255");
});

Deno.test("parsePrefix() clears host bits and rejects bad lengths", () => {
  strictEqual(prefixToString(parsePrefix("203.0.113.77/24")!), "203.0.113.0/24");
  strictEqual(prefixToString(parsePrefix("2001:db8:ffff::/31")!), "2001:db8::/31");
  strictEqual(parsePrefix("10.0.0.0/33"), undefined);
  strictEqual(parsePrefix("10.0.0.0/08"), undefined);
  strictEqual(parsePrefix("10.0.0.0"), undefined);
  strictEqual(parsePrefix("::/129"), undefined);
});
