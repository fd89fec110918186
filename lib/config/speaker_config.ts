/**
 * The validated configuration of a running speaker, and its printable form with secrets masked.
 *
 * A `SpeakerConfig` is produced only by `parseConfig()` (flags.ts) and is frozen: every field already
 * holds a valid value, so the rest of the program never re-checks it.
 *
 * @example
 * ```ts
 * import { formatConfigForLog, type SpeakerConfig } from "./speaker_config.ts";
 * declare const config: SpeakerConfig;
 * console.error(formatConfigForLog(config)); // "cluster-as=65000 neighbor-as=65030 ... auth-password=***"
 * ```
 *
 * @module
 */
import type { Ipv4Address, Ipv6Address } from "./ip_address.ts";
import type { LogLevel } from "../log/level.ts";
import { MASK, type Secret } from "../log/redaction.ts";

/** An autonomous system number, 1..4294967295 (RFC 6793 four-octet). */
export type Asn = number & { readonly __brand: "Asn" };
/** A TCP port number. */
export type Port = number & { readonly __brand: "Port" };

/** Where the BGP identifier came from. */
export type RouterIdSource = "--router-id" | "POD_IPS" | "POD_IP" | "--node-ips";

/** Output format of log lines. */
export type LogFormat = "text" | "json";

/** One address per family, as kube-ovn-speaker keeps pod and node IPs. */
export interface AddressPair {
  readonly ipv4?: Ipv4Address;
  readonly ipv6?: Ipv6Address;
}

/** The speaker's validated, frozen configuration. Flag names are given for each field. */
export interface SpeakerConfig {
  /** `--cluster-as`: the local AS. */
  readonly clusterAs: Asn;
  /** `--neighbor-as`: the AS of every neighbor. */
  readonly neighborAs: Asn;
  /** `--neighbor-address`: IPv4 neighbors, in the order given. */
  readonly neighborAddresses: readonly Ipv4Address[];
  /** `--neighbor-ipv6-address`: IPv6 neighbors, in the order given. */
  readonly neighborIpv6Addresses: readonly Ipv6Address[];
  /** `--neighbor-port`: the TCP port dialled on neighbors (179). */
  readonly neighborPort: Port;
  /** The BGP identifier; never 0.0.0.0. */
  readonly routerId: Ipv4Address;
  /** Which input the BGP identifier was taken from. */
  readonly routerIdSource: RouterIdSource;
  /** The speaker's own pod IPs from `POD_IPS` or `POD_IP`. */
  readonly podIps: AddressPair;
  /** `--node-ips`: the node's addresses, the last of each family winning (next-hop substitution). */
  readonly nodeIps: AddressPair;
  /** `--allowed-source-addresses`: IPv4 local source addresses the speaker may use. */
  readonly allowedSourceAddresses: readonly Ipv4Address[];
  /** `--allowed-source-ipv6-addresses`: IPv6 local source addresses the speaker may use. */
  readonly allowedSourceIpv6Addresses: readonly Ipv6Address[];
  /** TCP-MD5 password for every neighbor (RFC 2385), from a file, the environment or argv. */
  readonly authPassword: Secret | undefined;
  /** Where the password came from, for the start-up log. */
  readonly authPasswordSource:
    | "--auth-password"
    | "--auth-password-file"
    | "SPEAKER_AUTH_PASSWORD"
    | "SPEAKER_AUTH_PASSWORD_FILE"
    | undefined;
  /** `--holdtime` in whole seconds, 3..65535, sent in OPEN. */
  readonly holdTimeSeconds: number;
  /** `--graceful-restart`: RFC 4724 on every neighbor. */
  readonly gracefulRestart: boolean;
  /** `--graceful-restart-time` in whole seconds (the restart time of the GR capability). */
  readonly gracefulRestartTimeSeconds: number;
  /** `--graceful-restart-deferral-time` in whole seconds (RFC 4724 §4.1 selection deferral). */
  readonly gracefulRestartDeferralTimeSeconds: number;
  /** `--passivemode`: accept sessions instead of dialling. */
  readonly passiveMode: boolean;
  /** `--listen-address`: addresses to accept sessions on in passive mode. */
  readonly listenAddresses: readonly string[];
  /** `--listen-port`: the port to accept sessions on in passive mode (179). */
  readonly listenPort: Port;
  /** `--ebgp-multihop`: TTL of eBGP packets, 1 meaning directly connected. */
  readonly ebgpMultihop: number;
  /** `--extended-nexthop`: send both families to every neighbor (RFC 8950). */
  readonly extendedNexthop: boolean;
  /** `--announce-cluster-ip`: announce annotated ClusterIP Services. */
  readonly announceClusterIp: boolean;
  /** `--announce-lb-ip`: announce annotated LoadBalancer ingress IPs. */
  readonly announceLbIp: boolean;
  /** `--node-name` or `NODE_NAME`, lower-cased; empty only in NAT-gateway mode. */
  readonly nodeName: string;
  /** `--nat-gw-mode`: announce only the EIPs of `gatewayName`. */
  readonly natGwMode: boolean;
  /** `GATEWAY_NAME`: the VpcNatGateway in NAT-gateway mode. */
  readonly gatewayName: string | undefined;
  /** `--kubeconfig`; undefined means in-cluster configuration. */
  readonly kubeconfig: string | undefined;
  /** `--objects-file`: YAML/JSON files of Kubernetes objects to use as a source. */
  readonly objectsFiles: readonly string[];
  /** `--enable-metrics`: run the admin HTTP server. */
  readonly enableMetrics: boolean;
  /** `--admin-address`: address of the admin HTTP server (0.0.0.0 like kube-ovn-speaker). */
  readonly adminAddress: string;
  /** `--pprof-port`: port of the admin HTTP server (10667). */
  readonly adminPort: Port;
  /** Level derived from klog's `-v`. */
  readonly logLevel: LogLevel;
  /** klog's `-v` as given. */
  readonly verbosity: number;
  /** `--log-format`. */
  readonly logFormat: LogFormat;
  /** `--log-perm` as a file mode number (0o640). */
  readonly logPerm: number;
  /** `--enable-bfd`. */
  readonly enableBfd: boolean;
  /** `--bfd-min-tx` in milliseconds. */
  readonly bfdMinTxMs: number;
  /** `--bfd-min-rx` in milliseconds. */
  readonly bfdMinRxMs: number;
  /** `--bfd-detection-multiplier`. */
  readonly bfdDetectionMultiplier: number;
}

/**
 * The configuration as flat key/value fields for a structured log line, keyed by flag name. The
 * password appears only as `***` (or `(none)`).
 */
export function configLogFields(config: SpeakerConfig): Record<string, string | number | boolean> {
  const list = (items: readonly string[]) => items.length === 0 ? "(none)" : items.join(",");
  const pair = (p: AddressPair) => [p.ipv4, p.ipv6].filter((x) => x !== undefined).join(",") || "(none)";
  return {
    "cluster-as": config.clusterAs,
    "neighbor-as": config.neighborAs,
    "neighbor-address": list(config.neighborAddresses),
    "neighbor-ipv6-address": list(config.neighborIpv6Addresses),
    "neighbor-port": config.neighborPort,
    "router-id": config.routerId,
    "router-id-source": config.routerIdSource,
    "pod-ips": pair(config.podIps),
    "node-ips": pair(config.nodeIps),
    "allowed-source-addresses": list(config.allowedSourceAddresses),
    "allowed-source-ipv6-addresses": list(config.allowedSourceIpv6Addresses),
    "auth-password": config.authPassword === undefined ? "(none)" : MASK,
    "auth-password-source": config.authPasswordSource ?? "(none)",
    "holdtime": `${config.holdTimeSeconds}s`,
    "graceful-restart": config.gracefulRestart,
    "graceful-restart-time": `${config.gracefulRestartTimeSeconds}s`,
    "graceful-restart-deferral-time": `${config.gracefulRestartDeferralTimeSeconds}s`,
    "passivemode": config.passiveMode,
    "listen-address": list(config.listenAddresses),
    "listen-port": config.listenPort,
    "ebgp-multihop": config.ebgpMultihop,
    "extended-nexthop": config.extendedNexthop,
    "announce-cluster-ip": config.announceClusterIp,
    "announce-lb-ip": config.announceLbIp,
    "node-name": config.nodeName || "(none)",
    "nat-gw-mode": config.natGwMode,
    "gateway-name": config.gatewayName ?? "(none)",
    "kubeconfig": config.kubeconfig ?? "(in-cluster)",
    "objects-file": list(config.objectsFiles),
    "enable-metrics": config.enableMetrics,
    "admin-address": config.adminAddress,
    "pprof-port": config.adminPort,
    "log-level": config.logLevel,
    "log-format": config.logFormat,
    "log-perm": config.logPerm.toString(8),
    "enable-bfd": config.enableBfd,
    "bfd-min-tx": `${config.bfdMinTxMs}ms`,
    "bfd-min-rx": `${config.bfdMinRxMs}ms`,
    "bfd-detection-multiplier": config.bfdDetectionMultiplier,
  };
}

/** The configuration on one line of `flag=value` pairs, the password shown as `***`. */
export function formatConfigForLog(config: SpeakerConfig): string {
  return Object.entries(configLogFields(config))
    .map(([key, value]) => `${key}=${value}`)
    .join(" ");
}
