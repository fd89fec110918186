// The test kube-apiserver itself, the speaker's RBAC (manifests/rbac.yaml) against it, and KubeClient's
// configuration sources.
import { assert, assertEquals, assertMatch, assertRejects } from "../assert.ts";
import { KubeClient, SERVICE_ACCOUNT_DIR } from "../../lib/kube/client.ts";
import { resourceName, type ResourceType, SPEAKER_RESOURCES, SUBNETS } from "../../lib/kube/resources.ts";
import { ForbiddenError, ResourceWatch } from "../../lib/kube/watch.ts";
import { eventually, KUBE_OVN_CRDS, TestApiServer } from "./apiserver.ts";

const SPEAKER_SA = { namespace: "kube-system", name: "kube-ovn-speaker" };

/** One object of each resource the speaker reads. */
function oneOfEach(suffix: string): string {
  const items = [
    {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: `pod-${suffix}`, namespace: "default" },
      spec: { containers: [{ name: "main", image: "registry.invalid/none:1" }] },
    },
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: `svc-${suffix}`, namespace: "default" },
      spec: { ports: [{ port: 80 }] },
    },
    {
      apiVersion: "discovery.k8s.io/v1",
      kind: "EndpointSlice",
      metadata: { name: `slice-${suffix}`, namespace: "default" },
      addressType: "IPv4",
      endpoints: [{ addresses: ["198.51.100.7"], conditions: { ready: true } }],
      ports: [{ port: 80 }],
    },
    {
      apiVersion: "kubeovn.io/v1",
      kind: "Subnet",
      metadata: { name: `subnet-${suffix}` },
      spec: { cidrBlock: "100.64.0.0/24", protocol: "IPv4" },
    },
    {
      apiVersion: "kubeovn.io/v1",
      kind: "IptablesEIP",
      metadata: { name: `eip-${suffix}` },
      spec: { v4ip: "203.0.113.9", natGwDp: "gw1" },
    },
    {
      apiVersion: "kubeovn.io/v1",
      kind: "VpcNatGateway",
      metadata: { name: `gw-${suffix}` },
      spec: { vpc: "vpc1", subnet: "subnet1", lanIp: "100.64.0.254" },
    },
  ];
  return JSON.stringify({ apiVersion: "v1", kind: "List", items });
}

function nameOf(object: { metadata?: { name?: string } }): string {
  return object.metadata?.name ?? "";
}

Deno.test("TestApiServer serves the built Kubernetes version with the Kube-OVN CRDs established", async () => {
  await using api = await TestApiServer.start();
  const res = await api.fetch("/version");
  const version = await res.json() as { gitVersion?: string };
  assertMatch(version.gitVersion ?? "", /^v1\.\d+\.\d+$/);

  const established = await api.kubectl(
    "get",
    "crd",
    ...KUBE_OVN_CRDS,
    "-o",
    'jsonpath={range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Established")].status} {end}',
  );
  assertEquals(established.trim().split(" ").sort(), KUBE_OVN_CRDS.map((crd) => `${crd}=True`).sort());
  const clusterScoped = await api.kubectl(
    "api-resources",
    "--api-group=kubeovn.io",
    "--namespaced=false",
    "-o",
    "name",
  );
  assertEquals(clusterScoped.trim().split("\n").sort(), [...KUBE_OVN_CRDS].sort());

  // A Subnet round-trips, including its status through the status subresource.
  await api.apply(oneOfEach("a"));
  await api.kubectl(
    "patch",
    "subnet",
    "subnet-a",
    "--subresource=status",
    "--type=merge",
    "-p",
    '{"status":{"conditions":[{"type":"Ready","status":"True"}],"v4availableIPs":250}}',
  );
  const subnet = JSON.parse(await api.kubectl("get", "subnet", "subnet-a", "-o", "json"));
  assertEquals(subnet.spec.cidrBlock, "100.64.0.0/24");
  assertEquals(subnet.status.conditions, [{ type: "Ready", status: "True" }]);
  assertEquals(subnet.status.v4availableIPs, 250, "unknown status fields are preserved");

  // The REST helpers: an EIP's status set through the subresource, then the EIP deleted.
  const eip = { apiVersion: "kubeovn.io/v1", kind: "IptablesEIP", metadata: { name: "eip-a" } };
  await api.patchObject(eip, { status: { ready: true, ip: "203.0.113.9" } }, "status");
  assertEquals(await api.kubectl("get", "iptables-eip", "eip-a", "-o", "jsonpath={.status.ready}"), "true");
  await api.deleteObject(eip);
  assertEquals(await api.kubectl("get", "iptables-eips", "-o", "name", "--ignore-not-found"), "");
});

Deno.test("a ServiceAccount token bound by manifests/rbac.yaml can list and watch every speaker resource", async () => {
  await using api = await TestApiServer.start();
  const token = await api.createServiceAccountToken(SPEAKER_SA.namespace, SPEAKER_SA.name);
  const client = await KubeClient.load({ kubeconfig: await api.writeKubeconfig("speaker", token) });
  const errors: string[] = [];
  const watches = SPEAKER_RESOURCES.map((resource) =>
    new ResourceWatch<string>({
      client,
      resource,
      convert: nameOf,
      onEvent: () => {},
      onError: (error) => errors.push(error.message),
      backoff: { initialMs: 50, maxMs: 500 },
    })
  );
  try {
    for (const watch of watches) watch.start();
    await eventually("every list", () => watches.every((w) => w.stats.lists === 1), 15_000, () => errors);
    await api.apply(oneOfEach("b"));
    await eventually(
      "one watched object of each resource",
      () => watches.every((w) => [...w.records.values()].some((name) => name.endsWith("-b"))),
      15_000,
      () => [errors, watches.map((w) => [...w.records.values()])],
    );
    assertEquals(errors, []);
  } finally {
    await Promise.all(watches.map((w) => w.stop()));
  }

  // Least privilege: reading one object (get) and writing are not granted.
  const get = await client.request("/api/v1/namespaces/default/pods/pod-b");
  await get.body?.cancel();
  assertEquals(get.status, 403);
  const create = await client.request("/apis/kubeovn.io/v1/subnets", {
    method: "POST",
    body: JSON.stringify({ apiVersion: "kubeovn.io/v1", kind: "Subnet", metadata: { name: "nope" } }),
  });
  await create.body?.cancel();
  assertEquals(create.status, 403);
  client.close();
});

Deno.test("the manifests/ kustomization passes a server-side dry run with strict field validation", async () => {
  await using api = await TestApiServer.start({ installFixtures: false });
  const manifests = new URL("../../manifests/", import.meta.url).pathname;
  const out = await api.kubectl("apply", "-k", manifests, "--dry-run=server", "--validate=strict");
  assertMatch(out, /daemonset\.apps\/kube-ovn-speaker created \(server dry run\)/);
  assertMatch(out, /clusterrole\.rbac\.authorization\.k8s\.io\/kube-ovn-speaker created \(server dry run\)/);
});

/** A ServiceAccount with the speaker's rules minus one verb on one resource. */
async function limitedClient(api: TestApiServer, missing: { resource: ResourceType; verb: string }) {
  const rules = SPEAKER_RESOURCES.map((resource) => ({
    apiGroups: [resource.group],
    resources: [resource.plural],
    verbs: ["list", "watch"].filter((verb) => !(resource === missing.resource && verb === missing.verb)),
  }));
  await api.apply(JSON.stringify({
    apiVersion: "v1",
    kind: "List",
    items: [
      { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "limited", namespace: "default" } },
      {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "ClusterRole",
        metadata: { name: "limited" },
        rules,
      },
      {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "ClusterRoleBinding",
        metadata: { name: "limited" },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "limited" },
        subjects: [{ kind: "ServiceAccount", name: "limited", namespace: "default" }],
      },
    ],
  }));
  // The verb kept on the same resource: once allowed, the role and its binding have reached the authorizer.
  const kept = missing.verb === "list" ? "watch" : "list";
  await api.waitForPermission("system:serviceaccount:default:limited", {
    verb: kept,
    group: missing.resource.group,
    resource: missing.resource.plural,
  });
  const token = await api.createServiceAccountToken("default", "limited");
  return await KubeClient.load({ kubeconfig: await api.writeKubeconfig("limited", token) });
}

/** Watches `resource` with `client` until the first error and returns it. */
async function firstError(client: KubeClient, resource: ResourceType): Promise<Error> {
  let first: Error | undefined;
  const watch = new ResourceWatch<string>({
    client,
    resource,
    convert: nameOf,
    onEvent: () => {},
    onError: (error) => first ??= error,
    backoff: { initialMs: 50, maxMs: 500 },
  });
  watch.start();
  try {
    await eventually(`an error watching ${resourceName(resource)}`, () => first !== undefined, 15_000);
  } finally {
    await watch.stop();
  }
  return first!;
}

Deno.test("a token without watch on subnets gets an error naming the resource and the verb", async () => {
  await using api = await TestApiServer.start();
  const client = await limitedClient(api, { resource: SUBNETS, verb: "watch" });
  try {
    const error = await firstError(client, SUBNETS);
    assert(error instanceof ForbiddenError, `${error}`);
    assertEquals(error.verb, "watch");
    assertMatch(
      error.message,
      /^Forbidden: cannot watch subnets\.kubeovn\.io: grant "watch" on "subnets" in group "kubeovn\.io"/,
    );
  } finally {
    client.close();
  }
});

Deno.test("a token without list on pods gets an error naming the core group", async () => {
  await using api = await TestApiServer.start();
  const pods = SPEAKER_RESOURCES.find((r) => r.plural === "pods")!;
  const client = await limitedClient(api, { resource: pods, verb: "list" });
  try {
    const error = await firstError(client, pods);
    assert(error instanceof ForbiddenError, `${error}`);
    assertMatch(
      error.message,
      /^Forbidden: cannot list pods: grant "list" on "pods" in the core group \(""\)/,
    );
  } finally {
    client.close();
  }
});

Deno.test("ResourceWatch explains a rejected token and a resource the API server does not serve", async () => {
  await using api = await TestApiServer.start();
  const rejected = await KubeClient.load({ kubeconfig: await api.writeKubeconfig("bogus", "not-a-token") });
  try {
    const error = await firstError(rejected, SUBNETS);
    assertMatch(
      error.message,
      /^Unauthorized: the API server rejected the credentials for list subnets\.kubeovn\.io/,
    );
  } finally {
    rejected.close();
  }
  const admin = await KubeClient.load({ kubeconfig: api.kubeconfigPath });
  try {
    const widgets: ResourceType = {
      group: "example.com",
      version: "v1",
      plural: "widgets",
      kind: "Widget",
      namespaced: false,
    };
    const error = await firstError(admin, widgets);
    assertMatch(error.message, /^Not found: the API server does not serve widgets\.example\.com \(list\)/);
  } finally {
    admin.close();
  }
});

Deno.test("KubeClient authenticates with a kubeconfig client certificate", async () => {
  await using api = await TestApiServer.start();
  const client = await KubeClient.load({
    kubeconfig: await api.writeClientCertKubeconfig("cert-admin", ["system:masters"]),
  });
  try {
    const res = await client.request("/apis/authentication.k8s.io/v1/selfsubjectreviews", {
      method: "POST",
      body: JSON.stringify({ apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" }),
    });
    const review = await res.json() as { status?: { userInfo?: { username?: string; groups?: string[] } } };
    assertEquals(res.status, 201);
    assertEquals(review.status?.userInfo?.username, "cert-admin");
    assert(review.status?.userInfo?.groups?.includes("system:masters"));
  } finally {
    client.close();
  }
});

Deno.test("KubeClient in-cluster uses the ServiceAccount files and re-reads a rotated token at once", async () => {
  await using api = await TestApiServer.start();
  const root = await Deno.makeTempDir({ prefix: "speaker-incluster-" });
  try {
    const dir = `${root}${SERVICE_ACCOUNT_DIR}`;
    await Deno.mkdir(dir, { recursive: true });
    await Deno.writeTextFile(`${dir}/ca.crt`, api.caPem);
    await Deno.writeTextFile(`${dir}/namespace`, SPEAKER_SA.namespace);
    // kubelet replaces the token by renaming a new file over it.
    const rotate = async (token: string) => {
      await Deno.writeTextFile(`${dir}/token.new`, token);
      await Deno.rename(`${dir}/token.new`, `${dir}/token`);
    };
    await rotate(await api.createServiceAccountToken(SPEAKER_SA.namespace, SPEAKER_SA.name));
    const url = new URL(api.url);
    const env = new Map([["KUBERNETES_SERVICE_HOST", url.hostname], ["KUBERNETES_SERVICE_PORT", url.port]]);
    const client = await KubeClient.load({ inClusterRoot: root, env });
    try {
      assertEquals(client.server, api.url);
      const status = async () => {
        const res = await client.request("/api/v1/pods?limit=1");
        await res.body?.cancel();
        return res.status;
      };
      assertEquals(await status(), 200);
      await rotate("not-a-valid-token");
      assertEquals(await status(), 401, "the rotated (invalid) token is used at once");
      await rotate(await api.createServiceAccountToken(SPEAKER_SA.namespace, SPEAKER_SA.name));
      assertEquals(await status(), 200);
    } finally {
      client.close();
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("KubeClient.load() without a kubeconfig outside a cluster says what is missing", async () => {
  await assertRejects(
    () => KubeClient.load({ env: new Map() }),
    Error,
    "No Kubernetes configuration: pass --kubeconfig PATH",
  );
  await assertRejects(
    () => KubeClient.load({ kubeconfig: "/nonexistent/kubeconfig" }),
    Error,
    "Cannot load kubeconfig /nonexistent/kubeconfig",
  );
});
