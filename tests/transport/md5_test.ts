import assert from "node:assert/strict";
import { type ConnectOptions, connectPeer } from "../../lib/transport/connect.ts";
import type { BgpConnection } from "../../lib/transport/connection.ts";
import { listenPeers, type NeighborTransport } from "../../lib/transport/listen.ts";
import { setMd5Key } from "../../lib/transport/socket_options.ts";
import { closeFd, openTcpSocket } from "../../lib/transport/libc.ts";
import { ConnectError } from "../../lib/transport/transport_error.ts";
import { closeOf, nextConnection } from "./loopback.ts";

// An MD5 mismatch shows only as unanswered SYNs, so a failing attempt takes this long.
const MISMATCH_TIMEOUT_MS = 700;

/** Runs `body` with a listener on `address` that accepts `neighbors`; closes everything afterwards. */
async function withListener(
  address: string,
  neighbors: Map<string, NeighborTransport>,
  body: (
    port: number,
    accepted: () => Promise<BgpConnection>,
    update: (n: Map<string, NeighborTransport>) => void,
  ) => Promise<void>,
): Promise<void> {
  const conns: BgpConnection[] = [];
  const queue = nextConnection();
  const listener = listenPeers({
    address,
    port: 0,
    neighbors,
    onConnection: (conn) => {
      conns.push(conn);
      queue.push(conn);
    },
  });
  try {
    await body(listener.port, queue.next, (n) => listener.updateNeighbors(n));
  } finally {
    await listener.close();
    await Promise.all(conns.map((conn) => {
      const closed = closeOf(conn);
      conn.destroy();
      return closed;
    }));
  }
}

/** Connects, checks both ends see each other, and closes. */
async function connectsAndCloses(options: ConnectOptions, accepted: () => Promise<BgpConnection>) {
  const conn = await connectPeer(options);
  try {
    const passive = await accepted();
    assert.equal(passive.remotePort, conn.localPort);
    return conn;
  } finally {
    const closed = closeOf(conn);
    conn.destroy();
    await closed;
  }
}

async function assertNeverConnects(options: ConnectOptions): Promise<void> {
  await assert.rejects(connectPeer(options), (err: unknown) => {
    assert.ok(err instanceof ConnectError, String(err));
    assert.equal(err.code, "ETIMEDOUT");
    assert.match(err.message, /^Connect to .+ failed: timed out after \d+ ms$/);
    if (options.md5Password) assert.ok(!err.message.includes(options.md5Password));
    return true;
  });
}

/** The `md5keys:` entries `ss` shows for sockets on a port (root sees them through inet_diag). */
async function md5KeysOnPort(port: number): Promise<string> {
  const out = await new Deno.Command("ss", {
    args: ["-tnie", "(", "sport", "=", `:${port}`, "or", "dport", "=", `:${port}`, ")"],
  })
    .output();
  assert.ok(out.success, `ss failed (install iproute2): ${new TextDecoder().decode(out.stderr)}`);
  return new TextDecoder().decode(out.stdout);
}

Deno.test("an active MD5 connection with the listener's key connects and both sockets carry the key", async () => {
  await withListener(
    "127.0.0.1",
    new Map([["127.0.0.2", { md5Password: "k3y-one" }]]),
    async (port, accepted) => {
      const conn = await connectPeer({
        remoteAddress: "127.0.0.1",
        remotePort: port,
        localAddress: "127.0.0.2",
        md5Password: "k3y-one",
        timeoutMs: 2000,
      });
      const closed = closeOf(conn);
      try {
        const passive = await accepted();
        assert.equal(passive.remoteAddress, "127.0.0.2");
        assert.equal(conn.localAddress, "127.0.0.2");
        const ss = await md5KeysOnPort(port);
        // Active end keyed for the listener's address, accepted end keyed for the client's.
        assert.match(ss, /md5keys:127\.0\.0\.1\/32=/);
        assert.match(ss, /md5keys:127\.0\.0\.2\/32=/);
        const got = new Promise<Uint8Array>((resolve) => passive.onData(resolve));
        conn.write(Uint8Array.of(1, 2, 3));
        assert.deepEqual([...await got], [1, 2, 3]);
      } finally {
        conn.destroy();
        await closed;
      }
    },
  );
});

Deno.test("an active MD5 connection with a wrong key never connects", async () => {
  await withListener("127.0.0.1", new Map([["127.0.0.2", { md5Password: "right" }]]), async (port) => {
    await assertNeverConnects({
      remoteAddress: "127.0.0.1",
      remotePort: port,
      localAddress: "127.0.0.2",
      md5Password: "wrong-key",
      timeoutMs: MISMATCH_TIMEOUT_MS,
    });
  });
});

Deno.test("a key on the active side only never connects", async () => {
  await withListener("127.0.0.1", new Map([["127.0.0.2", {}]]), async (port) => {
    await assertNeverConnects({
      remoteAddress: "127.0.0.1",
      remotePort: port,
      localAddress: "127.0.0.2",
      md5Password: "only-here",
      timeoutMs: MISMATCH_TIMEOUT_MS,
    });
  });
});

Deno.test("a key on the listener only never lets a plain Deno.connect in", async () => {
  await withListener("127.0.0.1", new Map([["127.0.0.1", { md5Password: "only-there" }]]), async (port) => {
    await assertNeverConnects({
      remoteAddress: "127.0.0.1",
      remotePort: port,
      timeoutMs: MISMATCH_TIMEOUT_MS,
    });
  });
});

Deno.test("MD5 works on IPv6 loopback and a wrong key fails there too", async () => {
  await withListener("::1", new Map([["::1", { md5Password: "v6-key" }]]), async (port, accepted) => {
    const conn = await connectsAndCloses(
      { remoteAddress: "::1", remotePort: port, md5Password: "v6-key", timeoutMs: 2000 },
      accepted,
    );
    assert.equal(conn.family, 6);
    assert.equal(conn.remoteAddress, "::1");
    await assertNeverConnects({
      remoteAddress: "::1",
      remotePort: port,
      md5Password: "not-v6-key",
      timeoutMs: MISMATCH_TIMEOUT_MS,
    });
  });
});

Deno.test("a dual-stack listener keys IPv4 neighbors by their mapped address", async () => {
  await withListener("::", new Map([["127.0.0.3", { md5Password: "mapped" }]]), async (port, accepted) => {
    const conn = await connectsAndCloses(
      {
        remoteAddress: "127.0.0.1",
        remotePort: port,
        localAddress: "127.0.0.3",
        md5Password: "mapped",
        timeoutMs: 2000,
      },
      accepted,
    );
    assert.equal(conn.family, 4);
    await assertNeverConnects({
      remoteAddress: "127.0.0.1",
      remotePort: port,
      localAddress: "127.0.0.3",
      timeoutMs: MISMATCH_TIMEOUT_MS,
    });
  });
});

Deno.test("updateNeighbors() rotates the listener's key: the new key connects, the old one no longer does", async () => {
  await withListener(
    "127.0.0.1",
    new Map([["127.0.0.4", { md5Password: "old-key" }]]),
    async (port, accepted, update) => {
      const base = { remoteAddress: "127.0.0.1", remotePort: port, localAddress: "127.0.0.4" };
      await connectsAndCloses({ ...base, md5Password: "old-key", timeoutMs: 2000 }, accepted);
      update(new Map([["127.0.0.4", { md5Password: "new-key" }]]));
      await connectsAndCloses({ ...base, md5Password: "new-key", timeoutMs: 2000 }, accepted);
      await assertNeverConnects({ ...base, md5Password: "old-key", timeoutMs: MISMATCH_TIMEOUT_MS });
      // Removing the key lets a plain connection in again.
      update(new Map([["127.0.0.4", {}]]));
      await connectsAndCloses({ ...base, timeoutMs: 2000 }, accepted);
    },
  );
});

Deno.test("setMd5Key() refuses a password over 80 bytes without showing it", () => {
  const fd = openTcpSocket(4);
  try {
    const password = "p".repeat(81);
    assert.throws(() => setMd5Key(fd, "127.0.0.1", password), (err: unknown) => {
      assert.ok(err instanceof RangeError);
      assert.match(err.message, /longer than 80 bytes/);
      assert.ok(!err.message.includes(password));
      return true;
    });
    // 80 bytes is the limit, and deleting a key that was never set is fine.
    setMd5Key(fd, "127.0.0.1", "p".repeat(80));
    setMd5Key(fd, "127.0.0.1", "");
    setMd5Key(fd, "127.0.0.1", "");
  } finally {
    closeFd(fd);
  }
});
