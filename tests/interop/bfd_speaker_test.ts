import { assert, assertEquals } from "../assert.ts";
import { requireTools } from "../harness/tools.ts";
import { startFrr } from "../harness/frr.ts";
import { Topology } from "../harness/topology.ts";
import { waitFor } from "../harness/wait.ts";
import { FrrBfdd } from "../bfd/bfd_peers.ts";

const root = new URL("../..", import.meta.url).pathname;
const HOLD_TIME_S = 90;

Deno.test("the speaker with --enable-bfd connects only once BFD is up and drops BGP within the detection time of a cut link", async () => {
  requireTools(["ip", "vtysh", "/usr/lib/frr/bgpd", "/usr/lib/frr/zebra", "/usr/lib/frr/bfdd"]);
  await using topo = await Topology.create({ hosts: 2 });
  const [h1, h2] = [topo.host(1), topo.host(2)];
  const objects = `${topo.workDir}/objects.json`;
  await Deno.writeTextFile(
    objects,
    JSON.stringify({
      apiVersion: "kubeovn.io/v1",
      kind: "Subnet",
      metadata: { name: "bfd", annotations: { "ovn.kubernetes.io/bgp": "cluster" } },
      spec: { cidrBlock: "203.0.113.0/24" },
      status: { conditions: [{ type: "Ready", status: "True" }] },
    }),
  );
  const frr = await startFrr(topo, {
    host: h2,
    asn: 65002,
    zebra: true,
    neighbors: [{ address: h1.ipv4, peerAs: 65001, holdTime: HOLD_TIME_S }],
    extraConfig: `router bgp 65002\n neighbor ${h1.ipv4} bfd\n!`,
  });
  const bfdd = await FrrBfdd.start(topo, h2, [], frr);
  const speaker = topo.spawn(h1, "speaker", [
    Deno.execPath(),
    "run",
    "-A",
    `${root}main.ts`,
    "--cluster-as=65001",
    "--neighbor-as=65002",
    `--neighbor-address=${h2.ipv4}`,
    `--router-id=${h1.ipv4}`,
    "--node-name=node-1",
    `--holdtime=${HOLD_TIME_S}s`,
    `--objects-file=${objects}`,
    "--enable-bfd",
    "--bfd-min-tx=300",
    "--bfd-min-rx=300",
    "--bfd-detection-multiplier=3",
    "--enable-metrics=false",
  ], { cwd: root });
  const diagnostics = async () => `${await speaker.logTail()}\n${await frr.diagnostics()}`;
  const log = async () => await Deno.readTextFile(speaker.logPath).catch(() => "");

  await frr.waitEstablished(h1.ipv4, 30_000);
  await bfdd.waitState(h1.ipv4, "up");
  const before = await log();
  assert(before.includes('msg="holding session down"'), `BGP waits for BFD at start\n${before}`);
  assert(before.includes('msg="releasing session"'), `BGP starts once BFD is up\n${before}`);
  await frr.waitForRoutes("ipv4", (rs) => rs.some((r) => r.prefix === "203.0.113.0/24"));

  const cutAt = Date.now();
  await topo.cutLink(h1);
  await waitFor("the speaker to hold its BGP session down", async () => {
    return (await log()).includes("BFD down (diagnostic 1)");
  }, { timeoutMs: 5_000, intervalMs: 20, diagnostics });
  const downMs = Date.now() - cutAt;
  console.log(
    `link cut: the speaker took its BGP session down after ${downMs} ms (hold time ${HOLD_TIME_S} s)`,
  );
  // Detection time 3 x 300 ms, plus polling of the log.
  assert(downMs < 1_500, `BGP went down only ${downMs} ms after the cut`);

  await topo.restoreLink(h1);
  await bfdd.waitState(h1.ipv4, "up", 15_000);
  await frr.waitEstablished(h1.ipv4, 30_000);
  const routes = await frr.waitForRoutes("ipv4", (rs) => rs.some((r) => r.prefix === "203.0.113.0/24"));
  assertEquals(routes.map((r) => r.prefix), ["203.0.113.0/24"], await diagnostics());
  await speaker.stop();
});
