/**
 * Initial table transfer to BIRD: N IPv4 /32 prefixes (100.64.0.0/10), eBGP, one BIRD receiver per run,
 * senders side by side in the same run: our engine, gobgpd (routes injected from an MRT dump, as
 * `perf-anchors.md` does), and BIRD (static routes, its control socket polled so its loop does not sleep).
 *
 * Time = from BIRD's own millisecond timestamp of the session going Established to the first poll at which
 * BIRD reports all N routes imported. Also reports each sender's peak RSS (VmHWM).
 *
 * Run as root: `./denow run -A bench/table_transfer.ts [--sizes 100000,1000000] [--senders speaker,bird,gobgpd]`.
 * Uses the test harness's namespaces (10.99.0.0/24), removed on exit.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { type Bird, birdProtocolName, startBird } from "../tests/harness/bird.ts";
import { startGobgpd } from "../tests/harness/gobgpd.ts";
import { runCommand } from "../tests/harness/command.ts";
import { type Host, Topology } from "../tests/harness/topology.ts";
import { delay, waitFor } from "../tests/harness/wait.ts";
import { startEngine } from "../tests/interop/engine_runner.ts";

const { values } = parseArgs({
  options: {
    sizes: { type: "string", default: "100000,1000000" },
    senders: { type: "string", default: "speaker,bird,gobgpd" },
    reps: { type: "string", default: "1" },
  },
});
const sizes = values.sizes!.split(",").map(Number);
const senders = values.senders!.split(",");
const reps = Number(values.reps);

const SENDER_AS = 65001;
const RECEIVER_AS = 65002;

function prefixes(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `100.${64 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}/32`);
}

function vmHwmMb(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

/** A TABLE_DUMP_V2 file (RFC 6396 §4.3) of N locally originated routes with next hop `nextHop`. */
function mrtDump(n: number, nextHop: string): Uint8Array {
  const nh = nextHop.split(".").map(Number);
  const records: Uint8Array[] = [];
  const record = (subtype: number, body: Uint8Array) => {
    const r = new Uint8Array(12 + body.length);
    const v = new DataView(r.buffer);
    v.setUint32(0, Math.floor(Date.now() / 1000));
    v.setUint16(4, 13);
    v.setUint16(6, subtype);
    v.setUint32(8, body.length);
    r.set(body, 12);
    records.push(r);
  };
  // PEER_INDEX_TABLE: collector id 0, no view name, one peer (IPv4, 2-octet AS 0, id 0, address 0).
  record(1, Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0));
  // ORIGIN IGP, empty AS_PATH, NEXT_HOP.
  const attrs = Uint8Array.of(0x40, 1, 1, 0, 0x40, 2, 0, 0x40, 3, 4, ...nh);
  // gobgp's CLI loses the tail of the stream (perf-anchors.md): pad with duplicates of the first routes.
  const total = n + Math.min(n, 50_000);
  for (let s = 0; s < total; s++) {
    const i = s % n;
    const body = new Uint8Array(4 + 1 + 4 + 2 + 8 + attrs.length);
    const v = new DataView(body.buffer);
    v.setUint32(0, s);
    body[4] = 32;
    body.set([100, 64 + (i >> 16), (i >> 8) & 255, i & 255], 5);
    v.setUint16(9, 1);
    v.setUint16(11, 0);
    v.setUint32(13, 0);
    v.setUint16(17, attrs.length);
    body.set(attrs, 19);
    record(2, body);
  }
  const size = records.reduce((a, r) => a + r.length, 0);
  const out = new Uint8Array(size);
  let at = 0;
  for (const r of records) {
    out.set(r, at);
    at += r.length;
  }
  return out;
}

/** Waits until BIRD is Established with `peer` and returns BIRD's timestamp of it (seconds). */
async function establishedSince(bird: Bird, peer: string): Promise<number> {
  const name = birdProtocolName(peer);
  return await waitFor(`receiver session to ${peer}`, async () => {
    const out = await bird.cli(["show", "protocols", name]);
    const line = out.split("\n").find((l) => l.startsWith(name));
    if (!line || !line.includes("Established")) return undefined;
    const since = line.split(/\s+/).find((w) => /^\d{9,}\.\d{3}$/.test(w));
    return since ? Number(since) : undefined;
  }, { timeoutMs: 60_000, intervalMs: 10 });
}

/** Polls BIRD until it has imported `n` routes from `peer`; returns the wall-clock time (seconds). */
async function allImported(bird: Bird, peer: string, n: number): Promise<number> {
  const name = birdProtocolName(peer);
  return await waitFor(`receiver to import ${n} routes`, async () => {
    const out = await bird.cli(["show", "protocols", "all", name]);
    const m = /Routes:\s+(\d+) imported/.exec(out);
    return m && Number(m[1]) >= n ? Date.now() / 1000 : undefined;
  }, { timeoutMs: 120_000, intervalMs: 10 });
}

async function receiver(topo: Topology, host: Host, sender: Host): Promise<Bird> {
  return await startBird(topo, {
    host,
    asn: RECEIVER_AS,
    neighbors: [{ address: sender.ipv4, peerAs: SENDER_AS }],
    extraConfig: 'timeformat protocol "%s.%3f";',
  });
}

interface Result {
  readonly sender: string;
  readonly n: number;
  readonly seconds: number;
  readonly rssMb: number;
}

async function runOnce(sender: string, n: number): Promise<Result> {
  await using topo = await Topology.create({ hosts: 2 });
  const [h1, h2] = [topo.host(1), topo.host(2)];
  let pid: number;
  let engineLog: (() => Promise<string>) | undefined;
  let poke: (() => Promise<void>) | undefined;
  if (sender === "speaker") {
    const engine = await startEngine(
      topo,
      h1,
      {
        asn: SENDER_AS,
        routerId: h1.ipv4,
        neighbors: [{ address: h2.ipv4, asn: RECEIVER_AS }],
        timing: { backoffBaseMs: 200, backoffMaxMs: 1000 },
        desired: prefixes(n),
      },
      "engine",
      Deno.env.get("SPEAKER_CPU_PROF")
        ? ["--v8-flags=--prof", `--v8-flags=--logfile=${Deno.env.get("SPEAKER_CPU_PROF")}`]
        : [],
    );
    await waitFor("engine to load", async () => (await engine.status())?.desired.ipv4 === n, {
      timeoutMs: 120_000,
    });
    pid = engine.process.pid;
    engineLog = () => engine.process.logTail(200_000);
  } else if (sender === "bird") {
    // The first prefix through the harness (so BIRD exports static routes), the rest from an include file.
    const all = prefixes(n);
    const include = `${topo.workDir}/static-${n}.conf`;
    await Deno.writeTextFile(include, all.slice(1).map((p) => `  route ${p} blackhole;`).join("\n") + "\n");
    const bird = await startBird(topo, {
      host: h1,
      asn: SENDER_AS,
      neighbors: [{ address: h2.ipv4, peerAs: RECEIVER_AS }],
      staticRoutes: [all[0]],
      // BIRD only takes `include` at the start of a line.
      extraConfig: `protocol static feed {\n  ipv4;\ninclude "${include}";\n}`,
      readyTimeoutMs: 60_000,
    });
    await waitFor("bird sender to load", async () => {
      const out = await bird.cli(["show", "route", "count"]);
      return new RegExp(`\\b${n} of ${n} routes`).test(out) || out.includes(`${n} routes`);
    }, { timeoutMs: 120_000, intervalMs: 200 });
    pid = bird.pid;
    // BIRD's event loop sleeps between events unless its control socket is busy (perf-anchors.md caveat 1).
    poke = async () => void await bird.cli(["show", "status"]).catch(() => "");
  } else {
    const gobgpd = await startGobgpd(topo, {
      host: h1,
      asn: SENDER_AS,
      neighbors: [{ address: h2.ipv4, peerAs: RECEIVER_AS }],
    });
    const file = `${topo.workDir}/routes-${n}.mrt`;
    await Deno.writeFile(file, mrtDump(n, h1.ipv4));
    await runCommand(["gobgp", "--target", gobgpd.target, "mrt", "inject", "global", file], {
      timeoutMs: 300_000,
    });
    await waitFor("gobgpd to load", async () => {
      const out = await gobgpd.cli(["global", "rib", "summary", "-a", "ipv4"]);
      return out.includes(`Destination: ${n}`);
    }, { timeoutMs: 300_000, intervalMs: 500 });
    pid = gobgpd.pid;
  }
  const bird = await receiver(topo, h2, h1);
  let poking = true;
  const poker = poke
    ? (async () => {
      while (poking) {
        await poke!();
        await delay(10);
      }
    })()
    : undefined;
  try {
    const since = await establishedSince(bird, h1.ipv4);
    const done = await allImported(bird, h1.ipv4, n);
    const result = { sender, n, seconds: done - since, rssMb: vmHwmMb(pid) };
    if (engineLog) {
      // Our own view: from Established to the last UPDATE handed to the socket (End-of-RIB).
      const lines = (await engineLog()).split("\n").filter((l) => l.startsWith("{")).map((l) =>
        JSON.parse(l)
      );
      const up = lines.find((l) => l.msg === "session established")?.t;
      const sent = lines.find((l) => l.msg === "initial table sent")?.t;
      if (up && sent) {
        console.log(`  speaker: Established → End-of-RIB written in ${((sent - up) / 1000).toFixed(3)} s`);
      }
    }
    return result;
  } finally {
    poking = false;
    await poker;
  }
}

const results: Result[] = [];
for (const n of sizes) {
  for (const sender of senders) {
    for (let r = 0; r < reps; r++) {
      const res = await runOnce(sender, n);
      results.push(res);
      console.log(
        `${sender.padEnd(8)} n=${String(n).padStart(8)}  ${res.seconds.toFixed(3)} s  peak RSS ${
          res.rssMb.toFixed(0)
        } MB`,
      );
    }
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

console.log("\nmedians and ratios (sender time / speaker time):");
for (const n of sizes) {
  const ours = median(results.filter((r) => r.sender === "speaker" && r.n === n).map((r) => r.seconds));
  for (const sender of senders) {
    const rs = results.filter((r) => r.sender === sender && r.n === n);
    if (rs.length === 0) continue;
    const t = median(rs.map((r) => r.seconds));
    const rss = median(rs.map((r) => r.rssMb));
    const ratio = ours > 0 ? (t / ours).toFixed(2) : "-";
    console.log(
      `n=${n} ${sender.padEnd(8)} ${t.toFixed(3)} s  ${rss.toFixed(0)} MB  ${ratio}x the speaker's time`,
    );
  }
}
