import assert from "node:assert/strict";
import { connectPeer } from "../../lib/transport/connect.ts";
import type { BgpConnection } from "../../lib/transport/connection.ts";
import { FdSocketConnection } from "../../lib/transport/fd_socket_connection.ts";
import { listenPeers } from "../../lib/transport/listen.ts";
import { TcpConnConnection } from "../../lib/transport/tcp_conn_connection.ts";
import { ConnectionError } from "../../lib/transport/transport_error.ts";

import { closeOf, delay, nextConnection, patternChunk, verifyPattern, writePattern } from "./loopback.ts";

const MB = 1024 * 1024;

/** The two ways an active connection is made: Deno.connect, and an FFI socket (forced by a TTL). */
const PATHS = [
  { name: "Deno.connect", extra: {}, type: TcpConnConnection },
  { name: "an FFI socket", extra: { ttl: 64 }, type: FdSocketConnection },
] as const;

async function withPair(
  extra: { ttl?: number },
  body: (active: BgpConnection, passive: BgpConnection) => Promise<void>,
): Promise<void> {
  const accepted = nextConnection();
  const listener = listenPeers({
    address: "127.0.0.1",
    port: 0,
    neighbors: new Map([["127.0.0.1", {}]]),
    onConnection: accepted.push,
  });
  try {
    const active = await connectPeer({
      remoteAddress: "127.0.0.1",
      remotePort: listener.port,
      timeoutMs: 2000,
      ...extra,
    });
    const passive = await accepted.next();
    const closed = Promise.all([closeOf(active), closeOf(passive)]);
    try {
      await body(active, passive);
    } finally {
      active.destroy();
      passive.destroy();
      await closed;
    }
  } finally {
    await listener.close();
  }
}

for (const path of PATHS) {
  Deno.test(`a connection over ${path.name} carries 20 MB each way at once with backpressure`, async () => {
    await withPair(path.extra, async (active, passive) => {
      assert.ok(active instanceof path.type, `expected ${path.type.name}`);
      assert.equal(active.remotePort, passive.localPort);
      assert.equal(active.localPort, passive.remotePort);
      assert.equal(active.remoteAddress, "127.0.0.1");
      assert.equal(passive.remoteAddress, "127.0.0.1");
      assert.equal(active.family, 4);
      const total = 20 * MB;
      const [upFull, downFull, upBytes, downBytes] = await Promise.all([
        writePattern(active, total),
        writePattern(passive, total),
        verifyPattern(passive, total),
        verifyPattern(active, total),
      ]);
      assert.equal(upBytes, total);
      assert.equal(downBytes, total);
      assert.ok(upFull > 0 && downFull > 0, "write() never reported a full buffer");
      assert.equal(active.bytesReceived, total);
      assert.equal(passive.bytesReceived, total);
    });
  });

  Deno.test(`a paused connection over ${path.name} stops reading and the sender is held back`, async () => {
    await withPair(path.extra, async (active, passive) => {
      let received = 0;
      passive.onData((chunk) => received += chunk.length);
      passive.pause();
      const total = 32 * MB;
      const writing = writePattern(active, total);
      await delay(300);
      const whilePaused = received;
      await delay(200);
      assert.equal(received, whilePaused, "bytes arrived while paused");
      // Kernel buffers on both ends hold a few MB at most; the rest waits in (bounded) backpressure.
      assert.ok(received < total / 2, `received ${received} of ${total} bytes while paused`);
      assert.ok(active.bufferedAmount > 0, "the sender was not held back");
      passive.resume();
      await writing;
      const deadline = Date.now() + 10_000;
      while (received < total && Date.now() < deadline) await delay(10);
      assert.equal(received, total);
    });
  });

  Deno.test(`close() over ${path.name} delivers every queued byte before the FIN`, async () => {
    await withPair(path.extra, async (active, passive) => {
      const total = 4 * MB;
      const verified = verifyPattern(passive, total);
      const passiveClosed = closeOf(passive);
      // Queue everything without waiting for drain, then close at once.
      for (let offset = 0; offset < total; offset += MB) active.write(patternChunk(offset, MB));
      active.close();
      assert.ok(active.closed);
      assert.equal(active.write(new Uint8Array(1)), false);
      assert.equal(await verified, total);
      assert.equal(await passiveClosed, undefined);
      assert.equal(await closeOf(active), undefined);
    });
  });

  Deno.test(`destroy() over ${path.name} ends both sides and fires onClose once`, async () => {
    await withPair(path.extra, async (active, passive) => {
      let calls = 0;
      const passiveClosed = new Promise<Error | undefined>((resolve) =>
        passive.onClose((err) => {
          calls++;
          resolve(err);
        })
      );
      passive.onData(() => {});
      active.destroy();
      const err = await passiveClosed;
      // An orderly FIN or a reset, depending on timing; either way the passive side is closed.
      assert.ok(
        err === undefined || /Connection with 127\.0\.0\.1:\d+ failed/.test(err.message),
        String(err),
      );
      assert.ok(passive.closed);
      await delay(20);
      assert.equal(calls, 1);
      // Registered after the fact: still told.
      assert.equal(await closeOf(active), undefined);
    });
  });
}

for (const path of PATHS) {
  Deno.test(`a throwing data receiver over ${path.name} closes the connection with ECALLBACK`, async () => {
    await withPair(path.extra, async (active, passive) => {
      const closed = closeOf(passive);
      passive.onData(() => {
        throw new Error("Decoder bug");
      });
      active.write(Uint8Array.of(1));
      const err = await closed;
      assert.ok(err instanceof ConnectionError, String(err));
      assert.equal(err.code, "ECALLBACK");
      assert.match(
        err.message,
        /^Connection with 127\.0\.0\.1:\d+ failed: data receiver threw: Decoder bug$/,
      );
      assert.ok(passive.closed);
    });
  });
}

for (const path of PATHS) {
  Deno.test(`a reset from the peer reaches onClose over ${path.name} as ConnectionError ECONNRESET`, async () => {
    await withPair(path.extra, async (active, passive) => {
      const activeClosed = closeOf(active);
      const passiveClosed = closeOf(passive);
      active.onData(() => {});
      passive.onData(() => {});
      // `ss -K` aborts the accepted socket in the kernel (SOCK_DESTROY): it sends a RST to the active side.
      const out = await new Deno.Command("ss", {
        args: [
          "-K",
          "-tn",
          "src",
          `127.0.0.1:${passive.localPort}`,
          "dst",
          `127.0.0.1:${passive.remotePort}`,
        ],
      }).output();
      assert.ok(
        out.success,
        `ss -K failed (needs root and iproute2): ${new TextDecoder().decode(out.stderr)}`,
      );
      const err = await activeClosed;
      assert.ok(err instanceof ConnectionError, String(err));
      assert.equal(err.code, "ECONNRESET");
      assert.equal(err.message, `Connection with 127.0.0.1:${active.remotePort} failed: connection reset`);
      const aborted = await passiveClosed;
      assert.ok(aborted instanceof ConnectionError, String(aborted));
      assert.equal(aborted.code, "ECONNABORTED");
    });
  });
}
