import { assert, assertEquals } from "../assert.ts";
import { allowedSourceAddresses, sourceAddressToward } from "../../lib/transport/source_address.ts";

Deno.test("sourceAddressToward() gives the kernel's source address on loopback, IPv4 and IPv6", () => {
  assertEquals(sourceAddressToward("127.0.0.2"), "127.0.0.1");
  assertEquals(sourceAddressToward("::1"), "::1");
});

Deno.test("allowedSourceAddresses() binds an allowed source and refuses the start otherwise", () => {
  const sources = new Map([["10.99.0.2", "10.99.0.1"], ["fd99::2", "fd99::1"]]);
  const toward = (n: string) => sources.get(n)!;
  const ok = allowedSourceAddresses(["10.99.0.2", "fd99::2"], { ipv4: ["10.99.0.1"], ipv6: [] }, toward);
  assert(ok.ok);
  assertEquals([...ok.localAddresses], [["10.99.0.2", "10.99.0.1"]], "only families with a list are bound");
  const refused = allowedSourceAddresses(["10.99.0.2"], { ipv4: ["10.99.0.9"], ipv6: [] }, toward);
  assert(!refused.ok);
  assertEquals(refused.errors, [
    "the source address toward neighbor 10.99.0.2 is 10.99.0.1, which is not among the allowed source " +
    "addresses (10.99.0.9)",
  ]);
});
