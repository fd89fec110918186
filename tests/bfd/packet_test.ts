import { assertEquals } from "../assert.ts";
import {
  type BfdDecodeErrorKind,
  type ControlPacket,
  decodeControlPacket,
  Diagnostic,
  diagnosticName,
  EMPTY_CONTROL_PACKET,
  encodeControlPacket,
} from "../../lib/bfd/packet.ts";

function hex(text: string): Uint8Array {
  const clean = text.replace(/\s+/g, "");
  return Uint8Array.from(clean.match(/../g)!.map((b) => parseInt(b, 16)));
}

function errorKind(bytes: Uint8Array, authentication = false): BfdDecodeErrorKind | "ok" {
  const r = decodeControlPacket(bytes, { authentication });
  return r.ok ? "ok" : r.error.kind;
}

function patched(packet: Partial<ControlPacket>, patch: (b: Uint8Array) => void = () => {}): Uint8Array {
  const bytes = encodeControlPacket({ ...EMPTY_CONTROL_PACKET, ...packet });
  patch(bytes);
  return bytes;
}

// An Up packet as FRR's bfdd sends it: version 1, no diagnostic, Up, detect mult 3, 300 ms timers, echo 50 ms.
const FRR_UP = hex("20 c0 03 18 00000001 00000002 000493e0 000493e0 0000c350");

Deno.test("decodeControlPacket() reads every field of a known Up packet", () => {
  const r = decodeControlPacket(FRR_UP);
  assertEquals(r, {
    ok: true,
    packet: {
      diagnostic: 0,
      state: "Up",
      poll: false,
      final: false,
      controlPlaneIndependent: false,
      authenticationPresent: false,
      demand: false,
      multipoint: false,
      detectMult: 3,
      myDiscriminator: 1,
      yourDiscriminator: 2,
      desiredMinTxUs: 300_000,
      requiredMinRxUs: 300_000,
      requiredMinEchoRxUs: 50_000,
    },
  });
});

Deno.test("encodeControlPacket() produces the same bytes for the same packet", () => {
  const r = decodeControlPacket(FRR_UP);
  if (!r.ok) throw new Error(r.error.message);
  assertEquals(encodeControlPacket(r.packet), FRR_UP);
});

Deno.test("encodeControlPacket() and decodeControlPacket() round-trip every state, flag and diagnostic", () => {
  for (const state of ["AdminDown", "Down", "Init", "Up"] as const) {
    for (const [poll, final, cpi, demand] of [[true, false, true, false], [false, true, false, true]]) {
      for (const diagnostic of Object.values(Diagnostic)) {
        const packet: ControlPacket = {
          ...EMPTY_CONTROL_PACKET,
          state,
          poll,
          final,
          controlPlaneIndependent: cpi,
          demand,
          diagnostic,
          detectMult: 255,
          myDiscriminator: 0xffffffff,
          yourDiscriminator: 0x80000001,
          desiredMinTxUs: 4_294_967_000,
          requiredMinRxUs: 1,
          requiredMinEchoRxUs: 7,
        };
        assertEquals(decodeControlPacket(encodeControlPacket(packet)), { ok: true, packet });
      }
    }
  }
});

Deno.test("decodeControlPacket() rejects a datagram shorter than 24 bytes", () => {
  assertEquals(errorKind(FRR_UP.subarray(0, 23)), "truncated");
  assertEquals(errorKind(new Uint8Array(0)), "truncated");
});

Deno.test("decodeControlPacket() rejects a version other than 1", () => {
  assertEquals(errorKind(patched({}, (b) => b[0] = 0 << 5)), "bad-version");
  assertEquals(errorKind(patched({}, (b) => b[0] = 2 << 5)), "bad-version");
});

Deno.test("decodeControlPacket() rejects a Length below 24 or beyond the datagram", () => {
  assertEquals(errorKind(patched({}, (b) => b[3] = 23)), "bad-length");
  assertEquals(errorKind(patched({}, (b) => b[3] = 25)), "bad-length");
});

Deno.test("decodeControlPacket() ignores bytes after the Length field", () => {
  const longer = new Uint8Array(30);
  longer.set(FRR_UP);
  assertEquals(errorKind(longer), "ok");
});

Deno.test("decodeControlPacket() rejects a zero Detect Mult", () => {
  assertEquals(errorKind(patched({ state: "Down" }, (b) => b[2] = 0)), "zero-detect-mult");
});

Deno.test("decodeControlPacket() rejects the Multipoint bit", () => {
  assertEquals(errorKind(patched({ multipoint: true })), "multipoint");
});

Deno.test("decodeControlPacket() rejects a zero My Discriminator", () => {
  assertEquals(errorKind(patched({ myDiscriminator: 0 })), "zero-my-discriminator");
});

Deno.test("decodeControlPacket() accepts a zero Your Discriminator only in Down and AdminDown", () => {
  assertEquals(errorKind(patched({ state: "Down", yourDiscriminator: 0 })), "ok");
  assertEquals(errorKind(patched({ state: "AdminDown", yourDiscriminator: 0 })), "ok");
  assertEquals(errorKind(patched({ state: "Init", yourDiscriminator: 0 })), "zero-your-discriminator");
  assertEquals(errorKind(patched({ state: "Up", yourDiscriminator: 0 })), "zero-your-discriminator");
  assertEquals(errorKind(patched({ state: "Up", yourDiscriminator: 5 })), "ok");
});

Deno.test("decodeControlPacket() discards an authenticated packet when no authentication is configured", () => {
  const withAuth = new Uint8Array(26);
  withAuth.set(patched({ authenticationPresent: true }));
  withAuth[3] = 26;
  assertEquals(errorKind(withAuth), "unexpected-authentication");
  // With the A bit the minimum Length is 26.
  assertEquals(errorKind(patched({ authenticationPresent: true })), "bad-length");
});

Deno.test("decodeControlPacket() discards an unauthenticated packet when authentication is configured", () => {
  assertEquals(errorKind(FRR_UP, true), "missing-authentication");
});

Deno.test("decodeControlPacket() never throws on random bytes", () => {
  let seed = 12345;
  const next = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) & 0xff;
  for (let i = 0; i < 2000; i++) {
    const bytes = Uint8Array.from({ length: next() % 40 }, next);
    if (bytes.length > 0) bytes[0] = (bytes[0] & 0x1f) | 0x20;
    const r = decodeControlPacket(bytes);
    assertEquals(typeof r.ok, "boolean");
  }
});

Deno.test("diagnosticName() names the RFC 5880 codes", () => {
  assertEquals(diagnosticName(Diagnostic.ControlDetectionTimeExpired), "control detection time expired");
  assertEquals(diagnosticName(Diagnostic.NeighborSignaledSessionDown), "neighbor signaled session down");
  assertEquals(diagnosticName(31), "diagnostic 31");
});
