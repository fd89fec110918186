import { assert, assertEquals } from "../assert.ts";
import { Peer, type PeerOptions } from "../../lib/session/peer.ts";
import { DesiredSet } from "../../lib/session/adj_rib_out.ts";
import { decodeMessage, encodeMessage, frameLength, KEEPALIVE } from "../../lib/wire/message.ts";
import { prefixToString } from "../../lib/wire/nlri.ts";
import type { DecodeContext, Message } from "../../lib/wire/types.ts";

const CTX: DecodeContext = { fourOctetAs: true, addPath: [], maxMessageSize: 4096 };

/** The far end of a session on loopback, scripted by the test: real TCP, our messages decoded. */
class ScriptedPeer {
  #conn: Deno.TcpConn;
  #buf = new Uint8Array(0);

  constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
  }

  async write(bytes: Uint8Array, chunk = bytes.length): Promise<void> {
    for (let i = 0; i < bytes.length; i += chunk) await this.#conn.write(bytes.subarray(i, i + chunk));
  }

  /** The next message from the engine, or undefined when the connection closed. */
  async read(timeoutMs = 5000): Promise<Message | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const len = frameLength(this.#buf, 0, 4096);
      if (typeof len !== "number") throw new Error(`Bad frame: ${len.reason}`);
      if (len > 0 && len <= this.#buf.length) {
        const r = decodeMessage(this.#buf.subarray(0, len), CTX);
        this.#buf = this.#buf.slice(len);
        if (!r.ok) throw new Error(`Undecodable message: ${r.error.reason}`);
        return r.value;
      }
      const chunk = new Uint8Array(65536);
      const n = await Promise.race([
        this.#conn.read(chunk).catch(() => null),
        new Promise<"timeout">((resolve) =>
          setTimeout(() => resolve("timeout"), Math.max(0, deadline - Date.now()))
        ),
      ]);
      if (n === "timeout") throw new Error("Timed out waiting for a message");
      if (n === null) return undefined;
      const joined = new Uint8Array(this.#buf.length + n);
      joined.set(this.#buf);
      joined.set(chunk.subarray(0, n), this.#buf.length);
      this.#buf = joined;
    }
  }

  async readType(type: number): Promise<Message> {
    for (let i = 0; i < 100; i++) {
      const m = await this.read();
      if (m === undefined) throw new Error(`Connection closed before a message of type ${type}`);
      if (m.type === type) return m;
    }
    throw new Error(`No message of type ${type}`);
  }

  close(): void {
    try {
      this.#conn.close();
    } catch {
      // Already closed by the engine.
    }
  }
}

function openFrom(asn: number, holdTime = 9): Uint8Array {
  return encodeMessage({
    type: 1,
    version: 4,
    asn,
    holdTime,
    routerId: "10.99.0.2",
    capabilities: [{ code: 1, afi: 1, safi: 1 }, { code: 65, asn }, { code: 2 }],
  }, CTX);
}

async function session(
  desired: string[],
  patch: Partial<PeerOptions> = {},
): Promise<{ peer: Peer; remote: ScriptedPeer; [Symbol.asyncDispose](): Promise<void> }> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const set = new DesiredSet();
  set.replace(desired);
  const peer = new Peer({
    neighbor: { address: "127.0.0.1", port: (listener.addr as Deno.NetAddr).port, asn: 65002 },
    local: { asn: 65001, routerId: "10.99.0.1", holdTime: 9, families: [{ afi: 1, safi: 1 }] },
    passive: false,
    desired: set,
    connectTimeoutMs: 2000,
    timing: { backoffBaseMs: 60_000 },
    seed: 1,
    ...patch,
  });
  peer.start();
  const remote = new ScriptedPeer(await listener.accept());
  listener.close();
  return {
    peer,
    remote,
    async [Symbol.asyncDispose]() {
      const stopped = peer.stop();
      remote.close();
      await stopped;
    },
  };
}

Deno.test("Peer establishes with a peer whose OPEN arrives one byte at a time and sends table then End-of-RIB", async () => {
  await using s = await session(["203.0.113.0/24", "198.51.100.7/32"]);
  const open = await s.remote.readType(1);
  assert(open.type === 1);
  assertEquals([open.asn, open.holdTime, open.routerId], [65001, 9, "10.99.0.1"]);
  await s.remote.write(openFrom(65002), 1);
  await s.remote.readType(4);
  await s.remote.write(KEEPALIVE, 1);
  const update = await s.remote.readType(2);
  assert(update.type === 2);
  assertEquals(update.nlri.map(prefixToString).sort(), ["198.51.100.7/32", "203.0.113.0/24"]);
  assertEquals(update.attributes.nextHop, "127.0.0.1");
  assertEquals(update.attributes.asPath, [{ type: 2, asns: [65001] }]);
  const eor = await s.remote.readType(2);
  assert(eor.type === 2 && eor.nlri.length === 0 && eor.withdrawn.length === 0);
  assertEquals(s.peer.state, "Established");
  const status = s.peer.status();
  assertEquals(status.prefixesSent, { ipv4: 2, ipv6: 0 });
  assertEquals(status.negotiated?.holdTime, 9);
});

Deno.test("Peer refuses the wrong peer AS with NOTIFICATION 2/2 and drops the connection", async () => {
  await using s = await session([]);
  await s.remote.readType(1);
  await s.remote.write(openFrom(65009));
  const n = await s.remote.readType(3);
  assert(n.type === 3);
  assertEquals([n.code, n.subcode], [2, 2]);
  assertEquals(await s.remote.read(), undefined);
  assertEquals(s.peer.state, "Idle");
  assert(s.peer.status().lastError?.includes("peer AS 65009"));
});

Deno.test("Peer answers a broken marker with NOTIFICATION 1/1", async () => {
  await using s = await session([]);
  await s.remote.readType(1);
  const bad = KEEPALIVE.slice();
  bad[3] = 0;
  await s.remote.write(bad);
  const n = await s.remote.readType(3);
  assert(n.type === 3);
  assertEquals([n.code, n.subcode], [1, 1]);
});

Deno.test("Peer keeps the session on an UPDATE to treat as withdraw and counts it", async () => {
  await using s = await session([]);
  await s.remote.readType(1);
  await s.remote.write(openFrom(65002));
  await s.remote.write(KEEPALIVE);
  await s.remote.readType(4);
  // ORIGIN 5 is invalid: RFC 7606 §7.1 treat-as-withdraw, not a session reset.
  const attrs = [0x40, 1, 1, 5, 0x40, 2, 6, 2, 1, 0, 0, 0xfd, 0xea, 0x40, 3, 4, 127, 0, 0, 2];
  const body = [0, 0, 0, attrs.length, ...attrs, 24, 203, 0, 113];
  const msg = new Uint8Array([...new Array(16).fill(0xff), 0, 19 + body.length, 2, ...body]);
  await s.remote.write(msg);
  await s.remote.write(KEEPALIVE);
  const deadline = Date.now() + 3000;
  while (s.peer.status().updatesTreatedAsWithdraw === 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
  }
  const status = s.peer.status();
  assertEquals(status.updatesTreatedAsWithdraw, 1);
  assertEquals(status.prefixesReceived.ipv4, { announced: 0, withdrawn: 1 });
  assertEquals(status.state, "Established");
});

Deno.test("Peer.stop() sends Cease 6/2 with the shutdown message", async () => {
  await using s = await session([]);
  await s.remote.readType(1);
  await s.remote.write(openFrom(65002));
  await s.remote.write(KEEPALIVE);
  await s.remote.readType(4);
  const stopped = s.peer.stop({ shutdownMessage: "maintenance" });
  const n = await s.remote.readType(3);
  assert(n.type === 3);
  assertEquals([n.code, n.subcode, n.shutdownMessage], [6, 2, "maintenance"]);
  s.remote.close();
  await stopped;
  assertEquals(s.peer.state, "Idle");
});

Deno.test("Peer expires the hold timer with NOTIFICATION 4/0 when the peer goes silent", async () => {
  await using s = await session([], {
    local: { asn: 65001, routerId: "10.99.0.1", holdTime: 3, families: [{ afi: 1, safi: 1 }] },
  });
  await s.remote.readType(1);
  await s.remote.write(openFrom(65002, 3));
  await s.remote.write(KEEPALIVE);
  const started = Date.now();
  const n = await s.remote.readType(3);
  assert(n.type === 3);
  assertEquals([n.code, n.subcode], [4, 0]);
  const waited = Date.now() - started;
  assert(waited >= 2500 && waited < 4500, `hold timer fired after ${waited} ms`);
  assertEquals(s.peer.status().lastError, "hold timer expired");
});
