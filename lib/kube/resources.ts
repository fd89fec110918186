/**
 * The Kubernetes resources the speaker reads, and their REST paths.
 *
 * @example
 * ```ts
 * import { collectionPath, SUBNETS } from "./resources.ts";
 * collectionPath(SUBNETS); // "/apis/kubeovn.io/v1/subnets"
 * ```
 *
 * @module
 */

/** One resource type of the API server: where it lives and whether objects belong to a namespace. */
export interface ResourceType {
  /** API group; `""` is the core group. */
  readonly group: string;
  /** API version within the group. */
  readonly version: string;
  /** Plural resource name used in paths and RBAC rules. */
  readonly plural: string;
  /** Object kind. */
  readonly kind: string;
  /** Whether objects are namespaced (keys are then `namespace/name`). */
  readonly namespaced: boolean;
}

/** `core/v1` Pods. */
export const PODS: ResourceType = { group: "", version: "v1", plural: "pods", kind: "Pod", namespaced: true };

/** `core/v1` Services. */
export const SERVICES: ResourceType = {
  group: "",
  version: "v1",
  plural: "services",
  kind: "Service",
  namespaced: true,
};

/** `discovery.k8s.io/v1` EndpointSlices. */
export const ENDPOINT_SLICES: ResourceType = {
  group: "discovery.k8s.io",
  version: "v1",
  plural: "endpointslices",
  kind: "EndpointSlice",
  namespaced: true,
};

/** `kubeovn.io/v1` Subnets (cluster-scoped). */
export const SUBNETS: ResourceType = {
  group: "kubeovn.io",
  version: "v1",
  plural: "subnets",
  kind: "Subnet",
  namespaced: false,
};

/** `kubeovn.io/v1` IptablesEIPs (cluster-scoped). */
export const IPTABLES_EIPS: ResourceType = {
  group: "kubeovn.io",
  version: "v1",
  plural: "iptables-eips",
  kind: "IptablesEIP",
  namespaced: false,
};

/** `kubeovn.io/v1` VpcNatGateways (cluster-scoped). */
export const VPC_NAT_GATEWAYS: ResourceType = {
  group: "kubeovn.io",
  version: "v1",
  plural: "vpc-nat-gateways",
  kind: "VpcNatGateway",
  namespaced: false,
};

/** Every resource the speaker lists and watches; manifests/rbac.yaml grants exactly these. */
export const SPEAKER_RESOURCES: readonly ResourceType[] = [
  PODS,
  SERVICES,
  ENDPOINT_SLICES,
  SUBNETS,
  IPTABLES_EIPS,
  VPC_NAT_GATEWAYS,
];

/**
 * REST path of a collection: all namespaces unless `namespace` is given.
 *
 * @example
 * ```ts
 * collectionPath(PODS, "kube-system"); // "/api/v1/namespaces/kube-system/pods"
 * ```
 */
export function collectionPath(resource: ResourceType, namespace?: string): string {
  const base = resource.group === ""
    ? `/api/${resource.version}`
    : `/apis/${resource.group}/${resource.version}`;
  if (namespace !== undefined && resource.namespaced) {
    return `${base}/namespaces/${encodeURIComponent(namespace)}/${resource.plural}`;
  }
  return `${base}/${resource.plural}`;
}

/**
 * The name kubectl and error messages use: `pods`, `subnets.kubeovn.io`.
 *
 * @example
 * ```ts
 * resourceName(SUBNETS); // "subnets.kubeovn.io"
 * ```
 */
export function resourceName(resource: ResourceType): string {
  return resource.group === "" ? resource.plural : `${resource.plural}.${resource.group}`;
}

/**
 * The key the watch loop stores an object under: `namespace/name`, or `name` for cluster-scoped objects.
 */
export function objectKey(resource: ResourceType, metadata: { name?: string; namespace?: string }): string {
  const name = metadata.name ?? "";
  return resource.namespaced ? `${metadata.namespace ?? ""}/${name}` : name;
}
