/**
 * OPEN capabilities (RFC 5492): every code of the data model decoded, anything else (and any capability
 * whose value does not have the size its RFC prescribes) kept as raw bytes.
 *
 * @module
 */

import { type Afi, type Capability, CapabilityCode } from "./types.ts";
import { isValidUtf8 } from "./utf8.ts";
import { WireWriter } from "./writer.ts";

const utf8 = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });
const utf8Encoder = new TextEncoder();

function u16(b: Uint8Array, i: number): number {
  return (b[i] << 8) | b[i + 1];
}

/**
 * Decodes the value of one capability. Known codes with a malformed value come back raw, so the session
 * sees them as unsupported rather than misreading them.
 *
 * @example
 * ```ts
 * decodeCapability(65, new Uint8Array([0, 0, 0xfd, 0xe9])); // { code: 65, asn: 65001 }
 * ```
 */
export function decodeCapability(code: number, v: Uint8Array): Capability {
  const raw = (): Capability => ({ code, raw: v.slice() });
  switch (code) {
    case CapabilityCode.MULTIPROTOCOL:
      if (v.length !== 4) return raw();
      return { code: 1, afi: u16(v, 0) as Afi, safi: v[3] };
    case CapabilityCode.ROUTE_REFRESH:
      return v.length === 0 ? { code: 2 } : raw();
    case CapabilityCode.EXTENDED_NEXT_HOP: {
      // RFC 8950 §3: (NLRI AFI, NLRI SAFI, Nexthop AFI), 2 octets each.
      if (v.length === 0 || v.length % 6 !== 0) return raw();
      const entries = [];
      for (let i = 0; i < v.length; i += 6) {
        entries.push({ afi: u16(v, i) as Afi, safi: u16(v, i + 2), nextHopAfi: u16(v, i + 4) as Afi });
      }
      return { code: 5, entries };
    }
    case CapabilityCode.EXTENDED_MESSAGE:
      return v.length === 0 ? { code: 6 } : raw();
    case CapabilityCode.GRACEFUL_RESTART: {
      // RFC 4724 §3: R and N (RFC 8538) bits, 12-bit restart time, then (AFI, SAFI, flags) tuples.
      if (v.length < 2 || (v.length - 2) % 4 !== 0) return raw();
      const families = [];
      for (let i = 2; i < v.length; i += 4) {
        families.push({ afi: u16(v, i) as Afi, safi: v[i + 2], forwarding: (v[i + 3] & 0x80) !== 0 });
      }
      return {
        code: 64,
        restarting: (v[0] & 0x80) !== 0,
        notification: (v[0] & 0x40) !== 0,
        restartTime: u16(v, 0) & 0x0fff,
        families,
      };
    }
    case CapabilityCode.FOUR_OCTET_AS:
      if (v.length !== 4) return raw();
      return { code: 65, asn: ((v[0] << 24) | (v[1] << 16) | (v[2] << 8) | v[3]) >>> 0 };
    case CapabilityCode.ADD_PATH: {
      if (v.length === 0 || v.length % 4 !== 0) return raw();
      const entries: { afi: Afi; safi: number; mode: 1 | 2 | 3 }[] = [];
      for (let i = 0; i < v.length; i += 4) {
        const mode = v[i + 3];
        if (mode < 1 || mode > 3) return raw();
        entries.push({ afi: u16(v, i) as Afi, safi: v[i + 2], mode: mode as 1 | 2 | 3 });
      }
      return { code: 69, entries };
    }
    case CapabilityCode.ENHANCED_ROUTE_REFRESH:
      return v.length === 0 ? { code: 70 } : raw();
    case CapabilityCode.LONG_LIVED_GRACEFUL_RESTART: {
      // RFC 9494 §3: (AFI, SAFI, flags, 24-bit stale time) tuples.
      if (v.length % 7 !== 0) return raw();
      const entries = [];
      for (let i = 0; i < v.length; i += 7) {
        entries.push({
          afi: u16(v, i) as Afi,
          safi: v[i + 2],
          forwarding: (v[i + 3] & 0x80) !== 0,
          staleTime: (v[i + 4] << 16) | (v[i + 5] << 8) | v[i + 6],
        });
      }
      return { code: 71, entries };
    }
    case CapabilityCode.FQDN: {
      // draft-walton-bgp-hostname-capability: hostname length, hostname, domain length, domain.
      if (v.length < 2) return raw();
      const hl = v[0];
      if (1 + hl + 1 > v.length) return raw();
      const dl = v[1 + hl];
      if (2 + hl + dl !== v.length) return raw();
      const host = v.subarray(1, 1 + hl);
      const domain = v.subarray(2 + hl, 2 + hl + dl);
      // Text that is not UTF-8 stays raw, so re-encoding gives back the same octets.
      if (!isValidUtf8(host) || !isValidUtf8(domain)) return raw();
      return {
        code: 73,
        hostname: utf8.decode(host),
        domain: utf8.decode(domain),
      };
    }
    default:
      return raw();
  }
}

/**
 * Decodes a sequence of capabilities (the value of a Capabilities optional parameter). Returns undefined
 * when a capability runs past the end (the caller reports it as an OPEN error).
 */
export function decodeCapabilities(v: Uint8Array): Capability[] | undefined {
  const out: Capability[] = [];
  let i = 0;
  while (i < v.length) {
    if (i + 2 > v.length) return undefined;
    const code = v[i];
    const len = v[i + 1];
    if (i + 2 + len > v.length) return undefined;
    out.push(decodeCapability(code, v.subarray(i + 2, i + 2 + len)));
    i += 2 + len;
  }
  return out;
}

/** The value of one capability as bytes. Throws a RangeError for an FQDN part longer than 255 octets. */
export function encodeCapabilityValue(cap: Capability): Uint8Array {
  if ("raw" in cap) return cap.raw;
  const w = new WireWriter(16);
  switch (cap.code) {
    case 1:
      w.u16(cap.afi);
      w.u8(0);
      w.u8(cap.safi);
      break;
    case 5:
      for (const e of cap.entries) {
        w.u16(e.afi);
        w.u16(e.safi);
        w.u16(e.nextHopAfi);
      }
      break;
    case 64:
      w.u16((cap.restarting ? 0x8000 : 0) | (cap.notification ? 0x4000 : 0) | (cap.restartTime & 0x0fff));
      for (const f of cap.families) {
        w.u16(f.afi);
        w.u8(f.safi);
        w.u8(f.forwarding ? 0x80 : 0);
      }
      break;
    case 65:
      w.u32(cap.asn);
      break;
    case 69:
      for (const e of cap.entries) {
        w.u16(e.afi);
        w.u8(e.safi);
        w.u8(e.mode);
      }
      break;
    case 71:
      for (const e of cap.entries) {
        w.u16(e.afi);
        w.u8(e.safi);
        w.u8(e.forwarding ? 0x80 : 0);
        w.u8(e.staleTime >>> 16);
        w.u16(e.staleTime & 0xffff);
      }
      break;
    case 73: {
      const h = utf8Encoder.encode(cap.hostname);
      const d = utf8Encoder.encode(cap.domain);
      if (h.length > 255 || d.length > 255) {
        throw new RangeError("FQDN capability part longer than 255 octets");
      }
      w.u8(h.length);
      w.bytes(h);
      w.u8(d.length);
      w.bytes(d);
      break;
    }
  }
  return w.finish();
}

/**
 * Encodes capabilities as a sequence of (code, length, value). Throws a RangeError for a value over 255
 * octets.
 *
 * @example
 * ```ts
 * encodeCapabilities([{ code: 2 }]); // Uint8Array [2, 0]
 * ```
 */
export function encodeCapabilities(caps: readonly Capability[]): Uint8Array {
  const w = new WireWriter(64);
  for (const cap of caps) {
    const v = encodeCapabilityValue(cap);
    if (v.length > 255) {
      throw new RangeError(`Capability ${cap.code} value of ${v.length} octets exceeds 255`);
    }
    w.u8(cap.code);
    w.u8(v.length);
    w.bytes(v);
  }
  return w.finish();
}
