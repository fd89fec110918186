/**
 * API server faults against the speaker program reading a real kube-apiserver (tests/kube/apiserver.ts,
 * built by tools/kube/build-apiserver.sh): annotated ClusterIP Services are announced (with
 * `--announce-cluster-ip`) to an in-test BGP peer on loopback, which records every withdrawal.
 *
 * - The API server restarts: nothing is withdrawn, and a Service created afterwards is announced.
 * - The watch expires (410 Gone): with etcd compacted past the Services watch's resourceVersion (other
 *   writes moved the revision on without Service events; the test server has no watch cache) and the API
 *   server restarted, the watch can only resume by listing again. Nothing still present is withdrawn; a
 *   Service deleted just before is.
 * - The API server is unreachable for a minute (killed; `FAULT_API_OUTAGE_S` seconds, default 60): the
 *   speaker keeps announcing what it knew, the BGP session stays up, nothing is withdrawn; once the API
 *   server is back, changes flow again.
 */

import { assertEquals } from "../assert.ts";
import { TestApiServer } from "../kube/apiserver.ts";
import { RawBgpPeer } from "../hostile/raw_bgp_peer.ts";
import { RouteTracker } from "../hostile/route_tracker.ts";
import { startSpeaker } from "../hostile/speaker_process.ts";
import { reportTime } from "./exact_routes.ts";

const NAMESPACE = "faults";
const OUTAGE_S = Number(Deno.env.get("FAULT_API_OUTAGE_S") ?? 60);
const PEER = "127.0.0.10";

function service(name: string): unknown {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name, namespace: NAMESPACE, annotations: { "ovn.kubernetes.io/bgp": "true" } },
    spec: { type: "ClusterIP", ports: [{ port: 80 }] },
  };
}

async function clusterIps(api: TestApiServer): Promise<string[]> {
  const list = JSON.parse(await api.kubectl("get", "services", "-n", NAMESPACE, "-o", "json")) as {
    items: { spec: { clusterIP: string } }[];
  };
  return list.items.map((s) => `${s.spec.clusterIP}/32`).sort();
}

Deno.test({
  name: "the speaker keeps announcing through API server restarts, 410 Gone and a minute without it",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    await using api = await TestApiServer.start();
    await api.kubectl("create", "namespace", NAMESPACE);
    await api.apply(
      JSON.stringify({
        apiVersion: "v1",
        kind: "List",
        items: [...Array(20).keys()].map((i) => service(`svc-${i}`)),
      }),
    );
    const token = await api.createServiceAccountToken("kube-system", "kube-ovn-speaker");
    await api.waitForPermission("system:serviceaccount:kube-system:kube-ovn-speaker", {
      verb: "watch",
      group: "",
      resource: "services",
    });
    const kubeconfig = await api.writeKubeconfig("speaker", token);
    await using speaker = await startSpeaker({
      neighbors: [PEER],
      extraArgs: ["--kubeconfig", kubeconfig, "--announce-cluster-ip"],
    });
    const peer = await RawBgpPeer.connect({ host: "127.0.0.1", port: speaker.bgpPort, localAddress: PEER });
    await peer.establish({ holdTime: 3 });
    peer.startKeepalives(1_000);
    const routes = new RouteTracker(peer);
    try {
      let want = await clusterIps(api);
      await routes.waitExact(want, 20_000);
      const noWithdrawal = (what: string) => {
        assertEquals(routes.withdrawals, [], `withdrawals during ${what}`);
        assertEquals([routes.closed, routes.notification], [false, undefined], `the session during ${what}`);
      };

      await t.step("API server restarted: nothing withdrawn, later changes announced", async () => {
        await api.restart();
        const created = performance.now();
        await api.apply(JSON.stringify(service("after-restart")));
        want = await clusterIps(api);
        await routes.waitExact(want, 30_000);
        reportTime(
          "API server restart, then a new Service (from its creation)",
          Math.round(performance.now() - created),
        );
        noWithdrawal("an API server restart");
      });

      await t.step(
        "watch expired (410 Gone after compaction): relist withdraws only what was deleted",
        async () => {
          await api.kubectl("delete", "service", "-n", NAMESPACE, "svc-0");
          want = await clusterIps(api);
          await routes.waitExact(want, 15_000);
          assertEquals(routes.withdrawals.length, 1, "the deleted Service's prefix only");
          routes.withdrawals.length = 0;
          // Move etcd's revision past the Services watch without a Service event, compact, and break every
          // watch: resuming from the old resourceVersion can only end in 410 Gone and a relist.
          for (let i = 0; i < 5; i++) {
            await api.kubectl("create", "configmap", "-n", NAMESPACE, `filler-${i}`);
          }
          await api.compact();
          await api.restart();
          const created = performance.now();
          await api.apply(JSON.stringify(service("after-compaction")));
          want = await clusterIps(api);
          await routes.waitExact(want, 45_000);
          reportTime(
            "410 Gone and relist, then a new Service (from its creation)",
            Math.round(performance.now() - created),
          );
          noWithdrawal("a relist after 410 Gone");
        },
      );

      await t.step(
        `API server unreachable for ${OUTAGE_S} s: announcements kept, then changes flow again`,
        async () => {
          const pid = api.apiserverPid;
          if (pid === undefined) throw new Error("No kube-apiserver PID");
          Deno.kill(pid, "SIGKILL");
          const until = Date.now() + OUTAGE_S * 1_000;
          while (Date.now() < until) {
            noWithdrawal("the API server outage");
            assertEquals(routes.sorted(), want, "announced prefixes during the outage");
            await new Promise((r) => setTimeout(r, 1_000));
          }
          const back = performance.now();
          await api.restart();
          await api.apply(JSON.stringify(service("after-outage")));
          want = await clusterIps(api);
          // The watches back off up to 30 s between attempts while the API server is away.
          await routes.waitExact(want, 60_000);
          reportTime(
            `API server away ${OUTAGE_S} s, then a new Service (from its restart)`,
            Math.round(performance.now() - back),
          );
          noWithdrawal("the recovery after the outage");
          assertEquals((await speaker.status()).peers[0].state, "Established");
        },
      );
    } finally {
      await routes.stop();
      await peer.close();
    }
  },
});
