/**
 * Comparisons for re-encoded messages that are not canonical on the wire.
 *
 * @module
 */

import type { Message } from "../../lib/wire/types.ts";
import { toHex } from "./hex.ts";

/** The attributes of an UPDATE body as sorted "flags/code/value" strings, Extended Length bit cleared. */
export function attributeSet(body: Uint8Array): string[] {
  const wlen = (body[0] << 8) | body[1];
  const at = 2 + wlen;
  const alen = (body[at] << 8) | body[at + 1];
  const out: string[] = [];
  let i = at + 2;
  while (i < at + 2 + alen) {
    const flags = body[i];
    const code = body[i + 1];
    const ext = (flags & 0x10) !== 0;
    const len = ext ? (body[i + 2] << 8) | body[i + 3] : body[i + 2];
    const start = i + (ext ? 4 : 3);
    out.push(`${(flags & 0xef).toString(16)}/${code}/${toHex(body.subarray(start, start + len))}`);
    i = start + len;
  }
  return out.sort();
}

/** The withdrawn routes and NLRI fields of an UPDATE body, as hex. */
export function withoutAttributes(body: Uint8Array): string {
  const wlen = (body[0] << 8) | body[1];
  const alen = (body[2 + wlen] << 8) | body[3 + wlen];
  return toHex(body.subarray(0, 2 + wlen)) + "|" + toHex(body.subarray(4 + wlen + alen));
}

/** Raw attributes in the encoder's order, so a re-decoded message compares equal to the original. */
export function normalised(m: Message): Message {
  if (m.type !== 2 || m.attributes.unknown === undefined) return m;
  const key = (code: number) => code === 14 ? -2 : code === 15 ? -1 : code;
  const unknown = [...m.attributes.unknown].sort((a, b) => key(a.code) - key(b.code));
  return { ...m, attributes: { ...m.attributes, unknown } };
}
