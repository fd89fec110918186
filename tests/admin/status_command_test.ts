import { assert, assertEquals, assertStringIncludes } from "../assert.ts";
import { formatUpDown, renderStatus, statusCommand, type StatusCommandIo } from "../../lib/cli/status.ts";
import { startAdminServer } from "../../lib/admin/server.ts";
import { Registry } from "../../lib/admin/prometheus_registry.ts";
import { statusFixture } from "./status_fixture.ts";

function captureIo(): { io: StatusCommandIo; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    io: { print: (t) => out.push(t), printError: (t) => err.push(t), fetch: (url, init) => fetch(url, init) },
    out,
    err,
  };
}

const EXPECTED_TABLES = [
  "Speaker node-1  router-id 10.99.0.1  AS 65000  up 01:02:05  ready",
  "",
  "Peer          AS      Up/Down  State        #Sent  #Received",
  "10.99.0.2  65030     01:00:00  Established      3          0",
  "fd99::2    65030  1d 01:01:01  Active           0          0",
  "  fd99::2: last error: connect: connection refused",
  "",
  "Prefix           Source                  Peers",
  "10.16.0.0/16     subnet ovn-default      10.99.0.2",
  "10.16.0.5/32     pod default/web-0 (+1)  10.99.0.2",
  "2001:db8::5/128  service default/api     -",
].join("\n");

async function withStatusServer(test: (address: string) => Promise<void>): Promise<void> {
  const server = await startAdminServer({
    hostname: "127.0.0.1",
    port: 0,
    registry: new Registry(),
    readiness: () => ({ ready: true, reasons: [] }),
    status: statusFixture,
  });
  try {
    await test(`http://127.0.0.1:${server.port}`);
  } finally {
    await server.shutdown();
  }
}

Deno.test("speaker status renders peers and prefixes from a served /status as aligned tables", async () => {
  await withStatusServer(async (address) => {
    const { io, out, err } = captureIo();
    assertEquals(await statusCommand(["--address", address], io), 0);
    assertEquals(err, []);
    assertEquals(out, [EXPECTED_TABLES]);
  });
});

Deno.test("speaker status accepts host:port and prints the raw document with --json", async () => {
  await withStatusServer(async (address) => {
    const { io, out } = captureIo();
    assertEquals(await statusCommand([`--address=${address.replace("http://", "")}`, "--json"], io), 0);
    assertEquals(JSON.parse(out[0]), statusFixture());
  });
});

Deno.test("speaker status exits 1 with a clear message when the speaker is unreachable", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const { io, out, err } = captureIo();
  assertEquals(await statusCommand(["--address", `127.0.0.1:${port}`, "--timeout", "2000"], io), 1);
  assertEquals(out, []);
  assertStringIncludes(err[0], `speaker status: cannot reach the speaker at http://127.0.0.1:${port}/status`);
  assertStringIncludes(err[0], "--pprof-port");
});

Deno.test("speaker status exits 1 when the answer is not a status document", async () => {
  const { io, err } = captureIo();
  io.fetch = () => Promise.resolve(new Response("<html>", { status: 200 }));
  assertEquals(await statusCommand([], io), 1);
  assertEquals(err, [
    "speaker status: http://127.0.0.1:10667/status did not return a speaker status document",
  ]);
  io.fetch = () => Promise.resolve(new Response("boom\n", { status: 500 }));
  assertEquals(await statusCommand([], io), 1);
  assertEquals(err[1], "speaker status: http://127.0.0.1:10667/status answered 500: boom");
});

Deno.test("speaker status exits 2 on unknown options and prints help with --help", async () => {
  const { io, out, err } = captureIo();
  assertEquals(await statusCommand(["--adress", "x"], io), 2);
  assertStringIncludes(err[0], "Usage: speaker status");
  assertEquals(await statusCommand(["--timeout", "soon"], io), 2);
  assertEquals(await statusCommand(["-h"], io), 0);
  assert(out[0].startsWith("Usage: speaker status [--address URL] [--json]"));
});

Deno.test("renderStatus() says so when nothing is to be announced and the speaker is not ready", () => {
  const report = statusFixture();
  const text = renderStatus({
    ...report,
    speaker: { ...report.speaker, ready: false, readyReasons: ["kubernetes caches not synced: pods"] },
    peers: [{ ...report.peers[0], upDownSeconds: null, state: "Idle" }],
    prefixes: [],
  });
  assertStringIncludes(text, "not ready: kubernetes caches not synced: pods");
  assertStringIncludes(text, "10.99.0.2  65030    never  Idle       3          0");
  assert(text.endsWith("No prefixes to announce"));
});

Deno.test("formatUpDown() prints gobgp's Up/Down form", () => {
  assertEquals(formatUpDown(0), "00:00:00");
  assertEquals(formatUpDown(83), "00:01:23");
  assertEquals(formatUpDown(86399), "23:59:59");
  assertEquals(formatUpDown(2 * 86400 + 3 * 3600 + 4 * 60 + 5), "2d 03:04:05");
});
