/**
 * A tiny capture reader for the wire tests: libpcap and pcapng files with Ethernet, Cisco HDLC or Frame
 * Relay framing, IPv4/IPv6 and TCP, reassembled per direction into BGP messages.
 *
 * @module
 */

import { frameLength } from "../../lib/wire/message.ts";
import { decodeOpen } from "../../lib/wire/open.ts";
import type { Capability, DecodeContext, Family, OpenMessage } from "../../lib/wire/types.ts";

/** One TCP segment with payload. */
interface Segment {
  readonly flow: string;
  readonly seq: number;
  readonly payload: Uint8Array;
}

/** The BGP messages one side of a TCP connection sent, in order. */
export interface BgpStream {
  /** "source address:port > destination address:port". */
  readonly flow: string;
  /** The same connection seen the other way round. */
  readonly reverse: string;
  readonly messages: Uint8Array[];
}

const LINKTYPE_ETHERNET = 1;
const LINKTYPE_C_HDLC = 104;
const LINKTYPE_FRELAY = 107;

function frames(file: Uint8Array): { linkType: number; data: Uint8Array }[] {
  const dv = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const out: { linkType: number; data: Uint8Array }[] = [];
  const magic = dv.getUint32(0, false);
  if (magic === 0x0a0d0d0a) {
    // pcapng: blocks of (type, total length, body, total length).
    const little = dv.getUint32(8, true) === 0x1a2b3c4d;
    const linkTypes: number[] = [];
    let at = 0;
    while (at + 12 <= file.length) {
      const type = dv.getUint32(at, little);
      const len = dv.getUint32(at + 4, little);
      if (len < 12 || at + len > file.length) break;
      if (type === 1) linkTypes.push(dv.getUint16(at + 8, little));
      if (type === 6) {
        const iface = dv.getUint32(at + 8, little);
        const captured = dv.getUint32(at + 20, little);
        out.push({ linkType: linkTypes[iface], data: file.subarray(at + 28, at + 28 + captured) });
      }
      at += len;
    }
    return out;
  }
  const little = magic === 0xd4c3b2a1 || magic === 0x4d3cb2a1;
  if (!little && magic !== 0xa1b2c3d4 && magic !== 0xa1b23c4d) throw new Error("Not a pcap or pcapng file");
  const linkType = dv.getUint32(20, little);
  let at = 24;
  while (at + 16 <= file.length) {
    const captured = dv.getUint32(at + 8, little);
    out.push({ linkType, data: file.subarray(at + 16, at + 16 + captured) });
    at += 16 + captured;
  }
  return out;
}

function ipOffset(linkType: number, d: Uint8Array): number {
  if (linkType === LINKTYPE_ETHERNET) {
    let at = 12;
    while (d[at] === 0x81 && d[at + 1] === 0x00) at += 4; // 802.1Q tags
    return at + 2;
  }
  if (linkType === LINKTYPE_C_HDLC || linkType === LINKTYPE_FRELAY) return 4;
  throw new Error(`Unsupported link type ${linkType}`);
}

function addressText(d: Uint8Array, at: number, len: number): string {
  return len === 4
    ? [...d.subarray(at, at + 4)].join(".")
    : [...d.subarray(at, at + 16)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function segments(file: Uint8Array): Segment[] {
  const out: Segment[] = [];
  for (const { linkType, data: d } of frames(file)) {
    let at = ipOffset(linkType, d);
    let src: string, dst: string, end: number;
    const version = d[at] >> 4;
    if (version === 4) {
      if (d[at + 9] !== 6) continue;
      src = addressText(d, at + 12, 4);
      dst = addressText(d, at + 16, 4);
      end = at + ((d[at + 2] << 8) | d[at + 3]);
      at += (d[at] & 15) * 4;
    } else if (version === 6) {
      if (d[at + 6] !== 6) continue;
      src = addressText(d, at + 8, 16);
      dst = addressText(d, at + 24, 16);
      end = at + 40 + ((d[at + 4] << 8) | d[at + 5]);
      at += 40;
    } else continue;
    const sport = (d[at] << 8) | d[at + 1];
    const dport = (d[at + 2] << 8) | d[at + 3];
    const seq = ((d[at + 4] << 24) | (d[at + 5] << 16) | (d[at + 6] << 8) | d[at + 7]) >>> 0;
    const payload = d.subarray(at + (d[at + 12] >> 4) * 4, Math.min(end, d.length));
    if (payload.length > 0) out.push({ flow: `${src}:${sport} > ${dst}:${dport}`, seq, payload });
  }
  return out;
}

/**
 * The BGP messages of every TCP direction in a capture. Retransmitted bytes are skipped; after a gap
 * (bytes not captured), framing restarts at the next segment.
 */
export function bgpStreams(file: Uint8Array): BgpStream[] {
  const byFlow = new Map<string, { next?: number; buf: number[]; messages: Uint8Array[] }>();
  for (const s of segments(file)) {
    let st = byFlow.get(s.flow);
    if (st === undefined) byFlow.set(s.flow, st = { buf: [], messages: [] });
    let payload = s.payload;
    if (st.next !== undefined) {
      const delta = (s.seq - st.next) | 0;
      if (delta < 0) payload = payload.subarray(Math.min(-delta, payload.length)); // retransmission
      else if (delta > 0) st.buf = []; // a gap: drop the partial message
    }
    st.next = (s.seq + s.payload.length) >>> 0;
    st.buf.push(...payload);
    const buf = new Uint8Array(st.buf);
    let at = 0;
    while (true) {
      const len = frameLength(buf, at, 65535);
      if (typeof len !== "number") {
        st.buf = []; // not at a message boundary: wait for the next segment to resynchronise
        at = buf.length;
        break;
      }
      if (len === 0 || at + len > buf.length) break;
      st.messages.push(buf.slice(at, at + len));
      at += len;
    }
    st.buf = st.buf.slice(at);
  }
  return [...byFlow].map(([flow, st]) => {
    const [a, b] = flow.split(" > ");
    return { flow, reverse: `${b} > ${a}`, messages: st.messages };
  });
}

/** The OPEN among `messages`, decoded, if any. */
export function openOf(messages: Uint8Array[]): OpenMessage | undefined {
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
export function negotiated(sender: OpenMessage, receiver: OpenMessage): DecodeContext {
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
