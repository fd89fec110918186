/**
 * Runs the tests' real kube-apiserver (etcd + kube-apiserver on loopback, Kube-OVN CRDs and the speaker's
 * RBAC installed) until SIGINT or SIGTERM, for demos and benchmarks:
 *
 * ```sh
 * tools/kube/build-apiserver.sh            # once; cached afterwards
 * ./denow run -A tools/kube/run-apiserver.ts [--speaker-kubeconfig PATH] [--watch-cache]
 * ```
 *
 * It prints the admin kubeconfig path (`kubectl --kubeconfig PATH ...`). With `--speaker-kubeconfig PATH`
 * it also writes a kubeconfig for the `kube-system/kube-ovn-speaker` ServiceAccount of manifests/rbac.yaml,
 * with a token valid for a day.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { TestApiServer } from "../../tests/kube/apiserver.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    "speaker-kubeconfig": { type: "string" },
    "watch-cache": { type: "boolean", default: false },
  },
});

const started = performance.now();
const api = await TestApiServer.start({ watchCache: values["watch-cache"] });
console.log(`kube-apiserver ready at ${api.url} in ${Math.round(performance.now() - started)} ms`);
console.log(`admin kubeconfig: ${api.kubeconfigPath}`);
console.log(`pids: kube-apiserver ${api.apiserverPid}, etcd ${api.etcdPid}; data in ${api.dir}`);
if (values["speaker-kubeconfig"]) {
  const token = await api.createServiceAccountToken("kube-system", "kube-ovn-speaker", 86_400);
  const path = await api.writeKubeconfig("speaker", token);
  await Deno.copyFile(path, values["speaker-kubeconfig"]);
  console.log(`speaker kubeconfig: ${values["speaker-kubeconfig"]}`);
}

const stopped = Promise.withResolvers<void>();
for (const signal of ["SIGINT", "SIGTERM"] as const) Deno.addSignalListener(signal, () => stopped.resolve());
await stopped.promise;
await api.stop();
console.log("stopped");
