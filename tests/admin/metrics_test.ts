import { assert, assertEquals, assertThrows } from "../assert.ts";
import { Registry } from "../../lib/admin/prometheus_registry.ts";
import { MESSAGE_TYPES, type PeerMetrics, SpeakerMetrics } from "../../lib/admin/metrics.ts";
import { parsePrometheusText, type Sample } from "./prometheus_text.ts";

function valueOf(samples: readonly Sample[], labels: Record<string, string>): number | undefined {
  return samples.find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

function peer(address: string, state: PeerMetrics["state"], extra: Partial<PeerMetrics> = {}): PeerMetrics {
  return {
    peer: address,
    peerAsn: 65030,
    state,
    flaps: 2,
    outQueue: 0,
    received: { open: 1, update: 7, keepalive: 30, notification: 0, refresh: 0 },
    sent: { open: 1, update: 12, keepalive: 31, withdraw_update: 2, withdraw_prefix: 5 },
    announcedPrefixes: { ipv4: 4, ipv6: 1 },
    ...extra,
  };
}

Deno.test("Registry renders HELP, TYPE and samples in the exposition format, sorted and escaped", async () => {
  const registry = new Registry();
  const g = registry.gauge("zeta_value", "Last\\one\nwith newline", ["name"]);
  const c = registry.counter("alpha_total", "Counts");
  g.set({ name: 'quote " backslash \\ newline \n end' }, 1.5);
  g.set({ name: "a" }, NaN);
  g.set({ name: "b" }, -Infinity);
  c.inc({}, 3);
  const text = await registry.expose();
  assertEquals(
    text,
    [
      "# HELP alpha_total Counts",
      "# TYPE alpha_total counter",
      "alpha_total 3",
      "# HELP zeta_value Last\\\\one\\nwith newline",
      "# TYPE zeta_value gauge",
      'zeta_value{name="a"} NaN',
      'zeta_value{name="b"} -Inf',
      'zeta_value{name="quote \\" backslash \\\\ newline \\n end"} 1.5',
      "",
    ].join("\n"),
  );
  const parsed = parsePrometheusText(text);
  assertEquals(parsed.get("zeta_value")!.samples[2].labels.name, 'quote " backslash \\ newline \n end');
  assertEquals(await registry.expose(), text);
});

Deno.test("Registry deletes one series and refuses wrong labels, names and decreasing counters", async () => {
  const registry = new Registry();
  const g = registry.gauge("x", "x", ["peer"]);
  g.set({ peer: "a" }, 1);
  g.set({ peer: "b" }, 2);
  assertEquals(g.delete({ peer: "a" }), true);
  assertEquals(g.delete({ peer: "a" }), false);
  assertEquals(parsePrometheusText(await registry.expose()).get("x")!.samples.map((s) => s.labels.peer), [
    "b",
  ]);
  assertThrows(() => g.set({}, 1));
  assertThrows(() => g.set({ peer: "a", extra: "b" }, 1));
  assertThrows(() => registry.gauge("x", "again"));
  assertThrows(() => registry.gauge("bad-name", "x"));
  assertThrows(() => registry.gauge("y", "y", ["le"]));
  assertThrows(() => registry.counter("z", "z").inc({}, -1));
});

Deno.test("Histogram renders cumulative buckets, +Inf, sum and count", async () => {
  const registry = new Registry();
  const h = registry.histogram("latency_seconds", "Latency", ["node"], [0.1, 0.01, 1]);
  for (const v of [0.005, 0.05, 0.05, 2]) h.observe({ node: "n" }, v);
  const text = await registry.expose();
  const lines = text.split("\n").filter((l) => !l.startsWith("#") && l !== "");
  assertEquals(lines, [
    'latency_seconds_bucket{node="n",le="0.01"} 1',
    'latency_seconds_bucket{node="n",le="0.1"} 3',
    'latency_seconds_bucket{node="n",le="1"} 3',
    'latency_seconds_bucket{node="n",le="+Inf"} 4',
    'latency_seconds_sum{node="n"} 2.105',
    'latency_seconds_count{node="n"} 4',
  ]);
  parsePrometheusText(text);
});

Deno.test("Registry keeps the last values when a collector throws", async () => {
  const registry = new Registry();
  const g = registry.gauge("v", "v");
  let n = 0;
  registry.onCollect(() => {
    n++;
    if (n === 2) throw new Error("source down");
    g.set({}, n);
  });
  assertEquals(parsePrometheusText(await registry.expose()).get("v")!.samples[0].value, 1);
  assertEquals(parsePrometheusText(await registry.expose()).get("v")!.samples[0].value, 1);
  assertEquals(parsePrometheusText(await registry.expose()).get("v")!.samples[0].value, 3);
});

Deno.test("SpeakerMetrics exports kube-ovn-speaker's series and ours, read at scrape time", async () => {
  const registry = new Registry();
  let peers = [peer("10.99.0.2", "Established"), peer("fd99::2", "Active", { flaps: 0, outQueue: 3 })];
  const metrics = new SpeakerMetrics(registry, "node-1", {
    peers: () => peers,
    desiredPrefixes: () => ({ pod: 12, subnet: 2, service: 1 }),
    logCounts: () => ({
      error: { lines: 1, bytes: 80 },
      warn: { lines: 2, bytes: 150 },
      info: { lines: 10, bytes: 900 },
      debug: { lines: 5, bytes: 400 },
      trace: { lines: 0, bytes: 0 },
    }),
  });
  metrics.observeEventToWire(0.004);
  metrics.observeEventToWire(0.2);
  metrics.watchRestarted("pods");
  metrics.watchRestarted("pods");
  metrics.watchSynced("subnets", 1_795_000_000_000);
  metrics.objectsSkipped("watch");
  metrics.objectsSkipped("file", 3);
  metrics.objectsSkipped("file", 0);

  const families = parsePrometheusText(await registry.expose());
  const f = (name: string) => {
    const family = families.get(name);
    assert(family !== undefined, `missing ${name}`);
    return family;
  };
  const p1 = { node: "node-1", peer: "10.99.0.2", peer_asn: "65030" };
  const p2 = { node: "node-1", peer: "fd99::2", peer_asn: "65030" };
  assertEquals(f("kube_ovn_speaker_bgp_peer_up").type, "gauge");
  assertEquals(valueOf(f("kube_ovn_speaker_bgp_peer_up").samples, p1), 1);
  assertEquals(valueOf(f("kube_ovn_speaker_bgp_peer_up").samples, p2), 0);
  assertEquals(valueOf(f("kube_ovn_speaker_bgp_peer_session_state").samples, p1), 6);
  assertEquals(valueOf(f("kube_ovn_speaker_bgp_peer_session_state").samples, p2), 3);
  assertEquals(valueOf(f("kube_ovn_speaker_bgp_peer_flap_count").samples, p1), 2);
  assertEquals(valueOf(f("kube_ovn_speaker_bgp_peer_out_queue").samples, p2), 3);
  const received = f("kube_ovn_speaker_bgp_peer_received_messages").samples;
  const sent = f("kube_ovn_speaker_bgp_peer_sent_messages").samples;
  for (const type of MESSAGE_TYPES) {
    assert(valueOf(received, { peer: "10.99.0.2", type }) !== undefined, `received ${type}`);
    assert(valueOf(sent, { peer: "fd99::2", type }) !== undefined, `sent ${type}`);
  }
  assertEquals(Object.keys(received[0].labels), ["node", "peer", "type"]);
  assertEquals(valueOf(received, { peer: "10.99.0.2", type: "update" }), 7);
  assertEquals(valueOf(received, { peer: "10.99.0.2", type: "total" }), 38);
  assertEquals(valueOf(sent, { peer: "10.99.0.2", type: "withdraw_prefix" }), 5);
  assertEquals(valueOf(sent, { peer: "10.99.0.2", type: "discarded" }), 0);
  const announced = f("kube_ovn_speaker_bgp_peer_announced_prefixes").samples;
  assertEquals(valueOf(announced, { peer: "10.99.0.2", family: "ipv4" }), 4);
  assertEquals(valueOf(announced, { peer: "10.99.0.2", family: "ipv6" }), 1);
  const desired = f("kube_ovn_speaker_desired_prefixes").samples;
  assertEquals(desired.map((s) => [s.labels.source, s.value]), [["eip", 0], ["pod", 12], ["service", 1], [
    "subnet",
    2,
  ]]);
  assertEquals(f("kube_ovn_speaker_event_to_wire_seconds").type, "histogram");
  assertEquals(valueOf(f("kube_ovn_speaker_event_to_wire_seconds").samples, { le: "0.005" }), 1);
  assertEquals(valueOf(f("kube_ovn_speaker_event_to_wire_seconds").samples, { le: "+Inf" }), 2);
  assertEquals(f("kube_ovn_speaker_watch_restarts_total").type, "counter");
  assertEquals(valueOf(f("kube_ovn_speaker_watch_restarts_total").samples, { resource: "pods" }), 2);
  assertEquals(valueOf(f("kube_ovn_speaker_objects_skipped_total").samples, { source: "watch" }), 1);
  assertEquals(valueOf(f("kube_ovn_speaker_objects_skipped_total").samples, { source: "file" }), 3);
  assertEquals(
    valueOf(f("kube_ovn_speaker_watch_last_sync_timestamp_seconds").samples, { resource: "subnets" }),
    1_795_000_000,
  );
  assertEquals(valueOf(f("klog_lines_total").samples, { level: "INFO" }), 15);
  assertEquals(valueOf(f("klog_lines_total").samples, { level: "WARN" }), 2);
  assertEquals(valueOf(f("klog_bytes_total").samples, { level: "ERROR" }), 80);

  // A peer that goes away loses its series instead of keeping stale values.
  peers = [peers[0]];
  const after = parsePrometheusText(await registry.expose());
  assertEquals(after.get("kube_ovn_speaker_bgp_peer_up")!.samples.length, 1);
  assertEquals(
    after.get("kube_ovn_speaker_bgp_peer_sent_messages")!.samples.filter((s) => s.labels.peer === "fd99::2")
      .length,
    0,
  );
});

Deno.test("parsePrometheusText() rejects lines outside the exposition grammar", () => {
  const bad = [
    "metric 1",
    '# TYPE m gauge\nm{a="x} 1\n',
    '# TYPE m gauge\nm{a="\\x"} 1\n',
    "# TYPE m gauge\nm one\n",
    "# TYPE m gauge\nm 1\nm 2\n",
    '# TYPE m gauge\nm 1\n# TYPE n gauge\nn 1\nm{a="b"} 1\n',
    "# TYPE m gauge\nm 1\n# TYPE m counter\n",
    '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n',
    "# TYPE m gauge\n2m 1\n",
  ];
  for (const text of bad) {
    let threw = false;
    try {
      parsePrometheusText(text);
    } catch {
      threw = true;
    }
    assert(threw, `accepted ${JSON.stringify(text)}`);
  }
});
