/**
 * The announcement policy: which prefixes this node must announce, as a pure function of the compact
 * records ({@link ./records.ts}) and the speaker's configuration.
 *
 * The one rule for the annotation `ovn.kubernetes.io/bgp`, on Pods, Subnets, Services and IptablesEIPs
 * alike ({@linkcode parseBgpAnnotation}):
 *
 * | Value | Setting |
 * |---|---|
 * | `true`, `yes`, `cluster` | Cluster: every speaker announces the object's prefixes |
 * | `local` | Local: only the speaker on the object's node (Pod: `spec.nodeName`; Service: a node hosting a ready endpoint) |
 * | absent or `""` | nothing of its own; a Pod inherits its Subnet's setting |
 * | `false`, `no` | off: nothing, and on a Pod this overrides its Subnet's setting |
 * | anything else | off, with a warning to log (upstream also treats unknown values as "announce nothing") |
 *
 * Values are matched exactly (case-sensitive), as upstream does.
 *
 * What each kind announces (reference §2, with the upstream defects fixed):
 * - **Pod** (node mode): for each network whose Subnet is *known* (the speaker holds that Subnet and it is
 *   Ready; its annotations do not matter), the IPs as host routes under the Pod's own setting, else the
 *   Subnet's. A terminating Pod (`deletionTimestamp` set) and a finished Pod (phase `Succeeded` or
 *   `Failed`, whatever its restartPolicy) announce nothing. Upstream also required the Subnet to carry at
 *   least one annotation, so Pods annotated in an unannotated Subnet were never announced; we do not.
 * - **Subnet** (node mode): its CIDRs under Cluster only, and only while Ready. Under Local nothing: the
 *   Pods of a local Subnet are announced one by one by the speaker on their node.
 * - **Service** (node mode): with `announceClusterIp`, every `spec.clusterIPs` entry of a `ClusterIP`
 *   Service; with `announceLbIp`, every `status.loadBalancer.ingress[].ip` of a `LoadBalancer` Service.
 *   Under Local, only when this node hosts a ready endpoint of the Service (its EndpointSlices).
 * - **IptablesEIP** (NAT-gateway mode): `spec.v4ip`/`spec.v6ip` of the EIPs of `gatewayName`'s gateway,
 *   while `status.ready`; the gateway is the EIP's only speaker, so Cluster and Local mean the same there.
 *
 * @example
 * ```ts
 * import { desiredPrefixes } from "./policy.ts";
 * const desired = desiredPrefixes({ pods: [], subnets: [], services: [], endpointSlices: [], eips: [] }, {
 *   nodeName: "node-1",
 *   announceClusterIp: true,
 *   announceLbIp: false,
 *   natGwMode: false,
 *   gatewayName: "",
 * });
 * desired.size; // 0
 * ```
 *
 * @module
 */

import type {
  AnyRecord,
  BgpSetting,
  EipRecord,
  EndpointSliceRecord,
  PodRecord,
  ServiceRecord,
  SubnetRecord,
} from "./records.ts";

/** The speaker settings the policy depends on. */
export interface PolicyConfig {
  /** This speaker's node (`--node-name`, lower-cased); used by the Local policy. */
  readonly nodeName: string;
  /** `--announce-cluster-ip`. */
  readonly announceClusterIp: boolean;
  /** `--announce-lb-ip`. */
  readonly announceLbIp: boolean;
  /** `--nat-gw-mode`: announce only the EIPs of `gatewayName`. */
  readonly natGwMode: boolean;
  /** `GATEWAY_NAME`, used in NAT-gateway mode. */
  readonly gatewayName: string;
}

/** The kind of object that wants a prefix. */
export type SourceKind = "pod" | "subnet" | "service" | "eip";

/** An object that wants a prefix announced. Subnets and EIPs are cluster-scoped: no namespace. */
export interface Source {
  readonly kind: SourceKind;
  readonly namespace?: string;
  readonly name: string;
}

/** The records the policy reads. */
export interface ObjectSet {
  readonly pods: Iterable<PodRecord>;
  readonly subnets: Iterable<SubnetRecord>;
  readonly services: Iterable<ServiceRecord>;
  readonly endpointSlices: Iterable<EndpointSliceRecord>;
  readonly eips: Iterable<EipRecord>;
}

/** Longest `ovn.kubernetes.io/bgp` value considered; longer values are reported, not echoed. */
const MAX_BGP_VALUE = 64;
const NOTHING: readonly string[] = Object.freeze([]);

/**
 * Parses an `ovn.kubernetes.io/bgp` annotation value by the one rule in this module's table.
 *
 * @example
 * ```ts
 * parseBgpAnnotation("yes"); // { setting: "cluster" }
 * parseBgpAnnotation("on"); // { setting: "off", warning: "..." }
 * parseBgpAnnotation(undefined); // { setting: undefined }
 * ```
 */
export function parseBgpAnnotation(value: unknown): { setting: BgpSetting; warning?: string } {
  if (value === undefined || value === null || value === "") return { setting: undefined };
  if (typeof value !== "string") return { setting: "off", warning: "ovn.kubernetes.io/bgp is not a string" };
  switch (value) {
    case "true":
    case "yes":
    case "cluster":
      return { setting: "cluster" };
    case "local":
      return { setting: "local" };
    case "false":
    case "no":
      return { setting: "off" };
  }
  const shown = value.length > MAX_BGP_VALUE ? `a ${value.length}-character value` : JSON.stringify(value);
  return {
    setting: "off",
    warning: `ovn.kubernetes.io/bgp has ${shown}; expected true, yes, cluster, local, false or no; ` +
      "announcing nothing for it",
  };
}

/**
 * True when a Pod network's Subnet is *known*: the speaker holds it and its status is Ready. Upstream
 * also demanded at least one annotation on the Subnet (reference §2.4, latent bug); that is not required.
 */
export function subnetKnown(subnet: SubnetRecord | undefined): subnet is SubnetRecord {
  return subnet !== undefined && subnet.ready;
}

function announcedOn(setting: BgpSetting, objectNode: string, config: PolicyConfig): boolean {
  if (setting === "cluster") return true;
  return setting === "local" && objectNode !== "" && objectNode === config.nodeName;
}

/** The host prefixes a Pod wants announced by this speaker. */
export function podPrefixes(
  pod: PodRecord,
  subnetNamed: (name: string) => SubnetRecord | undefined,
  config: PolicyConfig,
): readonly string[] {
  if (config.natGwMode || !pod.active || pod.networks.length === 0) return NOTHING;
  let out: string[] | undefined;
  for (const network of pod.networks) {
    const subnet = subnetNamed(network.subnet);
    if (!subnetKnown(subnet)) continue;
    // Reference §2.4 step 3: the Pod's own value, when set, wins over its Subnet's for every network.
    if (!announcedOn(pod.bgp ?? subnet.bgp, pod.nodeName, config)) continue;
    if (out === undefined && pod.networks.length === 1) return network.prefixes;
    out ??= [];
    for (const prefix of network.prefixes) if (!out.includes(prefix)) out.push(prefix);
  }
  return out ?? NOTHING;
}

/** The CIDRs a Subnet wants announced: under Cluster only, and only while Ready (reference §2.3). */
export function subnetPrefixes(subnet: SubnetRecord, config: PolicyConfig): readonly string[] {
  return !config.natGwMode && subnet.ready && subnet.bgp === "cluster" ? subnet.cidrs : NOTHING;
}

/**
 * The host prefixes a Service wants announced by this speaker. `slices` are the Service's
 * EndpointSlices; they matter only under Local.
 */
export function servicePrefixes(
  service: ServiceRecord,
  slices: Iterable<EndpointSliceRecord>,
  config: PolicyConfig,
): readonly string[] {
  if (config.natGwMode || (service.bgp !== "cluster" && service.bgp !== "local")) return NOTHING;
  let wanted: readonly string[] = NOTHING;
  if (config.announceClusterIp && service.type === "ClusterIP") wanted = service.clusterIps;
  if (config.announceLbIp && service.type === "LoadBalancer") wanted = service.ingressIps;
  if (wanted.length === 0 || service.bgp === "cluster") return wanted;
  if (config.nodeName === "") return NOTHING;
  for (const slice of slices) {
    if (slice.service === service.key && slice.readyNodes.includes(config.nodeName)) return wanted;
  }
  return NOTHING;
}

/** The host prefixes an IptablesEIP wants announced (NAT-gateway mode, reference §2.5). */
export function eipPrefixes(eip: EipRecord, config: PolicyConfig): readonly string[] {
  if (!config.natGwMode || config.gatewayName === "" || eip.gateway !== config.gatewayName) return NOTHING;
  return eip.ready && (eip.bgp === "cluster" || eip.bgp === "local") ? eip.prefixes : NOTHING;
}

const SOURCE_KIND = {
  Pod: "pod",
  Subnet: "subnet",
  Service: "service",
  EndpointSlice: undefined,
  IptablesEIP: "eip",
} as const;

/** The {@linkcode Source} a record stands for, or undefined for EndpointSlices (never a source). */
export function sourceOf(record: AnyRecord): Source | undefined {
  const kind = SOURCE_KIND[record.kind];
  if (kind === undefined) return undefined;
  const slash = record.key.indexOf("/");
  return slash < 0
    ? { kind, name: record.key }
    : { kind, namespace: record.key.slice(0, slash), name: record.key.slice(slash + 1) };
}

/** Orders sources by kind, namespace and name, so that equal sets compare equal. */
export function compareSources(a: Source, b: Source): number {
  return cmp(a.kind, b.kind) || cmp(a.namespace ?? "", b.namespace ?? "") || cmp(a.name, b.name);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The whole desired set, computed from scratch: each canonical prefix with every object that wants it
 * (sorted by {@linkcode compareSources}). Several objects may want one prefix; it stays desired until none
 * is left.
 */
export function desiredPrefixes(objects: ObjectSet, config: PolicyConfig): Map<string, Source[]> {
  const out = new Map<string, Source[]>();
  const add = (record: AnyRecord, prefixes: readonly string[]) => {
    if (prefixes.length === 0) return;
    const source = sourceOf(record)!;
    for (const prefix of prefixes) {
      const list = out.get(prefix);
      if (list === undefined) out.set(prefix, [source]);
      else list.push(source);
    }
  };
  const subnets = new Map<string, SubnetRecord>();
  for (const subnet of objects.subnets) {
    subnets.set(subnet.key, subnet);
    add(subnet, subnetPrefixes(subnet, config));
  }
  for (const pod of objects.pods) add(pod, podPrefixes(pod, (name) => subnets.get(name), config));
  const slices = [...objects.endpointSlices];
  for (const service of objects.services) add(service, servicePrefixes(service, slices, config));
  for (const eip of objects.eips) add(eip, eipPrefixes(eip, config));
  for (const list of out.values()) list.sort(compareSources);
  return out;
}
