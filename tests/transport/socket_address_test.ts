import assert from "node:assert/strict";
import {
  formatEndpoint,
  formatIp,
  ipFamily,
  normalizeIp,
  parseIp,
  sameIp,
  tryParseIp,
} from "../../lib/transport/socket_address.ts";
import { decodeSockaddr, encodeSockaddr } from "../../lib/transport/libc.ts";

Deno.test("normalizeIp() gives one canonical text per address (RFC 5952, IPv4-mapped as IPv4)", () => {
  const cases: [string, string][] = [
    ["10.99.0.2", "10.99.0.2"],
    ["::ffff:127.0.0.1", "127.0.0.1"],
    ["::FFFF:7f00:1", "127.0.0.1"],
    ["[::1]", "::1"],
    ["0:0:0:0:0:0:0:1", "::1"],
    ["2001:DB8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
    ["2001:db8:0:0:0:0:2:1", "2001:db8::2:1"],
    ["2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"],
    ["fd99::", "fd99::"],
    ["::", "::"],
    ["64:ff9b::192.0.2.33", "64:ff9b::c000:221"],
  ];
  for (const [input, expected] of cases) assert.equal(normalizeIp(input), expected, input);
});

Deno.test("parseIp() refuses malformed addresses, zones and leading zeros", () => {
  for (
    const bad of [
      "",
      "1.2.3",
      "1.2.3.4.5",
      "256.1.1.1",
      "01.2.3.4",
      "1::2::3",
      ":1",
      "1:2:3:4:5:6:7:8:9",
      "fe80::1%eth0",
      "12345::",
      "1.2.3.4::",
      "host",
    ]
  ) {
    assert.equal(tryParseIp(bad), undefined, bad);
    assert.throws(() => parseIp(bad), /Invalid IP address/);
  }
});

Deno.test("ipFamily() and sameIp() treat IPv4-mapped IPv6 as IPv4", () => {
  assert.equal(ipFamily("::ffff:10.0.0.1"), 4);
  assert.equal(ipFamily("fd99::1"), 6);
  assert.ok(sameIp(parseIp("::ffff:10.0.0.1"), parseIp("10.0.0.1")));
  assert.ok(!sameIp(parseIp("10.0.0.1"), parseIp("10.0.0.2")));
  assert.equal(formatIp(Uint8Array.of(192, 0, 2, 1)), "192.0.2.1");
  assert.equal(formatEndpoint("fd99::1", 179), "[fd99::1]:179");
  assert.equal(formatEndpoint("10.0.0.1", 179), "10.0.0.1:179");
});

Deno.test("encodeSockaddr() lays out sockaddr_in and sockaddr_in6, mapping IPv4 on IPv6 sockets", () => {
  assert.deepEqual([...encodeSockaddr("10.99.0.2", 179, 4)], [
    2,
    0,
    0,
    179,
    10,
    99,
    0,
    2,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
  ]);
  const mapped = encodeSockaddr("10.99.0.2", 179, 6);
  assert.equal(mapped.length, 28);
  assert.deepEqual([...mapped.subarray(0, 4)], [10, 0, 0, 179]);
  assert.deepEqual([...mapped.subarray(8, 24)], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 99, 0, 2]);
  assert.equal(encodeSockaddr("fd99::1", 0, 6, 128).length, 128);
  assert.throws(() => encodeSockaddr("fd99::1", 179, 4), /IPv6 address fd99::1 on an IPv4 socket/);
  assert.deepEqual(decodeSockaddr(mapped), { family: 4, address: "10.99.0.2", port: 179 });
  assert.deepEqual(decodeSockaddr(encodeSockaddr("fd99::2", 1790, 6)), {
    family: 6,
    address: "fd99::2",
    port: 1790,
  });
});
