/**
 * A real kube-apiserver with its own etcd for the Kubernetes tests: both bound to loopback, on free ports,
 * with self-signed serving certificates, RBAC authorization, ServiceAccount token signing and a static
 * admin token. The Kube-OVN CRDs (tests/kube/fixtures/) and the speaker's RBAC (manifests/rbac.yaml) are
 * installed on start.
 *
 * kube-apiserver and a kubectl of the same version are built once by `tools/kube/build-apiserver.sh` and
 * cached outside the repository; etcd is Debian's `etcd-server` (3.4, which kube-apiserver 1.36 accepts,
 * only without watch progress requests). Faults on demand: {@linkcode TestApiServer.restart} and
 * {@linkcode TestApiServer.compact} (410 Gone for every older resourceVersion).
 *
 * @example
 * ```ts
 * await using api = await TestApiServer.start();
 * await api.kubectl("create", "namespace", "demo");
 * const token = await api.createServiceAccountToken("kube-system", "kube-ovn-speaker");
 * ```
 *
 * @module
 */

import { collectionPath, type ResourceType, SPEAKER_RESOURCES } from "../../lib/kube/resources.ts";

const repoRoot = new URL("../../", import.meta.url).pathname;
const buildScript = `${repoRoot}tools/kube/build-apiserver.sh`;
const crdFixture = `${repoRoot}tests/kube/fixtures/kubeovn_crds.yaml`;
const rbacManifest = `${repoRoot}manifests/rbac.yaml`;

/** The CRDs from tests/kube/fixtures/kubeovn_crds.yaml, each waited for until Established. */
export const KUBE_OVN_CRDS = [
  "subnets.kubeovn.io",
  "iptables-eips.kubeovn.io",
  "vpc-nat-gateways.kubeovn.io",
] as const;

/** Options of {@linkcode TestApiServer.start}. */
export interface TestApiServerOptions {
  /**
   * Serve watches and lists from the API server's watch cache. Off by default: without it every watch goes
   * to etcd, so an etcd compaction ({@linkcode TestApiServer.compact}) deterministically expires older
   * resourceVersions with 410 Gone, as it does in production once the watch cache window has passed.
   */
  watchCache?: boolean;
  /** Bound on waiting for /readyz, in milliseconds (default 60,000). */
  readyTimeoutMs?: number;
  /** Install the Kube-OVN CRDs and manifests/rbac.yaml (default true). */
  installFixtures?: boolean;
}

/** Raised when the kube-apiserver binary has not been built yet; the message says how to build it. */
export class ApiServerMissingError extends Error {
  /** Creates the error with the build script's own explanation. */
  constructor(detail: string) {
    super(
      `kube-apiserver is not built yet: run tools/kube/build-apiserver.sh (about 9 minutes on 2 cores, needs ` +
        `Go >= 1.26 at /usr/local/go and the Go module proxy; the binary is cached under ` +
        `/var/cache/speaker-kube, or $SPEAKER_KUBE_CACHE). ${detail}`.trim(),
    );
    this.name = "ApiServerMissingError";
  }
}

/** Finds the cached kube-apiserver through the build script, without building. */
export async function findApiServerBinary(): Promise<string> {
  const override = Deno.env.get("SPEAKER_KUBE_APISERVER");
  if (override) return override;
  const out = await new Deno.Command("bash", {
    args: [buildScript, "--check"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  if (!out.success) throw new ApiServerMissingError(decoder.decode(out.stderr));
  return decoder.decode(out.stdout).trim();
}

/**
 * The kubectl the tests run: $KUBECTL, else the one build-apiserver.sh builds next to kube-apiserver (same
 * version, so no client/server skew).
 */
export function kubectlBinary(apiserverBinary: string): string {
  return Deno.env.get("KUBECTL") ?? apiserverBinary.replace(/kube-apiserver$/, "kubectl");
}

/** Finds etcd: $SPEAKER_ETCD, else /usr/bin/etcd from Debian's etcd-server. */
export async function findEtcdBinary(): Promise<string> {
  const path = Deno.env.get("SPEAKER_ETCD") ?? "/usr/bin/etcd";
  try {
    await Deno.stat(path);
  } catch {
    throw new Error(`etcd is missing at ${path}: install it with 'apt-get install -y etcd-server'`);
  }
  return path;
}

/**
 * The part of a manifest the REST helpers ({@linkcode TestApiServer.createObjects}, `patchObject`,
 * `deleteObject`) read; the rest is sent as is.
 */
export interface KubeManifest {
  /** `v1`, `kubeovn.io/v1`, ... */
  apiVersion: string;
  /** A kind of lib/kube/resources.ts, or Namespace. */
  kind: string;
  /** Name and, for namespaced kinds, namespace. */
  metadata: { name: string; namespace?: string; [field: string]: unknown };
  [field: string]: unknown;
}

const NAMESPACES: ResourceType = {
  group: "",
  version: "v1",
  plural: "namespaces",
  kind: "Namespace",
  namespaced: false,
};

/** The collection a manifest is POSTed to. */
function creationPath(object: KubeManifest): string {
  const resource = [...SPEAKER_RESOURCES, NAMESPACES].find((r) =>
    r.kind === object.kind && object.apiVersion === (r.group === "" ? r.version : `${r.group}/${r.version}`)
  );
  if (!resource) {
    throw new Error(`The test server's REST helpers do not know ${object.apiVersion} ${object.kind}`);
  }
  return collectionPath(resource, resource.namespaced ? object.metadata.namespace ?? "default" : undefined);
}

/** The path of one object. */
function objectPath(object: KubeManifest): string {
  return `${creationPath(object)}/${encodeURIComponent(object.metadata.name)}`;
}

/** Returns a TCP port on loopback that was free a moment ago. */
function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

async function run(cmd: string, args: string[], stdin?: string): Promise<string> {
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(cmd, {
      args,
      stdin: stdin === undefined ? "null" : "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new Error(
        `${cmd} is missing: tools/kube/build-apiserver.sh builds kubectl; openssl comes from apt`,
      );
    }
    throw error;
  }
  if (stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(stdin));
    await writer.close();
  }
  const out = await child.output();
  const decoder = new TextDecoder();
  if (!out.success) {
    throw new Error(
      `${cmd} ${args.join(" ")} failed (exit ${out.code}): ${decoder.decode(out.stderr).trim()}`,
    );
  }
  return decoder.decode(out.stdout);
}

/**
 * How long kube-apiserver gets after SIGTERM before SIGKILL. It stops serving at once, but while a watch
 * stays open its HTTP server never finishes shutting down, so waiting longer only slows the tests.
 */
const APISERVER_GRACE_MS = 1500;

/** A started process whose output goes to a log file, stopped by its own PID. */
class LoggedProcess {
  #child: Deno.ChildProcess;
  #done: Promise<Deno.CommandStatus>;
  readonly logPath: string;

  constructor(cmd: string, args: string[], logPath: string) {
    this.logPath = logPath;
    // The shell only redirects and then becomes the process (exec), so the PID is the server's own and its
    // output never waits on a pipe we might stop reading.
    this.#child = new Deno.Command("sh", {
      args: ["-c", 'log="$1"; shift; exec "$@" >>"$log" 2>&1', "sh", logPath, cmd, ...args],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    this.#done = this.#child.status;
  }

  get pid(): number {
    return this.#child.pid;
  }

  /** Resolves when the process has exited, with its status. */
  get status(): Promise<Deno.CommandStatus> {
    return this.#done;
  }

  /** Sends SIGTERM, then SIGKILL after `graceMs`, and waits for the exit and the log. */
  async stop(graceMs = 5000): Promise<void> {
    let exited = false;
    const done = this.#done.then(() => {
      exited = true;
    });
    try {
      this.#child.kill("SIGTERM");
    } catch {
      // Already exited.
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([done, new Promise((r) => timer = setTimeout(r, graceMs))]);
    clearTimeout(timer);
    if (!exited) {
      try {
        this.#child.kill("SIGKILL");
      } catch {
        // Exited meanwhile.
      }
      await done;
    }
  }

  async tail(lines = 30): Promise<string> {
    try {
      const text = await Deno.readTextFile(this.logPath);
      return text.split("\n").slice(-lines).join("\n");
    } catch {
      return "";
    }
  }
}

/** A running etcd + kube-apiserver pair on loopback; see the module documentation. */
export class TestApiServer implements AsyncDisposable {
  /** Temporary directory holding certificates, keys, the etcd data and the logs. */
  readonly dir: string;
  /** `https://127.0.0.1:<port>`. */
  readonly url: string;
  /** PEM of the CA that signed the serving certificate. */
  readonly caPem: string;
  /** Path of {@linkcode caPem}. */
  readonly caPath: string;
  /** Static bearer token of the admin user (group system:masters). */
  readonly adminToken: string;
  /** Kubeconfig of the admin user. */
  readonly kubeconfigPath: string;
  /** `http://127.0.0.1:<port>` of etcd's client endpoint. */
  readonly etcdUrl: string;

  #apiserverBin: string;
  #kubectlBin: string;
  #apiserverArgs: string[];
  #apiserver: LoggedProcess | undefined;
  #etcd: LoggedProcess;
  #http: Deno.HttpClient;
  #readyTimeoutMs: number;
  #stopped = false;

  private constructor(init: {
    dir: string;
    url: string;
    caPem: string;
    caPath: string;
    adminToken: string;
    kubeconfigPath: string;
    etcdUrl: string;
    apiserverBin: string;
    apiserverArgs: string[];
    etcd: LoggedProcess;
    readyTimeoutMs: number;
  }) {
    this.dir = init.dir;
    this.url = init.url;
    this.caPem = init.caPem;
    this.caPath = init.caPath;
    this.adminToken = init.adminToken;
    this.kubeconfigPath = init.kubeconfigPath;
    this.etcdUrl = init.etcdUrl;
    this.#apiserverBin = init.apiserverBin;
    this.#kubectlBin = kubectlBinary(init.apiserverBin);
    this.#apiserverArgs = init.apiserverArgs;
    this.#etcd = init.etcd;
    this.#readyTimeoutMs = init.readyTimeoutMs;
    this.#http = Deno.createHttpClient({ caCerts: [init.caPem] });
  }

  /**
   * Starts etcd and kube-apiserver, waits for /readyz, writes the admin kubeconfig and installs the
   * fixtures. Throws {@linkcode ApiServerMissingError} if the binary is not built.
   */
  static async start(options: TestApiServerOptions = {}): Promise<TestApiServer> {
    const apiserverBin = await findApiServerBinary();
    const etcdBin = await findEtcdBinary();
    const dir = await Deno.makeTempDir({ prefix: "speaker-kube-" });
    let etcd: LoggedProcess | undefined;
    let server: TestApiServer | undefined;
    try {
      await writeCredentials(dir);
      const adminToken = crypto.randomUUID();
      await Deno.writeTextFile(
        `${dir}/tokens.csv`,
        `${adminToken},speaker-test-admin,speaker-test-admin,"system:masters"\n`,
      );

      const etcdPort = freePort();
      const etcdPeerPort = freePort();
      const etcdUrl = `http://127.0.0.1:${etcdPort}`;
      etcd = new LoggedProcess(etcdBin, [
        "--name=speaker-test",
        `--data-dir=${dir}/etcd`,
        `--listen-client-urls=${etcdUrl}`,
        `--advertise-client-urls=${etcdUrl}`,
        `--listen-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
        `--initial-cluster=speaker-test=http://127.0.0.1:${etcdPeerPort}`,
        // A single member elects itself after one election timeout: keep it short.
        "--heartbeat-interval=20",
        "--election-timeout=200",
        "--log-level=warn",
        "--logger=zap",
      ], `${dir}/etcd.log`);
      await waitFor(`etcd at ${etcdUrl}`, 20_000, etcd, async () => {
        const res = await fetch(`${etcdUrl}/health`);
        const body = await res.json() as { health?: string };
        return body.health === "true";
      });

      const port = freePort();
      const url = `https://127.0.0.1:${port}`;
      const apiserverArgs = [
        "--bind-address=127.0.0.1",
        `--secure-port=${port}`,
        "--advertise-address=127.0.0.1",
        // Nothing but this process serves the API, so the `kubernetes` Service needs no endpoints.
        "--endpoint-reconciler-type=none",
        `--etcd-servers=${etcdUrl}`,
        // Compaction only when a test asks for it (compact()).
        "--etcd-compaction-interval=0",
        `--watch-cache=${options.watchCache ?? false}`,
        `--tls-cert-file=${dir}/serving.crt`,
        `--tls-private-key-file=${dir}/serving.key`,
        `--client-ca-file=${dir}/ca.crt`,
        `--token-auth-file=${dir}/tokens.csv`,
        "--authorization-mode=RBAC",
        "--anonymous-auth=false",
        `--service-account-issuer=https://kubernetes.default.svc.cluster.local`,
        `--service-account-key-file=${dir}/sa.pub`,
        `--service-account-signing-key-file=${dir}/sa.key`,
        "--service-cluster-ip-range=10.96.0.0/16,fd00:10:96::/108",
        // No controller-manager runs, so no `default` ServiceAccount appears in each namespace: Pods could not be
        // created with the ServiceAccount admission plugin on.
        "--disable-admission-plugins=ServiceAccount",
        "--enable-priority-and-fairness=false",
        "--profiling=false",
        `--cert-dir=${dir}/certs`,
        "--v=1",
      ];
      const kubeconfigPath = `${dir}/admin.kubeconfig`;
      const caPem = await Deno.readTextFile(`${dir}/ca.crt`);
      await Deno.writeTextFile(
        kubeconfigPath,
        kubeconfigFor(url, caPem, "speaker-test-admin", { token: adminToken }),
      );
      server = new TestApiServer({
        dir,
        url,
        caPem,
        caPath: `${dir}/ca.crt`,
        adminToken,
        kubeconfigPath,
        etcdUrl,
        apiserverBin,
        apiserverArgs,
        etcd,
        readyTimeoutMs: options.readyTimeoutMs ?? 60_000,
      });
      await server.#launch();
      if (options.installFixtures ?? true) {
        await server.kubectl("apply", "-f", crdFixture);
        await server.kubectl(
          "wait",
          "--for=condition=Established",
          "--timeout=30s",
          ...KUBE_OVN_CRDS.map((crd) => `crd/${crd}`),
        );
        await server.kubectl("apply", "-f", rbacManifest);
        await server.waitForPermission("system:serviceaccount:kube-system:kube-ovn-speaker", {
          verb: "watch",
          group: "kubeovn.io",
          resource: "subnets",
        });
      }
      return server;
    } catch (error) {
      if (server) await server.stop();
      else {
        await etcd?.stop();
        await Deno.remove(dir, { recursive: true }).catch(() => {});
      }
      throw error;
    }
  }

  async #launch(): Promise<void> {
    const proc = new LoggedProcess(this.#apiserverBin, this.#apiserverArgs, `${this.dir}/kube-apiserver.log`);
    this.#apiserver = proc;
    await waitFor(`kube-apiserver /readyz at ${this.url}`, this.#readyTimeoutMs, proc, async () => {
      const res = await this.fetch("/readyz");
      await res.body?.cancel();
      return res.ok;
    });
  }

  /** PID of the running kube-apiserver, if any. */
  get apiserverPid(): number | undefined {
    return this.#apiserver?.pid;
  }

  /** PID of etcd. */
  get etcdPid(): number {
    return this.#etcd.pid;
  }

  /** Fetches a path of the API server as the admin; the caller consumes or cancels the body. */
  fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (!headers.has("Authorization")) headers.set("Authorization", `Bearer ${this.adminToken}`);
    return fetch(`${this.url}${path}`, { ...init, headers, client: this.#http });
  }

  /** Runs kubectl (see {@linkcode kubectlBinary}) as the admin and returns its stdout; throws on failure. */
  kubectl(...args: string[]): Promise<string> {
    return run(this.#kubectlBin, ["--kubeconfig", this.kubeconfigPath, ...args]);
  }

  /** Applies YAML or JSON manifests given as text (`kubectl apply -f -`). */
  apply(manifest: string): Promise<string> {
    return run(this.#kubectlBin, ["--kubeconfig", this.kubeconfigPath, "apply", "-f", "-"], manifest);
  }

  /**
   * Creates objects straight through the REST API, `concurrency` requests at a time: much faster than
   * kubectl for the thousands of objects of a benchmark. Kinds are those of lib/kube/resources.ts (plus
   * Namespace); namespaced objects without a namespace go to `default`. Throws on the first refusal.
   */
  async createObjects(objects: readonly KubeManifest[], concurrency = 16): Promise<void> {
    let next = 0;
    const worker = async () => {
      while (next < objects.length) {
        const object = objects[next++];
        await this.#send(object, "create", creationPath(object), "POST", JSON.stringify(object));
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, objects.length) }, worker));
  }

  /**
   * Applies a JSON merge patch to an object, or to its status subresource (as kube-ovn-controller sets a
   * Subnet's Ready condition or an EIP's `status.ready`). Throws if the server refuses.
   */
  async patchObject(object: KubeManifest, patch: unknown, subresource?: "status"): Promise<void> {
    const path = `${objectPath(object)}${subresource ? `/${subresource}` : ""}`;
    await this.#send(object, "patch", path, "PATCH", JSON.stringify(patch), "application/merge-patch+json");
  }

  /** Deletes an object. */
  async deleteObject(object: KubeManifest): Promise<void> {
    await this.#send(object, "delete", objectPath(object), "DELETE");
  }

  async #send(
    object: KubeManifest,
    verb: string,
    path: string,
    method: string,
    body?: string,
    contentType = "application/json",
  ): Promise<void> {
    const res = await this.fetch(path, { method, headers: { "Content-Type": contentType }, body });
    const text = await res.text();
    if (!res.ok) {
      throw new Error(`Cannot ${verb} ${object.kind} ${object.metadata.name} (HTTP ${res.status}): ${text}`);
    }
  }

  /**
   * Issues a token for a ServiceAccount through the TokenRequest API (the ServiceAccount must exist; the one
   * in manifests/rbac.yaml is `kube-system/kube-ovn-speaker`).
   */
  async createServiceAccountToken(
    namespace: string,
    name: string,
    expirationSeconds = 3600,
  ): Promise<string> {
    const res = await this.fetch(`/api/v1/namespaces/${namespace}/serviceaccounts/${name}/token`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        apiVersion: "authentication.k8s.io/v1",
        kind: "TokenRequest",
        spec: { expirationSeconds },
      }),
    });
    const body = await res.json() as { status?: { token?: string }; message?: string };
    if (!res.ok || !body.status?.token) {
      throw new Error(
        `TokenRequest for ${namespace}/${name} failed (HTTP ${res.status}): ${body.message ?? ""}`,
      );
    }
    return body.status.token;
  }

  /**
   * Waits until the authorizer allows `user` the access (RBAC objects reach it through a watch, a moment
   * after they are written), so that a test's first request is not refused by a stale cache.
   */
  async waitForPermission(
    user: string,
    access: { verb: string; group: string; resource: string },
    timeoutMs = 10_000,
  ): Promise<void> {
    const review = JSON.stringify({
      apiVersion: "authorization.k8s.io/v1",
      kind: "SubjectAccessReview",
      spec: { user, resourceAttributes: access },
    });
    const deadline = Date.now() + timeoutMs;
    while (true) {
      const res = await this.fetch("/apis/authorization.k8s.io/v1/subjectaccessreviews", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: review,
      });
      const body = await res.json() as { status?: { allowed?: boolean } };
      if (body.status?.allowed) return;
      if (Date.now() > deadline) {
        throw new Error(`${user} is still not allowed ${JSON.stringify(access)} after ${timeoutMs} ms`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Writes a kubeconfig that authenticates with `token` and returns its path. */
  async writeKubeconfig(name: string, token: string): Promise<string> {
    const path = `${this.dir}/${name}.kubeconfig`;
    await Deno.writeTextFile(path, kubeconfigFor(this.url, this.caPem, name, { token }));
    return path;
  }

  /**
   * Writes a kubeconfig that authenticates with a client certificate signed by the test CA (CN = `user`,
   * O = each of `groups`) and returns its path; `["system:masters"]` makes an admin.
   */
  async writeClientCertKubeconfig(user: string, groups: string[] = []): Promise<string> {
    const base = `${this.dir}/client-${user.replace(/[^A-Za-z0-9_-]/g, "_")}`;
    const subject = `/CN=${user}${groups.map((g) => `/O=${g}`).join("")}`;
    await run("openssl", ["req", ...newP256Key(`${base}.key`), "-out", `${base}.csr`, "-subj", subject]);
    await Deno.writeTextFile(`${base}.ext`, "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n");
    await run("openssl", [
      ...["x509", "-req", "-in", `${base}.csr`, "-CA", this.caPath, "-CAkey", `${this.dir}/ca.key`],
      ...["-CAcreateserial", "-out", `${base}.crt`, "-days", "2", "-extfile", `${base}.ext`],
    ]);
    const path = `${base}.kubeconfig`;
    await Deno.writeTextFile(
      path,
      kubeconfigFor(this.url, this.caPem, user, {
        "client-certificate-data": btoa(await Deno.readTextFile(`${base}.crt`)),
        "client-key-data": btoa(await Deno.readTextFile(`${base}.key`)),
      }),
    );
    return path;
  }

  /**
   * Stops kube-apiserver (SIGTERM, which closes every open watch) and starts it again on the same port with
   * the same etcd, waiting for /readyz.
   */
  async restart(): Promise<void> {
    await this.#apiserver?.stop(APISERVER_GRACE_MS);
    this.#apiserver = undefined;
    await this.#launch();
  }

  /**
   * Compacts etcd at its current revision, so that every older resourceVersion is gone: a watch or a
   * paginated list resumed from one fails with 410 Gone. Returns the compacted revision.
   */
  async compact(): Promise<number> {
    // etcd's gRPC gateway: int64 fields are JSON strings.
    const rangeRes = await fetch(`${this.etcdUrl}/v3/kv/range`, {
      method: "POST",
      body: JSON.stringify({ key: btoa("\0"), count_only: true }),
    });
    const range = await rangeRes.json() as { header?: { revision?: string } };
    const revision = Number(range.header?.revision);
    if (!Number.isSafeInteger(revision) || revision <= 0) {
      throw new Error(`etcd returned no revision: ${JSON.stringify(range)}`);
    }
    const res = await fetch(`${this.etcdUrl}/v3/kv/compaction`, {
      method: "POST",
      body: JSON.stringify({ revision: String(revision), physical: true }),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`etcd compaction at ${revision} failed (HTTP ${res.status}): ${text}`);
    return revision;
  }

  /** The last lines of the kube-apiserver log, for failure messages. */
  logTail(lines = 30): Promise<string> {
    return this.#apiserver?.tail(lines) ?? Promise.resolve("");
  }

  /** Stops kube-apiserver and etcd by PID and removes the temporary directory. Safe to call twice. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    try {
      await this.#apiserver?.stop(APISERVER_GRACE_MS);
      await this.#etcd.stop();
    } finally {
      this.#http.close();
      await Deno.remove(this.dir, { recursive: true }).catch(() => {});
    }
  }

  /** Same as {@linkcode stop}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}

/** Polls `probe` until it is true, failing early with the log tail if the process exits. */
async function waitFor(
  what: string,
  timeoutMs: number,
  proc: LoggedProcess,
  probe: () => Promise<boolean>,
): Promise<void> {
  let exited: Deno.CommandStatus | undefined;
  proc.status.then((s) => exited = s);
  const deadline = Date.now() + timeoutMs;
  let lastError = "";
  while (Date.now() < deadline) {
    if (exited) {
      throw new Error(`${what}: process exited with ${exited.code}:\n${await proc.tail()}`);
    }
    try {
      if (await probe()) return;
    } catch (error) {
      lastError = error instanceof Error ? error.message : String(error);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} not ready within ${timeoutMs} ms (${lastError}):\n${await proc.tail()}`);
}

/**
 * `openssl req` options for a new P-256 key in `file`: quick to generate, and accepted by kube-apiserver for
 * serving, client certificates and ServiceAccount tokens.
 */
function newP256Key(file: string): string[] {
  return ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", file];
}

/** Writes a CA, a serving certificate for 127.0.0.1/localhost and the ServiceAccount signing key pair. */
async function writeCredentials(dir: string): Promise<void> {
  await Deno.mkdir(`${dir}/certs`, { recursive: true });
  const valid = ["-days", "2"];
  await run("openssl", [
    "req",
    "-x509",
    ...newP256Key(`${dir}/ca.key`),
    ...["-out", `${dir}/ca.crt`, ...valid, "-subj", "/CN=speaker-test-ca"],
    ...["-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
  ]);
  await run("openssl", [
    "req",
    ...newP256Key(`${dir}/serving.key`),
    ...["-out", `${dir}/serving.csr`, "-subj", "/CN=kube-apiserver"],
  ]);
  await Deno.writeTextFile(
    `${dir}/serving.ext`,
    [
      "basicConstraints=CA:FALSE",
      "keyUsage=critical,digitalSignature",
      "extendedKeyUsage=serverAuth",
      "subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes.default.svc",
      "",
    ].join("\n"),
  );
  await run("openssl", [
    ...["x509", "-req", "-in", `${dir}/serving.csr`, "-CA", `${dir}/ca.crt`, "-CAkey", `${dir}/ca.key`],
    ...["-CAcreateserial", "-out", `${dir}/serving.crt`, ...valid, "-extfile", `${dir}/serving.ext`],
  ]);
  await run("openssl", [
    "genpkey",
    "-algorithm",
    "EC",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-out",
    `${dir}/sa.key`,
  ]);
  await run("openssl", ["pkey", "-in", `${dir}/sa.key`, "-pubout", "-out", `${dir}/sa.pub`]);
}

/**
 * A kubeconfig (JSON is valid YAML) for one user: `credentials` is the kubeconfig `user` entry, such as
 * `{ token }` or client certificate data.
 */
function kubeconfigFor(
  server: string,
  caPem: string,
  user: string,
  credentials: Record<string, string>,
): string {
  const cluster = { server, "certificate-authority-data": btoa(caPem) };
  return JSON.stringify(
    {
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name: "speaker-test", cluster }],
      users: [{ name: user, user: credentials }],
      contexts: [{ name: user, context: { cluster: "speaker-test", user } }],
      "current-context": user,
    },
    null,
    2,
  );
}

/**
 * Polls `condition` every 20 ms until it holds, failing after `timeoutMs` with `what` and the last value
 * `describe` gives (bounded, like every loop in the tests).
 */
export async function eventually(
  what: string,
  condition: () => boolean,
  timeoutMs = 15_000,
  describe: () => unknown = () => "",
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) {
      throw new Error(
        `Timed out after ${timeoutMs} ms waiting for ${what}; state: ${JSON.stringify(describe())}`,
      );
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}
