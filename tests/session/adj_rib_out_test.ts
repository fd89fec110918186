import fc from "fast-check";
import { assert, assertEquals } from "../assert.ts";
import {
  AdjRibOut,
  changesAsPrefixes,
  DesiredSet,
  ipv4FromKey,
  ipv4Key,
  ipv6FromKey,
  ipv6Key,
  type PeerRouteContext,
  type RibChanges,
} from "../../lib/session/adj_rib_out.ts";
import { parsePrefix, prefixToString } from "../../lib/wire/nlri.ts";

const EBGP4: PeerRouteContext = {
  internal: false,
  localAsn: 65001,
  ipv4: true,
  ipv6: false,
  nextHopV4: "10.99.0.1",
};

function texts(c: RibChanges): { announce: string[]; withdraw: string[] } {
  const { groups, withdrawals } = changesAsPrefixes(c);
  return {
    announce: groups.flatMap((g) => g.nlri.map(prefixToString)).sort(),
    withdraw: withdrawals.flatMap((g) => g.withdrawn.map(prefixToString)).sort(),
  };
}

function desired(...p: string[]): DesiredSet {
  const d = new DesiredSet();
  d.replace(p);
  return d;
}

Deno.test("DesiredSet.replace() canonicalises text and reports what changed", () => {
  const d = new DesiredSet();
  const first = d.replace(["203.0.113.7/24", "2001:db8:0::1/32", "bogus", "10.0.0.0/33", "198.51.100.1/32"]);
  assertEquals(d.toStrings().sort(), ["198.51.100.1/32", "2001:db8::/32", "203.0.113.0/24"]);
  assertEquals(first.v4.length, 2);
  assertEquals(first.v6.length, 1);
  assertEquals(first.invalid, ["bogus", "10.0.0.0/33"]);
  const second = d.replace(["203.0.113.0/24", parsePrefix("2001:db8:1::/48")!]);
  assertEquals(second.v4.map((k) => prefixToString(ipv4FromKey(k))), ["198.51.100.1/32"]);
  assertEquals(second.v6.map((k) => prefixToString(ipv6FromKey(k))).sort(), [
    "2001:db8:1::/48",
    "2001:db8::/32",
  ]);
});

Deno.test("prefix keys round-trip IPv4 and IPv6 prefixes", () => {
  for (const t of ["0.0.0.0/0", "255.255.255.255/32", "100.64.0.0/10", "203.0.113.128/25"]) {
    const p = parsePrefix(t)!;
    assertEquals(prefixToString(ipv4FromKey(ipv4Key(p.addr, p.length))), t);
  }
  for (const t of ["::/0", "2001:db8::/32", "2001:db8::1/128", "fd99::/64"]) {
    const p = parsePrefix(t)!;
    assertEquals(prefixToString(ipv6FromKey(ipv6Key(p.addr, p.length))), t);
  }
});

Deno.test("AdjRibOut sends the full table on eBGP with AS_PATH [our AS] and our next hop", () => {
  const d = desired("203.0.113.0/24", "198.51.100.0/24");
  const rib = new AdjRibOut(EBGP4);
  rib.startFullSync(d);
  const c = rib.take(d, 1000);
  assertEquals(texts(c), { announce: ["198.51.100.0/24", "203.0.113.0/24"], withdraw: [] });
  assertEquals(c.v4Mp, false);
  assertEquals(c.v4?.attributes, {
    origin: 0,
    asPath: [{ type: 2, asns: [65001] }],
    nextHop: "10.99.0.1",
  });
  assert(c.fullSyncDone);
  assertEquals(rib.sentV4, 2);
  assert(!rib.pending);
});

Deno.test("AdjRibOut sends an empty AS_PATH and LOCAL_PREF 100 on iBGP", () => {
  const d = desired("203.0.113.0/24");
  const rib = new AdjRibOut({ ...EBGP4, internal: true });
  rib.startFullSync(d);
  assertEquals(rib.take(d, 10).v4?.attributes, {
    origin: 0,
    asPath: [],
    localPref: 100,
    nextHop: "10.99.0.1",
  });
});

Deno.test("AdjRibOut sends IPv6 prefixes in MP_REACH_NLRI with the IPv6 next hop", () => {
  const d = desired("2001:db8::/32", "203.0.113.0/24");
  const rib = new AdjRibOut({
    internal: false,
    localAsn: 65001,
    ipv4: false,
    ipv6: true,
    nextHopV6: "fd99::1",
  });
  rib.startFullSync(d);
  const c = rib.take(d, 10);
  assertEquals(texts(c).announce, ["2001:db8::/32"]);
  assertEquals(c.v6?.attributes.mpReach, { afi: 2, safi: 1, nextHops: ["fd99::1"], nlri: [] });
  assertEquals(c.v6?.attributes.nextHop, undefined);
});

Deno.test("AdjRibOut sends IPv4 over an IPv6 session only with extended next hop", () => {
  const d = desired("2001:db8::/32", "203.0.113.0/24");
  const base = { internal: false, localAsn: 65001, ipv4: true, ipv6: true, nextHopV6: "fd99::1" };
  const without = new AdjRibOut(base);
  without.startFullSync(d);
  assertEquals(texts(without.take(d, 10)).announce, ["2001:db8::/32"]);
  const withEnh = new AdjRibOut({ ...base, extendedNextHop: true });
  withEnh.startFullSync(d);
  const c = withEnh.take(d, 10);
  assertEquals(texts(c).announce, ["2001:db8::/32", "203.0.113.0/24"]);
  assertEquals(c.v4Mp, true);
  assertEquals(c.v4?.attributes.mpReach, { afi: 1, safi: 1, nextHops: ["fd99::1"], nlri: [] });
  d.replace(["2001:db8::/32"]);
  withEnh.noteChanged({ v4: [ipv4Key(new Uint8Array([203, 0, 113, 0]), 24)], v6: [], invalid: [] });
  const w = withEnh.take(d, 10);
  assertEquals(changesAsPrefixes(w).withdrawals, [{
    afi: 1,
    safi: 1,
    withdrawn: [parsePrefix("203.0.113.0/24")!],
  }]);
  assertEquals(w.v4Mp, true);
});

Deno.test("AdjRibOut sends only the difference after a change of the desired set", () => {
  const d = desired("203.0.113.0/24", "198.51.100.0/24");
  const rib = new AdjRibOut(EBGP4);
  rib.startFullSync(d);
  rib.take(d, 1000);
  rib.noteChanged(d.replace(["203.0.113.0/24", "198.51.100.128/25"]));
  const c = rib.take(d, 1000);
  assertEquals(texts(c), { announce: ["198.51.100.128/25"], withdraw: ["198.51.100.0/24"] });
  assertEquals(rib.take(d, 1000).count, 0);
});

Deno.test("AdjRibOut coalesces rapid changes so the peer sees only the latest state", () => {
  const d = desired("203.0.113.0/24");
  const rib = new AdjRibOut(EBGP4);
  rib.startFullSync(d);
  rib.take(d, 1000);
  // Added then removed before sending: nothing to send.
  rib.noteChanged(d.replace(["203.0.113.0/24", "198.51.100.0/24"]));
  rib.noteChanged(d.replace(["203.0.113.0/24"]));
  // Removed then added back: nothing either.
  rib.noteChanged(d.replace([]));
  rib.noteChanged(d.replace(["203.0.113.0/24"]));
  const c = rib.take(d, 1000);
  assertEquals(c.count, 0);
  assertEquals(rib.sentV4, 1);
});

Deno.test("AdjRibOut takes the table in bounded batches and reports the end of the initial table", () => {
  const prefixes = Array.from({ length: 2500 }, (_, i) => `100.64.${i >> 8}.${i & 255}/32`);
  const d = desired(...prefixes);
  const rib = new AdjRibOut(EBGP4);
  rib.startFullSync(d);
  const seen = new Set<string>();
  let batches = 0;
  for (;;) {
    const c = rib.take(d, 1000);
    batches++;
    for (const p of texts(c).announce) seen.add(p);
    assert(c.count <= 1000);
    if (c.fullSyncDone) break;
    assert(batches < 10);
  }
  assertEquals(seen.size, 2500);
  assertEquals(rib.sentV4, 2500);
});

Deno.test("AdjRibOut handles changes made while the initial table is being sent", () => {
  const d = desired("203.0.113.1/32", "203.0.113.2/32", "203.0.113.3/32");
  const rib = new AdjRibOut(EBGP4);
  rib.startFullSync(d);
  const first = rib.take(d, 1);
  assertEquals(first.count, 1);
  rib.noteChanged(d.replace(["203.0.113.1/32", "203.0.113.3/32", "203.0.113.4/32"]));
  const all = { announce: [...texts(first).announce], withdraw: [] as string[] };
  for (let i = 0; i < 10 && rib.pending; i++) {
    const t = texts(rib.take(d, 1));
    all.announce.push(...t.announce);
    all.withdraw.push(...t.withdraw);
  }
  // Whatever was sent of .2 was withdrawn again; the peer ends with exactly the desired set.
  const held = new Set(all.announce);
  for (const w of all.withdraw) held.delete(w);
  assertEquals([...held].sort(), ["203.0.113.1/32", "203.0.113.3/32", "203.0.113.4/32"]);
  assertEquals(rib.sentV4, 3);
});

Deno.test("AdjRibOut.startFullSync() resends everything after a reconnect or ROUTE-REFRESH", () => {
  const d = desired("203.0.113.0/24");
  const rib = new AdjRibOut(EBGP4);
  rib.startFullSync(d);
  rib.take(d, 10);
  rib.startFullSync(d);
  assertEquals(texts(rib.take(d, 10)).announce, ["203.0.113.0/24"]);
});

Deno.test("AdjRibOut sends nothing for a family without next hop", () => {
  const d = desired("203.0.113.0/24", "2001:db8::/32");
  const rib = new AdjRibOut({
    internal: false,
    localAsn: 65001,
    ipv4: true,
    ipv6: true,
    nextHopV4: "10.99.0.1",
  });
  rib.startFullSync(d);
  assertEquals(texts(rib.take(d, 10)).announce, ["203.0.113.0/24"]);
});

Deno.test("AdjRibOut converges on the desired set whatever changes interleave with partial takes", () => {
  let seed = 7;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const universe = Array.from(
    { length: 200 },
    (_, i) => i % 2 ? `100.64.0.${i}/32` : `2001:db8::${i.toString(16)}/128`,
  );
  for (let round = 0; round < 50; round++) {
    const d = new DesiredSet();
    const rib = new AdjRibOut({ ...EBGP4, ipv6: true, nextHopV6: "fd99::1" });
    const peer = new Set<string>();
    rib.startFullSync(d);
    for (let step = 0; step < 20; step++) {
      if (random() < 0.5) rib.noteChanged(d.replace(universe.filter(() => random() < 0.3)));
      const c = rib.take(d, 1 + Math.floor(random() * 40));
      const t = texts(c);
      for (const p of t.withdraw) assert(peer.delete(p), `withdrew ${p} that the peer did not hold`);
      for (const p of t.announce) {
        assert(!peer.has(p), `announced ${p} twice`);
        peer.add(p);
      }
    }
    for (let i = 0; i < 100 && rib.pending; i++) {
      const t = texts(rib.take(d, 7));
      for (const p of t.withdraw) peer.delete(p);
      for (const p of t.announce) peer.add(p);
    }
    assert(!rib.pending);
    assertEquals([...peer].sort(), d.toStrings().sort());
    assertEquals(rib.sentV4 + rib.sentV6, peer.size);
  }
});

Deno.test("DesiredSet.replace() parses IPv4 text exactly like the general prefix parser", () => {
  const inputs = [
    "0.0.0.0/0",
    "255.255.255.255/32",
    "10.1.2.3/8",
    "10.1.2.3/31",
    "1.2.3.4/33",
    "1.2.3.4/",
    "1.2.3.4/08",
    "1.2.3/24",
    "1.2.3.4.5/24",
    "256.1.1.1/24",
    "01.2.3.4/24",
    "1.2.3.4/3a",
    "1.2.3.4",
  ];
  for (const text of inputs) {
    const d = new DesiredSet();
    const delta = d.replace([text]);
    const parsed = parsePrefix(text);
    if (parsed === undefined) assertEquals(delta.invalid, [text], text);
    else assertEquals(d.toStrings(), [prefixToString(parsed)], text);
  }
});

Deno.test("AdjRibOut.holds() answers for what was sent, also in the middle of a pass", () => {
  const d = desired("203.0.113.1/32", "203.0.113.2/32", "203.0.113.3/32", "2001:db8::/32");
  const rib = new AdjRibOut({ ...EBGP4, ipv6: true, nextHopV6: "fd99::1" });
  rib.startFullSync(d);
  rib.take(d, 2);
  assertEquals(
    ["203.0.113.1/32", "203.0.113.2/32", "203.0.113.3/32"].map((p) => rib.holds(p)),
    [true, true, false],
  );
  for (let i = 0; i < 5 && rib.pending; i++) rib.take(d, 2);
  assert(rib.holds("203.0.113.3/32"));
  assert(rib.holds("2001:db8::/32"));
  assert(!rib.holds("198.51.100.0/24"));
  assert(!rib.holds("not a prefix"));
});

Deno.test("DesiredSet.apply() reaches the same set and reports the same changes as replace()", () => {
  fc.assert(
    fc.property(
      fc.uniqueArray(fc.integer({ min: 0, max: 63 }), { maxLength: 40 }),
      fc.array(fc.integer({ min: 0, max: 63 }), { maxLength: 20 }),
      fc.array(fc.integer({ min: 0, max: 63 }), { maxLength: 20 }),
      (start, adds, removes) => {
        const text = (n: number) => n < 48 ? `203.0.113.${n}/32` : `2001:db8::${n.toString(16)}/128`;
        const removeSet = new Set(removes.filter((n) => !adds.includes(n)));
        const incremental = new DesiredSet();
        incremental.replace(start.map(text));
        const delta = incremental.apply(adds.map(text), [...removeSet].map(text));
        const target = new Set([...start, ...adds].filter((n) => !removeSet.has(n)));
        const whole = new DesiredSet();
        whole.replace(start.map(text));
        const expected = whole.replace([...target].map(text));
        assertEquals(incremental.toStrings().sort(), whole.toStrings().sort());
        assertEquals([...delta.v4].sort(), [...expected.v4].sort());
        assertEquals([...delta.v6].sort(), [...expected.v6].sort());
      },
    ),
    { numRuns: 300, seed: 7 },
  );
});
