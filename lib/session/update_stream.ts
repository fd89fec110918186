/**
 * Turns one batch of Adj-RIB-Out changes into as few UPDATE messages as fit the negotiated maximum
 * message size: withdrawals first, then each group of prefixes sharing attributes (BIRD's buckets).
 *
 * Pure and lazy: a generator, so a large batch never sits in memory as encoded messages all at once.
 *
 * @example
 * ```ts
 * import { updateMessages } from "./update_stream.ts";
 * import { DEFAULT_DECODE_CONTEXT } from "../wire/types.ts";
 * const msgs = [...updateMessages({ announce: [], withdraw: [] }, DEFAULT_DECODE_CONTEXT)]; // []
 * ```
 *
 * @module
 */

import { encodeMessage } from "../wire/message.ts";
import { encodePathAttributes } from "../wire/attributes.ts";
import type { DecodeContext, PathAttributes, Prefix } from "../wire/types.ts";
import type { AnnounceGroup, WithdrawGroup } from "./adj_rib_out.ts";

// Header (19) + withdrawn routes length (2) + total path attribute length (2).
const UPDATE_OVERHEAD = 23;
// An MP_(UN)REACH_NLRI attribute header with extended length: flags, code, 2-octet length.
const MP_ATTR_HEADER = 4;

function prefixSize(p: Prefix): number {
  return 1 + ((p.length + 7) >> 3);
}

/** Splits `prefixes` into runs whose encoded size stays within `budget` octets. */
function* chunks(prefixes: readonly Prefix[], budget: number): Generator<Prefix[]> {
  let start = 0;
  while (start < prefixes.length) {
    let size = 0;
    let end = start;
    while (end < prefixes.length) {
      const s = prefixSize(prefixes[end]);
      if (size + s > budget) break;
      size += s;
      end++;
    }
    if (end === start) throw new RangeError("A prefix does not fit an UPDATE");
    yield prefixes.slice(start, end);
    start = end;
  }
}

/** Encodes the changes as UPDATE messages for a session with decode context `ctx`. */
export function* updateMessages(
  changes: { readonly announce: readonly AnnounceGroup[]; readonly withdraw: readonly WithdrawGroup[] },
  ctx: DecodeContext,
): Generator<Uint8Array> {
  const max = ctx.maxMessageSize;
  for (const w of changes.withdraw) {
    if (!w.mp) {
      for (const part of chunks(w.withdrawn, max - UPDATE_OVERHEAD)) {
        yield encodeMessage({ type: 2, withdrawn: part, attributes: {}, nlri: [] }, ctx);
      }
      continue;
    }
    // MP_UNREACH_NLRI: AFI (2) + SAFI (1) before the prefixes.
    for (const part of chunks(w.withdrawn, max - UPDATE_OVERHEAD - MP_ATTR_HEADER - 3)) {
      const attributes: PathAttributes = { mpUnreach: { afi: w.afi, safi: 1, withdrawn: part } };
      yield encodeMessage({ type: 2, withdrawn: [], attributes, nlri: [] }, ctx);
    }
  }
  for (const g of changes.announce) {
    const reach = g.attributes.mpReach;
    if (reach === undefined) {
      const attrLen = encodePathAttributes(g.attributes, ctx).length;
      for (const part of chunks(g.nlri, max - UPDATE_OVERHEAD - attrLen)) {
        yield encodeMessage({ type: 2, withdrawn: [], attributes: g.attributes, nlri: part }, ctx);
      }
      continue;
    }
    // The prefixes travel inside MP_REACH_NLRI; its size without them is the attributes' size with none.
    const attrLen = encodePathAttributes(g.attributes, ctx).length;
    // Room for the extended length form of MP_REACH_NLRI once it grows past 255 octets.
    for (const part of chunks(g.nlri, max - UPDATE_OVERHEAD - attrLen - 1)) {
      const attributes: PathAttributes = { ...g.attributes, mpReach: { ...reach, nlri: part } };
      yield encodeMessage({ type: 2, withdrawn: [], attributes, nlri: [] }, ctx);
    }
  }
}
