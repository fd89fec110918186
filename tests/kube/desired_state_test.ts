// The incremental desired state: reference counting, coalescing, and incremental == full recompute.
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import fc from "fast-check";
import { type ChangeTimer, DesiredState } from "../../lib/kube/desired_state.ts";
import { desiredPrefixes, type PolicyConfig } from "../../lib/kube/policy.ts";
import {
  type AnyRecord,
  type BgpSetting,
  type EipRecord,
  type EndpointSliceRecord,
  type PodRecord,
  type RecordKind,
  sameRecord,
  type ServiceRecord,
  type SubnetRecord,
} from "../../lib/kube/records.ts";

const NODE: PolicyConfig = {
  nodeName: "node-1",
  announceClusterIp: true,
  announceLbIp: true,
  natGwMode: false,
  gatewayName: "",
};

/** A timer driven by hand: `fire()` runs what is due. */
class ManualTimer implements ChangeTimer {
  pending = new Map<number, () => void>();
  armed: number[] = [];
  #next = 1;
  set(callback: () => void, ms: number): number {
    const id = this.#next++;
    this.pending.set(id, callback);
    this.armed.push(ms);
    return id;
  }
  clear(id: unknown): void {
    this.pending.delete(id as number);
  }
  fire(): void {
    const due = [...this.pending.values()];
    this.pending.clear();
    for (const f of due) f();
  }
}

function pod(name: string, ips: string[], opts: Partial<PodRecord> & { subnet?: string } = {}): PodRecord {
  return {
    kind: "Pod",
    key: `ns/${name}`,
    nodeName: opts.nodeName ?? "node-1",
    bgp: "bgp" in opts ? opts.bgp : "cluster",
    active: opts.active ?? true,
    networks: ips.length === 0 ? [] : [{ provider: "ovn", subnet: opts.subnet ?? "demo", prefixes: ips }],
    warnings: [],
  };
}

function subnet(name: string, opts: Partial<SubnetRecord> = {}): SubnetRecord {
  return {
    kind: "Subnet",
    key: name,
    ready: opts.ready ?? true,
    bgp: "bgp" in opts ? opts.bgp : undefined,
    cidrs: opts.cidrs ?? ["198.51.100.0/24"],
    warnings: [],
  };
}

function service(name: string, opts: Partial<ServiceRecord> = {}): ServiceRecord {
  return {
    kind: "Service",
    key: `ns/${name}`,
    type: opts.type ?? "ClusterIP",
    bgp: "bgp" in opts ? opts.bgp : "cluster",
    clusterIps: opts.clusterIps ?? ["203.0.113.200/32"],
    ingressIps: opts.ingressIps ?? [],
    warnings: [],
  };
}

function slice(name: string, svc: string, readyNodes: string[]): EndpointSliceRecord {
  return { kind: "EndpointSlice", key: `ns/${name}`, service: svc, readyNodes, warnings: [] };
}

function recorder(state: DesiredState) {
  const calls: [string[], string[]][] = [];
  state.onChange((added, removed) => calls.push([[...added].sort(), [...removed].sort()]));
  return calls;
}

Deno.test("DesiredState keeps a prefix while any object wants it", () => {
  const state = new DesiredState(NODE, { timer: new ManualTimer() });
  state.upsert(subnet("demo"));
  state.upsert(pod("a", ["198.51.100.10/32"]));
  state.upsert(pod("b", ["198.51.100.10/32"]));
  assertEquals(state.snapshot().get("198.51.100.10/32"), [
    { kind: "pod", namespace: "ns", name: "a" },
    { kind: "pod", namespace: "ns", name: "b" },
  ]);
  state.delete("Pod", "ns/a");
  assertEquals(state.snapshot().get("198.51.100.10/32"), [{ kind: "pod", namespace: "ns", name: "b" }]);
  state.delete("Pod", "ns/b");
  assertEquals(state.has("198.51.100.10/32"), false);
  assertEquals(state.counts().claims.pod, 0);
});

Deno.test("DesiredState counts records, claims per source kind and prefixes", () => {
  const state = new DesiredState(NODE, { timer: new ManualTimer() });
  state.upsert(subnet("demo", { bgp: "cluster" }));
  state.upsert(pod("a", ["198.51.100.10/32", "2001:db8:100::10/128"]));
  state.upsert(service("s", { clusterIps: ["198.51.100.10/32"] }));
  state.upsert(slice("s-1", "ns/s", []));
  assertEquals(state.counts(), {
    records: { Pod: 1, Subnet: 1, Service: 1, EndpointSlice: 1, IptablesEIP: 0 },
    claims: { pod: 2, subnet: 1, service: 1, eip: 0 },
    prefixes: 3,
  });
});

Deno.test("DesiredState: a Subnet event recomputes the Pods that reference it", () => {
  const state = new DesiredState(NODE, { timer: new ManualTimer() });
  state.upsert(pod("a", ["198.51.100.10/32"], { bgp: undefined }));
  assertEquals(state.prefixes(), []);
  state.upsert(subnet("demo", { bgp: "cluster" }));
  assertEquals(state.prefixes().sort(), ["198.51.100.0/24", "198.51.100.10/32"]);
  state.upsert(subnet("demo", { bgp: "local" }));
  assertEquals(state.prefixes(), ["198.51.100.10/32"]);
  state.upsert(subnet("demo", { bgp: "local", ready: false }));
  assertEquals(state.prefixes(), []);
  state.upsert(subnet("demo", { bgp: "cluster" }));
  state.delete("Subnet", "demo");
  assertEquals(state.prefixes(), []);
});

Deno.test("DesiredState: a Pod moving to another Subnet follows that Subnet", () => {
  const state = new DesiredState(NODE, { timer: new ManualTimer() });
  state.upsert(subnet("a", { bgp: "cluster", cidrs: [] }));
  state.upsert(subnet("b", { bgp: "off", cidrs: [] }));
  state.upsert(pod("p", ["198.51.100.10/32"], { bgp: undefined, subnet: "a" }));
  assertEquals(state.prefixes(), ["198.51.100.10/32"]);
  state.upsert(pod("p", ["198.51.100.10/32"], { bgp: undefined, subnet: "b" }));
  assertEquals(state.prefixes(), []);
  state.upsert(subnet("a", { bgp: "off", cidrs: [] }));
  state.upsert(subnet("b", { bgp: "cluster", cidrs: [] }));
  assertEquals(state.prefixes(), ["198.51.100.10/32"]);
});

Deno.test("DesiredState: an EndpointSlice event recomputes its Service, before and after a move", () => {
  const state = new DesiredState(NODE, { timer: new ManualTimer() });
  state.upsert(service("s", { bgp: "local", clusterIps: ["203.0.113.1/32"] }));
  state.upsert(service("t", { bgp: "local", clusterIps: ["203.0.113.2/32"] }));
  state.upsert(slice("x", "ns/s", ["node-1"]));
  assertEquals(state.prefixes(), ["203.0.113.1/32"]);
  state.upsert(slice("x", "ns/t", ["node-1"]));
  assertEquals(state.prefixes(), ["203.0.113.2/32"]);
  state.upsert(slice("x", "ns/t", ["node-2"]));
  assertEquals(state.prefixes(), []);
  state.upsert(slice("x", "ns/t", ["node-1", "node-2"]));
  state.delete("EndpointSlice", "ns/x");
  assertEquals(state.prefixes(), []);
});

Deno.test("DesiredState coalesces changes of one window into one callback", () => {
  const timer = new ManualTimer();
  const state = new DesiredState(NODE, { timer });
  const calls = recorder(state);
  state.upsert(subnet("demo", { bgp: "cluster" }));
  state.upsert(pod("a", ["198.51.100.10/32"]));
  state.upsert(pod("b", ["198.51.100.11/32"]));
  assertEquals(calls, []);
  assertEquals(timer.armed, [5]);
  timer.fire();
  assertEquals(calls, [[["198.51.100.0/24", "198.51.100.10/32", "198.51.100.11/32"], []]]);
  state.delete("Pod", "ns/a");
  timer.fire();
  assertEquals(calls[1], [[], ["198.51.100.10/32"]]);
});

Deno.test("DesiredState reports nothing for a prefix added and removed within one window", () => {
  const timer = new ManualTimer();
  const state = new DesiredState(NODE, { timer });
  const calls = recorder(state);
  state.upsert(subnet("demo"));
  state.upsert(pod("a", ["198.51.100.10/32"]));
  state.delete("Pod", "ns/a");
  timer.fire();
  assertEquals(calls, []);
});

Deno.test("DesiredState reports nothing for a prefix that moves from one object to another", () => {
  const timer = new ManualTimer();
  const state = new DesiredState(NODE, { timer });
  state.upsert(subnet("demo"));
  state.upsert(pod("a", ["198.51.100.10/32"]));
  const calls = recorder(state);
  state.upsert(pod("b", ["198.51.100.10/32"]));
  state.delete("Pod", "ns/a");
  timer.fire();
  assertEquals(calls, []);
  assertEquals(state.has("198.51.100.10/32"), true);
});

Deno.test("DesiredState.flush() delivers at once and cancels the timer", () => {
  const timer = new ManualTimer();
  const state = new DesiredState(NODE, { timer, coalesceMs: 2 });
  const calls = recorder(state);
  state.upsert(subnet("demo", { bgp: "cluster" }));
  assertEquals(timer.armed, [2]);
  state.flush();
  assertEquals(calls.length, 1);
  assertEquals(timer.pending.size, 0);
});

Deno.test("DesiredState ignores an upsert of an equal record", () => {
  const timer = new ManualTimer();
  const state = new DesiredState(NODE, { timer });
  state.upsert(subnet("demo", { bgp: "cluster" }));
  const calls = recorder(state);
  state.upsert(subnet("demo", { bgp: "cluster" }));
  assertEquals(timer.pending.size, 0);
  assertEquals(calls, []);
});

Deno.test("DesiredState keeps calling other listeners when one throws", () => {
  const timer = new ManualTimer();
  const errors: unknown[] = [];
  const state = new DesiredState(NODE, { timer, onListenerError: (e) => errors.push(e) });
  state.onChange(() => {
    throw new Error("Listener failed");
  });
  const calls = recorder(state);
  state.upsert(subnet("demo", { bgp: "cluster" }));
  timer.fire();
  assertEquals(calls.length, 1);
  assertEquals(errors.length, 1);
});

Deno.test("DesiredState stops reporting to an unsubscribed listener and drops its pending changes", () => {
  const timer = new ManualTimer();
  const state = new DesiredState(NODE, { timer });
  const calls: unknown[] = [];
  const stop = state.onChange((a, r) => calls.push([a, r]));
  state.upsert(subnet("demo", { bgp: "cluster" }));
  stop();
  assertEquals(timer.pending.size, 0);
  timer.fire();
  assertEquals(calls, []);
});

Deno.test("DesiredState with the default timer delivers within a few milliseconds", async () => {
  const state = new DesiredState(NODE);
  const got = new Promise<[string[], string[]]>((resolve) => state.onChange((a, r) => resolve([a, r])));
  state.upsert(subnet("demo", { bgp: "cluster" }));
  assertEquals(await got, [["198.51.100.0/24"], []]);
  state.close();
});

Deno.test("DesiredState.fullRecompute() returns an empty diff when nothing drifted", () => {
  const state = new DesiredState(NODE, { timer: new ManualTimer() });
  state.upsert(subnet("demo", { bgp: "cluster" }));
  state.upsert(pod("a", ["198.51.100.10/32"]));
  assertEquals(state.fullRecompute(), { added: [], removed: [] });
  assertEquals(state.prefixes().sort(), ["198.51.100.0/24", "198.51.100.10/32"]);
});

Deno.test("DesiredState in NAT-gateway mode announces only its gateway's EIPs", () => {
  const state = new DesiredState({ ...NODE, natGwMode: true, gatewayName: "gw1" }, {
    timer: new ManualTimer(),
  });
  const eip = (name: string, gateway: string): EipRecord => ({
    kind: "IptablesEIP",
    key: name,
    gateway,
    bgp: "cluster",
    ready: true,
    prefixes: ["198.51.100.250/32"],
    warnings: [],
  });
  state.upsert(subnet("demo", { bgp: "cluster" }));
  state.upsert(eip("e1", "gw1"));
  state.upsert(eip("e2", "gw2"));
  assertEquals([...state.snapshot()], [["198.51.100.250/32", [{ kind: "eip", name: "e1" }]]]);
});

Deno.test("DesiredState reads back every Pod it holds as an equal record", () => {
  const state = new DesiredState(NODE, { timer: new ManualTimer() });
  const pods: PodRecord[] = [
    pod("none", []),
    pod("one", ["198.51.100.1/32"], { nodeName: "node-2", bgp: "local", active: false }),
    pod("dual", ["198.51.100.2/32", "2001:db8::2/128"], { bgp: "off" }),
    {
      ...pod("multi", ["198.51.100.3/32"], { bgp: undefined, nodeName: "" }),
      networks: [
        { provider: "ovn", subnet: "demo", prefixes: ["198.51.100.3/32", "2001:db8::3/128"] },
        { provider: "net1.ns.ovn", subnet: "attach", prefixes: ["203.0.113.3/32"] },
        { provider: "net2.ns.ovn", subnet: "attach", prefixes: ["203.0.113.3/32"] },
      ],
    },
  ];
  for (const p of pods) state.upsert(p);
  for (const p of pods) assertEquals(state.get("Pod", p.key), { ...p, warnings: [] });
  assertEquals(state.keys("Pod").sort(), pods.map((p) => p.key).sort());
  assertEquals([...state.records("Pod")].length, 4);
  assertEquals(state.canonicalKey("Pod", "ns/one"), "ns/one");
  assertEquals(state.canonicalKey("Pod", "ns/gone"), undefined);
});

Deno.test("DesiredState reuses the place of a deleted Pod without mixing up records", () => {
  const state = new DesiredState(NODE, { timer: new ManualTimer() });
  state.upsert(subnet("demo"));
  state.upsert(pod("a", ["198.51.100.1/32"]));
  state.upsert(pod("b", ["198.51.100.2/32"], { nodeName: "node-2" }));
  state.delete("Pod", "ns/a");
  assertEquals(state.get("Pod", "ns/a"), undefined);
  state.upsert(pod("c", ["198.51.100.3/32", "2001:db8::3/128"], { bgp: "local" }));
  assertEquals(state.get("Pod", "ns/c"), pod("c", ["198.51.100.3/32", "2001:db8::3/128"], { bgp: "local" }));
  assertEquals(state.get("Pod", "ns/b"), pod("b", ["198.51.100.2/32"], { nodeName: "node-2" }));
  assertEquals(state.prefixes().sort(), ["198.51.100.2/32", "198.51.100.3/32", "2001:db8::3/128"]);
  assertEquals(state.counts().records.Pod, 2);
});

// Property: after any sequence of events, the incremental state equals the policy computed from scratch.

const POOL4 = ["198.51.100.1/32", "198.51.100.2/32", "203.0.113.1/32"];
const POOL6 = ["2001:db8::1/128", "2001:db8::2/128"];
const IPS = fc.subarray([...POOL4, ...POOL6], { maxLength: 3 });
const BGP = fc.constantFrom<BgpSetting>("cluster", "local", "off", undefined);
const NODES = fc.constantFrom("node-1", "node-2", "");
const SUBNETS = fc.constantFrom("s0", "s1", "s2");
const SERVICE_KEYS = fc.constantFrom("ns/v0", "ns/v1", "ns/v2", "");

const podArb: fc.Arbitrary<AnyRecord> = fc.record({
  name: fc.constantFrom("p0", "p1", "p2", "p3", "p4", "p5"),
  nodeName: NODES,
  bgp: BGP,
  active: fc.boolean(),
  networks: fc.array(
    fc.record({ provider: fc.constantFrom("ovn", "n1.ns.ovn"), subnet: SUBNETS, prefixes: IPS }),
    {
      maxLength: 2,
    },
  ),
}).map((p) => ({
  kind: "Pod",
  key: `ns/${p.name}`,
  nodeName: p.nodeName,
  bgp: p.bgp,
  active: p.active,
  networks: p.networks.filter((n) => n.prefixes.length > 0),
  warnings: [],
}));

const subnetArb: fc.Arbitrary<AnyRecord> = fc.record({
  name: SUBNETS,
  ready: fc.boolean(),
  bgp: BGP,
  cidrs: fc.subarray(["198.51.100.0/24", "2001:db8::/64", "203.0.113.0/24"], { maxLength: 2 }),
}).map((s) => ({ kind: "Subnet", key: s.name, ready: s.ready, bgp: s.bgp, cidrs: s.cidrs, warnings: [] }));

const serviceArb: fc.Arbitrary<AnyRecord> = fc.record({
  name: fc.constantFrom("v0", "v1", "v2"),
  type: fc.constantFrom("ClusterIP", "LoadBalancer", "NodePort") as fc.Arbitrary<ServiceRecord["type"]>,
  bgp: BGP,
  clusterIps: IPS,
  ingressIps: IPS,
}).map((s) => ({ kind: "Service", key: `ns/${s.name}`, ...s, warnings: [] }));

const sliceArb: fc.Arbitrary<AnyRecord> = fc.record({
  name: fc.constantFrom("e0", "e1", "e2", "e3"),
  service: SERVICE_KEYS,
  readyNodes: fc.subarray(["node-1", "node-2"]),
}).map((e) => ({
  kind: "EndpointSlice",
  key: `ns/${e.name}`,
  service: e.service,
  readyNodes: e.readyNodes,
  warnings: [],
}));

const eipArb: fc.Arbitrary<AnyRecord> = fc.record({
  name: fc.constantFrom("x0", "x1", "x2"),
  gateway: fc.constantFrom("gw1", "gw2"),
  bgp: BGP,
  ready: fc.boolean(),
  prefixes: IPS,
}).map((e) => ({ kind: "IptablesEIP", key: e.name, ...e, warnings: [] }));

type Event = { type: "upsert"; record: AnyRecord } | { type: "delete"; kind: RecordKind; key: string };

const eventArb: fc.Arbitrary<Event> = fc.oneof(
  fc.oneof(podArb, subnetArb, serviceArb, sliceArb, eipArb).map((record) => ({
    type: "upsert" as const,
    record,
  })),
  fc.oneof(podArb, subnetArb, serviceArb, sliceArb, eipArb).map((r) => ({
    type: "delete" as const,
    kind: r.kind,
    key: r.key,
  })),
);

const configArb: fc.Arbitrary<PolicyConfig> = fc.record({
  nodeName: fc.constantFrom("node-1", "node-2"),
  announceClusterIp: fc.boolean(),
  announceLbIp: fc.boolean(),
  natGwMode: fc.boolean(),
  gatewayName: fc.constantFrom("gw1", ""),
});

function fromScratch(model: Map<string, AnyRecord>, config: PolicyConfig) {
  const all = [...model.values()];
  const of = <K extends RecordKind>(kind: K) =>
    all.filter((r) => r.kind === kind) as Extract<AnyRecord, { kind: K }>[];
  const map = desiredPrefixes({
    pods: of("Pod"),
    subnets: of("Subnet"),
    services: of("Service"),
    endpointSlices: of("EndpointSlice"),
    eips: of("IptablesEIP"),
  }, config);
  return new Map([...map].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

Deno.test("DesiredState equals a from-scratch computation after any sequence of events (property)", () => {
  fc.assert(
    fc.property(configArb, fc.array(eventArb, { maxLength: 60 }), (config, events) => {
      const timer = new ManualTimer();
      const state = new DesiredState(config, { timer });
      const seen = new Set<string>();
      state.onChange((added, removed) => {
        for (const p of added) {
          assert(!seen.has(p), `added twice: ${p}`);
          seen.add(p);
        }
        for (const p of removed) {
          assert(seen.delete(p), `removed but not added: ${p}`);
        }
      });
      const model = new Map<string, AnyRecord>();
      for (const event of events) {
        state.apply(event);
        if (event.type === "upsert") model.set(`${event.record.kind}/${event.record.key}`, event.record);
        else model.delete(`${event.kind}/${event.key}`);
        assertEquals(state.snapshot(), fromScratch(model, config));
        if (events.indexOf(event) % 7 === 0) timer.fire();
      }
      for (const record of model.values()) assert(sameRecord(state.get(record.kind, record.key)!, record));
      const claims = Object.values(state.counts().claims).reduce((a, b) => a + b, 0);
      assertEquals(claims, [...state.snapshot().values()].reduce((n, s) => n + s.length, 0));
      assertEquals(state.fullRecompute(), { added: [], removed: [] });
      timer.fire();
      assertEquals([...seen].sort(), state.prefixes().sort());
    }),
    { numRuns: 300 },
  );
});
