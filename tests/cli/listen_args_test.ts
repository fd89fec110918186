import { assert, assertEquals, assertStringIncludes } from "../assert.ts";
import { formatRouteEvent, parseListenArgs } from "../../lib/cli/listen.ts";

Deno.test("parseListenArgs() reports every problem at once", () => {
  const parsed = parseListenArgs([
    "--neighbor",
    "10.99.0.300",
    "--as",
    "0",
    "--port",
    "70000",
    "--hold-time",
    "2",
  ]);
  assert(!parsed.ok);
  assertEquals(parsed.errors, [
    "--neighbor=10.99.0.300: not an IPv4 or IPv6 address",
    "--as=0: must be an integer from 1 to 4294967295",
    "--port=70000: must be an integer from 0 to 65535",
    "--hold-time=2: must be 0 or from 3 to 65535 seconds",
  ]);
});

Deno.test("parseListenArgs() requires a neighbor and our AS, and has safe defaults", () => {
  const missing = parseListenArgs([]);
  assert(!missing.ok);
  assertEquals(missing.errors, [
    "--neighbor: at least one neighbor address is required",
    "--as: our AS number is required",
  ]);
  const parsed = parseListenArgs(["--neighbor", "::1", "--as", "4200000001"]);
  assert(parsed.ok);
  assertEquals(parsed.options.address, "127.0.0.1");
  assertEquals(parsed.options.port, 179);
  assertEquals(parsed.options.asn, 4200000001);
  assertEquals(parsed.options.json, false);
});

Deno.test("formatRouteEvent() prints aligned text and JSON lines", () => {
  const event = {
    kind: "announce" as const,
    prefix: "203.0.113.10/32",
    nextHop: "10.99.0.1",
    asPath: [65001],
    origin: "igp" as const,
    communities: ["65001:10"],
  };
  const now = new Date("2026-11-21T06:00:00.000Z");
  const text = formatRouteEvent("10.99.0.1", event, false, now);
  assertStringIncludes(text, "announce  203.0.113.10/32");
  assertStringIncludes(text, "as-path [65001]  origin igp  communities 65001:10");
  assertEquals(JSON.parse(formatRouteEvent("10.99.0.1", event, true, now)), {
    time: "2026-11-21T06:00:00.000Z",
    peer: "10.99.0.1",
    ...event,
  });
});
