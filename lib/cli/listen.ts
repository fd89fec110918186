/**
 * `speaker listen`: a passive BGP endpoint that accepts sessions from the given neighbors and prints every
 * route it receives, as aligned text or JSON lines. Operators use it to see what a speaker announces; the
 * demo uses it as the upstream router.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { listenPeers, type NeighborTransport } from "../transport/listen.ts";
import type { BgpConnection } from "../transport/connection.ts";
import { parseIpv4, parseIpv6 } from "../wire/nlri.ts";
import { type RouteEvent, RouteReceiver } from "./route_receiver.ts";

export const LISTEN_USAGE = `Usage: speaker listen --neighbor IP [--neighbor IP ...] --as ASN [options]

Accepts BGP sessions from the given neighbors (passive: it never connects) and prints every route they
announce or withdraw. It announces nothing.

Options:
  --neighbor IP             a neighbor allowed to connect (repeatable; others are refused with Cease)
  --as ASN                  our AS number (1-4294967295)
  --peer-as ASN             refuse a neighbor whose AS differs (default: accept any)
  --address IP              address to listen on (default 127.0.0.1)
  --port N                  port to listen on (default 179)
  --router-id IPv4          our BGP identifier (default 10.255.255.254)
  --hold-time SECONDS       our hold time (default 90; 0 or 3-65535)
  --md5-password-file PATH  TCP MD5 password (RFC 2385) for every neighbor, read from a file
  --json                    print JSON lines instead of text
  -h, --help                print this help
`;

/** Parsed `speaker listen` options. */
export interface ListenOptions {
  readonly neighbors: readonly string[];
  readonly asn: number;
  readonly peerAsn?: number;
  readonly address: string;
  readonly port: number;
  readonly routerId: string;
  readonly holdTime: number;
  readonly md5PasswordFile?: string;
  readonly json: boolean;
}

function parseUint(text: string | undefined, min: number, max: number): number | undefined {
  if (text === undefined || !/^\d+$/.test(text)) return undefined;
  const n = Number(text);
  return n >= min && n <= max ? n : undefined;
}

/** Parses the options of `speaker listen`, reporting every problem at once. */
export function parseListenArgs(args: string[]): { ok: true; options: ListenOptions } | {
  ok: false;
  errors: string[];
  help?: boolean;
} {
  let values;
  try {
    values = parseArgs({
      args,
      strict: true,
      options: {
        neighbor: { type: "string", multiple: true },
        as: { type: "string" },
        "peer-as": { type: "string" },
        address: { type: "string", default: "127.0.0.1" },
        port: { type: "string", default: "179" },
        "router-id": { type: "string", default: "10.255.255.254" },
        "hold-time": { type: "string", default: "90" },
        "md5-password-file": { type: "string" },
        json: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    }).values;
  } catch (err) {
    return { ok: false, errors: [(err as Error).message] };
  }
  if (values.help) return { ok: false, errors: [], help: true };
  const errors: string[] = [];
  const neighbors = values.neighbor ?? [];
  if (neighbors.length === 0) errors.push("--neighbor: at least one neighbor address is required");
  for (const n of neighbors) {
    if (!parseIpv4(n) && !parseIpv6(n)) errors.push(`--neighbor=${n}: not an IPv4 or IPv6 address`);
  }
  const asn = parseUint(values.as, 1, 0xffffffff);
  if (values.as === undefined) errors.push("--as: our AS number is required");
  else if (asn === undefined) errors.push(`--as=${values.as}: must be an integer from 1 to 4294967295`);
  const peerAsn = values["peer-as"] === undefined ? undefined : parseUint(values["peer-as"], 1, 0xffffffff);
  if (values["peer-as"] !== undefined && peerAsn === undefined) {
    errors.push(`--peer-as=${values["peer-as"]}: must be an integer from 1 to 4294967295`);
  }
  if (!parseIpv4(values.address) && !parseIpv6(values.address)) {
    errors.push(`--address=${values.address}: not an IPv4 or IPv6 address`);
  }
  const port = parseUint(values.port, 0, 65535);
  if (port === undefined) errors.push(`--port=${values.port}: must be an integer from 0 to 65535`);
  const routerId = values["router-id"];
  if (!parseIpv4(routerId) || routerId === "0.0.0.0") {
    errors.push(`--router-id=${routerId}: must be a non-zero IPv4 address`);
  }
  const holdTime = parseUint(values["hold-time"], 0, 65535);
  if (holdTime === undefined || holdTime === 1 || holdTime === 2) {
    errors.push(`--hold-time=${values["hold-time"]}: must be 0 or from 3 to 65535 seconds`);
  }
  if (errors.length > 0) return { ok: false, errors };
  return {
    ok: true,
    options: {
      neighbors,
      asn: asn!,
      peerAsn,
      address: values.address,
      port: port!,
      routerId,
      holdTime: holdTime!,
      md5PasswordFile: values["md5-password-file"],
      json: values.json,
    },
  };
}

/** Formats one route event as a text line (aligned columns) or a JSON line. */
export function formatRouteEvent(peer: string, event: RouteEvent, json: boolean, now = new Date()): string {
  if (json) return JSON.stringify({ time: now.toISOString(), peer, ...event });
  const time = now.toISOString().slice(11, 23);
  switch (event.kind) {
    case "announce": {
      const extras = [
        `as-path [${event.asPath.join(" ")}]`,
        `origin ${event.origin}`,
        event.localPref !== undefined ? `local-pref ${event.localPref}` : "",
        event.med !== undefined ? `med ${event.med}` : "",
        event.communities.length > 0 ? `communities ${event.communities.join(",")}` : "",
      ].filter((s) => s !== "").join("  ");
      return `${time}  ${peer.padEnd(15)}  announce  ${event.prefix.padEnd(22)} next-hop ${
        event.nextHop.padEnd(15)
      }  ${extras}`;
    }
    case "withdraw":
      return `${time}  ${peer.padEnd(15)}  withdraw  ${event.prefix}${
        event.reason ? `  (${event.reason})` : ""
      }`;
    case "end-of-rib":
      return `${time}  ${peer.padEnd(15)}  end-of-rib ${event.family}`;
    case "up":
      return `${time}  ${
        peer.padEnd(15)
      }  session up: AS ${event.peerAsn}, router id ${event.peerRouterId}, ` +
        `hold time ${event.holdTime}s`;
    case "down":
      return `${time}  ${peer.padEnd(15)}  session down: ${event.reason}`;
  }
}

function serve(conn: BgpConnection, options: ListenOptions, print: (line: string) => void) {
  const peer = conn.remoteAddress;
  const receiver = new RouteReceiver(
    { asn: options.asn, routerId: options.routerId, holdTime: options.holdTime, peerAsn: options.peerAsn },
    Date.now(),
  );
  const handle = (out: { send: Uint8Array[]; events: RouteEvent[]; close: boolean }) => {
    for (const bytes of out.send) conn.write(bytes);
    for (const event of out.events) print(formatRouteEvent(peer, event, options.json));
    if (out.close) conn.close();
  };
  const timer = setInterval(() => handle(receiver.tick(Date.now())), 1000);
  conn.onClose((err) => {
    clearInterval(timer);
    print(
      formatRouteEvent(peer, { kind: "down", reason: err ? err.message : "connection closed" }, options.json),
    );
  });
  conn.write(receiver.open(Date.now()));
  conn.onData((chunk) => handle(receiver.receive(chunk, Date.now())));
}

/** Runs `speaker listen` until SIGINT or SIGTERM; returns the exit code. */
export async function listenCommand(args: string[]): Promise<number> {
  const parsed = parseListenArgs(args);
  if (!parsed.ok) {
    if (parsed.help) {
      console.log(LISTEN_USAGE);
      return 0;
    }
    console.error(`speaker listen: ${parsed.errors.join("\n  ")}\n\n${LISTEN_USAGE}`);
    return 2;
  }
  const options = parsed.options;
  let md5Password: string | undefined;
  if (options.md5PasswordFile) {
    try {
      md5Password = Deno.readTextFileSync(options.md5PasswordFile).replace(/\r?\n$/, "");
    } catch (err) {
      console.error(
        `speaker listen: --md5-password-file=${options.md5PasswordFile}: ${(err as Error).message}`,
      );
      return 1;
    }
  }
  const neighbors = new Map<string, NeighborTransport>(
    options.neighbors.map((n) => [n, md5Password ? { md5Password } : {}]),
  );
  const encoder = new TextEncoder();
  const print = (line: string) => Deno.stdout.writeSync(encoder.encode(line + "\n"));
  let listener;
  try {
    listener = listenPeers({
      address: options.address,
      port: options.port,
      neighbors,
      onConnection: (conn) => serve(conn, options, print),
      onRejected: (remote) =>
        console.error(`speaker listen: refused ${remote.address} (not a configured neighbor)`),
      onError: (err) => console.error(`speaker listen: ${err.message}`),
    });
  } catch (err) {
    console.error(
      `speaker listen: cannot listen on ${options.address}:${options.port}: ${(err as Error).message}`,
    );
    return 1;
  }
  console.error(
    `speaker listen: waiting for ${
      options.neighbors.join(", ")
    } on ${listener.address}:${listener.port} (AS ${options.asn})`,
  );
  const { promise: stopped, resolve } = Promise.withResolvers<void>();
  const stop = () => resolve();
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  await stopped;
  Deno.removeSignalListener("SIGINT", stop);
  Deno.removeSignalListener("SIGTERM", stop);
  await listener.close();
  return 0;
}
