/**
 * Every command-line flag the speaker accepts: kube-ovn-speaker's flags with their pflag types and
 * defaults, the speaker's own additions, and klog's and GoBGP's flags kept for compatibility.
 *
 * The table drives both parsing (flags.ts) and the help text (usage.ts), so they cannot disagree.
 *
 * @example
 * ```ts
 * import { FLAGS, flagByName } from "./flag_table.ts";
 * flagByName("holdtime")?.defaultText; // "90s"
 * FLAGS.filter((f) => f.group === "klog").length; // 14
 * ```
 *
 * @module
 */

/** How a flag's value is written (pflag's type names where one exists). */
export type FlagKind =
  | "bool"
  | "string"
  | "stringList"
  | "uint8"
  | "uint32"
  | "uint64"
  | "int32"
  | "duration"
  | "ip"
  | "ipSlice"
  | "verbosity"
  | "severity";

/** The section of the help text a flag belongs to. */
export type FlagGroup =
  | "bgp"
  | "addresses"
  | "announce"
  | "kube"
  | "admin"
  | "log"
  | "bfd"
  | "klog"
  | "grpc"
  | "info";

/** One flag. */
export interface FlagSpec {
  /** Long name without dashes. */
  readonly name: string;
  /** One-letter form used as `-x` (only `v` and `h`). */
  readonly shorthand?: string;
  readonly kind: FlagKind;
  readonly group: FlagGroup;
  /** The default as shown in help. */
  readonly defaultText: string;
  /** What the flag does, for help. */
  readonly help: string;
}

const flag = (
  name: string,
  kind: FlagKind,
  group: FlagGroup,
  defaultText: string,
  help: string,
  shorthand?: string,
): FlagSpec =>
  shorthand === undefined
    ? { name, kind, group, defaultText, help }
    : { name, kind, group, defaultText, help, shorthand };

/** All flags, in help order. */
export const FLAGS: readonly FlagSpec[] = [
  flag("cluster-as", "uint32", "bgp", "0 (required)", "Local AS number, 1..4294967295"),
  flag("neighbor-as", "uint32", "bgp", "0 (required)", "AS number of every neighbor, 1..4294967295"),
  flag(
    "neighbor-address",
    "ipSlice",
    "bgp",
    "none",
    "IPv4 neighbors, comma-separated and repeatable (one of the two neighbor flags is required)",
  ),
  flag("neighbor-ipv6-address", "ipSlice", "bgp", "none", "IPv6 neighbors, comma-separated and repeatable"),
  flag("neighbor-port", "uint32", "bgp", "179", "TCP port dialled on neighbors, 1..65535"),
  flag(
    "router-id",
    "ip",
    "bgp",
    "IPv4 of POD_IPS/POD_IP, else of --node-ips",
    "BGP identifier, an IPv4 address other than 0.0.0.0",
  ),
  flag(
    "auth-password-file",
    "string",
    "bgp",
    "none",
    "File holding the TCP-MD5 password (RFC 2385) for every neighbor, at most 80 bytes; also env SPEAKER_AUTH_PASSWORD_FILE",
  ),
  flag(
    "auth-password",
    "string",
    "bgp",
    "none",
    "TCP-MD5 password on the command line (visible in ps; prefer --auth-password-file); also env SPEAKER_AUTH_PASSWORD",
  ),
  flag("holdtime", "duration", "bgp", "90s", "Hold time sent to every neighbor, 3s..65536s, whole seconds"),
  flag("graceful-restart", "bool", "bgp", "false", "Enable graceful restart (RFC 4724) on every neighbor"),
  flag("graceful-restart-time", "duration", "bgp", "90s", "Restart time advertised, 1s..4095s"),
  flag("graceful-restart-deferral-time", "duration", "bgp", "360s", "Selection deferral time, 1s..18h"),
  flag("passivemode", "bool", "bgp", "false", "Accept sessions instead of opening them"),
  flag(
    "listen-address",
    "ipSlice",
    "bgp",
    "0.0.0.0,::",
    "Addresses to accept sessions on with --passivemode, comma-separated and repeatable",
  ),
  flag("listen-port", "uint32", "bgp", "179", "Port to accept sessions on with --passivemode, 1..65535"),
  flag("ebgp-multihop", "uint8", "bgp", "1", "TTL of eBGP packets, 1..255 (1: directly connected)"),
  flag(
    "extended-nexthop",
    "bool",
    "bgp",
    "false",
    "Send IPv4 and IPv6 prefixes to every neighbor (RFC 8950)",
  ),
  flag(
    "node-ips",
    "ipSlice",
    "addresses",
    "none",
    "Node addresses replacing the pod IP as next hop (last of each family wins)",
  ),
  flag("allowed-source-addresses", "ipSlice", "addresses", "none", "IPv4 local source addresses allowed"),
  flag(
    "allowed-source-ipv6-addresses",
    "ipSlice",
    "addresses",
    "none",
    "IPv6 local source addresses allowed",
  ),
  flag("announce-cluster-ip", "bool", "announce", "false", "Announce ClusterIPs of annotated Services"),
  flag(
    "announce-lb-ip",
    "bool",
    "announce",
    "false",
    "Announce LoadBalancer ingress IPs of annotated Services",
  ),
  flag(
    "nat-gw-mode",
    "bool",
    "announce",
    "false",
    "Run inside a VpcNatGateway pod and announce only the EIPs of env GATEWAY_NAME",
  ),
  flag(
    "node-name",
    "string",
    "kube",
    "env NODE_NAME",
    "This node's name, lower-cased; required unless --nat-gw-mode",
  ),
  flag("kubeconfig", "string", "kube", "in-cluster", "Kubeconfig file"),
  flag(
    "objects-file",
    "stringList",
    "kube",
    "none",
    "YAML or JSON file of Kubernetes objects to announce from instead of the API server; repeatable",
  ),
  flag("enable-metrics", "bool", "admin", "true", "Serve /metrics, /status and health endpoints over HTTP"),
  flag("admin-address", "ip", "admin", "0.0.0.0", "Address of the admin HTTP server"),
  flag("pprof-port", "int32", "admin", "10667", "Port of the admin HTTP server (no pprof handlers)"),
  flag("log-format", "string", "log", "text", "Log line format: text (key=value) or json"),
  flag("log-perm", "string", "log", "640", "Octal mode for a log file (kept for compatibility)"),
  flag("enable-bfd", "bool", "bfd", "false", "Enable BFD for every neighbor"),
  flag("bfd-min-tx", "uint32", "bfd", "1000", "Desired minimum TX interval in ms, 1..4294967"),
  flag("bfd-min-rx", "uint32", "bfd", "1000", "Required minimum RX interval in ms, 1..4294967"),
  flag("bfd-detection-multiplier", "uint8", "bfd", "3", "Detection multiplier, 1..255"),
  flag("v", "verbosity", "klog", "0", "Verbosity: 0-2 info, 3-4 debug, 5+ trace", "v"),
  flag("logtostderr", "bool", "klog", "true", "Accepted and ignored: logs always go to stderr"),
  flag("alsologtostderr", "bool", "klog", "false", "Accepted and ignored"),
  flag("log_file", "string", "klog", "none", "Accepted and ignored: collect stderr instead"),
  flag("log_file_max_size", "uint64", "klog", "1800", "Accepted and ignored"),
  flag("log_dir", "string", "klog", "none", "Accepted and ignored"),
  flag("one_output", "bool", "klog", "false", "Accepted and ignored"),
  flag("skip_headers", "bool", "klog", "false", "Accepted and ignored"),
  flag("skip_log_headers", "bool", "klog", "false", "Accepted and ignored"),
  flag("stderrthreshold", "severity", "klog", "ERROR", "Accepted and ignored"),
  flag("vmodule", "string", "klog", "none", "Accepted and ignored"),
  flag("add_dir_header", "bool", "klog", "false", "Accepted and ignored"),
  flag("log_backtrace_at", "string", "klog", "none", "Accepted and ignored"),
  flag(
    "grpc-host",
    "ip",
    "grpc",
    "127.0.0.1",
    "Accepted and ignored: no gRPC API; use /status or `speaker status`",
  ),
  flag(
    "grpc-port",
    "int32",
    "grpc",
    "50051",
    "Accepted and ignored: no gRPC API; use /status or `speaker status`",
  ),
  flag("version", "bool", "info", "false", "Print the version and exit"),
  flag("help", "bool", "info", "false", "Print this help and exit", "h"),
];

const BY_NAME = new Map(FLAGS.map((f) => [f.name, f]));
const BY_SHORTHAND = new Map(FLAGS.filter((f) => f.shorthand).map((f) => [f.shorthand!, f]));

/** The flag with this long name. */
export function flagByName(name: string): FlagSpec | undefined {
  return BY_NAME.get(name);
}

/** The flag with this one-letter shorthand. */
export function flagByShorthand(letter: string): FlagSpec | undefined {
  return BY_SHORTHAND.get(letter);
}

/** The known flag name closest to `name` when the difference looks like a typo. */
export function closestFlagName(name: string): string | undefined {
  const wanted = normalise(name);
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of BY_NAME.keys()) {
    if (candidate.length === 1) continue;
    const distance = editDistance(wanted, normalise(candidate));
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  const allowed = wanted.length <= 4 ? 1 : wanted.length <= 8 ? 2 : 3;
  return bestDistance <= allowed ? best : undefined;
}

function normalise(name: string): string {
  return name.toLowerCase().replaceAll("_", "-");
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j] + 1, current[j - 1] + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length];
}
