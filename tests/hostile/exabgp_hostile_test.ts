/**
 * A real BGP implementation as the hostile peer: ExaBGP's generic `attribute [ code flags value ]` puts
 * whatever attribute the test wants into otherwise well-formed UPDATEs it sends to the speaker program.
 * Non-fatal errors (RFC 7606 attribute discard and treat-as-withdraw) must leave the session up, with the
 * prefixes counted as received or not; an unrecognized well-known attribute must end the session with
 * NOTIFICATION 3/2 (RFC 4271 §6.3), which ExaBGP reports receiving.
 */

import { assert, assertEquals } from "../assert.ts";
import { requireTools, startExabgp, Topology } from "../harness/mod.ts";
import { waitFor } from "../harness/wait.ts";
import { startSpeaker } from "./speaker_process.ts";

/** One UPDATE ExaBGP sends, and what the speaker must make of it. */
interface ExabgpCase {
  readonly name: string;
  readonly prefix: string;
  /** ExaBGP's generic attribute: `[ code flags value ]`. */
  readonly attribute: string;
  readonly outcome: "attribute-discard" | "treat-as-withdraw";
}

const CASES: readonly ExabgpCase[] = [
  {
    name: "a second ORIGIN",
    prefix: "198.51.100.1/32",
    attribute: "[ 0x01 0x40 0x02 ]",
    outcome: "attribute-discard",
  },
  {
    name: "an ATOMIC_AGGREGATE of 1 octet",
    prefix: "198.51.100.2/32",
    attribute: "[ 0x06 0x40 0x00 ]",
    outcome: "attribute-discard",
  },
  {
    name: "COMMUNITIES of 2 octets",
    prefix: "198.51.100.3/32",
    attribute: "[ 0x08 0xc0 0x0001 ]",
    outcome: "treat-as-withdraw",
  },
  {
    name: "a MULTI_EXIT_DISC of 3 octets",
    prefix: "198.51.100.4/32",
    attribute: "[ 0x04 0x80 0x000001 ]",
    outcome: "treat-as-withdraw",
  },
  {
    name: "a MULTI_EXIT_DISC flagged transitive",
    prefix: "198.51.100.5/32",
    attribute: "[ 0x04 0xc0 0x00000001 ]",
    outcome: "treat-as-withdraw",
  },
];

Deno.test({
  name:
    "ExaBGP sending malformed attributes: RFC 7606 keeps the session, an unknown well-known attribute ends it with 3/2",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    requireTools(["ip", "exabgp", "python3"]);
    await using topo = await Topology.create({ hosts: 2 });
    const [h1, h2] = [topo.host(1), topo.host(2)];
    const objectsPath = `${topo.workDir}/objects.json`;
    await Deno.writeTextFile(objectsPath, "[]");
    const exa = await startExabgp(topo, {
      host: h2,
      asn: 65000,
      neighbors: [{ address: h1.ipv4, peerAs: 65001, holdTime: 9 }],
    });
    const speaker = await startSpeaker({
      topology: topo,
      host: h1,
      neighbors: [h2.ipv4],
      passive: false,
      holdTime: "9s",
      objectsFiles: [objectsPath],
    });
    await exa.waitEstablished(h1.ipv4);
    await speaker.waitPeerState(h2.ipv4, "Established");
    const received = async () => (await speaker.status()).peers[0].prefixes.received;

    let expected = 0;
    for (const c of CASES) {
      await t.step(`${c.name}: ${c.outcome}, the session stays up`, async () => {
        await exa.send(
          `neighbor ${h1.ipv4} announce route ${c.prefix} next-hop self attribute ${c.attribute}`,
        );
        if (c.outcome === "attribute-discard") expected++;
        if (c.outcome === "treat-as-withdraw") {
          await waitFor(`the treat-as-withdraw of ${c.prefix}`, async () => {
            const lines = (await speaker.log()).split("\n");
            return lines.filter((l) => l.includes("UPDATE treated as withdraw")).length >=
              CASES.slice(0, CASES.indexOf(c) + 1).filter((x) => x.outcome === "treat-as-withdraw").length;
          }, { timeoutMs: 5_000, intervalMs: 100 });
        } else {
          await waitFor(`${c.prefix} counted as received`, async () => (await received()) === expected, {
            timeoutMs: 5_000,
            intervalMs: 100,
          });
        }
        assertEquals(await received(), expected, "prefixes counted as received");
        assertEquals(await speaker.peerState(h2.ipv4), "Established");
      });
    }

    await t.step(
      "an unrecognized well-known attribute (code 99): NOTIFICATION 3/2 with the attribute as data",
      async () => {
        await exa.send(
          `neighbor ${h1.ipv4} announce route 198.51.100.9/32 next-hop self attribute [ 0x63 0x40 0xaa ]`,
        );
        const notification = await waitFor("ExaBGP to report the NOTIFICATION", async () => {
          const events = await exa.events();
          return events.find((e) => e.type === "notification");
        }, { timeoutMs: 10_000, intervalMs: 100 });
        // ExaBGP reports it as { neighbor: { notification: { code, subcode, data: "0x…" } } }.
        const n = (notification as { neighbor?: { notification?: Record<string, unknown> } }).neighbor
          ?.notification ?? {};
        assertEquals([n.code, n.subcode], [3, 2], JSON.stringify(notification));
        assert(String(n.data ?? "").toLowerCase().includes("406301aa"), `data ${JSON.stringify(n.data)}`);
        assert(speaker.process.running && await speaker.live(), "the speaker must survive");
      },
    );
    await speaker.stop();
  },
});
