/**
 * `speaker status`: reads `/status` from a running speaker and prints its peers and prefixes as
 * aligned tables, like `gobgp neighbor`, or the raw JSON with `--json`.
 *
 * ```
 * speaker status [--address http://127.0.0.1:10667] [--json]
 * ```
 *
 * @example
 * ```ts
 * import { statusCommand } from "./status.ts";
 * const code = await statusCommand(["--address", "http://127.0.0.1:10667"]);
 * Deno.exit(code);
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import type { PeerStatus, PrefixStatus, StatusReport } from "../admin/status_report.ts";

/** Where `speaker status` writes, and how it fetches (injectable for tests). */
export interface StatusCommandIo {
  print(text: string): void;
  printError(text: string): void;
  fetch(url: string, init: { signal: AbortSignal }): Promise<Response>;
}

const DEFAULT_IO: StatusCommandIo = {
  print: (text) => console.log(text),
  printError: (text) => console.error(text),
  fetch: (url, init) => fetch(url, init),
};

/** The default admin address: kube-ovn-speaker's port on the local host. */
export const DEFAULT_STATUS_ADDRESS = "http://127.0.0.1:10667";

const STATUS_USAGE = `Usage: speaker status [--address URL] [--json]

Shows the BGP peers and the announced prefixes of a running speaker, read from its admin server.

  --address URL   admin server of the speaker (default ${DEFAULT_STATUS_ADDRESS}; host:port also works)
  --json          print the /status document as JSON instead of tables
  --timeout MS    give up after this many milliseconds (default 5000)
  -h, --help      print this help`;

/** Runs `speaker status` with `args` (after the subcommand name); resolves to the exit code. */
export async function statusCommand(
  args: readonly string[],
  io: StatusCommandIo = DEFAULT_IO,
): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      options: {
        address: { type: "string", default: DEFAULT_STATUS_ADDRESS },
        json: { type: "boolean", default: false },
        timeout: { type: "string", default: "5000" },
        help: { type: "boolean", short: "h", default: false },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (error) {
    io.printError(
      `speaker status: ${error instanceof Error ? error.message : String(error)}\n${STATUS_USAGE}`,
    );
    return 2;
  }
  const { address, json, timeout, help } = parsed.values;
  if (help) {
    io.print(STATUS_USAGE);
    return 0;
  }
  const timeoutMs = Number(timeout);
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) {
    io.printError(`speaker status: --timeout=${timeout}: must be a positive number of milliseconds`);
    return 2;
  }
  const base = /^https?:\/\//.test(address) ? address : `http://${address}`;
  let url: string;
  try {
    url = new URL("/status", base).toString();
  } catch {
    io.printError(`speaker status: --address=${address}: not a URL such as ${DEFAULT_STATUS_ADDRESS}`);
    return 2;
  }

  let body: string;
  try {
    const response = await io.fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    body = await response.text();
    if (!response.ok) {
      io.printError(`speaker status: ${url} answered ${response.status}: ${body.trim()}`);
      return 1;
    }
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    io.printError(
      `speaker status: cannot reach the speaker at ${url}: ${reason}\n` +
        `Is it running with --enable-metrics (the default), and is --pprof-port the port given here?`,
    );
    return 1;
  }

  let report: StatusReport;
  try {
    report = JSON.parse(body);
    if (!Array.isArray(report.peers) || !Array.isArray(report.prefixes)) throw new Error("missing peers");
  } catch {
    io.printError(`speaker status: ${url} did not return a speaker status document`);
    return 1;
  }
  io.print(json ? JSON.stringify(report, null, 2) : renderStatus(report));
  return 0;
}

/** The peers table and the prefixes table, separated by a blank line. */
export function renderStatus(report: StatusReport): string {
  const s = report.speaker;
  const header = s
    ? `Speaker ${s.nodeName || "(no node)"}  router-id ${s.routerId}  AS ${s.localAs}  ` +
      `up ${formatUpDown(s.uptimeSeconds)}  ${s.ready ? "ready" : `not ready: ${s.readyReasons.join("; ")}`}`
    : "";
  return [header, "", renderPeers(report.peers), "", renderPrefixes(report.prefixes)].join("\n").trimStart();
}

/** `gobgp neighbor`-style table: Peer, AS, Up/Down, State, #Sent, #Received. */
export function renderPeers(peers: readonly PeerStatus[]): string {
  const rows = peers.map((p) => [
    p.address,
    String(p.asn),
    p.upDownSeconds === null ? "never" : formatUpDown(p.upDownSeconds),
    p.state,
    String(p.prefixes.sent),
    String(p.prefixes.received),
  ]);
  const table = renderTable(["Peer", "AS", "Up/Down", "State", "#Sent", "#Received"], rows, [1, 2, 4, 5]);
  const errors = peers.filter((p) => p.lastError).map((p) => `  ${p.address}: last error: ${p.lastError}`);
  return errors.length === 0 ? table : `${table}\n${errors.join("\n")}`;
}

/** Prefix, Source (with the first object), Peers announced to. */
export function renderPrefixes(prefixes: readonly PrefixStatus[]): string {
  if (prefixes.length === 0) return "No prefixes to announce";
  const rows = prefixes.map((p) => {
    const objects = p.objects.length === 0
      ? p.source
      : p.objects.length === 1
      ? p.objects[0]
      : `${p.objects[0]} (+${p.objects.length - 1})`;
    return [p.prefix, objects, p.peers.length === 0 ? "-" : p.peers.join(",")];
  });
  return renderTable(["Prefix", "Source", "Peers"], rows, []);
}

/** Columns padded to their widest cell; numeric columns right-aligned. */
function renderTable(
  headers: readonly string[],
  rows: readonly string[][],
  rightAligned: readonly number[],
): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => rightAligned.includes(i) ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))
      .join("  ")
      .trimEnd();
  return [line(headers), ...rows.map(line)].join("\n");
}

/** `gobgp`'s Up/Down form: `00:01:23`, or `2d 03:04:05` past a day. */
export function formatUpDown(totalSeconds: number): string {
  const seconds = Math.max(0, Math.floor(totalSeconds));
  const days = Math.floor(seconds / 86400);
  const hms = [Math.floor(seconds / 3600) % 24, Math.floor(seconds / 60) % 60, seconds % 60]
    .map((n) => String(n).padStart(2, "0"))
    .join(":");
  return days > 0 ? `${days}d ${hms}` : hms;
}
