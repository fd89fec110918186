import assert from "node:assert/strict";
import { connectPeer } from "../../lib/transport/connect.ts";
import type { BgpConnection } from "../../lib/transport/connection.ts";
import { listenPeers, type NeighborTransport } from "../../lib/transport/listen.ts";
import { closeFd, openTcpSocket } from "../../lib/transport/libc.ts";
import { findSocketFd, getMinTtl, getTtl, setTtl } from "../../lib/transport/socket_options.ts";
import { closeOf, nextConnection } from "./loopback.ts";

/** The fd behind a connection, found the way the listener finds it. */
function fdOf(conn: BgpConnection): number {
  const fd = findSocketFd({
    localAddress: conn.localAddress,
    localPort: conn.localPort,
    remoteAddress: conn.remoteAddress,
    remotePort: conn.remotePort,
  });
  assert.ok(fd !== undefined, `no fd found for ${conn.localAddress}:${conn.localPort}`);
  return fd;
}

async function withConnectedPair(
  address: string,
  neighbor: NeighborTransport,
  active: { ttl?: number; minTtl?: number },
  body: (active: BgpConnection, passive: BgpConnection) => void,
): Promise<void> {
  const queue = nextConnection();
  const listener = listenPeers({
    address,
    port: 0,
    neighbors: new Map([[address, neighbor]]),
    onConnection: queue.push,
  });
  try {
    const conn = await connectPeer({
      remoteAddress: address,
      remotePort: listener.port,
      timeoutMs: 2000,
      ...active,
    });
    const passive = await queue.next();
    const closed = Promise.all([closeOf(conn), closeOf(passive)]);
    try {
      body(conn, passive);
    } finally {
      conn.destroy();
      passive.destroy();
      await closed;
    }
  } finally {
    await listener.close();
  }
}

Deno.test("connectPeer() sends with the TTL asked for and the listener sets its neighbor's TTL on IPv4", async () => {
  await withConnectedPair("127.0.0.1", { ttl: 7, minTtl: 5 }, { ttl: 5, minTtl: 7 }, (active, passive) => {
    assert.equal(getTtl(fdOf(active), 4), 5);
    assert.equal(getMinTtl(fdOf(active), 4), 7);
    assert.equal(getTtl(fdOf(passive), 4), 7);
    assert.equal(getMinTtl(fdOf(passive), 4), 5);
  });
});

Deno.test("a minimum TTL above what the listener sends drops its SYN-ACK, so the connect times out (GTSM)", async () => {
  const listener = listenPeers({
    address: "127.0.0.1",
    port: 0,
    neighbors: new Map(),
    onConnection: () => {},
  });
  try {
    // The listener answers with the system default TTL (64), below the 255 GTSM demands.
    await assert.rejects(
      connectPeer({
        remoteAddress: "127.0.0.1",
        remotePort: listener.port,
        ttl: 255,
        minTtl: 255,
        timeoutMs: 500,
      }),
      /failed: timed out after 500 ms/,
    );
  } finally {
    await listener.close();
  }
});

Deno.test("TTL 1 (eBGP single-hop) still connects over loopback", async () => {
  await withConnectedPair("127.0.0.1", { ttl: 1 }, { ttl: 1 }, (active, passive) => {
    assert.equal(getTtl(fdOf(active), 4), 1);
    assert.equal(getTtl(fdOf(passive), 4), 1);
  });
});

Deno.test("on IPv6 the hop limit is set on active and accepted sockets", async () => {
  await withConnectedPair("::1", { ttl: 2 }, { ttl: 3 }, (active, passive) => {
    assert.equal(active.family, 6);
    assert.equal(getTtl(fdOf(active), 6), 3);
    assert.equal(getTtl(fdOf(passive), 6), 2);
  });
});

Deno.test("an accepted IPv4 connection on a dual-stack listener gets its TTL through IP_TTL", async () => {
  const queue = nextConnection();
  const listener = listenPeers({
    address: "::",
    port: 0,
    neighbors: new Map([["127.0.0.1", { ttl: 9 }]]),
    onConnection: queue.push,
  });
  try {
    const conn = await connectPeer({
      remoteAddress: "127.0.0.1",
      remotePort: listener.port,
      timeoutMs: 2000,
    });
    const passive = await queue.next();
    const closed = Promise.all([closeOf(conn), closeOf(passive)]);
    try {
      assert.equal(passive.remoteAddress, "127.0.0.1");
      assert.equal(passive.family, 4);
      assert.equal(getTtl(fdOf(passive), 4), 9);
    } finally {
      conn.destroy();
      passive.destroy();
      await closed;
    }
  } finally {
    await listener.close();
  }
});

Deno.test("setTtl() refuses values outside 1..255", () => {
  const fd = openTcpSocket(4);
  try {
    assert.throws(() => setTtl(fd, 4, 0), /TTL must be an integer from 1 to 255, got 0/);
    assert.throws(() => setTtl(fd, 4, 256), /got 256/);
    setTtl(fd, 4, 255);
    assert.equal(getTtl(fd, 4), 255);
  } finally {
    closeFd(fd);
  }
});
