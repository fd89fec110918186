/**
 * The process the session fuzzer attacks: the speaker's BGP engine (`BgpSpeaker`, the same sessions the
 * program runs) in passive mode on loopback, with a small table, run as
 * `deno run -A fuzz_target.ts CONFIG_JSON`.
 *
 * It differs from the program in one setting only: the idle backoff after a failed session is 1–5 ms
 * instead of 1 s doubling to 60 s, so that tens of thousands of sessions can be reset in a few minutes.
 * The process prints `READY <port>` once it listens. Log lines of level `error` (an exception caught
 * inside a session: always a bug) go to stderr; the other levels are only counted, and every 500 ms the
 * counts go to the status file `statusPath` with the session states.
 *
 * @module
 */

import { BgpSpeaker } from "../../lib/session/speaker.ts";

/** The JSON argument. */
export interface FuzzTargetConfig {
  /** Port to listen on, on 127.0.0.1. */
  readonly port: number;
  /** Neighbor addresses (127.0.x.y), all in AS `peerAsn`. */
  readonly neighbors: readonly string[];
  readonly peerAsn: number;
  readonly localAsn: number;
  /** Where the status JSON is written. */
  readonly statusPath: string;
  /** The desired prefixes. */
  readonly desired: readonly string[];
}

/** What the status file holds. */
export interface FuzzTargetStatus {
  readonly logCounts: Record<string, number>;
  readonly states: Record<string, number>;
  readonly treatAsWithdraw: number;
}

async function main(json: string | undefined): Promise<void> {
  if (!json) {
    console.error("Usage: fuzz_target.ts CONFIG_JSON");
    Deno.exit(2);
  }
  const config = JSON.parse(json) as FuzzTargetConfig;
  const counts: Record<string, number> = { error: 0, warn: 0, info: 0, debug: 0 };
  const encoder = new TextEncoder();
  const speaker = new BgpSpeaker({
    asn: config.localAsn,
    routerId: "10.99.0.1",
    holdTime: 90,
    neighbors: config.neighbors.map((address) => ({ address, asn: config.peerAsn })),
    passive: true,
    listen: { addresses: ["127.0.0.1"], port: config.port },
    timing: { backoffBaseMs: 1, backoffMaxMs: 5, jitter: 0 },
    hostname: "fuzz-target",
    logger: (level, msg, fields) => {
      counts[level] = (counts[level] ?? 0) + 1;
      if (level === "error") {
        Deno.stderr.writeSync(
          encoder.encode(JSON.stringify({ t: Date.now(), level, msg, ...fields }) + "\n"),
        );
      }
    },
  });
  speaker.setDesired(config.desired);
  await speaker.start();
  const writeStatus = () => {
    const states: Record<string, number> = {};
    let treatAsWithdraw = 0;
    for (const p of speaker.status().peers) {
      states[p.state] = (states[p.state] ?? 0) + 1;
      treatAsWithdraw += p.updatesTreatedAsWithdraw;
    }
    const status: FuzzTargetStatus = { logCounts: counts, states, treatAsWithdraw };
    Deno.writeTextFileSync(`${config.statusPath}.tmp`, JSON.stringify(status));
    Deno.renameSync(`${config.statusPath}.tmp`, config.statusPath);
  };
  writeStatus();
  setInterval(writeStatus, 500);
  console.log(`READY ${config.port}`);
  Deno.addSignalListener("SIGTERM", async () => {
    await speaker.shutdown();
    writeStatus();
    Deno.exit(0);
  });
}

if (import.meta.main) await main(Deno.args[0]);
