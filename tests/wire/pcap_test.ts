/**
 * Every BGP message in the corpus packet captures decodes with the context its session negotiated, and
 * re-encodes to the same bytes or, when not canonical, to the same attributes.
 */
import { assert, assertEquals } from "../assert.ts";
import { decodeMessage, encodeMessage } from "../../lib/wire/message.ts";
import { decodeOpen } from "../../lib/wire/open.ts";
import type { Capability, DecodeContext, Family, Message, OpenMessage } from "../../lib/wire/types.ts";
import { bgpStreams } from "./pcap.ts";
import { CORPUS, toHex } from "./hex.ts";
import { attributeSet, normalised, withoutAttributes } from "./compare.ts";

function openOf(messages: Uint8Array[]): OpenMessage | undefined {
  const m = messages.find((x) => x[18] === 1);
  if (m === undefined) return undefined;
  const r = decodeOpen(m.subarray(19));
  return r.ok ? r.value : undefined;
}

function has(open: OpenMessage, code: number): boolean {
  return open.capabilities.some((c) => c.code === code);
}

function addPathOf(open: OpenMessage): { afi: number; safi: number; mode: number }[] {
  return open.capabilities.flatMap((c: Capability) =>
    c.code === 69 && "entries" in c ? [...c.entries] as never[] : []
  );
}

/** The context for decoding what `sender` sends to `receiver` (RFC 6793, RFC 7911, RFC 8654). */
function negotiated(sender: OpenMessage, receiver: OpenMessage): DecodeContext {
  const addPath: Family[] = [];
  for (const s of addPathOf(sender)) {
    const r = addPathOf(receiver).find((x) => x.afi === s.afi && x.safi === s.safi);
    if ((s.mode & 2) && r !== undefined && (r.mode & 1)) addPath.push({ afi: s.afi as 1 | 2, safi: s.safi });
  }
  return {
    fourOctetAs: has(sender, 65) && has(receiver, 65),
    addPath,
    maxMessageSize: has(sender, 6) && has(receiver, 6) ? 65535 : 4096,
  };
}

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
