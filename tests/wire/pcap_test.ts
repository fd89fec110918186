/**
 * Every BGP message in the corpus packet captures decodes with the context its session negotiated, and
 * re-encodes to the same bytes or, when not canonical, to the same attributes.
 */
import { assert, assertEquals } from "../assert.ts";
import { decodeMessage, encodeMessage } from "../../lib/wire/message.ts";
import type { DecodeContext, Message } from "../../lib/wire/types.ts";
import { bgpStreams, negotiated, openOf } from "./pcap.ts";
import { CORPUS, toHex } from "./hex.ts";
import { attributeSet, normalised, withoutAttributes } from "./compare.ts";

const captures = [...Deno.readDirSync(CORPUS + "pcap")].map((e) => e.name).sort();

Deno.test("the corpus packet captures are present", () => {
  assert(captures.length >= 18, `Expected the packet captures in ${CORPUS}pcap, found ${captures.length}`);
});

Deno.test("decodeMessage() decodes and re-encodes every BGP message of the corpus captures", () => {
  let total = 0;
  let identical = 0;
  for (const name of captures) {
    const streams = bgpStreams(Deno.readFileSync(CORPUS + "pcap/" + name));
    assert(streams.some((s) => s.messages.length > 0), `${name}: no BGP message found`);
    for (const s of streams) {
      const sender = openOf(s.messages);
      const receiver = openOf(streams.find((x) => x.flow === s.reverse)?.messages ?? []);
      // Captures that start after the OPENs: the session must have been one of these.
      const contexts: DecodeContext[] = sender && receiver
        ? [negotiated(sender, receiver)]
        : [{ fourOctetAs: false, addPath: [], maxMessageSize: 4096 }, {
          fourOctetAs: true,
          addPath: [],
          maxMessageSize: 4096,
        }];
      s.messages.forEach((bytes, i) => {
        const where = `${name} ${s.flow} #${i}`;
        total++;
        let decoded: { value: Message; ctx: DecodeContext } | undefined;
        for (const ctx of contexts) {
          const r = decodeMessage(bytes, ctx);
          if (r.ok) {
            decoded = { value: r.value, ctx };
            break;
          }
        }
        assert(decoded !== undefined, `${where}: does not decode`);
        const again = encodeMessage(decoded.value, decoded.ctx, { markPartial: false });
        if (toHex(again) === toHex(bytes)) {
          identical++;
          return;
        }
        const back = decodeMessage(again, decoded.ctx);
        assert(back.ok, where);
        assertEquals(normalised(back.value), normalised(decoded.value), where);
        if (decoded.value.type === 2) {
          assertEquals(attributeSet(again.subarray(19)), attributeSet(bytes.subarray(19)), where);
          assertEquals(withoutAttributes(again.subarray(19)), withoutAttributes(bytes.subarray(19)), where);
        }
      });
    }
  }
  assert(total >= 150, `Only ${total} BGP messages found in the captures`);
  // Cisco IOS puts MP_REACH_NLRI last and sends OPEN capabilities one per parameter like us; the rest match.
  assert(identical >= total - 20, `Only ${identical} of ${total} captured messages re-encode identically`);
});

Deno.test("decodeMessage() reads ADD-PATH identifiers from the bgp-add-path capture", () => {
  const streams = bgpStreams(Deno.readFileSync(CORPUS + "pcap/bgp-add-path.cap"));
  const withUpdates = streams.filter((s) => s.messages.some((m) => m[18] === 2));
  let pathIds = 0;
  for (const s of withUpdates) {
    const ctx = negotiated(openOf(s.messages)!, openOf(streams.find((x) => x.flow === s.reverse)!.messages)!);
    assert(ctx.addPath.length > 0, `${s.flow}: ADD-PATH not negotiated`);
    for (const m of s.messages.filter((x) => x[18] === 2)) {
      const r = decodeMessage(m, ctx);
      assert(r.ok && r.value.type === 2);
      pathIds += [...r.value.nlri, ...r.value.withdrawn].filter((p) => p.pathId !== undefined).length;
    }
  }
  assert(pathIds > 0, "No path identifiers decoded");
});
