/**
 * The bounded session fuzz run of CI: 20,000 mutated corpus messages (or `FUZZ_CASES`) against the
 * speaker's sessions over loopback TCP, seed `FUZZ_SEED` (reproducible). No crash, no hang, no exception
 * inside a session, every NOTIFICATION followed by a close, and the target's RSS bounded.
 *
 * Long mode (not in CI): `FUZZ_CASES=1000000 ./denow test -A tests/fuzz/`. A single case:
 * `FUZZ_ONLY=1234 ./denow test -A tests/fuzz/`.
 */

import { assertEquals, assertLessOrEqual } from "../assert.ts";
import { loadFuzzCorpus } from "./fuzz_corpus.ts";
import { runSessionFuzz, summarize } from "./session_fuzzer.ts";

const CASES = Number(Deno.env.get("FUZZ_CASES") ?? 20_000);
const SEED = Number(Deno.env.get("FUZZ_SEED") ?? 0x5e5510f2);
const ONLY = Deno.env.get("FUZZ_ONLY")?.split(",").map(Number);

Deno.test({
  name: `the speaker's sessions survive ${CASES} mutated messages without crash, hang or unbounded memory`,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const corpus = await loadFuzzCorpus();
    let reported = 0;
    const report = await runSessionFuzz(corpus, {
      cases: CASES,
      seed: SEED,
      only: ONLY,
      rssEveryCases: CASES >= 100_000 ? 10_000 : 1_000,
      onProgress: CASES >= 100_000
        ? (done, r) => {
          console.log(`[fuzz] ${done} cases: ${summarize(r)}`);
          for (const f of r.failures.slice(reported)) console.log(`[fuzz] failure ${JSON.stringify(f)}`);
          reported = r.failures.length;
        }
        : undefined,
    });
    console.log(`[fuzz] seed ${SEED}, corpus ${JSON.stringify(corpus.sources)}`);
    console.log(`[fuzz] ${summarize(report)}`);
    console.log(`[fuzz] RSS samples (cases, KiB): ${JSON.stringify(report.rss)}`);
    if (report.unexplainedCloses.length > 0) {
      console.log(
        `[fuzz] silent closes to look into: ${JSON.stringify(report.unexplainedCloses.slice(0, 5))}`,
      );
    }
    assertEquals(report.failures.slice(0, 10), [], `failures (seed ${SEED})`);
    assertEquals(report.cases, ONLY?.length ?? CASES);
    // Memory: after the first sample (warm), RSS may not more than double nor grow by more than 96 MiB.
    if (report.rss.length >= 2) {
      const warm = report.rss[0][1];
      const peak = Math.max(...report.rss.map(([, kb]) => kb));
      assertLessOrEqual(peak, Math.max(2 * warm, warm + 96 * 1024), `RSS ${JSON.stringify(report.rss)}`);
    }
  },
});
