/**
 * The benchmark suite runs end to end in quick mode and writes a well-formed report; its pure parts
 * (statistics, prefixes, MRT dump, report rendering) behave as documented.
 *
 * @module
 */

import { assert, assertEquals, assertMatch, assertStringIncludes } from "../assert.ts";
import { requireTools } from "../harness/tools.ts";
import { median, percentile } from "../../bench/statistics.ts";
import { bulkAddress, bulkPrefixes } from "../../bench/prefixes.ts";
import { tableDump } from "../../bench/mrt_table_dump.ts";
import { ratio, renderReport } from "../../bench/report.ts";
import { establishedSince, importedRoutes } from "../../bench/bird_control.ts";

const RUN_TS = new URL("../../bench/run.ts", import.meta.url).pathname;

Deno.test("median() and percentile() follow the nearest-rank definitions", () => {
  assertEquals(median([3, 1, 2]), 2);
  assertEquals(median([4, 1, 2, 3]), 2.5);
  assert(Number.isNaN(median([])));
  assertEquals(percentile([5, 1, 4, 2, 3], 0.5), 3);
  assertEquals(percentile(Array.from({ length: 100 }, (_, i) => i + 1), 0.99), 99);
});

Deno.test("bulkPrefixes() counts host routes up from 100.64.0.0 and 2001:db8::", () => {
  assertEquals(bulkPrefixes("ipv4", 2, 255), ["100.64.0.255/32", "100.64.1.0/32"]);
  assertEquals(bulkAddress("ipv4", 65536), "100.65.0.0");
  assertEquals(bulkPrefixes("ipv6", 2), ["2001:db8::/128", "2001:db8::1/128"]);
  assertEquals(bulkAddress("ipv6", 65537), "2001:db8::1:1");
});

Deno.test("tableDump() writes a peer index and one RIB entry per route plus the padding", () => {
  const bytes = tableDump("ipv4", 3, "10.99.0.1", 2);
  const view = new DataView(bytes.buffer);
  assertEquals(view.getUint16(4), 13, "TABLE_DUMP_V2");
  assertEquals(view.getUint16(6), 1, "PEER_INDEX_TABLE first");
  let at = 0;
  let records = 0;
  while (at < bytes.length) {
    at += 12 + view.getUint32(at + 8);
    records++;
  }
  assertEquals(at, bytes.length);
  assertEquals(records, 1 + 3 + 2);
});

Deno.test("the BIRD control readers take the imported count and the Established timestamp", () => {
  const all =
    "1002-n10_99_0_1 BGP --- up 1763700000.123 Established\n1006-  Routes: 42 imported, 0 exported\n0000 \n";
  assertEquals(importedRoutes(all), 42);
  assertEquals(establishedSince(all, "n10_99_0_1"), 1763700000.123);
  assertEquals(
    establishedSince("1002-n10_99_0_1 BGP --- start 1763700000.123 Active\n", "n10_99_0_1"),
    undefined,
  );
});

Deno.test("renderReport() writes the machine, the targets and every section's tables", () => {
  const md = renderReport({
    title: "Benchmark results",
    date: "2026-11-21T07:00:00Z",
    mode: "quick",
    machine: [["nproc", "2"]],
    sections: [{
      title: "Codec",
      method: ["How it was measured."],
      tables: [{ columns: ["a", "b|c"], rows: [["1", ratio(1, 4)]] }],
      targets: [{ target: "fast", measured: "0.25x", met: true }],
    }],
  });
  assertStringIncludes(md, "| nproc | 2 |");
  assertStringIncludes(md, "| fast | 0.25x | yes |");
  assertStringIncludes(md, "## Codec\n\nHow it was measured.");
  assertStringIncludes(md, "| a | b\\|c |\n|---|---|\n| 1 | 0.25x |");
});

Deno.test({
  name: "bench/run.ts --quick measures a table transfer and churn against BIRD and writes the report",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    requireTools(["ip", "bird", "birdc", "gobgpd", "gobgp", "/usr/lib/frr/bgpd"]);
    const out = await Deno.makeTempFile({ suffix: ".md" });
    try {
      const child = new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", RUN_TS, "--quick", "--only", "transfer,churn", "--out", out],
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const timer = setTimeout(() => child.kill("SIGKILL"), 150_000);
      const result = await child.output();
      clearTimeout(timer);
      const stderr = new TextDecoder().decode(result.stderr);
      assertEquals(result.code, 0, `bench/run.ts failed:\n${stderr.slice(-4_000)}`);
      const md = await Deno.readTextFile(out);
      assertEquals(new TextDecoder().decode(result.stdout).trim(), md.trim(), "the report is also printed");
      assertMatch(md, /^# Benchmark results\n\nRun: \d{4}-\d\d-\d\dT[\d:]+Z \(quick mode/);
      // The report is written through `deno fmt`, which pads table cells.
      assertMatch(md, /\| nproc +\| \d+ +\|/);
      assertMatch(md, /\| kernel +\| \S+ +\|/);
      assertMatch(md, /\| BIRD +\| BIRD version 2\.\S+ +\|/);
      assertStringIncludes(md, "## Initial table transfer");
      assertStringIncludes(md, "**10k IPv4 /32**");
      // Both senders delivered: a time in seconds and the ratio against BIRD.
      assertMatch(md, /\| BIRD +\| speaker \(ours\) +\| \d+\.\d{3} +\| [\d.]+–[\d.]+ +\|/);
      assertMatch(
        md,
        /\| BIRD +\| BIRD \(static, loop kept awake\) +\| \d+\.\d{3} +\|.*\| \d+\.\d\dx +\| 1 +\|/,
      );
      assertStringIncludes(md, "## Churn");
      assertMatch(md, /\| speaker \(ours\), objects file \+ SIGHUP +\| 300 +\| \d+\.\d{3} +\| \d+ +\|/);
      assert(!md.includes("**Failed:**"), "no benchmark failed");
    } finally {
      await Deno.remove(out).catch(() => undefined);
    }
  },
});
