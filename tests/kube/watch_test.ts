// The list/watch loop against a real kube-apiserver (tools/kube/build-apiserver.sh) and etcd, plus the
// pure backoff arithmetic.
import { assert, assertEquals } from "../assert.ts";
import { KubeClient, type KubeRequester, type KubeRequestInit } from "../../lib/kube/client.ts";
import {
  collectionPath,
  ENDPOINT_SLICES,
  IPTABLES_EIPS,
  objectKey,
  PODS,
  resourceName,
  SUBNETS,
} from "../../lib/kube/resources.ts";
import {
  backoffDelay,
  DEFAULT_BACKOFF,
  type KubeObject,
  parseRetryAfter,
  ResourceWatch,
  type WatchEvent,
} from "../../lib/kube/watch.ts";
import { eventually, type KubeManifest, TestApiServer } from "./apiserver.ts";

interface SubnetRecord {
  cidr: string;
  bgp: string;
}

function subnetRecord(object: KubeObject): SubnetRecord {
  const spec = object.spec as { cidrBlock?: string } | undefined;
  return { cidr: spec?.cidrBlock ?? "", bgp: object.metadata?.annotations?.["ovn.kubernetes.io/bgp"] ?? "" };
}

function subnet(name: string, cidr: string, bgp = "true"): KubeManifest {
  return {
    apiVersion: "kubeovn.io/v1",
    kind: "Subnet",
    metadata: { name, annotations: { "ovn.kubernetes.io/bgp": bgp } },
    spec: { cidrBlock: cidr, protocol: "IPv4" },
  };
}

function list(items: unknown[]): string {
  return JSON.stringify({ apiVersion: "v1", kind: "List", items });
}

/** Events as short strings, for order-sensitive assertions. */
function describe(event: WatchEvent<SubnetRecord>): string {
  if (event.type === "synced") return "synced";
  return `${event.type} ${event.key} ${event.record.cidr} ${event.record.bgp}`;
}

/**
 * A pass-through around the real client that records request paths and can cut the connections: `drop()`
 * aborts every request in flight and holds new ones until `release()`, like a network partition.
 */
class ConnectionGate implements KubeRequester {
  readonly paths: string[] = [];
  readonly #client: KubeRequester;
  readonly #inflight = new Set<AbortController>();
  #held: Promise<void> | undefined;
  #release: (() => void) | undefined;

  constructor(client: KubeRequester) {
    this.#client = client;
  }

  async request(path: string, init: KubeRequestInit = {}): Promise<Response> {
    while (this.#held) await this.#held;
    this.paths.push(path);
    const cut = new AbortController();
    this.#inflight.add(cut);
    const signal = init.signal ? AbortSignal.any([init.signal, cut.signal]) : cut.signal;
    try {
      return await this.#client.request(path, { ...init, signal });
    } catch (error) {
      this.#inflight.delete(cut);
      throw error;
    }
  }

  drop(): void {
    this.#held ??= new Promise((resolve) => this.#release = resolve);
    for (const cut of this.#inflight) cut.abort(new Error("connection cut by the test"));
    this.#inflight.clear();
  }

  release(): void {
    this.#release?.();
    this.#held = undefined;
  }
}

/** Starts a Subnet watch with fast test backoff; the caller stops it and closes the client. */
async function watchSubnets(
  api: TestApiServer,
  options: { pageSize?: number; timeoutSeconds?: number } = {},
) {
  const client = await KubeClient.load({ kubeconfig: api.kubeconfigPath });
  const gate = new ConnectionGate(client);
  const events: string[] = [];
  const errors: string[] = [];
  const watch = new ResourceWatch<SubnetRecord>({
    client: gate,
    resource: SUBNETS,
    convert: subnetRecord,
    onEvent: (event) => events.push(describe(event)),
    onError: (error) => errors.push(error.message),
    backoff: { initialMs: 50, maxMs: 500 },
    pageSize: options.pageSize,
    timeoutSeconds: options.timeoutSeconds,
  });
  watch.start();
  return {
    client,
    gate,
    events,
    errors,
    watch,
    async [Symbol.asyncDispose]() {
      gate.release();
      await watch.stop();
      client.close();
    },
  };
}

/** Creates a marker Subnet and waits for its event, which proves the watch stream is connected. */
async function connected(api: TestApiServer, w: { events: string[] }, name: string): Promise<void> {
  await api.apply(list([subnet(name, "100.64.250.0/24")]));
  await eventually(
    `the event of ${name}`,
    () => w.events.some((e) => e.startsWith(`upsert ${name} `)),
    15_000,
  );
}

function held(watch: ResourceWatch<SubnetRecord>): Record<string, string> {
  return Object.fromEntries([...watch.records].map(([key, r]) => [key, `${r.cidr} ${r.bgp}`]));
}

Deno.test("ResourceWatch lists in pages of pageSize and then holds every object", async () => {
  await using api = await TestApiServer.start();
  const count = 230;
  const items = Array.from({ length: count }, (_, i) => subnet(`page-${i}`, `100.64.${i}.0/24`));
  await api.createObjects(items);

  await using w = await watchSubnets(api, { pageSize: 100 });
  await w.watch.synced;

  const lists = w.gate.paths.filter((p) => !p.includes("watch=1"));
  assertEquals(lists.length, 3, `230 objects in pages of 100 take 3 requests: ${lists.join(" ")}`);
  assert(lists.every((p) => p.includes("limit=100")));
  assertEquals(lists.filter((p) => p.includes("continue=")).length, 2);
  assertEquals(w.watch.records.size, count);
  assertEquals(w.events.length, count + 1);
  assertEquals(w.events.at(-1), "synced", "synced comes after every object of the first list");
  assertEquals(w.watch.stats.lists, 1);
});

Deno.test("ResourceWatch emits create, update and delete in order and ignores changes outside its record", async () => {
  await using api = await TestApiServer.start();
  await using w = await watchSubnets(api);
  await w.watch.synced;

  await api.apply(list([subnet("ordered", "100.64.1.0/24", "true")]));
  await api.kubectl("annotate", "--overwrite", "subnet", "ordered", "ovn.kubernetes.io/bgp=local");
  // A label is not part of the record: the object changes, the record does not, so no event.
  await api.kubectl("label", "subnet", "ordered", "team=blue");
  await api.kubectl("delete", "subnet", "ordered");
  await eventually("the delete event", () => w.events.length >= 4, 15_000, () => w.events);

  assertEquals(w.events, [
    "synced",
    "upsert ordered 100.64.1.0/24 true",
    "upsert ordered 100.64.1.0/24 local",
    "delete ordered 100.64.1.0/24 local",
  ]);
  assertEquals(w.watch.records.size, 0);
  assertEquals(w.errors, []);
});

Deno.test("ResourceWatch watches Pods with the field selector spec.hostNetwork=false", async () => {
  await using api = await TestApiServer.start();
  await api.kubectl("create", "namespace", "apps");
  const pod = (name: string, hostNetwork: boolean) => ({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "apps" },
    spec: { hostNetwork, containers: [{ name: "main", image: "registry.invalid/none:1" }] },
  });
  await api.apply(list([pod("listed-host", true), pod("listed-pod", false)]));

  const client = await KubeClient.load({ kubeconfig: api.kubeconfigPath });
  const keys: string[] = [];
  const watch = new ResourceWatch<string>({
    client,
    resource: PODS,
    fieldSelector: "spec.hostNetwork=false",
    convert: (object) => object.metadata?.name ?? "",
    onEvent: (event) => {
      if (event.type !== "synced") keys.push(`${event.type} ${event.key}`);
    },
  });
  try {
    watch.start();
    await watch.synced;
    await api.apply(list([pod("watched-host", true)]));
    await api.apply(list([pod("watched-pod", false)]));
    await eventually("the watched Pod", () => watch.records.has("apps/watched-pod"), 15_000, () => keys);
    assertEquals(keys, ["upsert apps/listed-pod", "upsert apps/watched-pod"]);
  } finally {
    await watch.stop();
    client.close();
  }
});

Deno.test("ResourceWatch resumes from its resourceVersion after a dropped connection without relisting", async () => {
  await using api = await TestApiServer.start();
  await api.apply(list([subnet("keep", "100.64.1.0/24"), subnet("gone", "100.64.2.0/24")]));
  await using w = await watchSubnets(api);
  await w.watch.synced;
  await connected(api, w, "marker");

  w.gate.drop();
  await api.apply(list([subnet("added", "100.64.3.0/24")]));
  await api.kubectl("delete", "subnet", "gone");
  await api.kubectl("annotate", "--overwrite", "subnet", "keep", "ovn.kubernetes.io/bgp=local");
  w.gate.release();

  await eventually("the changes made while cut off", () => w.events.length >= 7, 15_000, () => w.events);
  assertEquals(w.events.slice(4), [
    "upsert added 100.64.3.0/24 true",
    "delete gone 100.64.2.0/24 true",
    "upsert keep 100.64.1.0/24 local",
  ]);
  assertEquals(held(w.watch), {
    keep: "100.64.1.0/24 local",
    added: "100.64.3.0/24 true",
    marker: "100.64.250.0/24 true",
  });
  assertEquals(w.watch.stats.lists, 1, "resumed by WATCH from the last resourceVersion, not by a LIST");
  assert(w.watch.stats.watches >= 2, `the cut watch was resumed: ${JSON.stringify(w.watch.stats)}`);
  assert(w.errors.some((e) => e.includes("dropped")), `the cut was noticed: ${w.errors}`);
});

Deno.test("ResourceWatch resumes after the API server restarts mid-watch and loses nothing", async () => {
  await using api = await TestApiServer.start();
  await api.apply(list([subnet("before", "100.64.1.0/24")]));
  await using w = await watchSubnets(api);
  await w.watch.synced;
  await api.apply(list([subnet("during", "100.64.2.0/24")]));
  await eventually("the first event", () => w.events.length >= 3, 15_000, () => w.events);

  await api.restart();
  await api.apply(list([subnet("after", "100.64.3.0/24")]));
  await api.kubectl("delete", "subnet", "during");

  await eventually("the changes after the restart", () => w.events.length >= 5, 20_000, () => w.events);
  assertEquals(w.events, [
    "upsert before 100.64.1.0/24 true",
    "synced",
    "upsert during 100.64.2.0/24 true",
    "upsert after 100.64.3.0/24 true",
    "delete during 100.64.2.0/24 true",
  ]);
  assertEquals(held(w.watch), { before: "100.64.1.0/24 true", after: "100.64.3.0/24 true" });
  assertEquals(w.watch.stats.lists, 1, "the restart cost no relist");
  assert(w.errors.length >= 1, "the dropped watch was noticed");
});

Deno.test("ResourceWatch behind a watch cache survives an API server restart with nothing lost or repeated", async () => {
  // With the watch cache (as in production) a restarted server may no longer serve the old resourceVersion;
  // then the loop relists, and the relist diff must yield exactly the changes made meanwhile.
  await using api = await TestApiServer.start({ watchCache: true });
  await api.apply(list([subnet("before", "100.64.1.0/24"), subnet("during", "100.64.2.0/24")]));
  await using w = await watchSubnets(api);
  await w.watch.synced;
  await connected(api, w, "marker");

  await api.restart();
  await api.apply(list([subnet("after", "100.64.3.0/24")]));
  await api.kubectl("delete", "subnet", "during");

  await eventually(
    "the changes after the restart",
    () => w.watch.records.has("after") && !w.watch.records.has("during"),
    20_000,
    () => [w.events, w.errors],
  );
  assertEquals(w.events.slice(4).sort(), [
    "delete during 100.64.2.0/24 true",
    "upsert after 100.64.3.0/24 true",
  ]);
  assertEquals(held(w.watch), {
    before: "100.64.1.0/24 true",
    after: "100.64.3.0/24 true",
    marker: "100.64.250.0/24 true",
  });
});

Deno.test("ResourceWatch relists after 410 Gone from an etcd compaction and emits only the real differences", async () => {
  await using api = await TestApiServer.start();
  await api.apply(list([
    subnet("unchanged", "100.64.1.0/24"),
    subnet("relabelled", "100.64.2.0/24"),
    subnet("reannotated", "100.64.3.0/24"),
    subnet("deleted", "100.64.4.0/24"),
  ]));
  await using w = await watchSubnets(api);
  await w.watch.synced;
  await connected(api, w, "marker");
  const resumeFrom = Number(w.watch.resourceVersion);

  w.gate.drop();
  await api.kubectl("label", "subnet", "relabelled", "team=blue");
  await api.kubectl("annotate", "--overwrite", "subnet", "reannotated", "ovn.kubernetes.io/bgp=local");
  await api.kubectl("delete", "subnet", "deleted");
  await api.apply(list([subnet("created", "100.64.5.0/24")]));
  const compacted = await api.compact();
  assert(compacted > resumeFrom, `compacted at ${compacted}, past the watch's ${resumeFrom}`);
  w.gate.release();

  await eventually("the relist", () => w.watch.stats.lists >= 2, 20_000, () => [w.events, w.errors]);
  const afterRelist = w.events.slice(6);
  assertEquals(afterRelist.sort(), [
    "delete deleted 100.64.4.0/24 true",
    "upsert created 100.64.5.0/24 true",
    "upsert reannotated 100.64.3.0/24 local",
  ]);
  assertEquals(held(w.watch), {
    unchanged: "100.64.1.0/24 true",
    relabelled: "100.64.2.0/24 true",
    reannotated: "100.64.3.0/24 local",
    created: "100.64.5.0/24 true",
    marker: "100.64.250.0/24 true",
  });
  assertEquals(w.watch.stats.expired, 1);

  // The watch goes on from the relist's resourceVersion.
  await api.kubectl("delete", "subnet", "unchanged");
  await eventually("a watch event after the relist", () => !w.watch.records.has("unchanged"), 15_000);
  assertEquals(w.watch.stats.lists, 2);
});

Deno.test("ResourceWatch resumes after the server ends the watch at timeoutSeconds and reads bookmarks", async () => {
  // The watch cache sends a BOOKMARK shortly before it ends a watch at its timeout.
  await using api = await TestApiServer.start({ watchCache: true });
  await using w = await watchSubnets(api, { timeoutSeconds: 3 });
  await w.watch.synced;
  for (let i = 0; i < 4; i++) {
    await api.apply(list([subnet(`tick-${i}`, `100.64.${i}.0/24`)]));
    await new Promise((r) => setTimeout(r, 2500));
  }
  await eventually(
    "two watches ended by the server and a bookmark",
    () => w.watch.stats.resumes >= 2 && w.watch.stats.bookmarks >= 1,
    20_000,
    () => w.watch.stats,
  );
  assertEquals(w.watch.records.size, 4);
  assertEquals(w.watch.stats.lists, 1);
  assertEquals(w.errors, []);
});

Deno.test("backoffDelay() doubles up to the cap with equal jitter", () => {
  const low = () => 0;
  const high = () => 0.999999;
  assertEquals(backoffDelay(0, DEFAULT_BACKOFF, low), 250);
  assertEquals(backoffDelay(0, DEFAULT_BACKOFF, high), 500);
  assertEquals(backoffDelay(3, DEFAULT_BACKOFF, low), 2000);
  assertEquals(backoffDelay(3, DEFAULT_BACKOFF, high), 4000);
  assertEquals(backoffDelay(50, DEFAULT_BACKOFF, low), 15_000);
  assertEquals(backoffDelay(50, DEFAULT_BACKOFF, high), 30_000);
});

Deno.test("backoffDelay() waits at least as long as Retry-After asks, up to five minutes", () => {
  const half = () => 0.5;
  assertEquals(backoffDelay(0, DEFAULT_BACKOFF, half, 7000), 7000);
  assertEquals(backoffDelay(5, DEFAULT_BACKOFF, half, 1000), 12_000);
  assertEquals(backoffDelay(0, DEFAULT_BACKOFF, half, 3_600_000), 300_000);
});

Deno.test("parseRetryAfter() reads seconds and HTTP dates", () => {
  assertEquals(parseRetryAfter("3", 0), 3000);
  assertEquals(parseRetryAfter(null, 0), undefined);
  assertEquals(parseRetryAfter("soon", 0), undefined);
  const now = Date.parse("Sat, 21 Nov 2026 06:00:00 GMT");
  assertEquals(parseRetryAfter("Sat, 21 Nov 2026 06:00:05 GMT", now), 5000);
});

Deno.test("collectionPath(), resourceName() and objectKey() follow the core and named group layouts", () => {
  assertEquals(collectionPath(PODS), "/api/v1/pods");
  assertEquals(collectionPath(PODS, "kube-system"), "/api/v1/namespaces/kube-system/pods");
  assertEquals(collectionPath(ENDPOINT_SLICES, "a"), "/apis/discovery.k8s.io/v1/namespaces/a/endpointslices");
  assertEquals(collectionPath(SUBNETS, "ignored"), "/apis/kubeovn.io/v1/subnets", "cluster-scoped");
  assertEquals(resourceName(PODS), "pods");
  assertEquals(resourceName(IPTABLES_EIPS), "iptables-eips.kubeovn.io");
  assertEquals(objectKey(PODS, { name: "web", namespace: "apps" }), "apps/web");
  assertEquals(objectKey(SUBNETS, { name: "ovn-default" }), "ovn-default");
});
