import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { type ConnectOptions, connectPeer } from "../../lib/transport/connect.ts";
import { listenPeers } from "../../lib/transport/listen.ts";
import { ConnectError } from "../../lib/transport/transport_error.ts";
import { unusedPort } from "./loopback.ts";

/** Extra options that choose each active path: Deno.connect, and the FFI socket (three reasons to use it). */
const PATHS: { name: string; extra: Partial<ConnectOptions> }[] = [
  { name: "Deno.connect", extra: {} },
  { name: "an FFI socket with a TTL", extra: { ttl: 64 } },
  { name: "an FFI socket with a source address", extra: { localAddress: "127.0.0.1" } },
];

async function rejection(options: ConnectOptions): Promise<ConnectError> {
  try {
    const conn = await connectPeer(options);
    conn.destroy();
  } catch (err) {
    assert.ok(err instanceof ConnectError, `expected a ConnectError, got ${err}`);
    return err;
  }
  throw new Error("The connection succeeded");
}

/** A listener whose MD5 key for 127.0.0.1 makes the kernel drop our unsigned SYNs: a black hole. */
function blackHole() {
  return listenPeers({
    address: "127.0.0.1",
    port: 0,
    neighbors: new Map([["127.0.0.1", { md5Password: "black-hole" }]]),
    onConnection: (conn) => conn.destroy(),
  });
}

for (const path of PATHS) {
  Deno.test(`connectPeer() over ${path.name} reports a refused connection with the address`, async () => {
    const port = unusedPort();
    const err = await rejection({
      remoteAddress: "127.0.0.1",
      remotePort: port,
      timeoutMs: 2000,
      ...path.extra,
    });
    assert.equal(err.message, `Connect to 127.0.0.1:${port} failed: connection refused`);
    assert.equal(err.code, "ECONNREFUSED");
    assert.equal(err.remoteAddress, "127.0.0.1");
    assert.equal(err.remotePort, port);
  });

  Deno.test(`connectPeer() over ${path.name} gives up after its timeout`, async () => {
    const listener = blackHole();
    try {
      const started = performance.now();
      const err = await rejection({
        remoteAddress: "127.0.0.1",
        remotePort: listener.port,
        timeoutMs: 400,
        ...path.extra,
      });
      const elapsed = performance.now() - started;
      assert.equal(err.message, `Connect to 127.0.0.1:${listener.port} failed: timed out after 400 ms`);
      assert.equal(err.code, "ETIMEDOUT");
      assert.ok(elapsed >= 350 && elapsed < 3000, `took ${elapsed} ms`);
    } finally {
      await listener.close();
    }
  });

  Deno.test(`connectPeer() over ${path.name} stops when its signal aborts`, async () => {
    const listener = blackHole();
    try {
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), 100);
      const started = performance.now();
      const err = await rejection({
        remoteAddress: "127.0.0.1",
        remotePort: listener.port,
        timeoutMs: 10_000,
        signal: controller.signal,
        ...path.extra,
      });
      clearTimeout(timer);
      assert.equal(err.code, "EABORTED");
      assert.equal(err.message, `Connect to 127.0.0.1:${listener.port} failed: aborted`);
      assert.ok(performance.now() - started < 3000);
    } finally {
      await listener.close();
    }
  });
}

Deno.test("connectPeer() writes IPv6 endpoints in brackets", async () => {
  const port = unusedPort("::1");
  for (const extra of [{}, { ttl: 64 }]) {
    const err = await rejection({ remoteAddress: "::1", remotePort: port, timeoutMs: 2000, ...extra });
    assert.equal(err.message, `Connect to [::1]:${port} failed: connection refused`);
  }
});

Deno.test("connectPeer() rejects a source address it cannot bind or of the other family", async () => {
  const port = unusedPort();
  // 192.0.2.1 (TEST-NET-1) is not configured here: bind() fails before any packet is sent.
  const unbound = await rejection({
    remoteAddress: "127.0.0.1",
    remotePort: port,
    localAddress: "192.0.2.1",
    timeoutMs: 500,
  });
  assert.equal(unbound.code, "EADDRNOTAVAIL");
  assert.equal(
    unbound.message,
    `Connect to 127.0.0.1:${port} failed: binding 192.0.2.1: address not available`,
  );
  const mixed = await rejection({
    remoteAddress: "127.0.0.1",
    remotePort: port,
    localAddress: "::1",
    timeoutMs: 500,
  });
  assert.equal(mixed.code, "EAFNOSUPPORT");
  assert.match(mixed.message, /local address ::1 is not of the peer's address family/);
});

Deno.test("connectPeer() rejects bad settings with the peer in the message and no password", async () => {
  const password = "x".repeat(100);
  const long = await rejection({
    remoteAddress: "127.0.0.1",
    remotePort: 1,
    md5Password: password,
    timeoutMs: 500,
  });
  assert.match(
    long.message,
    /^Connect to 127\.0\.0\.1:1 failed: MD5 password for 127\.0\.0\.1 is longer than 80 bytes$/,
  );
  assert.ok(!long.message.includes(password));
  const ttl = await rejection({ remoteAddress: "127.0.0.1", remotePort: 1, ttl: 300, timeoutMs: 500 });
  assert.match(ttl.message, /TTL must be an integer from 1 to 255, got 300/);
  await assert.rejects(
    connectPeer({ remoteAddress: "not-an-ip", timeoutMs: 500 }),
    /Invalid IP address: "not-an-ip"/,
  );
  await assert.rejects(
    connectPeer({ remoteAddress: "127.0.0.1", remotePort: 70000, timeoutMs: 500 }),
    /Invalid port for 127\.0\.0\.1: 70000/,
  );
  await assert.rejects(connectPeer({ remoteAddress: "127.0.0.1", timeoutMs: 0 }), /Invalid connect timeout/);
});

Deno.test("600 refused, 9 timed-out, 9 aborted and 20 closed connections leave no fd behind", async () => {
  // A child process, so fds of test files running in parallel in this process do not count; it runs with
  // the transport's minimal permissions, which this also checks.
  const script = fileURLToPath(new URL("./fd_leak_probe.ts", import.meta.url));
  const libc = `/lib/${Deno.build.arch}-linux-gnu/libc.so.6`;
  const ffi = (() => {
    try {
      Deno.statSync(libc);
      return `--allow-ffi=${libc}`;
    } catch {
      return "--allow-ffi";
    }
  })();
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", "--allow-net=127.0.0.1", ffi, script],
    env: { NO_COLOR: "1", RUST_BACKTRACE: "0" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.ok(out.success, `fd_leak_probe.ts failed: ${stderr}`);
  const result = JSON.parse(new TextDecoder().decode(out.stdout));
  assert.equal(result.refused, 600);
  assert.equal(result.timedOut, 9);
  assert.equal(result.aborted, 9);
  assert.equal(result.connected, 20);
  // Not one IP socket more than before.
  assert.equal(result.after.ip, result.before.ip);
  // The runtime opens one internal unix socket pair lazily at some point; a leak would be hundreds.
  assert.ok(result.after.total - result.before.total <= 2, JSON.stringify(result));
});
