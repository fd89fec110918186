/**
 * Run as a child process by connect_test.ts (fds are counted per process, and test files may run in
 * parallel in one process) with the transport's minimal permissions: makes many failed and some successful
 * connections on loopback and prints the open fd count before and after as JSON.
 *
 * @module
 */

import { connectPeer } from "../../lib/transport/connect.ts";
import { listenPeers } from "../../lib/transport/listen.ts";
import { Errno, probeFd } from "../../lib/transport/libc.ts";

const FAILURES = 200;

/**
 * Open fds of this process, counted like `ls /proc/self/fd` but through getsockname(), which fails with
 * EBADF only on a free fd number (reading /proc/self would need --allow-all, and this child runs with the
 * transport's minimal permissions on purpose). `ip` counts the IPv4/IPv6 sockets among them.
 */
function openFds(): { total: number; ip: number } {
  let total = 0;
  let ip = 0;
  for (let fd = 0; fd < 1 << 16; fd++) {
    const probe = probeFd(fd);
    if (probe.errno !== Errno.EBADF) total++;
    if (probe.local !== undefined) ip++;
  }
  return { total, ip };
}

async function settle(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 50));
}

// Warm up: the runtime opens a few fds of its own on first use (a refused Deno.connect adds two, once), and
// libc is loaded lazily; none of that may count as a leak.
const warm = listenPeers({
  address: "127.0.0.1",
  port: 0,
  neighbors: new Map([["127.0.0.1", {}]]),
  onConnection: (c) => c.onData(() => {}),
});
for (const extra of [{ ttl: 64 }, {}]) {
  const conn = await connectPeer({
    remoteAddress: "127.0.0.1",
    remotePort: warm.port,
    timeoutMs: 1000,
    ...extra,
  });
  await new Promise((resolve) => {
    conn.onClose(resolve);
    conn.close();
  });
}
await warm.close();

// A port nobody listens on: every attempt is refused.
const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
const closedPort = (probe.addr as Deno.NetAddr).port;
probe.close();
const paths = [{ ttl: 64 }, { localAddress: "127.0.0.1" }, {}];
for (const extra of paths) {
  await connectPeer({ remoteAddress: "127.0.0.1", remotePort: closedPort, timeoutMs: 1000, ...extra }).catch(
    () => {},
  );
}
await settle();

const before = openFds();

let refused = 0;
for (let i = 0; i < FAILURES; i++) {
  for (const extra of paths) {
    try {
      const conn = await connectPeer({
        remoteAddress: "127.0.0.1",
        remotePort: closedPort,
        timeoutMs: 1000,
        ...extra,
      });
      conn.destroy();
    } catch (err) {
      if ((err as { code?: string }).code === "ECONNREFUSED") refused++;
    }
  }
}

// Timeouts and aborts against a listener that drops our SYNs (MD5 key for us, none on our side).
const blackHole = listenPeers({
  address: "127.0.0.1",
  port: 0,
  neighbors: new Map([["127.0.0.1", { md5Password: "drop" }]]),
  onConnection: (c) => c.destroy(),
});
let timedOut = 0;
let aborted = 0;
for (let i = 0; i < 3; i++) {
  for (const extra of [{ ttl: 64 }, { md5Password: "x" }, {}]) {
    try {
      await connectPeer({ remoteAddress: "127.0.0.1", remotePort: blackHole.port, timeoutMs: 150, ...extra });
    } catch (err) {
      if ((err as { code?: string }).code === "ETIMEDOUT") timedOut++;
    }
    const controller = new AbortController();
    const attempt = connectPeer({
      remoteAddress: "127.0.0.1",
      remotePort: blackHole.port,
      timeoutMs: 5000,
      signal: controller.signal,
      ...extra,
    });
    setTimeout(() => controller.abort(), 50);
    try {
      await attempt;
    } catch (err) {
      if ((err as { code?: string }).code === "EABORTED") aborted++;
    }
  }
}
await blackHole.close();

// Successful connections closed again, on both paths.
const listener = listenPeers({
  address: "127.0.0.1",
  port: 0,
  neighbors: new Map([["127.0.0.1", {}]]),
  // Reading is what notices the peer's FIN.
  onConnection: (c) => c.onData(() => {}),
});
let connected = 0;
for (let i = 0; i < 20; i++) {
  const conn = await connectPeer({
    remoteAddress: "127.0.0.1",
    remotePort: listener.port,
    timeoutMs: 1000,
    ...(i % 2 ? { ttl: 64 } : {}),
  });
  await new Promise((resolve) => {
    conn.onClose(resolve);
    conn.close();
  });
  connected++;
}
await listener.close();
await settle();

console.log(JSON.stringify({ before, after: openFds(), refused, timedOut, aborted, connected }));
