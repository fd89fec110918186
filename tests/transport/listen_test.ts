import assert from "node:assert/strict";
import { connectPeer } from "../../lib/transport/connect.ts";
import type { BgpConnection } from "../../lib/transport/connection.ts";
import { CEASE_CONNECTION_REJECTED, listenPeers } from "../../lib/transport/listen.ts";
import type { SocketEndpoint } from "../../lib/transport/socket_address.ts";
import { ListenError } from "../../lib/transport/transport_error.ts";
import { closeOf, collectUntilClose, delay, nextConnection } from "./loopback.ts";

Deno.test("CEASE_CONNECTION_REJECTED is the 21-byte NOTIFICATION Cease / Connection Rejected", () => {
  assert.deepEqual(
    [...CEASE_CONNECTION_REJECTED],
    [...new Array(16).fill(0xff), 0, 21, 3, 6, 5],
  );
});

Deno.test("an unknown address gets exactly Cease / Connection Rejected and is closed while a neighbor stays up", async () => {
  const queue = nextConnection();
  const rejected: SocketEndpoint[] = [];
  const listener = listenPeers({
    address: "127.0.0.1",
    port: 0,
    neighbors: new Map([["127.0.0.2", {}]]),
    onConnection: queue.push,
    onRejected: (remote) => rejected.push(remote),
  });
  const open: BgpConnection[] = [];
  try {
    const neighbor = await connectPeer({
      remoteAddress: "127.0.0.1",
      remotePort: listener.port,
      localAddress: "127.0.0.2",
      timeoutMs: 2000,
    });
    open.push(neighbor);
    const accepted = await queue.next();
    open.push(accepted);
    assert.equal(accepted.remoteAddress, "127.0.0.2");

    const stranger = await connectPeer({
      remoteAddress: "127.0.0.1",
      remotePort: listener.port,
      localAddress: "127.0.0.9",
      timeoutMs: 2000,
    });
    const { bytes, err } = await collectUntilClose(stranger);
    assert.equal(err, undefined);
    assert.deepEqual([...bytes], [...CEASE_CONNECTION_REJECTED]);
    assert.equal(rejected.length, 1);
    assert.equal(rejected[0].address, "127.0.0.9");
    assert.equal(rejected[0].port, stranger.localPort);

    // The configured session is undisturbed: bytes still flow both ways.
    const down = new Promise<Uint8Array>((resolve) => neighbor.onData(resolve));
    const up = new Promise<Uint8Array>((resolve) => accepted.onData(resolve));
    accepted.write(Uint8Array.of(4, 0));
    neighbor.write(Uint8Array.of(0, 4));
    assert.deepEqual([...await down], [4, 0]);
    assert.deepEqual([...await up], [0, 4]);
    assert.ok(!neighbor.closed && !accepted.closed);
  } finally {
    await Promise.all(open.map((conn) => {
      const closed = closeOf(conn);
      conn.destroy();
      return closed;
    }));
    await listener.close();
  }
});

Deno.test("a rejected peer that never closes gets the NOTIFICATION and a FIN, and is cut off after the linger", async () => {
  const listener = listenPeers({
    address: "127.0.0.1",
    port: 0,
    neighbors: new Map(),
    onConnection: (conn) => conn.destroy(),
    lingerMs: 100,
  });
  // A bare Deno.connect that reads but never closes: only the listener's linger can end the connection.
  const raw = await Deno.connect({ hostname: "127.0.0.1", port: listener.port });
  try {
    const buf = new Uint8Array(64);
    let total = 0;
    while (true) {
      const n = await raw.read(buf.subarray(total));
      if (n === null) break;
      total += n;
    }
    assert.deepEqual([...buf.subarray(0, total)], [...CEASE_CONNECTION_REJECTED]);
    await delay(600);
    // The listener's socket is gone: our bytes draw a RST, and the next write fails.
    let failed = false;
    for (let i = 0; i < 20 && !failed; i++) {
      try {
        await raw.write(Uint8Array.of(0));
        await delay(20);
      } catch {
        failed = true;
      }
    }
    assert.ok(failed, "the rejected connection is still open on the listener's side");
  } finally {
    raw.close();
    await listener.close();
  }
});

Deno.test("a dual-stack listener on [::] accepts an IPv4 neighbor as IPv4 and rejects an unknown IPv6 peer", async () => {
  const queue = nextConnection();
  const rejected: SocketEndpoint[] = [];
  const listener = listenPeers({
    address: "[::]",
    port: 0,
    neighbors: new Map([["::ffff:127.0.0.1", {}]]),
    onConnection: queue.push,
    onRejected: (remote) => rejected.push(remote),
  });
  try {
    assert.equal(listener.address, "::");
    const conn = await connectPeer({
      remoteAddress: "127.0.0.1",
      remotePort: listener.port,
      timeoutMs: 2000,
    });
    const accepted = await queue.next();
    assert.equal(accepted.remoteAddress, "127.0.0.1");
    assert.equal(accepted.localAddress, "127.0.0.1");
    assert.equal(accepted.family, 4);
    const closed = Promise.all([closeOf(conn), closeOf(accepted)]);
    conn.destroy();
    accepted.destroy();
    await closed;

    const v6 = await connectPeer({ remoteAddress: "::1", remotePort: listener.port, timeoutMs: 2000 });
    const { bytes } = await collectUntilClose(v6);
    assert.deepEqual([...bytes], [...CEASE_CONNECTION_REJECTED]);
    assert.deepEqual(rejected.map((r) => [r.address, r.family]), [["::1", 6]]);
  } finally {
    await listener.close();
  }
});

Deno.test("updateNeighbors() admits a new neighbor and rejects a removed one", async () => {
  const queue = nextConnection();
  let rejections = 0;
  const listener = listenPeers({
    address: "127.0.0.1",
    port: 0,
    neighbors: new Map([["127.0.0.5", {}]]),
    onConnection: queue.push,
    onRejected: () => rejections++,
  });
  const base = { remoteAddress: "127.0.0.1", remotePort: listener.port, timeoutMs: 2000 };
  try {
    listener.updateNeighbors(new Map([["127.0.0.6", {}]]));
    const removed = await connectPeer({ ...base, localAddress: "127.0.0.5" });
    assert.deepEqual([...(await collectUntilClose(removed)).bytes], [...CEASE_CONNECTION_REJECTED]);
    assert.equal(rejections, 1);
    const added = await connectPeer({ ...base, localAddress: "127.0.0.6" });
    const accepted = await queue.next();
    assert.equal(accepted.remoteAddress, "127.0.0.6");
    const closed = Promise.all([closeOf(added), closeOf(accepted)]);
    added.destroy();
    accepted.destroy();
    await closed;
  } finally {
    await listener.close();
  }
});

Deno.test("updateNeighbors() validates the whole map before changing anything", async () => {
  const listener = listenPeers({
    address: "127.0.0.1",
    port: 0,
    neighbors: new Map([["127.0.0.7", { md5Password: "kept" }]]),
    onConnection: (conn) => conn.destroy(),
  });
  try {
    assert.throws(
      () =>
        listener.updateNeighbors(
          new Map([["127.0.0.7", {}], ["127.0.0.8", { md5Password: "y".repeat(81) }]]),
        ),
      /MD5 password for 127\.0\.0\.8 is longer than 80 bytes/,
    );
    assert.throws(() => listener.updateNeighbors(new Map([["10.0.0.300", {}]])), /Invalid IP address/);
    assert.throws(
      () => listener.updateNeighbors(new Map([["127.0.0.7", { ttl: 0 }]])),
      /TTL for 127\.0\.0\.7/,
    );
    // The old key is still in force: a plain connection from 127.0.0.7 is not answered.
    await assert.rejects(
      connectPeer({
        remoteAddress: "127.0.0.1",
        remotePort: listener.port,
        localAddress: "127.0.0.7",
        timeoutMs: 500,
      }),
      /timed out after 500 ms/,
    );
  } finally {
    await listener.close();
  }
});

Deno.test("an exception in onConnection closes that connection, is reported, and the listener goes on", async () => {
  const errors: Error[] = [];
  let calls = 0;
  const listener = listenPeers({
    address: "127.0.0.1",
    port: 0,
    neighbors: new Map([["127.0.0.1", {}]]),
    onConnection: (conn) => {
      calls++;
      if (calls === 1) throw new Error("Session not ready");
      conn.destroy();
    },
    onError: (err) => errors.push(err),
  });
  try {
    for (let i = 0; i < 2; i++) {
      const conn = await connectPeer({
        remoteAddress: "127.0.0.1",
        remotePort: listener.port,
        timeoutMs: 2000,
      });
      const { bytes } = await collectUntilClose(conn);
      assert.equal(bytes.length, 0);
    }
    assert.equal(calls, 2);
    assert.deepEqual(errors.map((e) => e.message), ["Session not ready"]);
  } finally {
    await listener.close();
  }
});

Deno.test("listenPeers() on a port in use fails with the address in the message", () => {
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const port = (taken.addr as Deno.NetAddr).port;
    assert.throws(
      () => listenPeers({ address: "127.0.0.1", port, neighbors: new Map(), onConnection: () => {} }),
      (err: unknown) => {
        assert.ok(err instanceof ListenError);
        assert.equal(err.message, `Listen on 127.0.0.1:${port} failed: address in use`);
        assert.equal(err.code, "EADDRINUSE");
        return true;
      },
    );
  } finally {
    taken.close();
  }
});
