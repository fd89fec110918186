import { assertEquals } from "../assert.ts";
import { parseGoBool, parseGoDuration, parseGoInt, parseGoUint } from "../../lib/config/go_values.ts";
import { parseIp } from "../../lib/config/ip_address.ts";

const S = 1_000_000_000n;

Deno.test("parseGoDuration() accepts Go's duration syntax", () => {
  const cases: Array<[string, bigint]> = [
    ["90s", 90n * S],
    ["1m30s", 90n * S],
    ["1h", 3600n * S],
    ["500ms", 500_000_000n],
    ["1.5h", 5400n * S],
    ["2h45m", 9900n * S],
    [".5s", 500_000_000n],
    ["1.s", S],
    ["-1.5m", -90n * S],
    ["+3s", 3n * S],
    ["0", 0n],
    ["-0", 0n],
    ["1us", 1000n],
    ["1\u00b5s", 1000n],
    ["1\u03bcs", 1000n],
    ["7ns", 7n],
    ["1h1m1s1ms1us1ns", 3661n * S + 1_001_001n],
    ["2562047h47m16.854775807s", (1n << 63n) - 1n],
  ];
  for (const [text, nanos] of cases) assertEquals(parseGoDuration(text), { ok: true, value: nanos }, text);
});

Deno.test("parseGoDuration() rejects what Go rejects, saying why", () => {
  const hint = "(use Go syntax such as 90s, 1m30s, 1h)";
  const cases: Array<[string, string]> = [
    ["90", `missing unit ${hint}`],
    ["1", `missing unit ${hint}`],
    ["1m30", `missing unit ${hint}`],
    ["90sec", `unknown unit "sec" ${hint}`],
    ["1d", `unknown unit "d" ${hint}`],
    ["", `invalid duration ${hint}`],
    ["s", `invalid duration ${hint}`],
    [".s", `invalid duration ${hint}`],
    ["-", `invalid duration ${hint}`],
    ["1 s", `unknown unit " s" ${hint}`],
    ["2562047h47m16.854775808s", "out of range"],
  ];
  for (const [text, reason] of cases) assertEquals(parseGoDuration(text), { ok: false, reason }, text);
});

Deno.test("parseGoBool() accepts exactly strconv.ParseBool's words", () => {
  for (const w of ["1", "t", "T", "TRUE", "true", "True"]) {
    assertEquals(parseGoBool(w), { ok: true, value: true });
  }
  for (const w of ["0", "f", "F", "FALSE", "false", "False"]) {
    assertEquals(parseGoBool(w), { ok: true, value: false });
  }
  for (const w of ["yes", "on", "tRUE", "", " true"]) assertEquals(parseGoBool(w).ok, false, w);
});

Deno.test("parseGoUint() reads base prefixes and underscores like strconv with base 0", () => {
  const cases: Array<[string, number]> = [
    ["65000", 65000],
    ["0x10", 16],
    ["0X1f", 31],
    ["0o17", 15],
    ["017", 15],
    ["0b101", 5],
    ["1_000", 1000],
    ["0x_ff", 255],
    ["0", 0],
    ["4294967295", 4294967295],
  ];
  for (const [text, value] of cases) assertEquals(parseGoUint(text, 32), { ok: true, value }, text);
  for (const text of ["", "-1", "+1", "1_", "_1", "1__0", "09", "0x", "12a", " 1", "1.0"]) {
    assertEquals(parseGoUint(text, 32), { ok: false, reason: "not an unsigned integer" }, text);
  }
  assertEquals(parseGoUint("4294967296", 32), { ok: false, reason: "out of range" });
  assertEquals(parseGoUint("256", 8), { ok: false, reason: "out of range" });
  assertEquals(parseGoUint("255", 8), { ok: true, value: 255 });
});

Deno.test("parseGoInt() reads signed values within the bit size", () => {
  assertEquals(parseGoInt("-2147483648", 32), { ok: true, value: -2147483648 });
  assertEquals(parseGoInt("+10667", 32), { ok: true, value: 10667 });
  assertEquals(parseGoInt("2147483648", 32), { ok: false, reason: "out of range" });
  assertEquals(parseGoInt("--1", 32), { ok: false, reason: "not an integer" });
});

Deno.test("parseIp() follows Go's net.ParseIP", () => {
  const good: Array<[string, 4 | 6, string]> = [
    ["10.0.0.1", 4, "10.0.0.1"],
    ["0.0.0.0", 4, "0.0.0.0"],
    ["255.255.255.255", 4, "255.255.255.255"],
    ["::ffff:10.0.0.1", 4, "10.0.0.1"],
    ["::FFFF:a00:1", 4, "10.0.0.1"],
    ["2001:DB8:0:0:0:0:0:1", 6, "2001:db8::1"],
    ["2001:db8::", 6, "2001:db8::"],
    ["::", 6, "::"],
    ["::1", 6, "::1"],
    ["2001:db8:0:1:0:0:0:1", 6, "2001:db8:0:1::1"],
    ["2001:0:0:1:0:0:0:1", 6, "2001:0:0:1::1"],
    ["2001:db8:1:1:1:1:1:0", 6, "2001:db8:1:1:1:1:1:0"],
    ["64:ff9b::192.0.2.33", 6, "64:ff9b::c000:221"],
    ["fe80::1:2:3:4", 6, "fe80::1:2:3:4"],
  ];
  for (const [text, family, canonical] of good) {
    assertEquals(parseIp(text), { family, text: canonical }, text);
  }
  const bad = [
    "",
    "10.0.0",
    "10.0.0.256",
    "10.0.0.01",
    "10.0.0.1/32",
    " 10.0.0.1",
    "fe80::1%eth0",
    "1::2::3",
    "1:2:3:4:5:6:7:8:9",
    "1:2:3:4:5:6:7",
    "12345::",
    "::g",
    "1:2:3:4:5:6:7::8:9",
    "::1.2.3",
    "localhost",
  ];
  for (const text of bad) assertEquals(parseIp(text), undefined, text);
});
