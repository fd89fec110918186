/**
 * Compact records of the Kubernetes objects the announcement policy reads, and the pure converters that
 * build them from raw Kubernetes JSON.
 *
 * The speaker never keeps whole objects: each converter reads the few fields the policy needs, parses
 * them once, strictly, and returns a record whose fields cannot hold invalid values (canonical prefix
 * strings, a {@linkcode BgpSetting} instead of free text). Input the policy cannot use yields
 * `{ skip: reason }`; a usable object with a flaw (an unknown annotation value, one bad IP among good
 * ones) yields a record carrying `warnings` to log.
 *
 * Prefix strings are canonical: IPv4 dotted quad without leading zeros, IPv6 per RFC 5952 §4 (lower
 * case, no leading zeros, the longest run of two or more zero groups, leftmost on a tie, as "::"),
 * always with an explicit length: `203.0.113.5/32`, `2001:db8::1/128`, `198.51.100.0/24`.
 *
 * @example
 * ```ts
 * import { podRecord } from "./records.ts";
 * const pod = podRecord({
 *   metadata: {
 *     namespace: "default",
 *     name: "web",
 *     annotations: {
 *       "ovn.kubernetes.io/bgp": "cluster",
 *       "ovn.kubernetes.io/ip_address": "198.51.100.10,2001:DB8:100::0a",
 *       "ovn.kubernetes.io/logical_switch": "demo",
 *     },
 *   },
 *   spec: { nodeName: "node-1" },
 *   status: { phase: "Running" },
 * });
 * // { kind: "Pod", key: "default/web", nodeName: "node-1", bgp: "cluster", active: true,
 * //   networks: [{ provider: "ovn", subnet: "demo",
 * //                prefixes: ["198.51.100.10/32", "2001:db8:100::a/128"] }], warnings: [] }
 * ```
 *
 * @module
 */

import { addressToString, parseAddress } from "../wire/address.ts";
import { parseBgpAnnotation } from "./policy.ts";

/** The announcement policy an object asks for (reference §2.1). */
export type Policy = "cluster" | "local";

/**
 * The parsed `ovn.kubernetes.io/bgp` annotation: a {@linkcode Policy}; `"off"` when the annotation is
 * present with any other value (it asks for nothing and, on a Pod, overrides its Subnet's policy); or
 * `undefined` when absent or empty (a Pod then inherits its Subnet's policy).
 */
export type BgpSetting = Policy | "off" | undefined;

/** The kinds of object the policy reads. */
export type RecordKind = "Pod" | "Subnet" | "Service" | "EndpointSlice" | "IptablesEIP";

/** One network of a Pod: a Kube-OVN provider, the Subnet its IPs came from, and their host prefixes. */
export interface PodNetwork {
  /** `ovn` for the primary network, `<nad>.<namespace>[.ovn]` for an attachment network. */
  readonly provider: string;
  /** The Subnet named by `<provider>.kubernetes.io/logical_switch`. */
  readonly subnet: string;
  /** The IPs of `<provider>.kubernetes.io/ip_address` as canonical `/32` or `/128` prefixes. */
  readonly prefixes: readonly string[];
}

/** What the policy needs of a Pod. */
export interface PodRecord {
  readonly kind: "Pod";
  /** `namespace/name`. */
  readonly key: string;
  /** `spec.nodeName`, or "" while unscheduled. */
  readonly nodeName: string;
  /** The Pod's own `ovn.kubernetes.io/bgp`. */
  readonly bgp: BgpSetting;
  /** False once the Pod is terminating (`deletionTimestamp` set) or finished (`Succeeded`, `Failed`). */
  readonly active: boolean;
  /** Networks with at least one valid IP. */
  readonly networks: readonly PodNetwork[];
  /** Problems found while converting, to log; they did not prevent the record. */
  readonly warnings: readonly string[];
}

/** What the policy needs of a Kube-OVN `Subnet` (cluster-scoped). */
export interface SubnetRecord {
  readonly kind: "Subnet";
  /** The Subnet name. */
  readonly key: string;
  /** `status.conditions` has `Ready=True`. */
  readonly ready: boolean;
  readonly bgp: BgpSetting;
  /** The valid CIDRs of `spec.cidrBlock` (comma-separated for dual-stack), canonical. */
  readonly cidrs: readonly string[];
  readonly warnings: readonly string[];
}

/** The Service types of core/v1 (`spec.type`, default `ClusterIP`). */
export type ServiceType = "ClusterIP" | "NodePort" | "LoadBalancer" | "ExternalName";

/** What the policy needs of a Service. */
export interface ServiceRecord {
  readonly kind: "Service";
  /** `namespace/name`. */
  readonly key: string;
  readonly type: ServiceType;
  readonly bgp: BgpSetting;
  /** Every entry of `spec.clusterIPs` (or `spec.clusterIP`) as a host prefix; empty when headless. */
  readonly clusterIps: readonly string[];
  /** The `ip` of each `status.loadBalancer.ingress` entry as a host prefix. */
  readonly ingressIps: readonly string[];
  readonly warnings: readonly string[];
}

/** What the policy needs of an EndpointSlice: its Service and the nodes hosting its ready endpoints. */
export interface EndpointSliceRecord {
  readonly kind: "EndpointSlice";
  /** `namespace/name`. */
  readonly key: string;
  /** `namespace/<kubernetes.io/service-name label>`, or "" when the slice belongs to no Service. */
  readonly service: string;
  /** Sorted, distinct `nodeName`s of endpoints whose `conditions.ready` is not false. */
  readonly readyNodes: readonly string[];
  readonly warnings: readonly string[];
}

/** What the policy needs of a Kube-OVN `IptablesEIP` (cluster-scoped). */
export interface EipRecord {
  readonly kind: "IptablesEIP";
  /** The EIP name. */
  readonly key: string;
  /** The NAT gateway: label `ovn.kubernetes.io/vpc-nat-gw-name`, else `spec.natGwDp`. */
  readonly gateway: string;
  readonly bgp: BgpSetting;
  /** `status.ready === true`. */
  readonly ready: boolean;
  /** `spec.v4ip` as `/32` and `spec.v6ip` as `/128`, whichever are set and valid. */
  readonly prefixes: readonly string[];
  readonly warnings: readonly string[];
}

/** Any record. */
export type AnyRecord = PodRecord | SubnetRecord | ServiceRecord | EndpointSliceRecord | EipRecord;

/** An object the policy cannot use; `key` is set when the object was identifiable. */
export interface Skip {
  readonly skip: string;
  readonly kind: RecordKind;
  readonly key?: string;
}

/**
 * Returns one shared instance per distinct string. Converters pass node, Subnet and provider names
 * through it, so 100,000 Pods on 100 nodes hold 100 node-name strings, not 100,000.
 */
export type Intern = (text: string) => string;

/** An {@linkcode Intern} backed by a map; drop it to forget its strings. */
export function createIntern(): Intern {
  const seen = new Map<string, string>();
  return (text) => {
    const known = seen.get(text);
    if (known !== undefined) return known;
    seen.set(text, text);
    return text;
  };
}

const identity: Intern = (text) => text;

/** A converter's result. */
export type Converted<R extends AnyRecord> = R | Skip;

/** True when a converter's result is a {@linkcode Skip}. */
export function isSkip<R extends AnyRecord>(value: Converted<R>): value is Skip {
  return "skip" in value;
}

/** Longest annotation value read; Kubernetes allows 256 KiB in total, no IP list needs more than this. */
export const MAX_ANNOTATION_VALUE = 1024;
/** Most IPs taken from one `ip_address` annotation, `clusterIPs` or ingress list. */
export const MAX_IPS_PER_LIST = 16;
/** Most Pod networks (providers) read from one Pod. */
export const MAX_POD_NETWORKS = 32;

const NO_WARNINGS: readonly string[] = Object.freeze([]);
const BGP_ANNOTATION = "ovn.kubernetes.io/bgp";
const IP_ADDRESS_SUFFIX = ".kubernetes.io/ip_address";
const LOGICAL_SWITCH_SUFFIX = ".kubernetes.io/logical_switch";
const SERVICE_NAME_LABEL = "kubernetes.io/service-name";
const GATEWAY_LABEL = "ovn.kubernetes.io/vpc-nat-gw-name";
const SERVICE_TYPES: ReadonlySet<string> = new Set(["ClusterIP", "NodePort", "LoadBalancer", "ExternalName"]);

// ---------------------------------------------------------------------------------------------------
// Addresses and prefixes

/** A parsed address: 4 or 16 bytes in network order. */
type AddressBytes = Uint8Array;

/** Why an address must not be announced as a host route, or undefined when it may. */
function hostAddressProblem(bytes: AddressBytes): string | undefined {
  if (bytes.length === 4) {
    if (bytes[0] === 0) return "is in 0.0.0.0/8";
    if (bytes[0] === 127) return "is a loopback address";
    if (bytes[0] >= 224) return "is multicast, reserved or broadcast";
    return undefined;
  }
  if (bytes.every((b) => b === 0)) return "is the unspecified address";
  if (bytes.slice(0, 15).every((b) => b === 0) && bytes[15] === 1) return "is the loopback address";
  if (bytes[0] === 0xff) return "is multicast";
  if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) {
    return "is an IPv4-mapped IPv6 address";
  }
  return undefined;
}

/**
 * Parses an IP address strictly and returns its canonical host prefix (`/32` or `/128`).
 *
 * Rejects leading zeros in IPv4, zone indexes, IPv4-mapped IPv6, and addresses that must never be
 * announced (unspecified, loopback, multicast).
 *
 * @example
 * ```ts
 * hostPrefix("2001:DB8:0:0::1"); // { prefix: "2001:db8::1/128", family: 6 }
 * hostPrefix("010.0.0.1"); // { error: "\"010.0.0.1\" is not an IP address" }
 * ```
 */
export function hostPrefix(text: string): { prefix: string; family: 4 | 6 } | { error: string } {
  const bytes = parseAddress(text);
  if (bytes === undefined) return { error: `${JSON.stringify(clip(text))} is not an IP address` };
  const problem = hostAddressProblem(bytes);
  if (problem !== undefined) return { error: `${text} ${problem}` };
  return bytes.length === 4
    ? { prefix: flat(addressToString(bytes)!, "/32"), family: 4 }
    : { prefix: flat(addressToString(bytes)!, "/128"), family: 6 };
}

/**
 * Parses a CIDR strictly (`address/length`, host bits zero) and returns its canonical text.
 *
 * A zero length is rejected: a Subnet must never turn into a default route.
 *
 * @example
 * ```ts
 * cidrPrefix("2001:DB8:100:0::/64"); // { prefix: "2001:db8:100::/64", family: 6 }
 * cidrPrefix("198.51.100.1/24"); // { error: "198.51.100.1/24 has host bits set" }
 * ```
 */
export function cidrPrefix(text: string): { prefix: string; family: 4 | 6 } | { error: string } {
  const slash = text.indexOf("/");
  const lengthText = slash < 0 ? "" : text.slice(slash + 1);
  const bytes = slash < 0 ? undefined : parseAddress(text.slice(0, slash));
  if (bytes === undefined || !/^(0|[1-9][0-9]{0,2})$/.test(lengthText)) {
    return { error: `${JSON.stringify(clip(text))} is not a CIDR` };
  }
  const length = Number(lengthText);
  if (length > bytes.length * 8) return { error: `${text} has a length beyond ${bytes.length * 8}` };
  if (length === 0) return { error: `${text} would be a default route` };
  for (let bit = length; bit < bytes.length * 8; bit++) {
    if (bytes[bit >> 3] & (0x80 >> (bit & 7))) return { error: `${text} has host bits set` };
  }
  return { prefix: flat(addressToString(bytes)!, `/${length}`), family: bytes.length === 4 ? 4 : 6 };
}

/**
 * Joins strings into one flat string. Records live long: a flat string is one allocation, where `a + b`
 * leaves a cons string holding its parts, and a substring of parsed text may pin the whole text.
 */
function flat(...parts: string[]): string {
  return parts.join("");
}

function clip(text: string): string {
  return text.length > 64 ? `${text.slice(0, 64)}…` : text;
}

// ---------------------------------------------------------------------------------------------------
// Raw JSON access

type Json = Record<string, unknown>;

function asObject(value: unknown): Json | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? value as Json : undefined;
}

function asString(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

/** Object names and namespaces: non-empty, at most 253 characters, no `/`, spaces or control chars. */
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/;

interface Identity {
  readonly key: string;
  readonly annotations: Json;
  readonly labels: Json;
}

function identify(obj: unknown, kind: RecordKind, namespaced: boolean): Identity | Skip {
  const o = asObject(obj);
  if (o === undefined) return { skip: "not a JSON object", kind };
  if (o.kind !== undefined && o.kind !== kind) {
    return { skip: `kind ${JSON.stringify(clip(String(o.kind)))} is not ${kind}`, kind };
  }
  const meta = asObject(o.metadata);
  const name = asString(meta?.name);
  if (name === undefined || !NAME_RE.test(name)) return { skip: "metadata.name is missing or invalid", kind };
  let key = name;
  if (namespaced) {
    // Objects in files may omit the namespace, as with kubectl apply.
    const ns = meta?.namespace === undefined ? "default" : asString(meta.namespace);
    if (ns === undefined || !NAME_RE.test(ns)) return { skip: "metadata.namespace is invalid", kind };
    key = flat(ns, "/", name);
  }
  const annotations = meta?.annotations === undefined || meta.annotations === null
    ? {}
    : asObject(meta.annotations);
  if (annotations === undefined) return { skip: "metadata.annotations is not a map", kind, key };
  const labels = meta?.labels === undefined || meta.labels === null ? {} : asObject(meta.labels);
  if (labels === undefined) return { skip: "metadata.labels is not a map", kind, key };
  return { key, annotations, labels };
}

function bgpOf(annotations: Json, warnings: string[]): BgpSetting {
  const parsed = parseBgpAnnotation(annotations[BGP_ANNOTATION]);
  if (parsed.warning !== undefined) warnings.push(parsed.warning);
  return parsed.setting;
}

/** Parses a comma-separated or array list of IPs into distinct host prefixes, noting bad entries. */
function hostPrefixes(
  items: readonly unknown[],
  what: string,
  warnings: string[],
  family?: 4 | 6,
): string[] {
  const out: string[] = [];
  if (items.length > MAX_IPS_PER_LIST) {
    warnings.push(`${what} lists ${items.length} IPs; only the first ${MAX_IPS_PER_LIST} are read`);
  }
  for (const item of items.slice(0, MAX_IPS_PER_LIST)) {
    const text = asString(item);
    if (text === undefined) {
      warnings.push(`${what} holds a non-string entry`);
      continue;
    }
    const parsed = hostPrefix(text.trim());
    if ("error" in parsed) {
      warnings.push(`${what}: ${parsed.error}`);
    } else if (family !== undefined && parsed.family !== family) {
      warnings.push(`${what}: ${text} is not IPv${family}`);
    } else if (!out.includes(parsed.prefix)) {
      out.push(parsed.prefix);
    }
  }
  return exact(out);
}

/**
 * A copy without spare capacity: an array grown by push() keeps room for 17 elements, 136 bytes that
 * 100,000 long-lived records would carry for nothing.
 */
function exact<T>(items: T[]): T[] {
  return items.slice();
}

function freeze(warnings: string[]): readonly string[] {
  return warnings.length === 0 ? NO_WARNINGS : exact(warnings);
}

// ---------------------------------------------------------------------------------------------------
// Converters

/**
 * Converts a core/v1 Pod. IPs come from every `<provider>.kubernetes.io/ip_address` annotation with its
 * `<provider>.kubernetes.io/logical_switch` (reference §2.4); host-network Pods are skipped, since their
 * IPs are the node's.
 */
export function podRecord(obj: unknown, intern: Intern = identity): Converted<PodRecord> {
  const id = identify(obj, "Pod", true);
  if ("skip" in id) return id;
  const o = obj as Json;
  const spec = asObject(o.spec) ?? {};
  const status = asObject(o.status) ?? {};
  const meta = asObject(o.metadata) ?? {};
  if (spec.hostNetwork === true) return { skip: "host-network Pod", kind: "Pod", key: id.key };
  const nodeName = spec.nodeName === undefined || spec.nodeName === null ? "" : asString(spec.nodeName);
  if (nodeName === undefined || (nodeName !== "" && !NAME_RE.test(nodeName))) {
    return { skip: "spec.nodeName is invalid", kind: "Pod", key: id.key };
  }
  const warnings: string[] = [];
  const bgp = bgpOf(id.annotations, warnings);
  const phase = status.phase;
  const terminating = meta.deletionTimestamp !== undefined && meta.deletionTimestamp !== null;
  const active = !terminating && phase !== "Succeeded" && phase !== "Failed";
  const networks: PodNetwork[] = [];
  for (const [annotation, value] of Object.entries(id.annotations)) {
    if (!annotation.endsWith(IP_ADDRESS_SUFFIX)) continue;
    const provider = annotation.slice(0, -IP_ADDRESS_SUFFIX.length);
    const text = asString(value);
    if (provider === "" || text === undefined || text === "") continue;
    if (networks.length >= MAX_POD_NETWORKS) {
      warnings.push(`more than ${MAX_POD_NETWORKS} networks; the rest are ignored`);
      break;
    }
    if (text.length > MAX_ANNOTATION_VALUE) {
      warnings.push(`${annotation} is longer than ${MAX_ANNOTATION_VALUE} characters; ignored`);
      continue;
    }
    const subnet = asString(id.annotations[provider + LOGICAL_SWITCH_SUFFIX]) ?? "";
    if (!NAME_RE.test(subnet)) {
      warnings.push(`${provider}${LOGICAL_SWITCH_SUFFIX} is missing or invalid; network ${provider} ignored`);
      continue;
    }
    const prefixes = hostPrefixes(text.split(","), annotation, warnings);
    if (prefixes.length > 0) networks.push({ provider: intern(provider), subnet: intern(subnet), prefixes });
  }
  return {
    kind: "Pod",
    key: id.key,
    nodeName: intern(nodeName),
    bgp,
    active,
    networks: exact(networks),
    warnings: freeze(warnings),
  };
}

/** Converts a `kubeovn.io/v1` Subnet (reference §2.3). */
export function subnetRecord(obj: unknown): Converted<SubnetRecord> {
  const id = identify(obj, "Subnet", false);
  if ("skip" in id) return id;
  const o = obj as Json;
  const warnings: string[] = [];
  const bgp = bgpOf(id.annotations, warnings);
  const conditions = asObject(o.status)?.conditions;
  const ready = Array.isArray(conditions) &&
    conditions.some((c) => asObject(c)?.type === "Ready" && asObject(c)?.status === "True");
  const block = asString(asObject(o.spec)?.cidrBlock) ?? "";
  // Kube-OVN's spec.protocol (IPv4, IPv6, Dual) says which families the CIDRs must be; absent or unknown
  // means no check, as before.
  const protocol = asString(asObject(o.spec)?.protocol);
  const families: readonly number[] | undefined = protocol === "IPv4"
    ? [4]
    : protocol === "IPv6"
    ? [6]
    : protocol === "Dual"
    ? [4, 6]
    : undefined;
  const cidrs: string[] = [];
  if (block.length > MAX_ANNOTATION_VALUE) {
    warnings.push(`spec.cidrBlock is longer than ${MAX_ANNOTATION_VALUE} characters; ignored`);
  } else {
    for (const part of block.split(",").map((p) => p.trim()).filter((p) => p !== "")) {
      const parsed = cidrPrefix(part);
      if ("error" in parsed) warnings.push(`spec.cidrBlock: ${parsed.error}`);
      else if (families && !families.includes(parsed.family)) {
        warnings.push(`spec.cidrBlock: ${part} is not IPv${families[0]} (spec.protocol ${protocol})`);
      } else if (!cidrs.includes(parsed.prefix)) cidrs.push(parsed.prefix);
    }
  }
  return { kind: "Subnet", key: id.key, ready, bgp, cidrs: exact(cidrs), warnings: freeze(warnings) };
}

/** Converts a core/v1 Service. */
export function serviceRecord(obj: unknown): Converted<ServiceRecord> {
  const id = identify(obj, "Service", true);
  if ("skip" in id) return id;
  const o = obj as Json;
  const spec = asObject(o.spec) ?? {};
  const type = spec.type === undefined ? "ClusterIP" : asString(spec.type);
  if (type === undefined || !SERVICE_TYPES.has(type)) {
    return { skip: "spec.type is not a known Service type", kind: "Service", key: id.key };
  }
  const warnings: string[] = [];
  const bgp = bgpOf(id.annotations, warnings);
  let listed: unknown[] = [];
  if (Array.isArray(spec.clusterIPs)) listed = spec.clusterIPs;
  else if (typeof spec.clusterIP === "string" && spec.clusterIP !== "") listed = [spec.clusterIP];
  // A headless Service has clusterIP "None": nothing to announce, and not a warning.
  const clusterIps = hostPrefixes(listed.filter((ip) => ip !== "None"), "spec.clusterIPs", warnings);
  const ingress = asObject(asObject(o.status)?.loadBalancer)?.ingress;
  const ingressTexts = Array.isArray(ingress)
    ? ingress.map((entry) => asObject(entry)?.ip).filter((ip) => ip !== undefined && ip !== "")
    : [];
  const ingressIps = hostPrefixes(ingressTexts, "status.loadBalancer.ingress", warnings);
  return {
    kind: "Service",
    key: id.key,
    type: type as ServiceType,
    bgp,
    clusterIps,
    ingressIps,
    warnings: freeze(warnings),
  };
}

/** Converts a discovery.k8s.io/v1 EndpointSlice. */
export function endpointSliceRecord(obj: unknown, intern: Intern = identity): Converted<EndpointSliceRecord> {
  const id = identify(obj, "EndpointSlice", true);
  if ("skip" in id) return id;
  const o = obj as Json;
  const namespace = id.key.slice(0, id.key.indexOf("/"));
  const serviceName = asString(id.labels[SERVICE_NAME_LABEL]) ?? "";
  const warnings: string[] = [];
  if (serviceName !== "" && !NAME_RE.test(serviceName)) {
    return { skip: `label ${SERVICE_NAME_LABEL} is invalid`, kind: "EndpointSlice", key: id.key };
  }
  const nodes = new Set<string>();
  if (o.endpoints !== undefined && o.endpoints !== null && !Array.isArray(o.endpoints)) {
    return { skip: "endpoints is not a list", kind: "EndpointSlice", key: id.key };
  }
  for (const endpoint of (o.endpoints ?? []) as unknown[]) {
    const e = asObject(endpoint);
    const node = asString(e?.nodeName);
    if (node === undefined || node === "") continue;
    if (!NAME_RE.test(node)) {
      warnings.push("an endpoint has an invalid nodeName");
      continue;
    }
    // discovery.k8s.io/v1 EndpointConditions: "a nil value should be interpreted as true".
    if (asObject(e?.conditions)?.ready === false) continue;
    nodes.add(intern(node));
  }
  return {
    kind: "EndpointSlice",
    key: id.key,
    service: serviceName === "" ? "" : intern(flat(namespace, "/", serviceName)),
    readyNodes: [...nodes].sort(),
    warnings: freeze(warnings),
  };
}

/** Converts a `kubeovn.io/v1` IptablesEIP (reference §2.5). */
export function eipRecord(obj: unknown, intern: Intern = identity): Converted<EipRecord> {
  const id = identify(obj, "IptablesEIP", false);
  if ("skip" in id) return id;
  const o = obj as Json;
  const spec = asObject(o.spec) ?? {};
  const warnings: string[] = [];
  const bgp = bgpOf(id.annotations, warnings);
  const gateway = intern(asString(id.labels[GATEWAY_LABEL]) || asString(spec.natGwDp) || "");
  const ready = asObject(o.status)?.ready === true;
  const prefixes = [
    ...(spec.v4ip ? hostPrefixes([spec.v4ip], "spec.v4ip", warnings, 4) : []),
    ...(spec.v6ip ? hostPrefixes([spec.v6ip], "spec.v6ip", warnings, 6) : []),
  ];
  return { kind: "IptablesEIP", key: id.key, gateway, bgp, ready, prefixes, warnings: freeze(warnings) };
}

/** The converter for each kind. */
export const CONVERTERS: {
  readonly [K in RecordKind]: (obj: unknown, intern?: Intern) => Converted<AnyRecord>;
} = {
  Pod: podRecord,
  Subnet: subnetRecord,
  Service: serviceRecord,
  EndpointSlice: endpointSliceRecord,
  IptablesEIP: eipRecord,
};

/** True for the kinds the policy reads. */
export function isRecordKind(kind: unknown): kind is RecordKind {
  return typeof kind === "string" && Object.hasOwn(CONVERTERS, kind);
}

/** True when two records hold the same values (warnings aside), so an upsert of `b` over `a` is a no-op. */
export function sameRecord(a: AnyRecord, b: AnyRecord): boolean {
  return equalValues(a, b);
}

function equalValues(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((x, i) => equalValues(x, b[i]));
  }
  const ka = Object.keys(a).filter((k) => k !== "warnings");
  const kb = Object.keys(b).filter((k) => k !== "warnings");
  return ka.length === kb.length &&
    ka.every((k) => equalValues((a as Json)[k], (b as Json)[k]));
}
