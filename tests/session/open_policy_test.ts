import { assert, assertEquals } from "../assert.ts";
import { AS_TRANS, buildOpen, type LocalOpenConfig, validateOpen } from "../../lib/session/open_policy.ts";
import type { Capability, OpenMessage } from "../../lib/wire/types.ts";

const LOCAL: LocalOpenConfig = {
  asn: 65001,
  routerId: "10.99.0.1",
  holdTime: 90,
  families: [{ afi: 1, safi: 1 }],
  hostname: "node-1",
};

function peerOpen(patch: Partial<OpenMessage> = {}): OpenMessage {
  const caps: Capability[] = [{ code: 1, afi: 1, safi: 1 }, { code: 2 }, { code: 65, asn: 65002 }];
  return {
    type: 1,
    version: 4,
    asn: 65002,
    holdTime: 30,
    routerId: "10.99.0.2",
    capabilities: caps,
    ...patch,
  };
}

function failure(open: OpenMessage, local = LOCAL, peerAsn = 65002): [number, number, number[]] {
  const r = validateOpen(open, local, { peerAsn });
  assert(!r.ok, "expected a NOTIFICATION");
  return [r.notification.code, r.notification.subcode, [...(r.notification.data ?? [])]];
}

Deno.test("buildOpen() announces every configured capability", () => {
  const open = buildOpen({
    ...LOCAL,
    families: [{ afi: 2, safi: 1 }, { afi: 1, safi: 1 }],
    gracefulRestart: { restartTime: 120, restarting: true, forwarding: true },
    extendedNextHop: true,
  });
  assertEquals(open.version, 4);
  assertEquals(open.asn, 65001);
  assertEquals(open.holdTime, 90);
  assertEquals(open.routerId, "10.99.0.1");
  const codes = open.capabilities.map((c) => c.code);
  assertEquals(codes, [1, 1, 2, 70, 5, 64, 65, 73]);
  assert(open.capabilities.some((c) => c.code === 1 && "afi" in c && c.afi === 2));
  const gr = open.capabilities.find((c) => c.code === 64);
  assertEquals(gr, {
    code: 64,
    restarting: true,
    notification: false,
    restartTime: 120,
    families: [{ afi: 2, safi: 1, forwarding: true }, { afi: 1, safi: 1, forwarding: true }],
  });
  assertEquals(open.capabilities.find((c) => c.code === 73), { code: 73, hostname: "node-1", domain: "" });
  assertEquals(open.capabilities.find((c) => c.code === 5), {
    code: 5,
    entries: [{ afi: 1, safi: 1, nextHopAfi: 2 }],
  });
});

Deno.test("buildOpen() leaves out graceful restart and extended next hop unless enabled", () => {
  const codes = buildOpen(LOCAL).capabilities.map((c) => c.code);
  assertEquals(codes, [1, 2, 70, 65, 73]);
});

Deno.test("buildOpen() puts AS_TRANS in the 2-octet field of a 4-octet AS", () => {
  const open = buildOpen({ ...LOCAL, asn: 4200000001 });
  assertEquals(open.asn, AS_TRANS);
  assertEquals(open.capabilities.find((c) => c.code === 65), { code: 65, asn: 4200000001 });
});

Deno.test("validateOpen() negotiates hold time, families and capabilities", () => {
  const r = validateOpen(
    peerOpen({
      capabilities: [
        { code: 1, afi: 1, safi: 1 },
        { code: 1, afi: 2, safi: 1 },
        { code: 2 },
        { code: 70 },
        { code: 65, asn: 65002 },
        { code: 64, restarting: false, notification: false, restartTime: 120, families: [] },
        { code: 73, hostname: "r1", domain: "" },
      ],
    }),
    { ...LOCAL, gracefulRestart: { restartTime: 90, restarting: true, forwarding: true } },
    { peerAsn: 65002 },
  );
  assert(r.ok);
  const n = r.negotiated;
  assertEquals(n.holdTime, 30);
  assertEquals(n.peerAsn, 65002);
  assertEquals(n.internal, false);
  assertEquals(n.families, [{ afi: 1, safi: 1 }]);
  assertEquals(n.routeRefresh, true);
  assertEquals(n.enhancedRouteRefresh, true);
  assertEquals(n.gracefulRestart, true);
  assertEquals(n.peerGracefulRestart?.restartTime, 120);
  assertEquals(n.peerHostname, "r1");
  assertEquals(n.decodeContext, { fourOctetAs: true, addPath: [], maxMessageSize: 4096 });
  assertEquals(n.extendedNextHop, false);
});

Deno.test("validateOpen() takes the real AS of a 4-octet peer from its capability", () => {
  const r = validateOpen(
    peerOpen({ asn: AS_TRANS, capabilities: [{ code: 65, asn: 4200000001 }] }),
    LOCAL,
    { peerAsn: 4200000001 },
  );
  assert(r.ok);
  assertEquals(r.negotiated.peerAsn, 4200000001);
});

Deno.test("validateOpen() treats a peer without multiprotocol capability as IPv4 unicast only", () => {
  const r = validateOpen(peerOpen({ capabilities: [] }), LOCAL, { peerAsn: 65002 });
  assert(r.ok);
  assertEquals(r.negotiated.families, [{ afi: 1, safi: 1 }]);
  assertEquals(r.negotiated.decodeContext.fourOctetAs, false);
});

Deno.test("validateOpen() negotiates extended next hop only when both sides offer it", () => {
  const caps: Capability[] = [
    { code: 1, afi: 1, safi: 1 },
    { code: 1, afi: 2, safi: 1 },
    { code: 5, entries: [{ afi: 1, safi: 1, nextHopAfi: 2 }] },
    { code: 65, asn: 65002 },
  ];
  const local = { ...LOCAL, families: [{ afi: 2 as const, safi: 1 }, { afi: 1 as const, safi: 1 }] };
  const on = validateOpen(peerOpen({ capabilities: caps }), { ...local, extendedNextHop: true }, {
    peerAsn: 65002,
  });
  assert(on.ok && on.negotiated.extendedNextHop);
  const off = validateOpen(peerOpen({ capabilities: caps }), local, { peerAsn: 65002 });
  assert(off.ok && !off.negotiated.extendedNextHop);
});

Deno.test("validateOpen() refuses version 3 with 2/1 and the supported version as data", () => {
  assertEquals(failure(peerOpen({ version: 3 })), [2, 1, [0, 4]]);
});

Deno.test("validateOpen() refuses an unexpected peer AS with 2/2", () => {
  assertEquals(failure(peerOpen(), LOCAL, 65003), [2, 2, []]);
  // The 2-octet field alone is not trusted when the capability says otherwise.
  assertEquals(failure(peerOpen({ capabilities: [{ code: 65, asn: 65009 }] })), [2, 2, []]);
});

Deno.test("validateOpen() refuses BGP identifier 0.0.0.0, and our own on iBGP, with 2/3", () => {
  assertEquals(failure(peerOpen({ routerId: "0.0.0.0" })), [2, 3, []]);
  const ibgp = peerOpen({ routerId: "10.99.0.1", asn: 65001, capabilities: [{ code: 65, asn: 65001 }] });
  assertEquals(failure(ibgp, LOCAL, 65001), [2, 3, []]);
  // On eBGP an equal identifier is allowed (RFC 6286 §2.2).
  assert(validateOpen(peerOpen({ routerId: "10.99.0.1" }), LOCAL, { peerAsn: 65002 }).ok);
});

Deno.test("validateOpen() refuses hold time 1 and 2 with 2/6 and accepts 0 and 3", () => {
  assertEquals(failure(peerOpen({ holdTime: 1 })), [2, 6, []]);
  assertEquals(failure(peerOpen({ holdTime: 2 })), [2, 6, []]);
  const zero = validateOpen(peerOpen({ holdTime: 0 }), LOCAL, { peerAsn: 65002 });
  assert(zero.ok && zero.negotiated.holdTime === 0);
  const three = validateOpen(peerOpen({ holdTime: 3 }), LOCAL, { peerAsn: 65002 });
  assert(three.ok && three.negotiated.holdTime === 3);
});

Deno.test("validateOpen() refuses a peer without a common family with 2/7 listing ours", () => {
  const open = peerOpen({ capabilities: [{ code: 1, afi: 2, safi: 1 }, { code: 65, asn: 65002 }] });
  assertEquals(failure(open), [2, 7, [1, 4, 0, 1, 0, 1]]);
});

Deno.test("validateOpen() refuses an optional parameter other than capabilities with 2/4", () => {
  const open = peerOpen({ otherParams: [{ type: 1, value: new Uint8Array([0]) }] });
  assertEquals(failure(open), [2, 4, []]);
});
