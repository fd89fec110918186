import { assert, assertEquals } from "../assert.ts";
import {
  bgpFrames,
  listNamespaces,
  ManagedProcess,
  MissingToolError,
  parseBirdRoutes,
  pidExists,
  processesMatching,
  replayExabgpEvents,
  requireTools,
  startBird,
  startExabgp,
  startFrr,
  startGobgpd,
  Topology,
  waitFor,
} from "../harness/mod.ts";
import type { ExabgpEvent, PeerDaemon, PeerRoute } from "../harness/mod.ts";

const TOOLS = ["ip", "gobgpd", "gobgp", "bird", "birdc", "/usr/lib/frr/bgpd", "/usr/lib/frr/zebra", "vtysh"];
const V4 = "203.0.113.10/32";
const V6 = "2001:db8:10::/64";

/** What the interop test left for the leak check that follows it. */
let leftover: { prefix: string; workDir: string; pids: number[] } | undefined;

function find(routes: PeerRoute[], prefix: string): PeerRoute | undefined {
  return routes.find((r) => r.prefix === prefix);
}

async function expectRoute(peer: PeerDaemon, prefix: string, nextHop: string, communities: string[]) {
  const family = prefix.includes(":") ? "ipv6" : "ipv4";
  const routes = await peer.waitForRoutes(family, (rs) => find(rs, prefix) !== undefined);
  const route = find(routes, prefix)!;
  const seen = {
    nextHop: route.nextHop,
    asPath: route.asPath,
    communities: route.communities,
    stale: route.stale,
  };
  assertEquals(
    seen,
    { nextHop, asPath: [65001], communities, stale: false },
    `${peer.kind}@${peer.host.name} holds ${prefix} with the wrong attributes\n${await peer.diagnostics()}`,
  );
}

Deno.test("harness: gobgpd announces to BIRD, FRR and ExaBGP over IPv4 and IPv6 with the right attributes", async () => {
  requireTools([...TOOLS, "exabgp", "python3", "tcpdump", "tshark"]);
  await using topo = await Topology.create({ hosts: 4 });
  const [h1, h2, h3, h4] = [topo.host(1), topo.host(2), topo.host(3), topo.host(4)];
  leftover = { prefix: topo.prefix, workDir: topo.workDir, pids: [] };
  const dual = (peer: typeof h1, peerAs: number, extra = {}) => [
    { address: peer.ipv4, peerAs, ...extra },
    { address: peer.ipv6, peerAs, ...extra },
  ];
  // BIRD's side is captured to check the MD5 option and the UPDATE on the wire.
  const cap = await topo.capture(h2);
  const [gobgp, bird, frr, exa] = await Promise.all([
    startGobgpd(topo, {
      host: h1,
      asn: 65001,
      neighbors: [...dual(h2, 65002, { password: "pw-bird" }), ...dual(h3, 65003), ...dual(h4, 65004)],
    }),
    startBird(topo, { host: h2, asn: 65002, neighbors: dual(h1, 65001, { password: "pw-bird" }) }),
    // zebra: bgpd -Z aborts its first connect, which keeps gobgpd idle for 5 s; zebra also installs routes.
    startFrr(topo, { host: h3, asn: 65003, zebra: true, neighbors: dual(h1, 65001) }),
    startExabgp(topo, { host: h4, asn: 65004, neighbors: dual(h1, 65001) }),
  ]);
  const daemons = [gobgp, bird, frr, exa];
  leftover.pids.push(...daemons.map((d) => d.pid));

  await Promise.all(
    [h2, h3, h4].flatMap((h) => [gobgp.waitEstablished(h.ipv4), gobgp.waitEstablished(h.ipv6)]),
  );
  for (const [peer, host] of [[bird, h2], [frr, h3], [exa, h4]] as const) {
    assertEquals(await peer.sessionState(h1.ipv4), "established", await peer.diagnostics());
    assertEquals(await peer.sessionState(h1.ipv6), "established", await peer.diagnostics());
    assertEquals(await gobgp.sessionState(host.ipv4), "established");
  }

  await gobgp.addRoute(V4, { communities: ["65001:10"] });
  await gobgp.addRoute(V6);
  await Promise.all([bird, frr, exa].flatMap((peer) => [
    expectRoute(peer, V4, h1.ipv4, ["65001:10"]),
    expectRoute(peer, V6, h1.ipv6, []),
  ]));

  // FRR's zebra puts the route into its namespace's kernel table (shortly after bgpd selects it).
  await waitFor("FRR's zebra to install 203.0.113.10 in the kernel", async () => {
    const routes = await topo.kernelRoutes(h3);
    return routes.some((r) => r.dst === "203.0.113.10" && r.gateway === h1.ipv4);
  }, { timeoutMs: 5_000, diagnostics: async () => JSON.stringify(await topo.kernelRoutes(h3)) });

  // A withdrawal reaches every peer too.
  await gobgp.deleteRoute(V4);
  await Promise.all([bird, frr, exa].map((p) => p.waitForRoutes("ipv4", (rs) => find(rs, V4) === undefined)));

  const frames = await bgpFrames(await cap.stop());
  const fromGobgp = frames.filter((f) => f.src === h1.ipv4);
  assert(fromGobgp.length > 0, "The capture holds no BGP frame from gobgpd");
  assert(
    fromGobgp.every((f) => f.fields["tcp.option_kind"].includes("19")),
    "A BGP segment between gobgpd and BIRD lacks the TCP MD5 option",
  );
  assert(
    fromGobgp.some((f) => f.types.includes(2) && f.fields["bgp.nlri_prefix"].includes("203.0.113.10")),
    `No UPDATE for ${V4} on the wire: ${JSON.stringify(fromGobgp)}`,
  );
});

Deno.test("harness: the interop test above left no namespace and no process behind", async () => {
  assert(leftover !== undefined, "The interop test did not get as far as creating its topology");
  const namespaces = (await listNamespaces()).filter((n) => n.startsWith(leftover!.prefix));
  assertEquals(namespaces, [], "Namespaces left behind");
  assertEquals(await processesMatching(leftover.workDir), [], "Processes left behind");
  assertEquals(leftover.pids.filter(pidExists), [], "Daemon PIDs still alive");
});

Deno.test("harness: a topology routes between its segments, cuts links, and is removed completely", async () => {
  requireTools(["ip", "ping"]);
  let prefix = "";
  {
    await using topo = await Topology.create({ hosts: 2, farHosts: 1 });
    prefix = topo.prefix;
    assertEquals(topo.namespaces.length, 5);
    assertEquals(
      (await listNamespaces()).filter((n) => n.startsWith(prefix)).sort(),
      [...topo.namespaces].sort(),
    );
    const [h1, h2, f1] = [topo.host(1), topo.host(2), topo.farHost(1)];
    await topo.run(h1, ["ping", "-c1", "-W2", h2.ipv4]);
    await topo.run(h1, ["ping", "-6", "-c1", "-W2", h2.ipv6]);
    await topo.run(h1, ["ping", "-c1", "-W2", f1.ipv4]);
    await topo.run(f1, ["ping", "-6", "-c1", "-W2", h1.ipv6]);
    await topo.cutLink(h2);
    const cut = await topo.run(h1, ["ping", "-c1", "-W1", h2.ipv4], { allowFailure: true });
    assert(cut.code !== 0, "ping crossed a cut link");
    await topo.restoreLink(h2);
    await topo.run(h1, ["ping", "-c1", "-W2", h2.ipv4]);
  }
  assertEquals((await listNamespaces()).filter((n) => n.startsWith(prefix)), [], "Namespaces left behind");
});

Deno.test("harness: stop() escalates to SIGKILL when a process ignores SIGTERM", async () => {
  const dir = await Deno.makeTempDir({ prefix: "spk-selftest-" });
  try {
    const p = ManagedProcess.spawn({
      name: "stubborn",
      argv: ["sh", "-c", "trap '' TERM; while :; do sleep 0.1; done"],
      logPath: `${dir}/stubborn.log`,
    });
    await new Promise((r) => setTimeout(r, 200));
    const status = await p.stop(300);
    assertEquals(status.signal, "SIGKILL");
    assert(!pidExists(p.pid) || !(await Deno.readTextFile(`/proc/${p.pid}/cmdline`)).includes("trap"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("harness: requireTools() names the missing program and its apt package", () => {
  let error: unknown;
  try {
    requireTools(["ip", "no-such-bgp-daemon-xyz", "tshark"]);
  } catch (e) {
    error = e;
  }
  assert(error instanceof MissingToolError, `Expected MissingToolError, got ${error}`);
  assert(error.message.includes("'no-such-bgp-daemon-xyz'"), error.message);
  assert(error.message.includes("apt-get install -y no-such-bgp-daemon-xyz"), error.message);
});

Deno.test("harness: parseBirdRoutes() reads attributes and a second path of the same prefix", () => {
  const text = [
    "BIRD 2.0.12 ready.",
    "Table master4:",
    "203.0.113.10/32      unicast [n10_99_0_1 06:22:26.753] * (100) [AS65001i]",
    "\tvia 10.99.0.1 on eth0",
    "\tType: BGP univ",
    "\tBGP.origin: IGP",
    "\tBGP.as_path: 65001 65010",
    "\tBGP.next_hop: 10.99.0.1",
    "\tBGP.med: 5",
    "\tBGP.local_pref: 100",
    "\tBGP.community: (65001,10) (65001,11)",
    "\tBGP.large_community: (65001, 1, 2)",
    "                     unicast [n10_99_0_3 06:22:27.000] (100) [AS65003?]",
    "\tvia 10.99.0.3 on eth0",
    "\tBGP.origin: Incomplete",
    "\tBGP.as_path: 65003",
    "\tBGP.next_hop: 10.99.0.3",
    "",
  ].join("\n");
  const routes = parseBirdRoutes(text, new Set(["n10_99_0_3"]), new Map([["n10_99_0_1", "10.99.0.1"]]));
  assertEquals(routes, [
    {
      prefix: "203.0.113.10/32",
      best: true,
      nextHop: "10.99.0.1",
      asPath: [65001, 65010],
      communities: ["65001:10", "65001:11"],
      largeCommunities: ["65001:1:2"],
      origin: "igp",
      med: 5,
      localPref: 100,
      stale: false,
      from: "10.99.0.1",
    },
    {
      prefix: "203.0.113.10/32",
      best: false,
      nextHop: "10.99.0.3",
      asPath: [65003],
      communities: [],
      largeCommunities: [],
      origin: "incomplete",
      stale: true,
      from: undefined,
    },
  ]);
});

Deno.test("harness: replayExabgpEvents() keeps stale routes over a graceful restart until End-of-RIB", () => {
  const peer = { address: { local: "10.99.0.4", peer: "10.99.0.1" } };
  const announce = (nlri: string): ExabgpEvent => ({
    type: "update",
    neighbor: {
      ...peer,
      message: {
        update: {
          attribute: { origin: "igp", "as-path": [65001], community: [[65001, 10]] },
          announce: { "ipv4 unicast": { "10.99.0.1": [{ nlri }] } },
        },
      },
    },
  });
  const state = (s: string): ExabgpEvent => ({ type: "state", neighbor: { ...peer, state: s } });
  const eor: ExabgpEvent = {
    type: "update",
    neighbor: { ...peer, message: { eor: { afi: "ipv4", safi: "unicast" } } },
  };
  const graceful = new Set(["10.99.0.1"]);
  const prefixes = (events: ExabgpEvent[]) =>
    replayExabgpEvents(events, "ipv4", graceful).map((r) => `${r.prefix}${r.stale ? " stale" : ""}`).sort();

  const up = [state("up"), announce("203.0.113.1/32"), announce("203.0.113.2/32")];
  assertEquals(prefixes(up), ["203.0.113.1/32", "203.0.113.2/32"]);
  assertEquals(prefixes([...up, state("down")]), ["203.0.113.1/32 stale", "203.0.113.2/32 stale"]);
  assertEquals(prefixes([...up, state("down"), state("up"), announce("203.0.113.1/32")]), [
    "203.0.113.1/32",
    "203.0.113.2/32 stale",
  ]);
  assertEquals(prefixes([...up, state("down"), state("up"), announce("203.0.113.1/32"), eor]), [
    "203.0.113.1/32",
  ]);
  assertEquals(replayExabgpEvents([...up, state("down")], "ipv4", new Set()), []);
  assertEquals(replayExabgpEvents(up, "ipv4")[0].communities, ["65001:10"]);

  // An IPv6 route with global and link-local next hops is listed under both: the global one is reported.
  const v6: ExabgpEvent = {
    type: "update",
    neighbor: {
      address: { local: "fd99::4", peer: "fd99::1" },
      message: {
        update: {
          attribute: { origin: "igp", "as-path": [65001] },
          announce: {
            "ipv6 unicast": {
              "fd99::1": [{ nlri: "2001:db8:1::/48" }],
              "fe80::1": [{ nlri: "2001:db8:1::/48" }],
            },
          },
        },
      },
    },
  };
  assertEquals(replayExabgpEvents([v6], "ipv6").map((r) => [r.prefix, r.nextHop]), [[
    "2001:db8:1::/48",
    "fd99::1",
  ]]);
});
