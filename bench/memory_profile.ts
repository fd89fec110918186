/**
 * Where the speaker's memory goes with N Pods in static mode, stage by stage, in one process without
 * sockets: the objects file loaded into the Kubernetes state (lib/kube), then the desired set handed to
 * the BGP engine (lib/session's BgpSpeaker, no neighbors), each after a full GC. Optionally writes a heap
 * snapshot at the end and prints the largest object groups of it.
 *
 * With `--wired`, the desired set goes to the engine on every coalesced change during the load, as
 * lib/cli/run.ts wires it (`desired.onChange(() => speaker.setDesired(desired.prefixes()))`); without, once
 * after the load. Comparing the two shows what the incremental hand-over costs.
 *
 * Usage: `deno run -A --v8-flags=--expose-gc bench/memory_profile.ts [--n 100000] [--wired] [--snapshot PATH]`
 *
 * @module
 */

import { parseArgs } from "node:util";
import v8 from "node:v8";
import { DesiredState } from "../lib/kube/desired_state.ts";
import { watchObjectsFiles } from "../lib/kube/objects_file.ts";
import { BgpSpeaker } from "../lib/session/speaker.ts";
import { writeObjectsFile } from "./objects_file_writer.ts";

/** One stage's memory, MiB. */
export interface MemoryStage {
  readonly stage: string;
  readonly rssMb: number;
  readonly heapUsedMb: number;
  readonly heapTotalMb: number;
  readonly externalMb: number;
}

function gc(): void {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (collect) {
    collect();
    collect();
  }
}

function reading(stage: string): MemoryStage {
  gc();
  const m = Deno.memoryUsage();
  const mb = (x: number) => x / 1024 / 1024;
  return {
    stage,
    rssMb: mb(m.rss),
    heapUsedMb: mb(m.heapUsed),
    heapTotalMb: mb(m.heapTotal),
    externalMb: mb(m.external),
  };
}

interface SnapshotJson {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
  nodes: number[];
  strings: string[];
}

/** Self sizes of a heap snapshot grouped by node type and name (constructor), largest first. */
export function summarizeSnapshot(
  json: SnapshotJson,
  top = 15,
): { group: string; count: number; mb: number }[] {
  const fields = json.snapshot.meta.node_fields;
  const stride = fields.length;
  const typeAt = fields.indexOf("type");
  const nameAt = fields.indexOf("name");
  const sizeAt = fields.indexOf("self_size");
  const types = json.snapshot.meta.node_types[0];
  const groups = new Map<string, { count: number; bytes: number }>();
  for (let i = 0; i < json.nodes.length; i += stride) {
    const type = types[json.nodes[i + typeAt]];
    const name = type === "string" || type === "concatenated string" || type === "sliced string"
      ? "(strings)"
      : json.strings[json.nodes[i + nameAt]];
    const key = `${type}: ${name}`.slice(0, 80);
    const g = groups.get(key) ?? { count: 0, bytes: 0 };
    g.count++;
    g.bytes += json.nodes[i + sizeAt];
    groups.set(key, g);
  }
  return [...groups].map(([group, g]) => ({ group, count: g.count, mb: g.bytes / 1024 / 1024 }))
    .sort((a, b) => b.mb - a.mb).slice(0, top);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      n: { type: "string", default: "100000" },
      snapshot: { type: "string" },
      wired: { type: "boolean", default: false },
    },
  });
  const n = Number(values.n);
  const dir = await Deno.makeTempDir({ prefix: "speaker-memory-" });
  try {
    const file = `${dir}/pods.yaml`;
    await writeObjectsFile(file, [{ family: "ipv4", offset: 0, count: n }]);
    const stages: MemoryStage[] = [reading("start")];
    const desired = new DesiredState({
      nodeName: "node-1",
      announceClusterIp: false,
      announceLbIp: false,
      natGwMode: false,
      gatewayName: "",
    });
    const speaker = new BgpSpeaker({ asn: 65001, routerId: "10.99.0.1", neighbors: [] });
    let handOvers = 0;
    let handOverMs = 0;
    if (values.wired) {
      desired.onChange(() => {
        const t = performance.now();
        speaker.setDesired(desired.prefixes());
        handOverMs += performance.now() - t;
        handOvers++;
      });
    }
    let peakRss = 0;
    const sampler = setInterval(() => peakRss = Math.max(peakRss, Deno.memoryUsage().rss), 10);
    const started = performance.now();
    const files = watchObjectsFiles([file], desired, { watch: false });
    await files.ready;
    desired.flush();
    const loadMs = performance.now() - started;
    stages.push(reading(`objects loaded into DesiredState (${desired.counts().prefixes} prefixes)`));
    const t = performance.now();
    speaker.setDesired(desired.prefixes());
    handOverMs += performance.now() - t;
    handOvers++;
    clearInterval(sampler);
    stages.push(reading("desired set handed to BgpSpeaker"));
    console.log(
      `n=${n}${values.wired ? " (wired as run.ts)" : ""}: objects file loaded in ${
        loadMs.toFixed(0)
      } ms; ${handOvers} hand-overs to the engine took ${handOverMs.toFixed(0)} ms; peak RSS ${
        (peakRss / 1024 / 1024).toFixed(0)
      } MB`,
    );
    console.log("stage | RSS MB | heap used MB | heap total MB | external MB");
    for (const s of stages) {
      console.log(
        `${s.stage} | ${s.rssMb.toFixed(0)} | ${s.heapUsedMb.toFixed(1)} | ${s.heapTotalMb.toFixed(1)} | ${
          s.externalMb.toFixed(1)
        }`,
      );
    }
    if (values.snapshot) {
      const path = v8.writeHeapSnapshot(values.snapshot);
      const json = JSON.parse(await Deno.readTextFile(path)) as SnapshotJson;
      console.log("largest groups (self size):");
      for (const g of summarizeSnapshot(json)) console.log(`${g.mb.toFixed(1)} MB  ${g.count}  ${g.group}`);
    }
    files.close();
    desired.close();
    void speaker;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) await main();
