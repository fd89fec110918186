/**
 * Hostile peers against the speaker program: raw TCP peers on loopback complete (or start) an OPEN
 * exchange with the speaker in passive mode and send malformed messages. For each, the test asserts the
 * exact NOTIFICATION (code, subcode, data) of RFC 4271 §6, or that RFC 7606 keeps the session (a
 * ROUTE-REFRESH is still answered and KEEPALIVEs continue). Throughout, a witness peer stays Established
 * and the process stays live.
 *
 * Each case uses its own neighbor address (127.0.0.x): a session reset puts a neighbor into the idle
 * backoff, so cases never wait for each other.
 */

import { assert, assertEquals, fail } from "../assert.ts";
import { waitFor } from "../harness/wait.ts";
import { HOSTILE_CASES, type HostileCase } from "./hostile_cases.ts";
import { type BgpFrame, frame, RawBgpPeer } from "./raw_bgp_peer.ts";
import { type SpeakerProcess, startSpeaker } from "./speaker_process.ts";

const WITNESS = "127.0.0.2";
const caseAddress = (i: number) => `127.0.0.${10 + i}`;
const OBJECTS = new URL("../../manifests/examples/objects.yaml", import.meta.url).pathname;
/** The IPv4 prefixes among the nine manifests/examples/objects.yaml gives node-1 with --announce-cluster-ip. */
const EXAMPLE_IPV4_PREFIXES = 6;

const hex = (bytes: Uint8Array) =>
  Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("").toUpperCase();

/** ROUTE-REFRESH for IPv4 unicast; with enhanced route refresh it is answered by BoRR … EoRR. */
const REFRESH_IPV4 = frame(5, Uint8Array.from([0, 1, 0, 1]));

function isRefreshMarker(f: BgpFrame, subtype: number): boolean {
  return f.type === 5 && f.bytes.length === 23 && f.bytes[19] === 0 && f.bytes[20] === 1 &&
    f.bytes[21] === subtype && f.bytes[22] === 1;
}

/** Reads the initial table up to the IPv4 End-of-RIB (an UPDATE of 23 octets). */
async function drainInitialTable(peer: RawBgpPeer): Promise<void> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const f = await peer.next(Math.max(0, deadline - Date.now()));
    if (typeof f === "string") throw new Error(`No IPv4 End-of-RIB after Established: ${f}`);
    if (f.type === 3) throw new Error(`NOTIFICATION instead of the table: ${hex(f.bytes)}`);
    if (f.type === 2 && f.bytes.length === 23) return;
  }
}

/** Proves the session is alive: a ROUTE-REFRESH is answered with BoRR and EoRR, then a KEEPALIVE comes. */
async function assertSessionAlive(peer: RawBgpPeer): Promise<void> {
  await peer.send(REFRESH_IPV4);
  const deadline = Date.now() + 3_000;
  let begun = false;
  for (;;) {
    const f = await peer.next(Math.max(0, deadline - Date.now()));
    if (typeof f === "string") throw new Error(`Session not alive: ${f} while waiting for EoRR`);
    if (f.type === 3) throw new Error(`Session not alive: NOTIFICATION ${hex(f.bytes)}`);
    if (isRefreshMarker(f, 1)) begun = true;
    if (isRefreshMarker(f, 2)) {
      assert(begun, "EoRR came without BoRR");
      break;
    }
  }
  // Hold time 3 s: the speaker sends a KEEPALIVE every second.
  const { frames, notification, closed } = await peer.collect(1_500);
  assert(
    notification === undefined && !closed,
    `Session ended: ${JSON.stringify(notification)} closed=${closed}`,
  );
  assert(frames.some((f) => f.type === 4), "No KEEPALIVE within 1.5 s");
}

async function receivedCount(speaker: SpeakerProcess, address: string): Promise<number> {
  const p = (await speaker.status()).peers.find((x) => x.address === address);
  return p?.prefixes.received ?? -1;
}

async function runCase(speaker: SpeakerProcess, c: HostileCase, address: string): Promise<void> {
  const peer = await RawBgpPeer.connect({ host: "127.0.0.1", port: speaker.bgpPort, localAddress: address });
  try {
    if (c.stage === "established") {
      await peer.establish({ holdTime: 3, ...c.open });
      await drainInitialTable(peer);
      // Cases that keep the session take a few seconds: keep the 3 s hold timer fed meanwhile.
      if ("stays" in c.expect) peer.startKeepalives(1_000);
    }
    const expect = c.expect;
    if ("established" in expect) {
      await peer.establish({}, 5_000, c.bytes).catch((e) => fail(`OPEN refused: ${e.message}`));
      await drainInitialTable(peer);
      await assertSessionAlive(peer);
      return;
    }
    await peer.send(c.bytes);
    if ("notification" in expect) {
      const n = await peer.expectNotification(6_000);
      assertEquals([n.code, n.subcode], [...expect.notification], `code/subcode (data ${hex(n.data)})`);
      if (expect.data !== undefined) assertEquals(hex(n.data), expect.data, "NOTIFICATION data");
      assert(await peer.waitClosed(3_000), "The speaker did not close the connection after its NOTIFICATION");
      return;
    }
    if (!expect.answered) {
      // Nothing but KEEPALIVEs may answer an UPDATE (the speaker imports nothing and reflects nothing).
      const { frames } = await peer.collect(300);
      const other = frames.filter((f) => f.type !== 4);
      assertEquals(other.map((f) => hex(f.bytes)), [], "messages sent in reply");
    }
    await assertSessionAlive(peer);
    assertEquals(await receivedCount(speaker, address), expect.received, "prefixes counted as received");
    if (expect.stays === "treat-as-withdraw") {
      await waitFor(
        "the treat-as-withdraw log line",
        async () =>
          (await speaker.log()).split("\n").some((l) =>
            l.includes("UPDATE treated as withdraw") && l.includes(`peer=${address}`)
          ),
        { timeoutMs: 3_000, intervalMs: 50 },
      );
    }
  } finally {
    await peer.close();
  }
}

Deno.test({
  name: "the speaker answers every malformed message as RFC 4271 §6 and RFC 7606 require, and survives",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const addresses = HOSTILE_CASES.map((_, i) => caseAddress(i));
    await using speaker = await startSpeaker({
      neighbors: [WITNESS, ...addresses],
      objectsFiles: [OBJECTS],
      extraArgs: ["--announce-cluster-ip"],
    });
    const witness = await RawBgpPeer.connect({
      host: "127.0.0.1",
      port: speaker.bgpPort,
      localAddress: WITNESS,
    });
    try {
      await witness.establish({ holdTime: 3 });
      witness.startKeepalives(1_000);
      await speaker.waitPeerState(WITNESS, "Established");

      // All cases at once, each on its own connection; each failure is reported with its case name.
      const started = performance.now();
      const results = await Promise.allSettled(
        HOSTILE_CASES.map((c, i) => c.pendingFix ? Promise.resolve() : runCase(speaker, c, addresses[i])),
      );
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      for (const [i, c] of HOSTILE_CASES.entries()) {
        const r = results[i];
        const pending = c.pendingFix ? ` (pending fix ${c.pendingFix} in /tmp/team/bugs.md)` : "";
        await t.step({
          name: `${c.stage === "open" ? "OPEN with" : "after Established,"} ${c.name}: ${
            describe(c)
          }${pending}`,
          ignore: c.pendingFix !== undefined,
          fn: () => {
            if (r.status === "rejected") {
              fail(`${c.rule}\n${r.reason instanceof Error ? r.reason.message : String(r.reason)}`);
            }
          },
        });
      }
      console.log(`${HOSTILE_CASES.length} hostile cases in ${seconds} s`);

      await t.step(
        "the witness session stayed Established with the whole table, the process is live",
        async () => {
          assert(speaker.process.running, "The speaker exited");
          assert(await speaker.live(), "/livez did not answer 200");
          const status = await speaker.status();
          const w = status.peers.find((p) => p.address === WITNESS);
          assertEquals(w?.state, "Established");
          assertEquals(w?.lastError, null);
          assertEquals(w?.prefixes.sent, EXAMPLE_IPV4_PREFIXES);
          const { notification, closed } = await witness.collect(1_200);
          assertEquals(notification, undefined);
          assert(!closed, "The witness connection closed");
        },
      );
    } finally {
      await witness.close();
    }
  },
});

function describe(c: HostileCase): string {
  const e = c.expect;
  if ("notification" in e) {
    return `NOTIFICATION ${e.notification.join("/")}${e.data ? ` data ${e.data || "-"}` : ""}`;
  }
  if ("established" in e) return "the session comes up";
  return `${e.stays}, the session stays up`;
}
