// The announcement policy against every row of kube-ovn-speaker.md §2 and the upstream defects it fixes.
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import {
  desiredPrefixes,
  parseBgpAnnotation,
  podPrefixes,
  type PolicyConfig,
  servicePrefixes,
  subnetKnown,
  subnetPrefixes,
} from "../../lib/kube/policy.ts";
import {
  type AnyRecord,
  type Converted,
  type EipRecord,
  eipRecord,
  type EndpointSliceRecord,
  endpointSliceRecord,
  type PodRecord,
  podRecord,
  type ServiceRecord,
  serviceRecord,
  type SubnetRecord,
  subnetRecord,
} from "../../lib/kube/records.ts";

const NODE: PolicyConfig = {
  nodeName: "node-1",
  announceClusterIp: true,
  announceLbIp: false,
  natGwMode: false,
  gatewayName: "",
};
const GATEWAY: PolicyConfig = { ...NODE, nodeName: "", natGwMode: true, gatewayName: "gw1" };

function ok<R extends AnyRecord>(value: Converted<R>): R {
  if ("skip" in value) throw new Error(`Unexpected skip: ${value.skip}`);
  return value;
}

function subnet(
  name: string,
  opts: { bgp?: string; ready?: boolean; cidr?: string; annotations?: object } = {},
) {
  const annotations: Record<string, string> = { ...(opts.annotations ?? {}) };
  if (opts.bgp !== undefined) annotations["ovn.kubernetes.io/bgp"] = opts.bgp;
  return ok(subnetRecord({
    metadata: { name, annotations },
    spec: { cidrBlock: opts.cidr ?? "198.51.100.0/24" },
    status: { conditions: [{ type: "Ready", status: opts.ready === false ? "False" : "True" }] },
  }));
}

interface PodOpts {
  bgp?: string;
  node?: string;
  phase?: string;
  subnet?: string;
  ip?: string;
  extra?: Record<string, string>;
  deleting?: boolean;
  reason?: string;
  restartPolicy?: string;
}

function pod(name: string, opts: PodOpts = {}) {
  const annotations: Record<string, string> = {
    "ovn.kubernetes.io/ip_address": opts.ip ?? "198.51.100.10",
    "ovn.kubernetes.io/logical_switch": opts.subnet ?? "demo",
    ...(opts.extra ?? {}),
  };
  if (opts.bgp !== undefined) annotations["ovn.kubernetes.io/bgp"] = opts.bgp;
  return ok(podRecord({
    metadata: {
      namespace: "ns",
      name,
      annotations,
      ...(opts.deleting ? { deletionTimestamp: "2026-01-01T00:00:00Z" } : {}),
    },
    spec: { nodeName: opts.node ?? "node-1", restartPolicy: opts.restartPolicy ?? "Always" },
    status: { phase: opts.phase ?? "Running", ...(opts.reason ? { reason: opts.reason } : {}) },
  }));
}

function service(
  name: string,
  opts: { bgp?: string; type?: string; ips?: string[]; ingress?: string[] } = {},
) {
  return ok(serviceRecord({
    metadata: {
      namespace: "ns",
      name,
      annotations: opts.bgp === undefined ? {} : { "ovn.kubernetes.io/bgp": opts.bgp },
    },
    spec: {
      type: opts.type ?? "ClusterIP",
      clusterIP: (opts.ips ?? ["203.0.113.200"])[0],
      clusterIPs: opts.ips ?? ["203.0.113.200"],
    },
    status: { loadBalancer: { ingress: (opts.ingress ?? []).map((ip) => ({ ip })) } },
  }));
}

function slice(name: string, svc: string, endpoints: { node: string; ready?: boolean }[]) {
  return ok(endpointSliceRecord({
    metadata: { namespace: "ns", name, labels: { "kubernetes.io/service-name": svc } },
    addressType: "IPv4",
    endpoints: endpoints.map((e) => ({
      addresses: ["203.0.113.1"],
      nodeName: e.node,
      ...(e.ready === undefined ? {} : { conditions: { ready: e.ready } }),
    })),
  }));
}

function eip(
  name: string,
  opts: { bgp?: string; gateway?: string; ready?: boolean; v4?: string; v6?: string } = {},
) {
  return ok(eipRecord({
    metadata: {
      name,
      labels: { "ovn.kubernetes.io/vpc-nat-gw-name": opts.gateway ?? "gw1" },
      annotations: opts.bgp === undefined ? {} : { "ovn.kubernetes.io/bgp": opts.bgp },
    },
    spec: { v4ip: opts.v4 ?? "198.51.100.250", v6ip: opts.v6 ?? "" },
    status: { ready: opts.ready ?? true },
  }));
}

interface World {
  pods?: PodRecord[];
  subnets?: SubnetRecord[];
  services?: ServiceRecord[];
  slices?: EndpointSliceRecord[];
  eips?: EipRecord[];
}

/** The desired prefixes, sorted, for a set of records. */
function announced(world: World, config: PolicyConfig = NODE): string[] {
  return [
    ...desiredPrefixes({
      pods: world.pods ?? [],
      subnets: world.subnets ?? [],
      services: world.services ?? [],
      endpointSlices: world.slices ?? [],
      eips: world.eips ?? [],
    }, config).keys(),
  ].sort();
}

function podOnly(p: PodRecord, s: SubnetRecord | undefined, config: PolicyConfig = NODE): readonly string[] {
  return podPrefixes(p, (name) => (s?.key === name ? s : undefined), config);
}

// §2.1 Policy values

Deno.test("parseBgpAnnotation() reads true, yes and cluster as Cluster", () => {
  for (const v of ["true", "yes", "cluster"]) assertEquals(parseBgpAnnotation(v), { setting: "cluster" });
});

Deno.test("parseBgpAnnotation() reads local as Local", () => {
  assertEquals(parseBgpAnnotation("local"), { setting: "local" });
});

Deno.test("parseBgpAnnotation() reads an absent or empty value as no setting of its own", () => {
  assertEquals(parseBgpAnnotation(undefined), { setting: undefined });
  assertEquals(parseBgpAnnotation(""), { setting: undefined });
});

Deno.test("parseBgpAnnotation() reads false and no as off, without a warning", () => {
  assertEquals(parseBgpAnnotation("false"), { setting: "off" });
  assertEquals(parseBgpAnnotation("no"), { setting: "off" });
});

Deno.test("parseBgpAnnotation() reads any other value as off, with a warning", () => {
  for (const v of ["on", "True", "CLUSTER", " local", "1"]) {
    const parsed = parseBgpAnnotation(v);
    assertEquals(parsed.setting, "off");
    assertEquals(typeof parsed.warning, "string");
  }
});

Deno.test("parseBgpAnnotation() does not echo a huge value in its warning", () => {
  const parsed = parseBgpAnnotation("x".repeat(10_000));
  assertEquals(parsed.setting, "off");
  assertEquals(parsed.warning!.length < 200, true);
});

Deno.test("policy: a Pod's own false suppresses its host route in a cluster Subnet, the CIDR stays", () => {
  const s = subnet("demo", { bgp: "cluster" });
  assertEquals(announced({ subnets: [s], pods: [pod("a", { bgp: "false" })] }), ["198.51.100.0/24"]);
});

Deno.test("policy: a Pod with an unknown value is not announced even in a cluster Subnet", () => {
  const s = subnet("demo", { bgp: "cluster" });
  assertEquals(podOnly(pod("a", { bgp: "on" }), s), []);
});

Deno.test("policy: a Subnet with an unknown value announces nothing and its record carries a warning", () => {
  const s = subnet("demo", { bgp: "on" });
  assertEquals(s.warnings.length, 1);
  assertEquals(announced({ subnets: [s], pods: [pod("a")] }), []);
});

Deno.test("policy: yes and cluster work on Services and EIPs too (one rule for every kind)", () => {
  for (const v of ["true", "yes", "cluster"]) {
    assertEquals(announced({ services: [service("s", { bgp: v })] }), ["203.0.113.200/32"]);
    assertEquals(announced({ eips: [eip("e", { bgp: v })] }, GATEWAY), ["198.51.100.250/32"]);
  }
});

// §2.2 Services

Deno.test("policy: an annotated ClusterIP Service is announced with announceClusterIp", () => {
  assertEquals(announced({ services: [service("s", { bgp: "true" })] }), ["203.0.113.200/32"]);
});

Deno.test("policy: ClusterIPs are not announced without announceClusterIp", () => {
  assertEquals(
    announced({ services: [service("s", { bgp: "true" })] }, { ...NODE, announceClusterIp: false }),
    [],
  );
});

Deno.test("policy: an unannotated Service is not announced", () => {
  assertEquals(announced({ services: [service("s")] }), []);
});

Deno.test("policy: every spec.clusterIPs entry of a dual-stack Service is announced", () => {
  const s = service("s", { bgp: "true", ips: ["203.0.113.200", "2001:db8:300::a"] });
  assertEquals(announced({ services: [s] }), ["2001:db8:300::a/128", "203.0.113.200/32"]);
});

Deno.test("policy: a headless Service (clusterIP None) is not announced", () => {
  assertEquals(announced({ services: [service("s", { bgp: "true", ips: ["None"] })] }), []);
});

Deno.test("policy: NodePort and LoadBalancer Services do not announce their ClusterIPs", () => {
  for (const type of ["NodePort", "LoadBalancer"]) {
    assertEquals(announced({ services: [service("s", { bgp: "true", type })] }), []);
  }
});

Deno.test("policy: a cluster Service is announced by every speaker, whatever the node", () => {
  const s = service("s", { bgp: "cluster" });
  assertEquals(announced({ services: [s] }, { ...NODE, nodeName: "elsewhere" }), ["203.0.113.200/32"]);
});

Deno.test("policy: LoadBalancer ingress IPs are announced only with announceLbIp", () => {
  const s = service("lb", {
    bgp: "true",
    type: "LoadBalancer",
    ingress: ["203.0.113.250", "2001:db8:300::b"],
  });
  assertEquals(announced({ services: [s] }), []);
  assertEquals(announced({ services: [s] }, { ...NODE, announceLbIp: true }), [
    "2001:db8:300::b/128",
    "203.0.113.250/32",
  ]);
});

Deno.test("policy: announceLbIp ignores ingress IPs of unannotated LoadBalancer Services", () => {
  const s = service("lb", { type: "LoadBalancer", ingress: ["203.0.113.250"] });
  assertEquals(announced({ services: [s] }, { ...NODE, announceLbIp: true }), []);
});

Deno.test("policy: a local Service is announced on a node hosting a ready endpoint", () => {
  const s = service("s", { bgp: "local" });
  assertEquals(announced({ services: [s], slices: [slice("s-1", "s", [{ node: "node-1", ready: true }])] }), [
    "203.0.113.200/32",
  ]);
});

Deno.test("policy: a local Service is not announced when this node's endpoint is not ready", () => {
  const s = service("s", { bgp: "local" });
  const sl = slice("s-1", "s", [{ node: "node-1", ready: false }, { node: "node-2", ready: true }]);
  assertEquals(announced({ services: [s], slices: [sl] }), []);
});

Deno.test("policy: a local Service counts an endpoint without a ready condition as ready", () => {
  const s = service("s", { bgp: "local" });
  assertEquals(announced({ services: [s], slices: [slice("s-1", "s", [{ node: "node-1" }])] }), [
    "203.0.113.200/32",
  ]);
});

Deno.test("policy: a local Service without EndpointSlices is not announced", () => {
  assertEquals(announced({ services: [service("s", { bgp: "local" })] }), []);
});

Deno.test("policy: a local Service ignores the EndpointSlices of other Services", () => {
  const s = service("s", { bgp: "local" });
  assertEquals(announced({ services: [s], slices: [slice("t-1", "t", [{ node: "node-1" }])] }), []);
});

Deno.test("policy: a local Service looks at every slice of the Service", () => {
  const s = service("s", { bgp: "local" });
  const slices = [slice("s-1", "s", [{ node: "node-2" }]), slice("s-2", "s", [{ node: "node-1" }])];
  assertEquals(servicePrefixes(s, slices, NODE), ["203.0.113.200/32"]);
});

Deno.test("policy: a local LoadBalancer Service announces its ingress IP only where an endpoint is ready", () => {
  const s = service("lb", { bgp: "local", type: "LoadBalancer", ingress: ["203.0.113.250"] });
  const config = { ...NODE, announceLbIp: true };
  assertEquals(announced({ services: [s], slices: [slice("l-1", "lb", [{ node: "node-1" }])] }, config), [
    "203.0.113.250/32",
  ]);
  assertEquals(announced({ services: [s], slices: [slice("l-1", "lb", [{ node: "node-2" }])] }, config), []);
});

// §2.3 Subnets

Deno.test("policy: a Ready cluster Subnet announces its CIDR", () => {
  assertEquals(subnetPrefixes(subnet("demo", { bgp: "cluster" }), NODE), ["198.51.100.0/24"]);
  assertEquals(subnetPrefixes(subnet("demo", { bgp: "true" }), NODE), ["198.51.100.0/24"]);
});

Deno.test("policy: a dual-stack Subnet announces both CIDRs", () => {
  const s = subnet("demo", { bgp: "cluster", cidr: "198.51.100.0/24,2001:db8:100::/64" });
  assertEquals(subnetPrefixes(s, NODE), ["198.51.100.0/24", "2001:db8:100::/64"]);
});

Deno.test("policy: a cluster Subnet that is not Ready announces nothing, nor do its Pods", () => {
  const s = subnet("demo", { bgp: "cluster", ready: false });
  assertEquals(announced({ subnets: [s], pods: [pod("a")] }), []);
});

Deno.test("policy: a cluster Subnet announces its CIDR and each of its Pods as host routes", () => {
  const s = subnet("demo", { bgp: "cluster" });
  assertEquals(announced({ subnets: [s], pods: [pod("a", { node: "node-9" })] }), [
    "198.51.100.0/24",
    "198.51.100.10/32",
  ]);
});

Deno.test("policy: a local Subnet never announces its CIDR", () => {
  assertEquals(subnetPrefixes(subnet("demo", { bgp: "local" }), NODE), []);
});

Deno.test("policy: a local Subnet's Pods are announced only by the speaker on their node", () => {
  const s = subnet("demo", { bgp: "local" });
  assertEquals(podOnly(pod("a", { node: "node-1" }), s), ["198.51.100.10/32"]);
  assertEquals(podOnly(pod("b", { node: "node-2" }), s), []);
});

Deno.test("policy: an unannotated Subnet announces nothing itself", () => {
  assertEquals(subnetPrefixes(subnet("demo"), NODE), []);
});

Deno.test("policy: Subnets are not announced in NAT-gateway mode", () => {
  assertEquals(subnetPrefixes(subnet("demo", { bgp: "cluster" }), GATEWAY), []);
});

// §2.4 Pods, and the upstream defects

Deno.test("policy (fixed defect): a Pod annotated in a Subnet without any annotation is announced", () => {
  const s = subnet("plain");
  assertEquals(podOnly(pod("a", { bgp: "true", subnet: "plain", node: "node-2" }), s), ["198.51.100.10/32"]);
  assertEquals(podOnly(pod("b", { bgp: "local", subnet: "plain" }), s), ["198.51.100.10/32"]);
});

Deno.test("policy: a known Subnet is one the speaker holds and that is Ready; annotations do not matter", () => {
  assertEquals(subnetKnown(subnet("plain")), true);
  assertEquals(subnetKnown(subnet("plain", { ready: false })), false);
  assertEquals(subnetKnown(undefined), false);
});

Deno.test("policy: an unannotated Pod in an unannotated Subnet is not announced", () => {
  assertEquals(podOnly(pod("a", { subnet: "plain" }), subnet("plain")), []);
});

Deno.test("policy: a Pod whose logical_switch names an unknown Subnet is not announced", () => {
  assertEquals(podOnly(pod("a", { bgp: "true", subnet: "gone" }), subnet("demo", { bgp: "cluster" })), []);
});

Deno.test("policy: a Pod in a Subnet that is not Ready is not announced, even with its own policy", () => {
  assertEquals(podOnly(pod("a", { bgp: "true" }), subnet("demo", { ready: false })), []);
});

Deno.test("policy: a Pod inherits its Subnet's policy when it has none", () => {
  assertEquals(podOnly(pod("a", { node: "node-2" }), subnet("demo", { bgp: "cluster" })), [
    "198.51.100.10/32",
  ]);
  assertEquals(podOnly(pod("b", { node: "node-2" }), subnet("demo", { bgp: "local" })), []);
});

Deno.test("policy: a Pod's own value wins over its Subnet's", () => {
  assertEquals(podOnly(pod("a", { bgp: "local", node: "node-2" }), subnet("demo", { bgp: "cluster" })), []);
  assertEquals(podOnly(pod("b", { bgp: "cluster", node: "node-2" }), subnet("demo", { bgp: "local" })), [
    "198.51.100.10/32",
  ]);
});

Deno.test("policy: a Pod with no annotations announces nothing", () => {
  const bare = ok(podRecord({ metadata: { namespace: "ns", name: "a" }, spec: { nodeName: "node-1" } }));
  assertEquals(podOnly(bare, subnet("demo", { bgp: "cluster" })), []);
});

Deno.test("policy: a Pod without an IP allocated yet is not announced", () => {
  const p = pod("a", { bgp: "true", extra: { "ovn.kubernetes.io/ip_address": "" } });
  assertEquals(podOnly(p, subnet("demo")), []);
});

Deno.test("policy: a Pod without a logical_switch annotation is not announced", () => {
  const p = pod("a", { bgp: "true", extra: { "ovn.kubernetes.io/logical_switch": "" } });
  assertEquals(podOnly(p, subnet("demo")), []);
});

Deno.test("policy: a Pod's comma-separated dual-stack IPs are each announced as host routes", () => {
  const p = pod("a", { bgp: "true", ip: "198.51.100.10, 2001:db8:100::10" });
  assertEquals(podOnly(p, subnet("demo")), ["198.51.100.10/32", "2001:db8:100::10/128"]);
});

Deno.test("policy: attachment-network IPs are announced through their own provider and Subnet", () => {
  const p = pod("a", {
    bgp: "true",
    extra: {
      "net1.ns.ovn.kubernetes.io/ip_address": "203.0.113.20",
      "net1.ns.ovn.kubernetes.io/logical_switch": "attach",
    },
  });
  const world = { pods: [p], subnets: [subnet("demo"), subnet("attach", { cidr: "203.0.113.0/26" })] };
  assertEquals(announced(world), ["198.51.100.10/32", "203.0.113.20/32"]);
});

Deno.test("policy: a Pod's own value applies to all its networks, each Subnet's only to its own", () => {
  const extra = {
    "net1.ns.ovn.kubernetes.io/ip_address": "203.0.113.20",
    "net1.ns.ovn.kubernetes.io/logical_switch": "attach",
  };
  const subnets = [
    subnet("demo", { bgp: "cluster" }),
    subnet("attach", { bgp: "local", cidr: "203.0.113.0/26" }),
  ];
  assertEquals(announced({ pods: [pod("a", { node: "node-2", extra })], subnets }), [
    "198.51.100.0/24",
    "198.51.100.10/32",
  ]);
  assertEquals(announced({ pods: [pod("a", { node: "node-2", bgp: "cluster", extra })], subnets }), [
    "198.51.100.0/24",
    "198.51.100.10/32",
    "203.0.113.20/32",
  ]);
});

Deno.test("policy: an unscheduled or Pending Pod with an IP is announced under cluster", () => {
  const s = subnet("demo", { bgp: "cluster" });
  assertEquals(podOnly(pod("a", { node: "", phase: "Pending" }), s), ["198.51.100.10/32"]);
});

Deno.test("policy: an unscheduled Pod is not announced under local", () => {
  assertEquals(podOnly(pod("a", { node: "", phase: "Pending" }), subnet("demo", { bgp: "local" })), []);
});

Deno.test("policy: node names are matched exactly", () => {
  assertEquals(podOnly(pod("a", { bgp: "local", node: "Node-1" }), subnet("demo")), []);
  assertEquals(podOnly(pod("a", { bgp: "local", node: "node-10" }), subnet("demo")), []);
});

Deno.test("policy: a local Pod on a node without a speaker is announced by no other speaker", () => {
  const world = { pods: [pod("a", { bgp: "local", node: "no-speaker" })], subnets: [subnet("demo")] };
  assertEquals(announced(world, { ...NODE, nodeName: "node-1" }), []);
  assertEquals(announced(world, { ...NODE, nodeName: "node-2" }), []);
});

Deno.test("policy (fixed defect): a terminating Pod (deletionTimestamp set) is withdrawn", () => {
  assertEquals(podOnly(pod("a", { bgp: "true", deleting: true }), subnet("demo")), []);
});

Deno.test("policy: a Succeeded Pod is withdrawn", () => {
  assertEquals(
    podOnly(pod("a", { bgp: "true", phase: "Succeeded", restartPolicy: "Never" }), subnet("demo")),
    [],
  );
});

Deno.test("policy (fixed defect): a Succeeded Pod is withdrawn even with restartPolicy Always", () => {
  assertEquals(
    podOnly(pod("a", { bgp: "true", phase: "Succeeded", restartPolicy: "Always" }), subnet("demo")),
    [],
  );
});

Deno.test("policy: a Failed Pod with restartPolicy Never, or evicted, is withdrawn", () => {
  assertEquals(
    podOnly(pod("a", { bgp: "true", phase: "Failed", restartPolicy: "Never" }), subnet("demo")),
    [],
  );
  assertEquals(podOnly(pod("b", { bgp: "true", phase: "Failed", reason: "Evicted" }), subnet("demo")), []);
});

Deno.test("policy (fixed defect): a Failed Pod with restartPolicy OnFailure, not evicted, is withdrawn", () => {
  const p = pod("a", { bgp: "true", phase: "Failed", restartPolicy: "OnFailure" });
  assertEquals(podOnly(p, subnet("demo")), []);
});

Deno.test("policy: a Running Pod that is not Ready is still announced (readiness is not checked)", () => {
  assertEquals(podOnly(pod("a", { bgp: "true" }), subnet("demo")), ["198.51.100.10/32"]);
});

Deno.test("policy: Pods are not announced in NAT-gateway mode", () => {
  assertEquals(podOnly(pod("a", { bgp: "true" }), subnet("demo"), GATEWAY), []);
});

// §2.5 EIPs

Deno.test("policy: an annotated, ready EIP of this gateway is announced in NAT-gateway mode", () => {
  assertEquals(announced({ eips: [eip("e", { bgp: "true", v6: "2001:db8:400::1" })] }, GATEWAY), [
    "198.51.100.250/32",
    "2001:db8:400::1/128",
  ]);
});

Deno.test("policy: EIPs of another gateway, unready or unannotated EIPs are not announced", () => {
  assertEquals(announced({ eips: [eip("e", { bgp: "true", gateway: "gw2" })] }, GATEWAY), []);
  assertEquals(announced({ eips: [eip("e", { bgp: "true", ready: false })] }, GATEWAY), []);
  assertEquals(announced({ eips: [eip("e")] }, GATEWAY), []);
});

Deno.test("policy: EIPs are not announced in node mode, nor without a gateway name", () => {
  assertEquals(announced({ eips: [eip("e", { bgp: "true" })] }), []);
  assertEquals(announced({ eips: [eip("e", { bgp: "true" })] }, { ...GATEWAY, gatewayName: "" }), []);
});

Deno.test("policy: a local EIP is announced by its gateway like a cluster one", () => {
  assertEquals(announced({ eips: [eip("e", { bgp: "local" })] }, GATEWAY), ["198.51.100.250/32"]);
});

Deno.test("policy: in NAT-gateway mode only EIPs are announced", () => {
  const world = {
    pods: [pod("a", { bgp: "true" })],
    subnets: [subnet("demo", { bgp: "cluster" })],
    services: [service("s", { bgp: "true" })],
    eips: [eip("e", { bgp: "true" })],
  };
  assertEquals(announced(world, GATEWAY), ["198.51.100.250/32"]);
});

Deno.test("policy: an EIP selected by spec.natGwDp when the gateway label is missing", () => {
  const e = ok(eipRecord({
    metadata: { name: "e", annotations: { "ovn.kubernetes.io/bgp": "true" } },
    spec: { natGwDp: "gw1", v4ip: "198.51.100.251" },
    status: { ready: true },
  }));
  assertEquals(announced({ eips: [e] }, GATEWAY), ["198.51.100.251/32"]);
});

// The desired map

Deno.test("desiredPrefixes() keeps every object that wants a prefix, sorted", () => {
  const world = {
    eips: [eip("b", { bgp: "true" }), eip("a", { bgp: "true" })],
  };
  const desired = desiredPrefixes({
    pods: [],
    subnets: [],
    services: [],
    endpointSlices: [],
    eips: world.eips,
  }, GATEWAY);
  assertEquals(
    desired,
    new Map([["198.51.100.250/32", [{ kind: "eip", name: "a" }, { kind: "eip", name: "b" }]]]),
  );
});

Deno.test("desiredPrefixes() names Pods and Services with their namespace, Subnets without", () => {
  const desired = desiredPrefixes({
    pods: [pod("a", { ip: "203.0.113.200" })],
    subnets: [subnet("demo", { bgp: "cluster" })],
    services: [service("s", { bgp: "true" })],
    endpointSlices: [],
    eips: [],
  }, NODE);
  assertEquals(desired.get("203.0.113.200/32"), [
    { kind: "pod", namespace: "ns", name: "a" },
    { kind: "service", namespace: "ns", name: "s" },
  ]);
  assertEquals(desired.get("198.51.100.0/24"), [{ kind: "subnet", name: "demo" }]);
});
