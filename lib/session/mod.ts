/**
 * The BGP session engine: {@linkcode BgpSpeaker} runs one session per neighbor and sends each the desired
 * prefixes; the pure parts (FSM, OPEN policy, Adj-RIB-Out) are exported for tests and tools.
 *
 * @example
 * ```ts ignore
 * import { BgpSpeaker } from "./mod.ts";
 * const speaker = new BgpSpeaker({ asn: 65001, routerId: "10.99.0.1", neighbors: [{ address: "10.99.0.2", asn: 65002 }] });
 * await speaker.start();
 * speaker.setDesired(["203.0.113.0/24"]);
 * ```
 *
 * @module
 */

export * from "./speaker.ts";
export * from "./peer.ts";
export * from "./fsm.ts";
export * from "./open_policy.ts";
export * from "./adj_rib_out.ts";
export * from "./ipv4_updates.ts";
export type * from "../wire/types.ts";
export type { BgpConnection } from "../transport/connection.ts";
export type { IpFamily } from "../transport/socket_address.ts";
