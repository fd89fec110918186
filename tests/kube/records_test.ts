// Converters from raw Kubernetes JSON to compact records: strict parsing, skips with reasons, warnings.
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import fc from "fast-check";
import { Address6 } from "ip-address";
import {
  cidrPrefix,
  createIntern,
  eipRecord,
  endpointSliceRecord,
  hostPrefix,
  isSkip,
  MAX_ANNOTATION_VALUE,
  podRecord,
  sameRecord,
  serviceRecord,
  subnetRecord,
} from "../../lib/kube/records.ts";

const READY = { conditions: [{ type: "Ready", status: "True" }] };

function podWith(annotations: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return podRecord({
    metadata: { namespace: "ns", name: "p", annotations },
    spec: { nodeName: "node-1" },
    status: { phase: "Running" },
    ...extra,
  });
}

Deno.test("hostPrefix() gives canonical /32 and RFC 5952 /128 prefixes", () => {
  assertEquals(hostPrefix("203.0.113.5"), { prefix: "203.0.113.5/32", family: 4 });
  assertEquals(hostPrefix("2001:DB8:0:0:0:0:0:1"), { prefix: "2001:db8::1/128", family: 6 });
  assertEquals(hostPrefix("2001:db8:0:0:1:0:0:1"), { prefix: "2001:db8::1:0:0:1/128", family: 6 });
  assertEquals(hostPrefix("2001:0db8::0001"), { prefix: "2001:db8::1/128", family: 6 });
  assertEquals(hostPrefix("2001:db8:1:2:3:4:5:6"), { prefix: "2001:db8:1:2:3:4:5:6/128", family: 6 });
  assertEquals(hostPrefix("2001:db8::1:0:0:0:1"), { prefix: "2001:db8:0:1::1/128", family: 6 });
  assertEquals(hostPrefix("2001:db8:0:1:1:1:1:1"), { prefix: "2001:db8:0:1:1:1:1:1/128", family: 6 });
  assertEquals(hostPrefix("64:ff9b::198.51.100.1"), { prefix: "64:ff9b::c633:6401/128", family: 6 });
});

Deno.test("hostPrefix() formats IPv6 as the ip-address library's RFC 5952 form (property)", () => {
  // Few distinct group values, so that runs of zero groups are common.
  const group = fc.constantFrom(0, 0, 0, 1, 0xdb8, 0xffff, 0x2001);
  fc.assert(
    fc.property(fc.array(group, { minLength: 8, maxLength: 8 }), fc.boolean(), (words, padded) => {
      words[0] = 0x2001; // keep clear of the addresses hostPrefix() refuses
      const text = words.map((w) => (padded ? w.toString(16).padStart(4, "0") : w.toString(16)).toUpperCase())
        .join(":");
      const parsed = hostPrefix(text);
      assert(!("error" in parsed), text);
      assertEquals(parsed.prefix, `${new Address6(text).correctForm()}/128`);
      assertEquals(hostPrefix(parsed.prefix.slice(0, -4)), parsed, "canonical text parses to itself");
    }),
    { numRuns: 500 },
  );
});

Deno.test("hostPrefix() rejects malformed addresses", () => {
  for (
    const bad of [
      "",
      "1.2.3",
      "1.2.3.4.5",
      "010.0.0.1",
      "256.0.0.1",
      "1.2.3.4/32",
      " 1.2.3.4",
      "2001:db8::1::2",
      "2001:db8:::1",
      "fe80::1%eth0",
      "2001:db8:1:2:3:4:5:6:7",
      "12345::1",
      "g::1",
      "::1.2.3",
      "1.2.3.4::1.2.3.4",
      "1.2.3.4::",
      "::1.2.3.4:1",
      ":1",
      "1:",
    ]
  ) {
    assert("error" in hostPrefix(bad), bad);
  }
});

Deno.test("hostPrefix() rejects addresses that must never be host routes", () => {
  for (
    const bad of [
      "0.0.0.0",
      "127.0.0.1",
      "224.0.0.1",
      "255.255.255.255",
      "::",
      "::1",
      "ff02::1",
      "::ffff:1.2.3.4",
    ]
  ) {
    assert("error" in hostPrefix(bad), bad);
  }
});

Deno.test("cidrPrefix() canonicalises CIDRs and rejects host bits, bad lengths and /0", () => {
  assertEquals(cidrPrefix("2001:DB8:100:0::/64"), { prefix: "2001:db8:100::/64", family: 6 });
  assertEquals(cidrPrefix("198.51.100.0/24"), { prefix: "198.51.100.0/24", family: 4 });
  for (
    const bad of [
      "198.51.100.1/24",
      "198.51.100.0/33",
      "198.51.100.0/024",
      "198.51.100.0",
      "0.0.0.0/0",
      "::/0",
      "a/8",
    ]
  ) {
    assert("error" in cidrPrefix(bad), bad);
  }
});

Deno.test("podRecord() keeps only what the policy needs", () => {
  assertEquals(
    podWith({
      "ovn.kubernetes.io/bgp": "cluster",
      "ovn.kubernetes.io/ip_address": "198.51.100.10,2001:DB8:100::0a",
      "ovn.kubernetes.io/logical_switch": "demo",
      "kubectl.kubernetes.io/last-applied-configuration": "{}",
    }),
    {
      kind: "Pod",
      key: "ns/p",
      nodeName: "node-1",
      bgp: "cluster",
      active: true,
      networks: [{ provider: "ovn", subnet: "demo", prefixes: ["198.51.100.10/32", "2001:db8:100::a/128"] }],
      warnings: [],
    },
  );
});

Deno.test("podRecord() reads attachment-network providers", () => {
  const r = podWith({
    "attach.ns.ovn.kubernetes.io/ip_address": "203.0.113.20",
    "attach.ns.ovn.kubernetes.io/logical_switch": "attach",
  });
  assert(!isSkip(r));
  assertEquals(r.networks, [{ provider: "attach.ns.ovn", subnet: "attach", prefixes: ["203.0.113.20/32"] }]);
});

Deno.test("podRecord() marks terminating and finished Pods inactive", () => {
  const terminating = podRecord({
    metadata: { namespace: "ns", name: "p", deletionTimestamp: "2026-01-01T00:00:00Z" },
  });
  assert(!isSkip(terminating) && !terminating.active);
  for (const phase of ["Succeeded", "Failed"]) {
    const r = podRecord({ metadata: { namespace: "ns", name: "p" }, status: { phase } });
    assert(!isSkip(r) && !r.active, phase);
  }
  const running = podRecord({ metadata: { namespace: "ns", name: "p" }, status: { phase: "Pending" } });
  assert(!isSkip(running) && running.active);
});

Deno.test("podRecord() defaults a missing namespace to default, as kubectl does", () => {
  const r = podRecord({ metadata: { name: "p" } });
  assert(!isSkip(r));
  assertEquals(r.key, "default/p");
});

Deno.test("podRecord() skips objects without a usable identity, with a reason", () => {
  for (
    const bad of [
      null,
      42,
      [],
      {},
      { metadata: {} },
      { metadata: { name: "" } },
      { metadata: { name: "a/b" } },
      { metadata: { name: "p", namespace: 7 } },
      { kind: "Service", metadata: { name: "p" } },
    ]
  ) {
    const r = podRecord(bad);
    assert(isSkip(r), JSON.stringify(bad));
    assertEquals(typeof r.skip, "string");
    assertEquals(r.kind, "Pod");
  }
});

Deno.test("podRecord() skips identifiable bad Pods with their key, so callers can delete them", () => {
  const r = podRecord({ metadata: { namespace: "ns", name: "p", annotations: "x" } });
  assert(isSkip(r));
  assertEquals(r.key, "ns/p");
  const host = podRecord({ metadata: { namespace: "ns", name: "h" }, spec: { hostNetwork: true } });
  assert(isSkip(host));
  assertEquals(host.skip, "host-network Pod");
  assertEquals(host.key, "ns/h");
});

Deno.test("podRecord() skips an invalid nodeName", () => {
  assert(isSkip(podRecord({ metadata: { namespace: "ns", name: "p" }, spec: { nodeName: "bad node" } })));
  assert(isSkip(podRecord({ metadata: { namespace: "ns", name: "p" }, spec: { nodeName: 3 } })));
});

Deno.test("podRecord() drops bad IPs with a warning and keeps the good ones", () => {
  const r = podWith({
    "ovn.kubernetes.io/ip_address": "198.51.100.10,banana,127.0.0.1,",
    "ovn.kubernetes.io/logical_switch": "demo",
  });
  assert(!isSkip(r));
  assertEquals(r.networks[0].prefixes, ["198.51.100.10/32"]);
  assertEquals(r.warnings.length, 3);
});

Deno.test("podRecord() ignores a network without a logical_switch, with a warning", () => {
  const r = podWith({ "ovn.kubernetes.io/ip_address": "198.51.100.10" });
  assert(!isSkip(r));
  assertEquals(r.networks, []);
  assertEquals(r.warnings.length, 1);
});

Deno.test("podRecord() caps the size of IP annotations", () => {
  const huge = Array.from({ length: 200 }, (_, i) => `198.51.100.${i}`).join(",");
  assert(huge.length > MAX_ANNOTATION_VALUE);
  const r = podWith({ "ovn.kubernetes.io/ip_address": huge, "ovn.kubernetes.io/logical_switch": "demo" });
  assert(!isSkip(r));
  assertEquals(r.networks, []);
  assert(r.warnings[0].includes("longer than"));
  const many = Array.from({ length: 40 }, (_, i) => `198.51.100.${i + 1}`).join(",");
  const r2 = podWith({ "ovn.kubernetes.io/ip_address": many, "ovn.kubernetes.io/logical_switch": "demo" });
  assert(!isSkip(r2));
  assertEquals(r2.networks[0].prefixes.length, 16);
});

Deno.test("podRecord() merges duplicate IPs of a network", () => {
  const r = podWith({
    "ovn.kubernetes.io/ip_address": "198.51.100.10,198.51.100.10",
    "ovn.kubernetes.io/logical_switch": "demo",
  });
  assert(!isSkip(r));
  assertEquals(r.networks[0].prefixes, ["198.51.100.10/32"]);
});

Deno.test("podRecord() keeps an unknown bgp value as off, with a reason to log", () => {
  const r = podWith({ "ovn.kubernetes.io/bgp": "on" });
  assert(!isSkip(r));
  assertEquals(r.bgp, "off");
  assertEquals(r.warnings.length, 1);
});

Deno.test("podRecord() warns that an unquoted YAML boolean is not a bgp value", () => {
  const r = podWith({ "ovn.kubernetes.io/bgp": true });
  assert(!isSkip(r));
  assertEquals(r.bgp, "off");
  assert(r.warnings[0].includes("not a string"));
});

Deno.test("podRecord() shares strings through an intern table", () => {
  const intern = createIntern();
  const make = (name: string) =>
    podRecord({
      metadata: {
        namespace: "ns",
        name,
        annotations: {
          "ovn.kubernetes.io/ip_address": "198.51.100.1",
          "ovn.kubernetes.io/logical_switch": "demo",
        },
      },
      spec: { nodeName: ["node", "1"].join("-") },
    }, intern);
  const a = make("a"), b = make("b");
  assert(!isSkip(a) && !isSkip(b));
  assertEquals(a.nodeName, "node-1");
  assertEquals(a.networks[0].subnet, b.networks[0].subnet);
});

Deno.test("subnetRecord() reads readiness, policy and dual-stack CIDRs", () => {
  assertEquals(
    subnetRecord({
      metadata: { name: "demo", annotations: { "ovn.kubernetes.io/bgp": "true" } },
      spec: { cidrBlock: "198.51.100.0/24, 2001:db8:100:0::/64" },
      status: READY,
    }),
    {
      kind: "Subnet",
      key: "demo",
      ready: true,
      bgp: "cluster",
      cidrs: ["198.51.100.0/24", "2001:db8:100::/64"],
      warnings: [],
    },
  );
});

Deno.test("subnetRecord() is not ready without a Ready=True condition", () => {
  for (
    const status of [{}, { conditions: [] }, { conditions: [{ type: "Ready", status: "False" }] }, {
      conditions: [{ type: "Validated", status: "True" }],
    }]
  ) {
    const r = subnetRecord({ metadata: { name: "s" }, spec: { cidrBlock: "198.51.100.0/24" }, status });
    assert(!isSkip(r) && !r.ready);
  }
});

Deno.test("subnetRecord() skips unparsable CIDRs with a warning and keeps the rest", () => {
  const r = subnetRecord({
    metadata: { name: "s" },
    spec: { cidrBlock: "198.51.100.1/24,2001:db8:100::/64" },
  });
  assert(!isSkip(r));
  assertEquals(r.cidrs, ["2001:db8:100::/64"]);
  assert(r.warnings[0].includes("host bits"));
});

Deno.test("subnetRecord() skips a nameless Subnet", () => {
  assert(isSkip(subnetRecord({ spec: { cidrBlock: "198.51.100.0/24" } })));
});

Deno.test("serviceRecord() reads type, clusterIPs and ingress IPs", () => {
  assertEquals(
    serviceRecord({
      metadata: { namespace: "ns", name: "s", annotations: { "ovn.kubernetes.io/bgp": "local" } },
      spec: { type: "LoadBalancer", clusterIP: "203.0.113.1", clusterIPs: ["203.0.113.1", "2001:db8::1"] },
      status: { loadBalancer: { ingress: [{ ip: "203.0.113.250" }, { hostname: "lb.example" }] } },
    }),
    {
      kind: "Service",
      key: "ns/s",
      type: "LoadBalancer",
      bgp: "local",
      clusterIps: ["203.0.113.1/32", "2001:db8::1/128"],
      ingressIps: ["203.0.113.250/32"],
      warnings: [],
    },
  );
});

Deno.test("serviceRecord() defaults to ClusterIP and falls back to spec.clusterIP", () => {
  const r = serviceRecord({ metadata: { namespace: "ns", name: "s" }, spec: { clusterIP: "203.0.113.1" } });
  assert(!isSkip(r));
  assertEquals([r.type, r.clusterIps], ["ClusterIP", ["203.0.113.1/32"]]);
});

Deno.test("serviceRecord() treats a headless Service as having no ClusterIP, without a warning", () => {
  const r = serviceRecord({
    metadata: { namespace: "ns", name: "s" },
    spec: { clusterIP: "None", clusterIPs: ["None"] },
  });
  assert(!isSkip(r));
  assertEquals([r.clusterIps, r.warnings], [[], []]);
});

Deno.test("serviceRecord() skips an unknown Service type", () => {
  const r = serviceRecord({ metadata: { namespace: "ns", name: "s" }, spec: { type: "Fancy" } });
  assert(isSkip(r));
  assertEquals(r.key, "ns/s");
});

Deno.test("serviceRecord() drops invalid ClusterIPs with a warning", () => {
  const r = serviceRecord({
    metadata: { namespace: "ns", name: "s" },
    spec: { clusterIPs: ["203.0.113.1", "x", 5] },
  });
  assert(!isSkip(r));
  assertEquals([r.clusterIps, r.warnings.length], [["203.0.113.1/32"], 2]);
});

Deno.test("endpointSliceRecord() lists the nodes of ready endpoints for its Service", () => {
  assertEquals(
    endpointSliceRecord({
      metadata: { namespace: "ns", name: "s-abc", labels: { "kubernetes.io/service-name": "s" } },
      endpoints: [
        { addresses: ["203.0.113.1"], nodeName: "node-2", conditions: { ready: true } },
        { addresses: ["203.0.113.2"], nodeName: "node-1" },
        { addresses: ["203.0.113.3"], nodeName: "node-3", conditions: { ready: false } },
        { addresses: ["203.0.113.4"], nodeName: "node-2", conditions: { ready: true } },
        { addresses: ["203.0.113.5"] },
      ],
    }),
    {
      kind: "EndpointSlice",
      key: "ns/s-abc",
      service: "ns/s",
      readyNodes: ["node-1", "node-2"],
      warnings: [],
    },
  );
});

Deno.test("endpointSliceRecord() accepts a slice of no Service and skips malformed endpoints", () => {
  const r = endpointSliceRecord({ metadata: { namespace: "ns", name: "x" }, endpoints: null });
  assert(!isSkip(r));
  assertEquals([r.service, r.readyNodes], ["", []]);
  assert(isSkip(endpointSliceRecord({ metadata: { namespace: "ns", name: "x" }, endpoints: {} })));
});

Deno.test("eipRecord() reads gateway, readiness and both addresses", () => {
  assertEquals(
    eipRecord({
      metadata: { name: "e", labels: { "ovn.kubernetes.io/vpc-nat-gw-name": "gw1" } },
      spec: { v4ip: "198.51.100.250", v6ip: "2001:db8:400::1", natGwDp: "other" },
      status: { ready: true },
    }),
    {
      kind: "IptablesEIP",
      key: "e",
      gateway: "gw1",
      bgp: undefined,
      ready: true,
      prefixes: ["198.51.100.250/32", "2001:db8:400::1/128"],
      warnings: [],
    },
  );
});

Deno.test("eipRecord() rejects an address of the wrong family", () => {
  const r = eipRecord({ metadata: { name: "e" }, spec: { v4ip: "2001:db8::1", v6ip: "198.51.100.1" } });
  assert(!isSkip(r));
  assertEquals([r.prefixes, r.warnings.length], [[], 2]);
});

Deno.test("eipRecord() is not ready unless status.ready is exactly true", () => {
  const r = eipRecord({ metadata: { name: "e" }, status: { ready: "true" } });
  assert(!isSkip(r) && !r.ready);
});

Deno.test("sameRecord() compares values and ignores warnings", () => {
  const a = subnetRecord({ metadata: { name: "s", annotations: { "ovn.kubernetes.io/bgp": "on" } } });
  const b = subnetRecord({ metadata: { name: "s", annotations: { "ovn.kubernetes.io/bgp": "off-ish" } } });
  const c = subnetRecord({ metadata: { name: "s" }, status: READY });
  assert(!isSkip(a) && !isSkip(b) && !isSkip(c));
  assert(sameRecord(a, b));
  assert(!sameRecord(a, c));
});

Deno.test("subnetRecord() ignores a CIDR whose family disagrees with spec.protocol, with a warning", () => {
  const record = subnetRecord({
    metadata: { name: "v4", annotations: { "ovn.kubernetes.io/bgp": "cluster" } },
    spec: { protocol: "IPv4", cidrBlock: "198.51.100.0/24,2001:db8:77::/64" },
    status: READY,
  });
  assert(!isSkip(record));
  assertEquals(record.cidrs, ["198.51.100.0/24"]);
  assertEquals(record.warnings, ["spec.cidrBlock: 2001:db8:77::/64 is not IPv4 (spec.protocol IPv4)"]);
  const dual = subnetRecord({
    metadata: { name: "dual" },
    spec: { protocol: "Dual", cidrBlock: "198.51.100.0/24,2001:db8:77::/64" },
    status: READY,
  });
  assert(!isSkip(dual));
  assertEquals(dual.cidrs, ["198.51.100.0/24", "2001:db8:77::/64"]);
});
