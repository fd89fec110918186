/**
 * Every MRT file of the shared corpus decodes, and `speaker decode` prints exactly what bgpdump prints
 * (the golden `mrt-expected/NAME.bgpdump-m.txt` of Debian bgpdump 1.6.2, or upstream's `NAME.bgp.gz`),
 * line for line. The only differences allowed are the bgpdump bugs listed below, each with its reason,
 * and each asserted to occur exactly as many times as counted when it was analysed.
 */

import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { gunzipSync } from "node:zlib";
import { BgpdumpTextSink, JsonLinesSink } from "../../lib/mrt/bgpdump_format.ts";
import { decodeMrtStream } from "../../lib/cli/decode.ts";
import { LineBuffer } from "../../lib/mrt/line_buffer.ts";
import { openMrtFile } from "../../lib/mrt/reader.ts";
import { ipv6ToString, parseIpv6 } from "../../lib/wire/address.ts";

const CORPUS = new URL("../../../shared/corpus/", import.meta.url).pathname;

/** A known bgpdump bug: golden lines we do not print, our lines it does not print, or changed lines. */
interface KnownDifference {
  readonly name: string;
  /** Why the two outputs differ, with the rule that makes ours right. */
  readonly why: string;
  /** Golden lines that bgpdump prints and we do not. */
  readonly onlyGolden?: (line: string) => boolean;
  /** Our lines that bgpdump does not print. */
  readonly onlyOurs?: (line: string) => boolean;
  /** A golden line and ours at the same position that differ in the documented way. */
  readonly changed?: (golden: string, ours: string) => boolean;
  /** How often the difference occurs: lines removed from each side, or changed line pairs. */
  readonly count: { readonly golden?: number; readonly ours?: number; readonly changed?: number };
}

/** `a` and `b` differ only in field `index` (0-based, `|`-separated), where `same(x, y)` holds. */
function differsOnlyInField(
  a: string,
  b: string,
  same: (x: string, y: string, fa: string[], fb: string[]) => boolean,
): boolean {
  const fa = a.split("|");
  const fb = b.split("|");
  if (fa.length !== fb.length) return false;
  let differing = 0;
  for (let i = 0; i < fa.length; i++) {
    if (fa[i] === fb[i]) continue;
    differing++;
    if (!same(fa[i], fb[i], fa, fb)) return false;
  }
  return differing > 0;
}

function ipv4Bytes(text: string): number[] {
  return text.split(".").map(Number);
}

/** The IPv4 prefix text with the bits past its length cleared. */
function maskedIpv4(prefix: string): string {
  const [addr, len] = prefix.split("/");
  const bytes = ipv4Bytes(addr);
  const bits = Number(len);
  for (let k = 0; k < 4; k++) {
    const keep = Math.max(0, Math.min(8, bits - 8 * k));
    bytes[k] &= (0xff00 >> keep) & 0xff;
  }
  return bytes.join(".") + "/" + len;
}

const INET_NTOA_WITHDRAWAL: KnownDifference["changed"] = (golden, ours) =>
  differsOnlyInField(golden, ours, (g, o, fg) => {
    // Golden prints the peer address (field 3) where the prefix belongs; the prefix length is right.
    const [gAddr, gLen] = g.split("/");
    const [oAddr, oLen] = o.split("/");
    return fg[2] === "W" && gAddr === fg[3] && gLen === oLen && /^\d+\.\d+\.\d+\.\d+$/.test(oAddr);
  });

const INET_NTOA_WHY =
  "bgpdump 1.6.2 prints W lines of deprecated MRTd BGP records (RFC 6396 Appendix B.2.1) " +
  "with two inet_ntoa() calls in one printf; inet_ntoa returns one static buffer (POSIX), so the prefix " +
  "shows the peer address. We print the withdrawn prefix of the Withdrawn Routes field (RFC 4271 §4.3).";

const KNOWN_DIFFERENCES: Record<string, readonly KnownDifference[]> = {
  "bird_bgp": [{
    name: "trailing bits of a prefix",
    why:
      "BIRD wrote ADD-PATH NLRI under BGP4MP_MESSAGE_AS4 (RFC 8050 §3 requires the *_ADDPATH subtypes), so " +
      "both tools read path identifiers as prefixes. Among them 24.0.0.0/2 has host bits set: RFC 4271 §4.3 " +
      "says trailing bits are irrelevant; we clear them, as upstream bgpdump does since commit 8f067c8 " +
      "(Debian's 1.6.2 predates it).",
    changed: (golden, ours) => differsOnlyInField(golden, ours, (g, o) => maskedIpv4(g) === o && g !== o),
    count: { changed: 6 },
  }],
  "bird6_bgp": [{
    name: "malformed MP_REACH_NLRI prefixes",
    why: "BIRD wrote ADD-PATH NLRI under BGP4MP_MESSAGE_AS4 (RFC 8050 §3 requires the *_ADDPATH subtypes). " +
      "Read without path identifiers, the MP_REACH_NLRI field holds a prefix length of 253 (> 128): RFC 4760 " +
      "§5 / RFC 7606 §5.3, the NLRI field is malformed and none of its prefixes is usable. bgpdump prints " +
      "the garbage it reads (::/0, 4000::/1, 100:100::140:fd01:1/0); we print nothing and warn.",
    onlyGolden: (line) => line.split("|")[2] === "A",
    count: { golden: 32 },
  }],
  "openbgpd_rib_table": [{
    name: "AGGREGATOR of the wrong length",
    why:
      "OpenBGPD wrote an 8-octet AGGREGATOR in a TABLE_DUMP record, whose AS numbers are 2-octet. bgpdump " +
      "reads AS 0 and the address 253.232.192.168 from it; RFC 7606 §7.7: an AGGREGATOR whose length is not 6 " +
      "(2-octet AS) is discarded, so we print no aggregator (and warn).",
    changed: (golden, ours) =>
      differsOnlyInField(golden, ours, (g, o) => g === "0 253.232.192.168" && o === "") &&
      golden.startsWith("TABLE_DUMP|"),
    count: { changed: 1 },
  }],
  "rrc00.updates.20000102.2014.gz": [{
    name: "inet_ntoa static buffer in W lines",
    why: INET_NTOA_WHY,
    changed: INET_NTOA_WITHDRAWAL,
    count: { changed: 675 },
  }],
  "rrc00.updates.20000325.0345.gz": [
    {
      name: "inet_ntoa static buffer in W lines",
      why: INET_NTOA_WHY,
      changed: INET_NTOA_WITHDRAWAL,
      count: { changed: 2 },
    },
    {
      name: "record with a damaged MRT length",
      why: "The 6th record's header is cut short: its length field holds the next record's timestamp " +
        "(14556), so it swallows the following records. Both tools frame it the same way and then stop at " +
        "the next impossible length (RFC 6396 has no resynchronisation marker). Decoded as one UPDATE, its " +
        "Withdrawn Routes field has prefix lengths up to 117 (> 32, RFC 4271 §4.3): bgpdump prints 2042 " +
        "lines of garbage from peer 0.5.0.3 AS 13937; we print the one well-formed leading prefix and warn.",
      onlyGolden: (line) => line.includes("|0.5.0.3|13937|"),
      onlyOurs: (line) => line.includes("|0.5.0.3|13937|"),
      count: { golden: 2042, ours: 1 },
    },
  ],
  "updates.20100722.2015.gz": [{
    name: "RFC 5952 IPv6 text",
    why: 'bgpdump shortens a single 16-bit zero group to "::" (2001:7f8:30::2:1:0:8447); RFC 5952 §4.2.2 ' +
      'says "::" MUST NOT shorten just one 16-bit 0 field, so we print 2001:7f8:30:0:2:1:0:8447. Both denote ' +
      "the same address.",
    changed: (golden, ours) =>
      differsOnlyInField(golden, ours, (g, o) => {
        const bytes = parseIpv6(g);
        return bytes !== undefined && ipv6ToString(bytes) === o;
      }),
    count: { changed: 42 },
  }],
};

/** Decodes one corpus file in-process and returns its lines (bgpdump -m text, or JSON Lines). */
async function decodeFile(path: string, json = false): Promise<{ lines: string[]; warnings: string[] }> {
  const chunks: Uint8Array[] = [];
  const out = new LineBuffer((bytes) => chunks.push(bytes.slice()));
  const warnings: string[] = [];
  await decodeMrtStream(
    await openMrtFile(path),
    json ? new JsonLinesSink(out) : new BgpdumpTextSink(out),
    (w) => warnings.push(w),
  );
  out.flush();
  const text = new TextDecoder().decode(concat(chunks));
  return { lines: splitLines(text), warnings };
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

function splitLines(text: string): string[] {
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  return lines;
}

function goldenLines(name: string): string[] {
  const upstream = `${CORPUS}mrt-expected/${name}.bgp.gz`;
  try {
    return splitLines(new TextDecoder().decode(gunzipSync(Deno.readFileSync(upstream))));
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return splitLines(Deno.readTextFileSync(`${CORPUS}mrt-expected/${name}.bgpdump-m.txt`));
}

/** Compares our lines with the golden ones; returns a list of unexplained differences (empty = pass). */
function compare(name: string, golden: string[], ours: string[]): string[] {
  const known = KNOWN_DIFFERENCES[name] ?? [];
  const problems: string[] = [];
  const seen = new Map<KnownDifference, { golden: number; ours: number; changed: number }>();
  for (const k of known) seen.set(k, { golden: 0, ours: 0, changed: 0 });
  const keptGolden = golden.filter((line) => {
    const k = known.find((d) => d.onlyGolden?.(line));
    if (k) seen.get(k)!.golden++;
    return !k;
  });
  const keptOurs = ours.filter((line) => {
    const k = known.find((d) => d.onlyOurs?.(line));
    if (k) seen.get(k)!.ours++;
    return !k;
  });
  if (keptGolden.length !== keptOurs.length) {
    problems.push(`${name}: ${keptGolden.length} golden lines but ${keptOurs.length} of ours`);
  }
  const n = Math.min(keptGolden.length, keptOurs.length);
  for (let i = 0; i < n && problems.length < 5; i++) {
    const g = keptGolden[i];
    const o = keptOurs[i];
    if (g === o) continue;
    const k = known.find((d) => d.changed?.(g, o));
    if (k) seen.get(k)!.changed++;
    else problems.push(`${name} line ${i + 1}:\n  bgpdump: ${g}\n  ours:    ${o}`);
  }
  for (const k of known) {
    const got = seen.get(k)!;
    const want = { golden: k.count.golden ?? 0, ours: k.count.ours ?? 0, changed: k.count.changed ?? 0 };
    if (got.golden !== want.golden || got.ours !== want.ours || got.changed !== want.changed) {
      problems.push(
        `${name}: "${k.name}" occurs ${JSON.stringify(got)} times, expected ${JSON.stringify(want)}`,
      );
    }
  }
  return problems;
}

function corpusFiles(): string[] {
  try {
    return [...Deno.readDirSync(`${CORPUS}mrt`)].filter((e) => e.isFile).map((e) => e.name).sort();
  } catch {
    return []; // reported by the first test below
  }
}

const FILES = corpusFiles();

/** The -m time field a JSON line stands for: seconds, and ".micro" for BGP4MP_ET. */
function timeField(o: { timestamp: number; microseconds?: number }): string {
  return o.microseconds === undefined
    ? String(o.timestamp)
    : `${o.timestamp}.${String(o.microseconds).padStart(6, "0")}`;
}

Deno.test("the MRT corpus is present", () => {
  assert(
    FILES.length >= 27,
    `Expected the MRT corpus (27 files) in ${CORPUS}mrt, found ${FILES.length}: the shared corpus must sit ` +
      "next to the repository, as ../shared/corpus",
  );
  for (const name of Object.keys(KNOWN_DIFFERENCES)) {
    assert(FILES.includes(name), `${name} is not in the corpus`);
  }
});

for (const name of FILES) {
  Deno.test(`speaker decode prints what bgpdump -m prints for ${name}`, async () => {
    const { lines } = await decodeFile(`${CORPUS}mrt/${name}`);
    const problems = compare(name, goldenLines(name), lines);
    assertEquals(problems, [], problems.join("\n"));
  });
}

Deno.test("speaker decode --json gives every corpus line as a JSON object with the same fields", async () => {
  for (const name of FILES) {
    const [{ lines }, { lines: json }] = await Promise.all([
      decodeFile(`${CORPUS}mrt/${name}`),
      decodeFile(`${CORPUS}mrt/${name}`, true),
    ]);
    assertEquals(json.length, lines.length, name);
    for (let i = 0; i < lines.length; i += Math.max(1, lines.length >> 6)) {
      const o = JSON.parse(json[i]);
      const f = lines[i].split("|");
      assertEquals(
        [o.type, timeField(o), o.entry, o.peer, String(o.peerAs)],
        f.slice(0, 5),
        `${name}: ${lines[i]}`,
      );
      if (o.entry === "A" || o.entry === "B") {
        const at = o.pathId === undefined ? 6 : 7;
        assertEquals(
          [o.asPath, o.origin, o.nextHop, String(o.localPref), String(o.med)],
          f.slice(at, at + 5),
        );
      }
    }
  }
});

Deno.test("every known bgpdump difference explains itself with an RFC or POSIX reference", () => {
  for (const [name, list] of Object.entries(KNOWN_DIFFERENCES)) {
    for (const k of list) assert(/RFC \d+|POSIX/.test(k.why), `${name}: "${k.name}" cites no rule`);
  }
});

Deno.test("speaker decode clears NLRI trailing bits where Debian's bgpdump 1.6.2 does not", async () => {
  // The golden file is upstream's (after commit 8f067c8, "Mask trailing bits in NLRI to 0"): 11.8.0.0/13.
  // Debian's bgpdump 1.6.2 prints the wire bits as they are, 11.13.0.0/13; RFC 4271 §4.3 says the
  // trailing bits are irrelevant, so the masked form is the right one.
  const { lines } = await decodeFile(`${CORPUS}mrt/updates.nlri_mask_trailing_bits.gz`);
  assertEquals(lines.length, 1);
  assertEquals(lines[0].split("|")[5], "11.8.0.0/13");
});

Deno.test("speaker decode warns about the BGP4MP_ENTRY records bgpdump does not implement either", async () => {
  // The deprecated Zebra BGP4MP_ENTRY subtype (not in RFC 6396) is skipped by both tools: 31 records,
  // no routes; we report each one instead of failing.
  const { lines, warnings } = await decodeFile(`${CORPUS}mrt/openbgpd_rib_table-mp`);
  assertEquals(lines, []);
  assertEquals(warnings.length, 31);
  assert(warnings.every((w) => w.includes("BGP4MP_ENTRY")), warnings[0]);
});
