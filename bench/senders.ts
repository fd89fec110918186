/**
 * Senders of a table transfer, loaded with N bulk host routes before their session comes up: our speaker
 * (objects file), gobgpd (`gobgp mrt inject` of a TABLE_DUMP_V2 file) and BIRD (static routes).
 *
 * Order matters: gobgpd and BIRD must hold every route before the receiver exists (otherwise the session
 * comes up during the load), so they are loaded in {@linkcode prepareSender}. Our speaker loads its objects
 * files before it connects at all, so it is launched after the receiver is up; its load is not timed
 * either.
 *
 * @module
 */

import { type Bird, startBird } from "../tests/harness/bird.ts";
import { runCommand } from "../tests/harness/command.ts";
import { startGobgpd } from "../tests/harness/gobgpd.ts";
import type { Host, Topology } from "../tests/harness/topology.ts";
import { waitFor } from "../tests/harness/wait.ts";
import { startEngine } from "../tests/interop/engine_runner.ts";
import type { BenchInputs } from "./bench_inputs.ts";
import { BirdControl } from "./bird_control.ts";
import { type BenchFamily, bulkPrefixes } from "./prefixes.ts";
import { RECEIVER_AS } from "./receivers.ts";
import { spawnSpeaker, SPEAKER_AS, type SpeakerProcess } from "./speaker_process.ts";

/**
 * The sender implementations compared. `engine` is our BGP engine alone (lib/session through
 * tests/interop/engine_runner.ts, the desired set given as a list): it splits our footprint between the
 * Kubernetes side and the BGP side.
 */
export type SenderKind = "speaker" | "engine" | "gobgpd" | "bird";

/** Every sender's AS (the same, so the receivers see identical paths). */
export const SENDER_AS = SPEAKER_AS;

/** A running, loaded sender. */
export interface Sender {
  readonly kind: SenderKind;
  /** PID of the process holding the routes. */
  readonly pid: number;
  /** Called between the receiver's polls: keeps BIRD's event loop awake (perf-anchors.md caveat 1). */
  readonly poke?: () => Promise<void>;
  /** The speaker, when the sender is ours (for its logs). */
  readonly speaker?: SpeakerProcess;
  /** Closes control connections (processes are stopped by the topology). */
  close(): void;
}

/** A sender ready to be launched once the receiver runs. */
export interface PreparedSender {
  readonly kind: SenderKind;
  /** Seconds spent loading before any session (gobgpd and BIRD), else 0. */
  readonly loadSeconds: number;
  launch(): Promise<Sender>;
}

/** What to send and to whom. */
export interface SenderOptions {
  readonly family: BenchFamily;
  readonly n: number;
  /** The receivers' addresses (one session each). */
  readonly receivers: readonly string[];
  readonly inputs: BenchInputs;
  /** Extra `deno run` flags for the speaker (profiling). */
  readonly denoFlags?: readonly string[];
  /** The sender's AS; default {@linkcode SENDER_AS}. */
  readonly asn?: number;
  /** The receivers' AS; default {@linkcode RECEIVER_AS}. */
  readonly peerAs?: number;
}

function own(host: Host, family: BenchFamily): string {
  return family === "ipv4" ? host.ipv4 : host.ipv6;
}

/** Starts and loads gobgpd or BIRD in `host`, or readies our speaker's launch. */
export async function prepareSender(
  topology: Topology,
  host: Host,
  kind: SenderKind,
  options: SenderOptions,
): Promise<PreparedSender> {
  const { family, n } = options;
  const peerAs = options.peerAs ?? RECEIVER_AS;
  const asn = options.asn ?? SENDER_AS;
  const neighbors = options.receivers.map((address) => ({ address, peerAs, families: [family] }));
  const started = performance.now();
  if (kind === "speaker") {
    const file = await options.inputs.objectsFile(family, n);
    return {
      kind,
      loadSeconds: 0,
      launch: () => {
        const speaker = spawnSpeaker(topology, {
          host,
          neighbors: options.receivers,
          peerAs,
          objectsFiles: [file],
          denoFlags: options.denoFlags,
        });
        return Promise.resolve({ kind, pid: speaker.pid, speaker, close: () => {} });
      },
    };
  }
  if (kind === "engine") {
    return {
      kind,
      loadSeconds: 0,
      launch: async () => {
        const engine = await startEngine(
          topology,
          host,
          {
            asn,
            routerId: host.ipv4,
            neighbors: options.receivers.map((address) => ({ address, asn: peerAs })),
            timing: { backoffBaseMs: 200, backoffMaxMs: 1000 },
            desired: bulkPrefixes(family, n),
          },
          "engine",
          options.denoFlags ?? [],
        );
        return { kind, pid: engine.process.pid, close: () => {} };
      },
    };
  }
  if (kind === "gobgpd") {
    const file = await options.inputs.mrtDump(family, n, own(host, family));
    const gobgpd = await startGobgpd(topology, { host, asn, neighbors });
    if (n === 0) {
      return {
        kind,
        loadSeconds: 0,
        launch: () => Promise.resolve({ kind, pid: gobgpd.pid, close: () => {} }),
      };
    }
    await runCommand(["gobgp", "--target", gobgpd.target, "mrt", "inject", "global", file], {
      timeoutMs: 600_000,
    });
    await waitFor(`gobgpd to hold ${n} routes`, async () => {
      const out = await gobgpd.cli(["global", "rib", "summary", "-a", family]);
      return out.includes(`Destination: ${n},`) || out.includes(`Destination: ${n}\n`);
    }, { timeoutMs: 300_000, intervalMs: 250, diagnostics: () => gobgpd.diagnostics() });
    const loadSeconds = (performance.now() - started) / 1000;
    return {
      kind,
      loadSeconds,
      launch: () => Promise.resolve({ kind, pid: gobgpd.pid, close: () => {} }),
    };
  }
  const include = n > 1 ? await options.inputs.birdStatics(family, n) : undefined;
  const bird: Bird = await startBird(topology, {
    host,
    asn,
    neighbors,
    staticRoutes: bulkPrefixes(family, Math.min(n, 1)),
    // BIRD takes `include` only at the start of a line.
    extraConfig: 'timeformat protocol "%s.%3f";\n' +
      (include ? `protocol static feed {\n  ${family};\ninclude "${include}";\n}` : ""),
    readyTimeoutMs: 120_000,
  });
  await waitFor(`BIRD to hold ${n} routes`, async () => {
    if (n === 0) return true;
    const out = await bird.cli(["show", "route", "count"]);
    return new RegExp(`\\b${n} of ${n} routes`).test(out) || out.includes(`for ${n} networks`);
  }, { timeoutMs: 300_000, intervalMs: 100, diagnostics: () => bird.diagnostics() });
  const loadSeconds = (performance.now() - started) / 1000;
  return {
    kind,
    loadSeconds,
    launch: async () => {
      const ctl = await BirdControl.connect(bird.controlSocket);
      return {
        kind,
        pid: bird.pid,
        poke: async () => void await ctl.command("show status"),
        close: () => ctl.close(),
      };
    },
  };
}
