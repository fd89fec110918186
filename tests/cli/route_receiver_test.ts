import { assert, assertEquals, assertStringIncludes } from "../assert.ts";
import { RouteReceiver } from "../../lib/cli/route_receiver.ts";
import { encodeMessage, KEEPALIVE } from "../../lib/wire/message.ts";
import { parsePrefix } from "../../lib/wire/nlri.ts";
import { DEFAULT_DECODE_CONTEXT, type OpenMessage } from "../../lib/wire/types.ts";

const identity = { asn: 65000, routerId: "10.255.255.254", holdTime: 90 };
const peerOpen: OpenMessage = {
  type: 1,
  version: 4,
  asn: 65001,
  holdTime: 9,
  routerId: "10.99.0.1",
  capabilities: [{ code: 1, afi: 1, safi: 1 }, { code: 65, asn: 65001 }],
};
const ctx4 = { ...DEFAULT_DECODE_CONTEXT, fourOctetAs: true };

function established(now = 0): RouteReceiver {
  const receiver = new RouteReceiver(identity, now);
  receiver.open(now);
  const out = receiver.receive(encodeMessage(peerOpen, DEFAULT_DECODE_CONTEXT), now);
  assertEquals(out.events[0].kind, "up");
  return receiver;
}

Deno.test("RouteReceiver answers the peer's OPEN with a KEEPALIVE and negotiates the smaller hold time", () => {
  const receiver = new RouteReceiver(identity, 0);
  const ours = receiver.open(0);
  assertEquals(ours[18], 1, "our first message is an OPEN");
  const out = receiver.receive(encodeMessage(peerOpen, DEFAULT_DECODE_CONTEXT), 0);
  assertEquals(out.send, [KEEPALIVE]);
  assertEquals(out.events, [{ kind: "up", peerAsn: 65001, peerRouterId: "10.99.0.1", holdTime: 9 }]);
  assertEquals(out.close, false);
});

Deno.test("RouteReceiver reports announcements, withdrawals and End-of-RIB of an UPDATE stream", () => {
  const receiver = established();
  const update = encodeMessage({
    type: 2,
    withdrawn: [],
    attributes: {
      origin: 0,
      asPath: [{ type: 2, asns: [65001] }],
      nextHop: "10.99.0.1",
      communities: [(65001 << 16 | 10) >>> 0],
    },
    nlri: [parsePrefix("203.0.113.10/32")!],
  }, ctx4);
  const withdraw = encodeMessage({
    type: 2,
    withdrawn: [parsePrefix("203.0.113.10/32")!],
    attributes: {},
    nlri: [],
  }, ctx4);
  const eor = encodeMessage({ type: 2, withdrawn: [], attributes: {}, nlri: [] }, ctx4);
  // Split the stream mid-message: framing must carry the rest over.
  const stream = new Uint8Array([...update, ...withdraw, ...eor]);
  const first = receiver.receive(stream.subarray(0, 30), 1);
  const second = receiver.receive(stream.subarray(30), 2);
  assertEquals(first.events, []);
  assertEquals(second.events, [
    {
      kind: "announce",
      prefix: "203.0.113.10/32",
      nextHop: "10.99.0.1",
      asPath: [65001],
      origin: "igp",
      localPref: undefined,
      med: undefined,
      communities: ["65001:10"],
    },
    { kind: "withdraw", prefix: "203.0.113.10/32" },
    { kind: "end-of-rib", family: "ipv4" },
  ]);
});

Deno.test("RouteReceiver answers a bad marker with NOTIFICATION 1/1 and closes", () => {
  const receiver = established();
  const bad = new Uint8Array(KEEPALIVE);
  bad[3] = 0;
  const out = receiver.receive(bad, 1);
  assert(out.close);
  assertEquals(out.send.length, 1);
  assertEquals([out.send[0][18], out.send[0][19], out.send[0][20]], [3, 1, 1]);
  assertStringIncludes((out.events[0] as { reason: string }).reason, "NOTIFICATION 1/1 sent");
});

Deno.test("RouteReceiver refuses a peer of another AS when one is configured", () => {
  const receiver = new RouteReceiver({ ...identity, peerAsn: 65002 }, 0);
  const out = receiver.receive(encodeMessage(peerOpen, DEFAULT_DECODE_CONTEXT), 0);
  assert(out.close);
  assertEquals([out.send[0][19], out.send[0][20]], [2, 2]);
});

Deno.test("RouteReceiver sends keepalives at a third of the hold time and expires the hold timer", () => {
  const receiver = established(0);
  assertEquals(receiver.tick(2_000).send, []);
  assertEquals(receiver.tick(3_000).send, [KEEPALIVE]);
  receiver.receive(KEEPALIVE, 5_000);
  assertEquals(receiver.tick(13_000).close, false);
  const expired = receiver.tick(14_001);
  assert(expired.close);
  assertEquals([expired.send.at(-1)![19], expired.send.at(-1)![20]], [4, 0]);
});

Deno.test("RouteReceiver reports a received NOTIFICATION with its shutdown message", () => {
  const receiver = established();
  const text = new TextEncoder().encode("maintenance");
  const notification = encodeMessage(
    { type: 3, code: 6, subcode: 2, data: new Uint8Array([text.length, ...text]) },
    ctx4,
  );
  const out = receiver.receive(notification, 1);
  assert(out.close);
  assertEquals(out.send, []);
  assertEquals(out.events, [{ kind: "down", reason: 'NOTIFICATION 6/2 received: "maintenance"' }]);
});
