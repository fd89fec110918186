import { assert, assertEquals, assertGreater, assertStringIncludes } from "../assert.ts";
import {
  bfdParametersFromFlags,
  BfdService,
  type BfdServiceOptions,
  type BfdStateChange,
} from "../../lib/bfd/bfd_service.ts";
import { registerBfdMetrics } from "../../lib/bfd/bfd_metrics.ts";
import {
  type ControlPacket,
  decodeControlPacket,
  EMPTY_CONTROL_PACKET,
  encodeControlPacket,
} from "../../lib/bfd/packet.ts";
import { UdpSocket } from "../../lib/bfd/udp_libc.ts";
import { Registry } from "../../lib/admin/prometheus_registry.ts";

const FAST = bfdParametersFromFlags({ bfdMinTxMs: 100, bfdMinRxMs: 100, bfdDetectionMultiplier: 3 });

/** A port free on 127.0.0.1, 127.0.0.2 and 127.0.0.3 (the kernel's choice on one, checked on the others). */
function freePort(): number {
  for (let i = 0; i < 20; i++) {
    const probe = UdpSocket.open({ family: 4, address: "127.0.0.1", port: 0 });
    const port = probe.localEndpoint().port;
    const others: UdpSocket[] = [];
    try {
      others.push(UdpSocket.open({ family: 4, address: "127.0.0.2", port }));
      others.push(UdpSocket.open({ family: 4, address: "127.0.0.3", port }));
      return port;
    } catch {
      // Taken on another address: draw again.
    } finally {
      probe.close();
      for (const o of others) o.close();
    }
  }
  throw new Error("No free UDP port on 127.0.0.1-3");
}

async function until<T>(what: string, probe: () => T | undefined | false, timeoutMs = 3_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

type Change = [string, boolean, number];

async function service(
  local: string,
  peer: string,
  port: number,
  changes: Change[],
  extra: Partial<BfdServiceOptions> = {},
): Promise<BfdService> {
  return await BfdService.start({
    parameters: FAST,
    peers: [{ address: peer, localAddress: local }],
    listenAddresses: [local],
    ports: { single: port },
    onStateChange: (p, up, diag) => changes.push([p, up, diag]),
    ...extra,
  });
}

Deno.test("BfdService: two services on loopback bring their sessions Up and report the negotiated timers", async () => {
  const port = freePort();
  const [changesA, changesB]: Change[][] = [[], []];
  const a = await service("127.0.0.1", "127.0.0.2", port, changesA);
  const b = await service("127.0.0.2", "127.0.0.1", port, changesB);
  try {
    await until("both sessions Up", () => a.isUp("127.0.0.2") && b.isUp("127.0.0.1"));
    assertEquals(changesA, [["127.0.0.2", true, 0]]);
    assertEquals(changesB, [["127.0.0.1", true, 0]]);
    // The Poll Sequence of the Up transition completes, then the fast timers are in effect.
    const p = await until("the poll sequence to end", () => {
      const s = a.status().peers[0];
      return !s.pollActive && s.remoteDesiredMinTxMs === 100 ? s : undefined;
    });
    assertEquals([p.peer, p.state, p.remoteState, p.mode], ["127.0.0.2", "Up", "Up", "single"]);
    assertEquals([p.transmitIntervalMs, p.detectionTimeMs, p.remoteDetectMult], [100, 300, 3]);
    assertGreater(p.packetsSent, 0);
    assertGreater(p.packetsReceived, 0);
    assertEquals(p.localDiscriminator, b.status().peers[0].remoteDiscriminator);
  } finally {
    await a.close();
    await b.close();
  }
});

Deno.test("BfdService: closing one side sends AdminDown; the other goes Down, reported as administrative", async () => {
  const port = freePort();
  const [changesA, changesB]: Change[][] = [[], []];
  const details: BfdStateChange[] = [];
  const a = await service("127.0.0.1", "127.0.0.2", port, changesA, {
    onStateChange: (p, up, diag, change) => {
      changesA.push([p, up, diag]);
      details.push(change);
    },
  });
  const b = await service("127.0.0.2", "127.0.0.1", port, changesB);
  try {
    await until("both sessions Up", () => a.isUp("127.0.0.2") && b.isUp("127.0.0.1"));
    await b.close();
    await until("a to see the session down", () => changesA.length === 2);
    assertEquals(changesA[1], ["127.0.0.2", false, 3]);
    assertEquals(details[1], { from: "Up", to: "Down", remoteState: "AdminDown", administrative: true });
    assertEquals(changesB[1], ["127.0.0.1", false, 7]);
    const p = a.status().peers[0];
    // RFC 5882 §3.2: an administrative shutdown is not a failure of the path.
    assertEquals([p.state, p.remoteState, p.failureTransitions], ["Down", "AdminDown", 0]);
  } finally {
    await a.close();
    await b.close();
  }
});

/** A peer scripted by the test: it receives on `address:port` and sends from its own source port. */
function scriptedPeer(address: string, port: number, ttl = 255) {
  const listen = UdpSocket.open({ family: 4, address, port, receiveTtl: true });
  const send = UdpSocket.open({ family: 4, address, port: 0, sendTtl: ttl });
  return {
    /** The last packet our service sent to this peer, read without waiting. */
    lastReceived(): ControlPacket | undefined {
      let last: ControlPacket | undefined;
      for (let d = listen.receive(); d; d = listen.receive()) {
        const r = decodeControlPacket(d.data);
        if (r.ok) last = r.packet;
      }
      return last;
    },
    send(packet: Partial<ControlPacket>, to = "127.0.0.1"): void {
      send.send(encodeControlPacket({ ...EMPTY_CONTROL_PACKET, ...packet }), to, port);
    },
    sendRaw(bytes: Uint8Array, to = "127.0.0.1"): void {
      send.send(bytes, to, port);
    },
    async close(): Promise<void> {
      await listen.close();
      await send.close();
    },
  };
}

const PEER_TIMERS = { desiredMinTxUs: 100_000, requiredMinRxUs: 100_000, detectMult: 3 };

Deno.test("BfdService: a peer that falls silent is declared Down after the detection time, diagnostic 1", async () => {
  const port = freePort();
  const changes: Change[] = [];
  const peer = scriptedPeer("127.0.0.2", port);
  const a = await service("127.0.0.1", "127.0.0.2", port, changes);
  try {
    peer.send({ ...PEER_TIMERS, state: "Down", myDiscriminator: 77 });
    const init = await until("an Init packet", () => {
      const p = peer.lastReceived();
      return p?.state === "Init" ? p : undefined;
    });
    assertEquals(init.yourDiscriminator, 77);
    peer.send({ ...PEER_TIMERS, state: "Up", myDiscriminator: 77, yourDiscriminator: init.myDiscriminator });
    await until("Up", () => a.isUp("127.0.0.2"));
    let lastSent = 0;
    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setTimeout(r, 80));
      peer.send({
        ...PEER_TIMERS,
        state: "Up",
        myDiscriminator: 77,
        yourDiscriminator: init.myDiscriminator,
      });
      lastSent = performance.now();
    }
    await until("the session to go down", () => changes.length === 2);
    const silence = performance.now() - lastSent;
    assertEquals(changes[1], ["127.0.0.2", false, 1]);
    // Detection time 3 × 100 ms: never before it, and not much after.
    assert(silence >= 295 && silence < 1_000, `declared down after ${silence.toFixed(0)} ms of silence`);
    const p = a.status().peers[0];
    assertEquals([p.state, p.localDiagnostic, p.remoteDiscriminator, p.failureTransitions], [
      "Down",
      1,
      0,
      1,
    ]);
  } finally {
    await a.close();
    await peer.close();
  }
});

Deno.test("BfdService: packets with TTL 254, invalid packets and unknown peers are counted and ignored", async () => {
  const port = freePort();
  const changes: Change[] = [];
  const lowTtl = scriptedPeer("127.0.0.2", port, 254);
  const stranger = scriptedPeer("127.0.0.3", port);
  const a = await service("127.0.0.1", "127.0.0.2", port, changes);
  try {
    lowTtl.send({ ...PEER_TIMERS, state: "Down", myDiscriminator: 77 });
    stranger.sendRaw(new Uint8Array([0x20, 0x40, 0, 24]));
    stranger.send({ ...PEER_TIMERS, state: "Down", myDiscriminator: 78 });
    const server = await until("three packets", () => {
      const s = a.status().server;
      return s.receivedPackets === 3 ? s : undefined;
    });
    assertEquals(server, {
      receivedPackets: 3,
      receivedDrop: 1,
      receivedError: 0,
      invalidPacket: 1,
      unknownPeer: 1,
    });
    const p = a.status().peers[0];
    assertEquals([p.state, p.remoteDiscriminator, p.packetsReceived, p.packetsDropped], ["Down", 0, 0, 1]);
    assertEquals(changes, []);
  } finally {
    await a.close();
    await lowTtl.close();
    await stranger.close();
  }
});

Deno.test("BfdService: a multihop session drops packets below its minimum TTL and accepts the rest", async () => {
  const port = freePort();
  const changes: Change[] = [];
  const far = scriptedPeer("127.0.0.2", port, 200);
  const near = scriptedPeer("127.0.0.3", port, 254);
  const a = await BfdService.start({
    parameters: FAST,
    peers: [
      { address: "127.0.0.2", localAddress: "127.0.0.1", multihop: true, minTtl: 254 },
      { address: "127.0.0.3", localAddress: "127.0.0.1", multihop: true, minTtl: 254 },
    ],
    listenAddresses: ["127.0.0.1"],
    ports: { multi: port },
    onStateChange: (p, up, diag) => changes.push([p, up, diag]),
  });
  try {
    far.send({ ...PEER_TIMERS, state: "Down", myDiscriminator: 77 });
    near.send({ ...PEER_TIMERS, state: "Down", myDiscriminator: 78 });
    const status = await until("two packets", () => {
      const s = a.status();
      return s.server.receivedPackets === 2 ? s : undefined;
    });
    assertEquals(status.server.receivedDrop, 1);
    assertEquals(status.peers.map((p) => [p.peer, p.mode, p.state, p.packetsDropped]), [
      ["127.0.0.2", "multi", "Down", 1],
      ["127.0.0.3", "multi", "Init", 0],
    ]);
  } finally {
    await a.close();
    await far.close();
    await near.close();
  }
});

Deno.test("registerBfdMetrics() exposes kube-ovn-speaker's BFD metric names", async () => {
  const port = freePort();
  const a = await service("127.0.0.1", "127.0.0.2", port, []);
  const b = await service("127.0.0.2", "127.0.0.1", port, []);
  try {
    await until("both sessions Up", () => a.isUp("127.0.0.2") && b.isUp("127.0.0.1"));
    const registry = new Registry();
    registerBfdMetrics(registry, "node-1", () => a.status());
    const text = await registry.expose();
    const labels = '{node="node-1",peer="127.0.0.2"}';
    assertStringIncludes(text, `kube_ovn_speaker_bfd_peer_up${labels} 1`);
    assertStringIncludes(text, `kube_ovn_speaker_bfd_peer_session_state${labels} 1`);
    assertStringIncludes(text, `kube_ovn_speaker_bfd_peer_remote_session_state${labels} 1`);
    assertStringIncludes(text, `kube_ovn_speaker_bfd_peer_failure_transitions${labels} 0`);
    assert(/kube_ovn_speaker_bfd_peer_transmitted_packets\{[^}]*\} [1-9]/.test(text));
    assert(/kube_ovn_speaker_bfd_peer_received_packets\{[^}]*\} [1-9]/.test(text));
    for (
      const name of ["received_packets", "received_drop", "received_error", "invalid_packet", "unknown_peer"]
    ) {
      assertStringIncludes(text, `kube_ovn_speaker_bfd_server_${name}{node="node-1"}`);
    }
  } finally {
    await a.close();
    await b.close();
  }
});

Deno.test("BfdService.start() fails cleanly when its port is taken", async () => {
  const port = freePort();
  const holder = UdpSocket.open({ family: 4, address: "127.0.0.1", port });
  try {
    let message = "";
    try {
      await service("127.0.0.1", "127.0.0.2", port, []);
    } catch (error) {
      message = (error as Error).message;
    }
    assertStringIncludes(message, "address in use");
  } finally {
    await holder.close();
  }
});
