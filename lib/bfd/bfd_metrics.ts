/**
 * kube-ovn-speaker's BFD metrics (reference §6.2), read from `BfdService.status()` at every
 * scrape: `kube_ovn_speaker_bfd_server_*{node}` and `kube_ovn_speaker_bfd_peer_*{node,peer}`, all gauges
 * holding the current values (counters included, as kube-ovn-speaker exports them).
 *
 * @example
 * ```ts ignore
 * import { Registry } from "../admin/prometheus_registry.ts";
 * registerBfdMetrics(registry, "node-1", () => bfd.status());
 * ```
 *
 * @module
 */

import type { Registry } from "../admin/prometheus_registry.ts";
import { BFD_STATE_METRIC_VALUES, type BfdStatus } from "./bfd_service.ts";

const PREFIX = "kube_ovn_speaker_bfd_";

/**
 * Registers the BFD metric families on `registry`; `source` is called once per scrape. Only call it when
 * BFD is enabled: like kube-ovn-speaker, the families exist only with `--enable-bfd`.
 */
export function registerBfdMetrics(registry: Registry, nodeName: string, source: () => BfdStatus): void {
  const server = (name: string, help: string) => registry.gauge(`${PREFIX}server_${name}`, help, ["node"]);
  const received = server("received_packets", "BFD packets received");
  const drop = server("received_drop", "BFD packets dropped (wrong TTL, truncated, discarded by a session)");
  const error = server("received_error", "BFD socket read errors");
  const invalid = server("invalid_packet", "BFD packets failing the RFC 5880 checks");
  const unknown = server("unknown_peer", "BFD packets matching no session");
  const peer = (name: string, help: string) =>
    registry.gauge(`${PREFIX}peer_${name}`, help, ["node", "peer"]);
  const up = peer("up", "Whether the BFD session is Up (1) or not (0)");
  const state = peer("session_state", "BFD session state: 0 unspecified, 1 up, 2 down, 3 admin_down, 4 init");
  const remoteState = peer(
    "remote_session_state",
    "The peer's BFD session state: 0 unspecified, 1 up, 2 down, 3 admin_down, 4 init",
  );
  const failures = peer("failure_transitions", "Times the BFD session left Up");
  const sent = peer("transmitted_packets", "BFD packets sent to the peer");
  const got = peer("received_packets", "BFD packets accepted from the peer");

  registry.onCollect(() => {
    const status = source();
    const node = { node: nodeName };
    received.set(node, status.server.receivedPackets);
    drop.set(node, status.server.receivedDrop);
    error.set(node, status.server.receivedError);
    invalid.set(node, status.server.invalidPacket);
    unknown.set(node, status.server.unknownPeer);
    // Rebuilt in one synchronous step, so removed peers vanish and no scrape sees half a state.
    for (const family of [up, state, remoteState, failures, sent, got]) family.reset();
    for (const p of status.peers) {
      const labels = { node: nodeName, peer: p.peer };
      up.set(labels, p.up ? 1 : 0);
      state.set(labels, BFD_STATE_METRIC_VALUES[p.state] ?? 0);
      // Unspecified until the peer has been heard.
      remoteState.set(labels, p.remoteDiscriminator === 0 ? 0 : BFD_STATE_METRIC_VALUES[p.remoteState] ?? 0);
      failures.set(labels, p.failureTransitions);
      sent.set(labels, p.packetsSent);
      got.set(labels, p.packetsReceived);
    }
  });
}
