import { assert, assertEquals } from "../assert.ts";
import { ipv4UpdateMessages } from "../../lib/session/ipv4_updates.ts";
import { ipv4Key } from "../../lib/session/adj_rib_out.ts";
import { encodePathAttributes } from "../../lib/wire/attributes.ts";
import { decodeMessage } from "../../lib/wire/message.ts";
import { parsePrefix, prefixToString } from "../../lib/wire/nlri.ts";
import type { DecodeContext, UpdateMessage } from "../../lib/wire/types.ts";

const CTX: DecodeContext = { fourOctetAs: true, addPath: [], maxMessageSize: 4096 };
const ATTRS = { origin: 0 as const, asPath: [{ type: 2 as const, asns: [65001] }], nextHop: "10.99.0.1" };

function key(text: string): number {
  const p = parsePrefix(text)!;
  return ipv4Key(p.addr, p.length);
}

function decodeAll(msgs: Uint8Array[]): UpdateMessage[] {
  return msgs.map((m) => {
    const r = decodeMessage(m, CTX);
    assert(r.ok, JSON.stringify(r));
    assert(r.value.type === 2);
    return r.value;
  });
}

Deno.test("ipv4UpdateMessages() writes UPDATEs the codec decodes to the same prefixes and attributes", () => {
  const prefixes = ["0.0.0.0/0", "10.0.0.0/8", "100.64.0.0/10", "203.0.113.0/24", "198.51.100.1/32"];
  const msgs = [...ipv4UpdateMessages(encodePathAttributes(ATTRS, CTX), prefixes.map(key), [], 4096)];
  assertEquals(msgs.length, 1);
  const [u] = decodeAll(msgs);
  assertEquals(u.nlri.map(prefixToString), prefixes);
  assertEquals(u.attributes.nextHop, "10.99.0.1");
  assertEquals(u.attributes.asPath, [{ type: 2, asns: [65001] }]);
  assertEquals(u.withdrawn.length, 0);
});

Deno.test("ipv4UpdateMessages() fills each UPDATE up to the maximum size and loses no prefix", () => {
  const keys = Array.from({ length: 5000 }, (_, i) => key(`100.64.${i >> 8}.${i & 255}/32`));
  const wd = Array.from({ length: 2000 }, (_, i) => key(`100.65.${i >> 8}.${i & 255}/32`));
  const msgs = [...ipv4UpdateMessages(encodePathAttributes(ATTRS, CTX), keys, wd, 4096)];
  for (const m of msgs) assert(m.length <= 4096);
  const updates = decodeAll(msgs);
  const announced = updates.flatMap((u) => u.nlri.map(prefixToString));
  const withdrawn = updates.flatMap((u) => u.withdrawn.map(prefixToString));
  assertEquals(announced.length, 5000);
  assertEquals(new Set(announced).size, 5000);
  assertEquals(withdrawn.length, 2000);
  // Withdrawals come first and carry no attributes.
  assert(updates[0].withdrawn.length > 0 && updates[0].nlri.length === 0);
  // 4096-octet UPDATEs hold about 800 /32s: the fewest messages that fit.
  assertEquals(
    updates.filter((u) => u.nlri.length > 0).length,
    Math.ceil(5000 / Math.floor((4096 - 23 - 25) / 5)),
  );
});

Deno.test("ipv4UpdateMessages() yields contiguous views that can be written as one buffer", () => {
  const keys = Array.from({ length: 3000 }, (_, i) => key(`100.64.${i >> 8}.${i & 255}/32`));
  const msgs = [...ipv4UpdateMessages(encodePathAttributes(ATTRS, CTX), keys, [], 4096)];
  for (let i = 1; i < msgs.length; i++) {
    assert(msgs[i].buffer === msgs[i - 1].buffer);
    assertEquals(msgs[i].byteOffset, msgs[i - 1].byteOffset + msgs[i - 1].length);
  }
});
