/**
 * The whole path against real parts: objects in a real kube-apiserver → the speaker program (with a token
 * of exactly the ServiceAccount and ClusterRole in manifests/rbac.yaml) → a real gobgpd holding exactly
 * the desired routes. Everything runs on loopback: the API server binds 127.0.0.1, gobgpd 127.0.0.2; the
 * next hop is the node IP that `--node-ips` puts in place of the session's local address (our pod IP).
 */
import { assertEquals, assertStringIncludes } from "../assert.ts";
import { TestApiServer } from "./apiserver.ts";
import { ManagedProcess, requireTools, runCommand, waitFor } from "../harness/mod.ts";

const root = new URL("../..", import.meta.url).pathname;

function freePort(hostname = "127.0.0.1"): number {
  const listener = Deno.listen({ hostname, port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** gobgpd on 127.0.0.2, passive, waiting for the speaker at 127.0.0.1. */
async function startGobgpdOnLoopback(dir: string, port: number): Promise<{
  process: ManagedProcess;
  routes: () => Promise<Map<string, string>>;
}> {
  const config = `[global.config]
  as = 65000
  router-id = "127.0.0.2"
  port = ${port}
  local-address-list = ["127.0.0.2"]
[[neighbors]]
  [neighbors.config]
    neighbor-address = "127.0.0.1"
    peer-as = 65001
  [neighbors.transport.config]
    passive-mode = true
`;
  await Deno.writeTextFile(`${dir}/gobgpd.toml`, config);
  const sock = `unix://${dir}/gobgp.sock`;
  const process = ManagedProcess.spawn({
    name: "gobgpd-loopback",
    argv: ["gobgpd", "-f", `${dir}/gobgpd.toml`, "--api-hosts", sock, "--pprof-disable", "-p"],
    logPath: `${dir}/gobgpd.log`,
  });
  /** prefix → next hop of what gobgpd holds. */
  const routes = async () => {
    const out = await runCommand(["gobgp", "--target", sock, "-j", "global", "rib", "-a", "ipv4"], {
      allowFailure: true,
    });
    const held = new Map<string, string>();
    if (out.code !== 0 || out.stdout.trim() === "") return held;
    const table = JSON.parse(out.stdout) as Record<string, { attrs: { type: number; nexthop?: string }[] }[]>;
    for (const [prefix, paths] of Object.entries(table)) {
      held.set(prefix, paths[0].attrs.find((a) => a.type === 3)?.nexthop ?? "");
    }
    return held;
  };
  return { process, routes };
}

Deno.test("objects in a real API server reach a real router through the speaker run with kube-ovn-speaker's arguments and the manifests' RBAC", async () => {
  requireTools(["gobgpd", "gobgp"]);
  await using api = await TestApiServer.start();
  const token = await api.createServiceAccountToken("kube-system", "kube-ovn-speaker");
  for (const resource of ["pods", "services", "subnets", "endpointslices"]) {
    const group = resource === "subnets"
      ? "kubeovn.io"
      : resource === "endpointslices"
      ? "discovery.k8s.io"
      : "";
    await api.waitForPermission("system:serviceaccount:kube-system:kube-ovn-speaker", {
      verb: "watch",
      group,
      resource,
    });
  }
  const kubeconfig = await api.writeKubeconfig("speaker", token);

  const subnet = {
    apiVersion: "kubeovn.io/v1",
    kind: "Subnet",
    metadata: { name: "e2e", annotations: { "ovn.kubernetes.io/bgp": "cluster" } },
    spec: { cidrBlock: "203.0.113.0/25" },
  };
  const pod = (name: string, ip: string, bgp?: string) => ({
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace: "default",
      annotations: {
        "ovn.kubernetes.io/ip_address": ip,
        "ovn.kubernetes.io/logical_switch": "e2e",
        ...(bgp ? { "ovn.kubernetes.io/bgp": bgp } : {}),
      },
    },
    spec: { nodeName: "node-1", containers: [{ name: "app", image: "busybox" }] },
  });
  const service = {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: "dns", namespace: "default", annotations: { "ovn.kubernetes.io/bgp": "cluster" } },
    spec: { type: "ClusterIP", clusterIP: "10.96.0.10", ports: [{ port: 53 }] },
  };
  await api.createObjects([
    subnet,
    pod("web-1", "203.0.113.10"),
    pod("web-2", "203.0.113.11", "local"),
    service,
  ]);
  await api.patchObject(subnet, { status: { conditions: [{ type: "Ready", status: "True" }] } }, "status");

  const dir = api.dir;
  const bgpPort = freePort("127.0.0.2");
  const adminPort = freePort();
  const router = await startGobgpdOnLoopback(dir, bgpPort);
  const speaker = ManagedProcess.spawn({
    name: "speaker-e2e",
    argv: [
      Deno.execPath(),
      "run",
      "-A",
      `${root}main.ts`,
      // kube-ovn-speaker's DaemonSet argument list (yamls/speaker.yaml), unchanged but for the addresses...
      "--logtostderr=false",
      "--alsologtostderr=true",
      "--log_file=/var/log/kube-ovn/kube-ovn-speaker.log",
      "--log_file_max_size=200",
      "--neighbor-address=127.0.0.2",
      "--neighbor-as=65000",
      "--cluster-as=65001",
      "--announce-cluster-ip=true",
      // ...and what this test needs: the router's port, a kubeconfig, the admin port.
      `--neighbor-port=${bgpPort}`,
      `--kubeconfig=${kubeconfig}`,
      // The session's local address is our "pod IP", so --node-ips replaces it as the next hop (gobgpd
      // refuses loopback next hops).
      "--node-ips=198.51.100.1",
      "--admin-address=127.0.0.1",
      `--pprof-port=${adminPort}`,
    ],
    logPath: `${dir}/speaker.log`,
    // As the DaemonSet's downward API sets them: the router id comes from POD_IPS.
    env: { NODE_NAME: "node-1", POD_IP: "127.0.0.1", POD_IPS: "127.0.0.1" },
  });
  const diagnostics = async () =>
    `speaker:\n${await speaker.logTail()}\ngobgpd:\n${await router.process.logTail()}`;
  const expect = async (what: string, want: string[]) => {
    await waitFor(what, async () => {
      const held = await router.routes();
      return JSON.stringify([...held.keys()].sort()) === JSON.stringify(want);
    }, { timeoutMs: 30_000, intervalMs: 100, diagnostics });
    const held = await router.routes();
    for (const prefix of want) assertEquals(held.get(prefix), "198.51.100.1", `next hop of ${prefix}`);
  };
  try {
    // The cluster Subnet's CIDR, both Pods (one inherits cluster, one is local on this node), the ClusterIP.
    await expect("the initial routes", [
      "10.96.0.10/32",
      "203.0.113.0/25",
      "203.0.113.10/32",
      "203.0.113.11/32",
    ]);
    const ready = await fetch(`http://127.0.0.1:${adminPort}/readyz`);
    assertEquals(ready.status, 200, await ready.text());

    // Re-annotate: the Pod's own "false" wins over its Subnet's cluster.
    await api.patchObject(pod("web-1", "203.0.113.10"), {
      metadata: { annotations: { "ovn.kubernetes.io/bgp": "false" } },
    });
    await expect("web-1 withdrawn", ["10.96.0.10/32", "203.0.113.0/25", "203.0.113.11/32"]);

    // Deleting a Pod leaves it terminating here (no kubelet confirms): terminating Pods are withdrawn.
    await api.deleteObject(pod("web-2", "203.0.113.11", "local"));
    await expect("the terminating web-2 withdrawn", ["10.96.0.10/32", "203.0.113.0/25"]);

    // Local Pods: announced only by the speaker of their node.
    const onNode = (name: string, ip: string, node: string) => ({
      ...pod(name, ip, "local"),
      spec: { nodeName: node, containers: [{ name: "app", image: "busybox" }] },
    });
    await api.createObjects([
      onNode("web-3", "203.0.113.12", "node-2"),
      onNode("web-4", "203.0.113.13", "node-1"),
    ]);
    await expect("only the local Pod of this node announced", [
      "10.96.0.10/32",
      "203.0.113.0/25",
      "203.0.113.13/32",
    ]);

    // Delete the Service; its ClusterIP goes.
    await api.deleteObject(service);
    await expect("the ClusterIP withdrawn", ["203.0.113.0/25", "203.0.113.13/32"]);

    const log = await Deno.readTextFile(speaker.logPath);
    assertEquals(log.includes("Forbidden"), false, "the manifests' ClusterRole covers every read");
    assertStringIncludes(log, "cache synced");
  } finally {
    await speaker.stop();
    await router.process.stop();
  }
});
