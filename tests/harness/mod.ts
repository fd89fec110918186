/**
 * Real-peer test harness: network namespaces, real BGP daemons (gobgpd, BIRD, FRR, ExaBGP) generated from
 * one spec type, structured route readers, packet captures, and managed processes for the speaker under
 * test. Interop tests and benchmarks import from here.
 *
 * @example
 * ```ts
 * import { requireTools, startBird, startGobgpd, Topology } from "../harness/mod.ts";
 *
 * requireTools(["ip", "gobgpd", "gobgp", "bird", "birdc"]);
 * await using topo = await Topology.create({ hosts: 2 });
 * const [h1, h2] = [topo.host(1), topo.host(2)];
 * const gobgp = await startGobgpd(topo, { host: h1, asn: 65001, neighbors: [{ address: h2.ipv4, peerAs: 65002 }] });
 * const bird = await startBird(topo, { host: h2, asn: 65002, neighbors: [{ address: h1.ipv4, peerAs: 65001 }] });
 * await bird.waitEstablished(h1.ipv4);
 * await gobgp.addRoute("203.0.113.10/32", { communities: ["65001:10"] });
 * await bird.waitForRoutes("ipv4", (rs) => rs.some((r) => r.prefix === "203.0.113.10/32"));
 * ```
 *
 * @module
 */

export * from "./bird.ts";
export * from "./capture.ts";
export * from "./command.ts";
export * from "./exabgp.ts";
export * from "./frr.ts";
export * from "./gobgpd.ts";
export * from "./managed_process.ts";
export * from "./peer_daemon.ts";
export * from "./process_table.ts";
export * from "./tools.ts";
export * from "./topology.ts";
export * from "./wait.ts";
