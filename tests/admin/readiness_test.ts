import { assertEquals } from "../assert.ts";
import { ReadinessGate } from "../../lib/admin/readiness.ts";
import { speakerStatus } from "../../lib/admin/status_report.ts";

Deno.test("ReadinessGate is ready only after every cache synced and no blocker remains", () => {
  const gate = new ReadinessGate(["pods", "subnets", "services"]);
  assertEquals(gate.verdict(), {
    ready: false,
    reasons: ["kubernetes caches not synced: pods, subnets, services"],
  });
  gate.markSynced("pods");
  gate.markSynced("services");
  assertEquals(gate.verdict(), { ready: false, reasons: ["kubernetes caches not synced: subnets"] });
  gate.block("objects", "objects file manifests/a.yaml: not valid YAML");
  gate.markSynced("subnets");
  assertEquals(gate.verdict(), { ready: false, reasons: ["objects file manifests/a.yaml: not valid YAML"] });
  gate.clear("objects");
  assertEquals(gate.verdict(), { ready: true, reasons: [] });
});

Deno.test("speakerStatus() reports uptime from the times passed in", () => {
  const status = speakerStatus({
    version: "0.1.0",
    nodeName: "node-1",
    routerId: "10.99.0.1",
    localAs: 65000,
    startedAtMs: Date.UTC(2026, 10, 21, 6, 0, 0),
    nowMs: Date.UTC(2026, 10, 21, 7, 2, 5, 900),
    readiness: { ready: false, reasons: ["kubernetes caches not synced: pods"] },
  });
  assertEquals(status, {
    version: "0.1.0",
    nodeName: "node-1",
    routerId: "10.99.0.1",
    localAs: 65000,
    startedAt: "2026-11-21T06:00:00.000Z",
    uptimeSeconds: 3725,
    ready: false,
    readyReasons: ["kubernetes caches not synced: pods"],
  });
});
