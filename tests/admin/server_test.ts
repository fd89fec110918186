import { assert, assertEquals, assertStringIncludes } from "../assert.ts";
import { type AdminServer, startAdminServer } from "../../lib/admin/server.ts";
import { Registry } from "../../lib/admin/prometheus_registry.ts";
import { SpeakerMetrics } from "../../lib/admin/metrics.ts";
import { EventLoopLagProbe } from "../../lib/admin/event_loop_lag.ts";
import { Redactor } from "../../lib/log/redaction.ts";
import { parsePrometheusText } from "./prometheus_text.ts";
import { FIXTURE_PASSWORD, statusFixture } from "./status_fixture.ts";

interface Harness {
  server: AdminServer;
  base: string;
  setSynced(value: boolean): void;
}

async function withServer(
  test: (h: Harness) => Promise<void>,
  options: { maxLagMs?: number; leakPassword?: boolean } = {},
): Promise<void> {
  let synced = false;
  const registry = new Registry();
  new SpeakerMetrics(registry, "node-1", {
    peers: () => [{
      peer: "10.99.0.2",
      peerAsn: 65030,
      state: "Established",
      flaps: 0,
      outQueue: 0,
      received: { open: 1, keepalive: 3 },
      sent: { open: 1, update: 2, keepalive: 3 },
      announcedPrefixes: { ipv4: 2, ipv6: 0 },
    }],
    desiredPrefixes: () => ({ pod: 1, subnet: 1 }),
  });
  const redactor = new Redactor();
  redactor.register(FIXTURE_PASSWORD);
  const server = await startAdminServer({
    hostname: "127.0.0.1",
    port: 0,
    registry,
    redactor,
    maxLagMs: options.maxLagMs,
    readiness: () =>
      synced ? { ready: true, reasons: [] } : {
        ready: false,
        reasons: ["kubernetes caches not synced: pods, subnets"],
      },
    status: () => {
      const report = statusFixture();
      if (!options.leakPassword) return report;
      // A careless provider copying a NOTIFICATION text that quotes the password.
      return { ...report, peers: [{ ...report.peers[1], lastError: `md5 ${FIXTURE_PASSWORD} mismatch` }] };
    },
  });
  try {
    await test({ server, base: `http://127.0.0.1:${server.port}`, setSynced: (v) => synced = v });
  } finally {
    await server.shutdown();
  }
}

async function get(url: string, init?: RequestInit): Promise<{ status: number; body: string; type: string }> {
  const response = await fetch(url, init);
  return {
    status: response.status,
    body: await response.text(),
    type: response.headers.get("content-type") ?? "",
  };
}

Deno.test("admin server serves /metrics that parse and carry the speaker's series", async () => {
  await withServer(async ({ base }) => {
    const { status, body, type } = await get(`${base}/metrics`);
    assertEquals(status, 200);
    assertEquals(type, "text/plain; version=0.0.4; charset=utf-8");
    const families = parsePrometheusText(body);
    for (
      const name of [
        "kube_ovn_speaker_bgp_peer_up",
        "kube_ovn_speaker_bgp_peer_session_state",
        "kube_ovn_speaker_bgp_peer_flap_count",
        "kube_ovn_speaker_bgp_peer_out_queue",
        "kube_ovn_speaker_bgp_peer_received_messages",
        "kube_ovn_speaker_bgp_peer_sent_messages",
        "kube_ovn_speaker_bgp_peer_announced_prefixes",
        "kube_ovn_speaker_desired_prefixes",
        "kube_ovn_speaker_event_to_wire_seconds",
        "kube_ovn_speaker_watch_restarts_total",
        "kube_ovn_speaker_watch_last_sync_timestamp_seconds",
      ]
    ) assert(families.has(name), `missing ${name}`);
    assertEquals(families.get("kube_ovn_speaker_bgp_peer_up")!.samples[0].value, 1);
    assert(!body.includes(FIXTURE_PASSWORD));
  });
});

Deno.test("admin server /readyz turns ready only after the caches sync", async () => {
  await withServer(async ({ base, setSynced }) => {
    const before = await get(`${base}/readyz`);
    assertEquals(before.status, 503);
    assertEquals(before.body, "kubernetes caches not synced: pods, subnets\n");
    setSynced(true);
    const after = await get(`${base}/readyz`);
    assertEquals([after.status, after.body], [200, "ok\n"]);
  });
});

Deno.test("admin server answers /livez and /healthz while the event loop is responsive", async () => {
  await withServer(async ({ base }) => {
    assertEquals(await get(`${base}/livez`), {
      status: 200,
      body: "ok\n",
      type: "text/plain; charset=utf-8",
    });
    assertEquals((await get(`${base}/healthz`)).status, 200);
  });
});

Deno.test("admin server /livez fails after the event loop was blocked", async () => {
  await withServer(async ({ base }) => {
    // Let the probe take a sample, then block the loop well past the limit.
    await new Promise((resolve) => setTimeout(resolve, 600));
    const until = Date.now() + 1200;
    while (Date.now() < until) {
      // Busy wait: this is the stall the probe must notice.
    }
    const { status, body } = await get(`${base}/livez`);
    assertEquals(status, 503);
    assertStringIncludes(body, "event loop lag");
  }, { maxLagMs: 300 });
});

Deno.test("admin server serves /status as JSON from the provider", async () => {
  await withServer(async ({ base }) => {
    const { status, body, type } = await get(`${base}/status`);
    assertEquals(status, 200);
    assertEquals(type, "application/json");
    assertEquals(JSON.parse(body), statusFixture());
  });
});

Deno.test("admin server never sends a registered secret, even if a provider leaks it", async () => {
  await withServer(async ({ base }) => {
    const { body } = await get(`${base}/status`);
    assert(!body.includes(FIXTURE_PASSWORD), body);
    assertStringIncludes(body, "md5 *** mismatch");
  }, { leakPassword: true });
});

Deno.test("admin server answers unknown paths with 404 and other methods with 405", async () => {
  await withServer(async ({ base }) => {
    assertEquals((await get(`${base}/debug/pprof/`)).status, 404);
    const post = await get(`${base}/metrics`, { method: "POST", body: "x" });
    assertEquals(post.status, 405);
  });
});

Deno.test("startAdminServer() rejects when the port is taken", async () => {
  const blocker = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    let failed = false;
    try {
      const server = await startAdminServer({
        hostname: "127.0.0.1",
        port: (blocker.addr as Deno.NetAddr).port,
        registry: new Registry(),
        readiness: () => ({ ready: true, reasons: [] }),
        status: statusFixture,
      });
      await server.shutdown();
    } catch (error) {
      failed = error instanceof Deno.errors.AddrInUse;
    }
    assert(failed, "expected AddrInUse");
  } finally {
    blocker.close();
  }
});

Deno.test("EventLoopLagProbe judges liveness from recent timer lateness", () => {
  const probe = new EventLoopLagProbe({ intervalMs: 500, maxLagMs: 2000, windowMs: 10_000 });
  assertEquals(probe.verdict(0), { live: true, lagMs: 0 });
  probe.record(500, 510);
  assertEquals(probe.verdict(600), { live: true, lagMs: 10 });
  probe.record(1010, 4000);
  assertEquals(probe.verdict(4000), {
    live: false,
    lagMs: 2990,
    reason: "event loop lag 2990 ms exceeds 2000 ms",
  });
  // The stall ages out of the window.
  for (let t = 4500; t <= 15_000; t += 500) probe.record(t, t + 1);
  assertEquals(probe.verdict(15_001).live, true);
  // No tick for a long time means the loop is stuck now.
  assertEquals(probe.verdict(18_000).live, false);
});
