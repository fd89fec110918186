/**
 * The `--help` text, generated from the flag table so every flag appears with its default.
 *
 * @example
 * ```ts
 * import { USAGE } from "./usage.ts";
 * console.log(USAGE);
 * ```
 *
 * @module
 */
import { type FlagGroup, type FlagKind, FLAGS } from "./flag_table.ts";
import { VERSION } from "../version.ts";

const GROUP_TITLES: ReadonlyArray<readonly [FlagGroup, string]> = [
  ["bgp", "BGP sessions"],
  ["addresses", "Addresses"],
  ["announce", "What to announce"],
  ["kube", "Kubernetes"],
  ["admin", "Admin HTTP server (/metrics, /status, /livez, /readyz, /healthz)"],
  ["log", "Logging"],
  ["bfd", "BFD"],
  ["info", "Information"],
  ["klog", "Compatibility: klog flags of kube-ovn-speaker (accepted; only -v has an effect)"],
  ["grpc", "Compatibility: GoBGP gRPC API flags (accepted and ignored; no gRPC API is served)"],
];

const VALUE_NAMES: Readonly<Record<FlagKind, string>> = {
  bool: "",
  string: "string",
  stringList: "path",
  uint8: "uint8",
  uint32: "uint32",
  uint64: "uint64",
  int32: "int32",
  duration: "duration",
  ip: "ip",
  ipSlice: "ips",
  verbosity: "level",
  severity: "severity",
};

function renderUsage(): string {
  const lines: string[] = [
    `speaker ${VERSION}: announces Kubernetes Pod, Subnet, Service and EIP prefixes over BGP`,
    "(a drop-in replacement for kube-ovn-speaker: the same flags and environment variables)",
    "",
    "Usage:",
    "  speaker [flags]                         run the speaker",
    "  speaker status [--address URL] [--json] show peers and prefixes of a running speaker",
    "  speaker listen [flags]                  accept BGP sessions and print the routes received",
    "  speaker decode [--json] FILE...         print MRT files (RFC 6396) as bgpdump -m does",
    "",
    "Flags take --flag=value or --flag value; booleans take --flag or --flag=false. Durations use Go",
    "syntax (90s, 1m30s, 1h). IP lists are comma-separated and may be repeated.",
  ];
  for (const [group, title] of GROUP_TITLES) {
    const flags = FLAGS.filter((f) => f.group === group);
    if (flags.length === 0) continue;
    lines.push("", `${title}:`);
    const heads = flags.map((f) => {
      const dash = f.name.length === 1 ? "-" : "--";
      const short = f.shorthand !== undefined && f.name.length > 1 ? `-${f.shorthand}, ` : "";
      const value = VALUE_NAMES[f.kind];
      return `  ${short}${dash}${f.name}${value === "" ? "" : ` ${value}`}`;
    });
    const width = Math.max(...heads.map((h) => h.length)) + 2;
    flags.forEach((f, i) => {
      lines.push(`${heads[i].padEnd(width)}${f.help} (default ${f.defaultText})`);
    });
  }
  lines.push(
    "",
    "Environment:",
    "  NODE_NAME                   default for --node-name",
    "  POD_IPS, POD_IP             the speaker's own IPs (router id, --node-ips next-hop substitution)",
    "  GATEWAY_NAME                the VpcNatGateway, with --nat-gw-mode",
    "  SPEAKER_AUTH_PASSWORD_FILE  file holding the TCP-MD5 password (like --auth-password-file)",
    "  SPEAKER_AUTH_PASSWORD       the TCP-MD5 password (flags on the command line take precedence)",
    "",
    "Exit codes: 0 success, 1 runtime failure, 2 unusable command line.",
  );
  return lines.join("\n") + "\n";
}

/** The help text printed by `speaker --help`. */
export const USAGE: string = renderUsage();
