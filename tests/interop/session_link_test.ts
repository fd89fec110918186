import { assert, assertEquals } from "../assert.ts";
import { startBird } from "../harness/bird.ts";
import { Topology } from "../harness/topology.ts";
import { waitFor } from "../harness/wait.ts";
import { startEngine } from "./engine_runner.ts";

Deno.test("a cut link expires the hold timer, and the session recovers with exactly the desired routes", async () => {
  await using topo = await Topology.create({ hosts: 2 });
  const [h1, h2] = [topo.host(1), topo.host(2)];
  const bird = await startBird(topo, {
    host: h2,
    asn: 65002,
    neighbors: [{ address: h1.ipv4, peerAs: 65001, holdTime: 3 }],
  });
  const engine = await startEngine(topo, h1, {
    asn: 65001,
    routerId: h1.ipv4,
    holdTime: 3,
    neighbors: [{ address: h2.ipv4, asn: 65002 }],
    connectTimeoutMs: 1000,
    timing: { backoffBaseMs: 200, backoffMaxMs: 1000 },
    desired: ["203.0.113.0/24", "198.51.100.0/24"],
  });
  await engine.waitEstablished(h2.ipv4);
  await bird.waitForRoutes("ipv4", (rs) => rs.length === 2);
  await topo.cutLink(h1);
  const down = await waitFor("the engine to notice the dead link", async () => {
    const p = (await engine.status())?.peers[0];
    return p && p.state !== "Established" ? p : undefined;
  }, { timeoutMs: 8_000, intervalMs: 100 });
  assertEquals(down.lastError, "hold timer expired");
  // The desired set changes while the link is down: the peer must end with the new set only.
  await engine.setDesired(["203.0.113.0/24", "198.51.100.128/25"]);
  await topo.restoreLink(h1);
  const up = await engine.waitEstablished(h2.ipv4, 20_000);
  assert(up.flaps >= 1);
  const routes = await bird.waitForRoutes(
    "ipv4",
    (rs) => rs.length === 2 && rs.some((r) => r.prefix === "198.51.100.128/25"),
    15_000,
  );
  assertEquals(routes.map((r) => [r.prefix, r.nextHop, r.asPath]).sort(), [
    ["198.51.100.128/25", h1.ipv4, [65001]],
    ["203.0.113.0/24", h1.ipv4, [65001]],
  ]);
});
