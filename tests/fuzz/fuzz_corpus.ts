/**
 * Seed messages of the session fuzzer, from the shared corpus (`<repo>/../shared/corpus`: ExaBGP encoding
 * vectors, packet captures, BGP4MP messages of MRT update files) and the live-session capture in
 * tests/wire/fixtures, plus a few messages shaped for the fuzzer's own session.
 *
 * @module
 */

import { CORPUS, fromHex, readCorpus } from "../wire/hex.ts";
import { bgpStreams } from "../wire/pcap.ts";
import { readMrtBuffer } from "../../lib/mrt/reader.ts";
import { decodeMrtBody } from "../../lib/mrt/records.ts";
import { MANDATORY, NLRI } from "../hostile/hostile_cases.ts";
import { openMessage, updateMessage } from "../hostile/raw_bgp_peer.ts";

/** Seed messages by where they may be sent. */
export interface FuzzCorpus {
  /** OPEN messages (mutated ones replace our OPEN). */
  readonly opens: readonly Uint8Array[];
  /** Every other message (mutated ones are sent on an Established session). */
  readonly messages: readonly Uint8Array[];
  /** Where they came from, for the report. */
  readonly sources: Readonly<Record<string, number>>;
}

/** At most this many messages from one MRT file. */
const PER_MRT_FILE = 400;

const MRT_FILES = [
  "bird_bgp",
  "bird6_bgp",
  "bird-mrtdump_bgp",
  "bird6-mrtdump_bgp",
  "quagga_bgp",
  "openbgpd_bgp",
  "rrc00.updates.20000102.2014.gz",
  "updates.20160811.1600.gz",
  "updates.nlri_mask_trailing_bits.gz",
];

async function fileBytes(path: string): Promise<Uint8Array> {
  const raw = await Deno.readFile(path);
  if (!path.endsWith(".gz")) return raw;
  const stream = new Blob([raw]).stream().pipeThrough(new DecompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

function mrtMessages(bytes: Uint8Array, limit: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const item of readMrtBuffer(bytes)) {
    if (item.kind !== "record") break;
    const body = decodeMrtBody(item.record);
    if (body.kind === "bgp4mp-message" && body.as4 && !body.addPath) out.push(body.message.slice());
    if (out.length >= limit) break;
  }
  return out;
}

/** Loads the corpus; throws with the path when the shared corpus is missing. */
export async function loadFuzzCorpus(): Promise<FuzzCorpus> {
  const all: Uint8Array[] = [];
  const sources: Record<string, number> = {};
  const add = (source: string, messages: Uint8Array[]) => {
    sources[source] = (sources[source] ?? 0) + messages.length;
    all.push(...messages);
  };

  readCorpus("PROVENANCE.md"); // fails with a clear message when the corpus is missing
  const vectors: Uint8Array[] = [];
  for (const e of Deno.readDirSync(CORPUS + "vectors/encoding")) {
    for (const line of readCorpus("vectors/encoding/" + e.name).split("\n")) {
      const m = /^\d+:raw:([0-9A-F:]+)$/i.exec(line.trim());
      if (m) vectors.push(fromHex(m[1]));
    }
  }
  add("vectors/encoding", vectors);
  const pcaps: Uint8Array[] = [];
  for (const e of Deno.readDirSync(CORPUS + "pcap")) {
    for (const s of bgpStreams(Deno.readFileSync(CORPUS + "pcap/" + e.name))) pcaps.push(...s.messages);
  }
  add("pcap", pcaps);
  const live = new URL("../wire/fixtures/live_sessions.pcap", import.meta.url);
  const liveMessages: Uint8Array[] = [];
  for (const s of bgpStreams(Deno.readFileSync(live))) liveMessages.push(...s.messages);
  add("tests/wire/fixtures/live_sessions.pcap", liveMessages);
  for (const name of MRT_FILES) {
    add(`mrt/${name}`, mrtMessages(await fileBytes(CORPUS + "mrt/" + name), PER_MRT_FILE));
  }
  // Messages shaped for the fuzzer's session: a valid announcement and our own OPEN.
  add("own", [updateMessage({ attributes: MANDATORY, nlri: NLRI }), openMessage({ holdTime: 90 })]);

  // Only whole messages with an intact header are seeds; mutations break them on purpose.
  const seen = new Set<string>();
  const opens: Uint8Array[] = [];
  const messages: Uint8Array[] = [];
  for (const m of all) {
    if (m.length < 19 || ((m[16] << 8) | m[17]) !== m.length) continue;
    const key = Array.from(m, (b) => b.toString(16)).join(",");
    if (seen.has(key)) continue;
    seen.add(key);
    (m[18] === 1 ? opens : messages).push(m);
  }
  return { opens, messages, sources };
}
