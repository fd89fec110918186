/**
 * Sends crafted BFD Control packets with a chosen TTL, for tests that run it inside a namespace:
 * `deno run -A packet_sender.ts --to ADDR [--from ADDR] [--port 3784] [--ttl 255] [--count 1] [PACKET_JSON]`,
 * where PACKET_JSON overrides fields of a Down packet (`{"myDiscriminator":4242}`).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { BfdSender, SINGLE_HOP_PORT } from "../../lib/bfd/transport.ts";
import { type ControlPacket, EMPTY_CONTROL_PACKET, encodeControlPacket } from "../../lib/bfd/packet.ts";

/** The argv that sends `count` packets with `ttl` from inside a namespace (for `topology.run`). */
export function packetSenderArgv(options: {
  to: string;
  from?: string;
  ttl: number;
  count?: number;
  packet?: Partial<ControlPacket>;
}): string[] {
  const argv = [Deno.execPath(), "run", "-A", new URL(import.meta.url).pathname, "--to", options.to];
  if (options.from) argv.push("--from", options.from);
  argv.push("--ttl", String(options.ttl), "--count", String(options.count ?? 1));
  argv.push(JSON.stringify(options.packet ?? {}));
  return argv;
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    args: Deno.args,
    options: {
      to: { type: "string" },
      from: { type: "string" },
      port: { type: "string", default: String(SINGLE_HOP_PORT) },
      ttl: { type: "string", default: "255" },
      count: { type: "string", default: "1" },
    },
    allowPositionals: true,
  });
  if (!values.to) throw new Error("--to is required");
  const packet = { ...EMPTY_CONTROL_PACKET, ...JSON.parse(positionals[0] ?? "{}") } as ControlPacket;
  const family = values.to.includes(":") ? 6 : 4;
  const sender = BfdSender.open({ family, localAddress: values.from, ttl: Number(values.ttl) });
  try {
    for (let i = 0; i < Number(values.count); i++) {
      const errno = sender.send(encodeControlPacket(packet), values.to, Number(values.port));
      if (errno !== 0) throw new Error(`sendto failed with errno ${errno}`);
    }
  } finally {
    await sender.close();
  }
}

if (import.meta.main) await main();
