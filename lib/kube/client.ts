/**
 * Access to the Kubernetes API server: configuration, authentication and TLS through
 * `@kubernetes/client-node`'s KubeConfig (in-cluster or `--kubeconfig PATH`), requests through Deno's
 * `fetch` with an HTTP client that trusts the cluster CA.
 *
 * @example
 * ```ts
 * const client = await KubeClient.load({ kubeconfig: "/etc/kubernetes/admin.conf" });
 * const res = await client.request("/api/v1/pods?limit=1");
 * console.log(res.status, await res.json());
 * client.close();
 * ```
 *
 * @module
 */

import { KubeConfig } from "@kubernetes/client-node";

/** Where the ServiceAccount credentials are mounted in a Pod. */
export const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

/** Options of {@linkcode KubeClient.load}. */
export interface KubeClientOptions {
  /** Path of a kubeconfig file (its current context is used). Without it, the in-cluster configuration. */
  kubeconfig?: string;
  /**
   * Prefix of the ServiceAccount mount for the in-cluster configuration, so tests can point at a directory
   * laid out like `/var/run/secrets/kubernetes.io/serviceaccount`. Default `""`.
   */
  inClusterRoot?: string;
  /** Environment to read `KUBERNETES_SERVICE_HOST`/`_PORT` from (default `Deno.env`). */
  env?: { get(name: string): string | undefined };
}

/** Options of one {@linkcode KubeClient.request}. */
export interface KubeRequestInit {
  /** HTTP method, default GET. */
  method?: string;
  /** Request body (JSON text). */
  body?: string;
  /** Content-Type of the body. */
  contentType?: string;
  /** Aborts the request and its body stream. */
  signal?: AbortSignal;
}

/** What the watch loop needs of a client: one authenticated request. {@linkcode KubeClient} is one. */
export interface KubeRequester {
  /** Sends a request to `path` (starting with `/`); HTTP errors are responses, network failures reject. */
  request(path: string, init?: KubeRequestInit): Promise<Response>;
}

/**
 * The bearer token of a token file (the in-cluster ServiceAccount token), re-read as soon as the file
 * changes: kubelet rotates projected tokens by swapping a symlink, which changes the file's identity and
 * mtime. A change of those is checked on every request (one stat), and the file is re-read at least every
 * minute whatever the stat says, as client-go does.
 */
class RotatingTokenFile {
  readonly #path: string;
  #token = "";
  #stamp = "";
  #readAt = 0;

  constructor(path: string) {
    this.#path = path;
  }

  async token(): Promise<string> {
    const info = await Deno.stat(this.#path);
    const stamp = `${info.ino}:${info.mtime?.getTime()}:${info.size}`;
    if (stamp !== this.#stamp || Date.now() - this.#readAt > 60_000) {
      this.#token = (await Deno.readTextFile(this.#path)).trim();
      this.#stamp = stamp;
      this.#readAt = Date.now();
    }
    return this.#token;
  }
}

function pemText(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "string") return value;
  if (value instanceof Uint8Array) return new TextDecoder().decode(value);
  return String(value);
}

/** An authenticated connection to one API server. */
export class KubeClient implements KubeRequester {
  /** Base URL of the API server, e.g. `https://10.96.0.1:443`. */
  readonly server: string;
  readonly #config: KubeConfig;
  readonly #http: Deno.HttpClient;
  readonly #tokenFile: RotatingTokenFile | undefined;

  private constructor(config: KubeConfig, server: string, http: Deno.HttpClient, tokenFile?: string) {
    this.#config = config;
    this.server = server.replace(/\/+$/, "");
    this.#http = http;
    this.#tokenFile = tokenFile === undefined ? undefined : new RotatingTokenFile(tokenFile);
  }

  /**
   * Loads the configuration: the kubeconfig file when given, otherwise the in-cluster configuration
   * (`KUBERNETES_SERVICE_HOST`, `KUBERNETES_SERVICE_PORT`, the ServiceAccount token and CA).
   * Throws an error saying what is missing.
   */
  static async load(options: KubeClientOptions = {}): Promise<KubeClient> {
    const config = new KubeConfig();
    if (options.kubeconfig !== undefined) {
      try {
        config.loadFromFile(options.kubeconfig);
      } catch (error) {
        throw new Error(`Cannot load kubeconfig ${options.kubeconfig}: ${(error as Error).message}`);
      }
      return await KubeClient.fromKubeConfig(config);
    }
    const env = options.env ?? Deno.env;
    const host = env.get("KUBERNETES_SERVICE_HOST");
    const port = env.get("KUBERNETES_SERVICE_PORT");
    if (!host || !port) {
      throw new Error(
        "No Kubernetes configuration: pass --kubeconfig PATH, or run in a Pod where KUBERNETES_SERVICE_HOST " +
          "and KUBERNETES_SERVICE_PORT are set",
      );
    }
    const root = options.inClusterRoot ?? "";
    const tokenPath = `${root}${SERVICE_ACCOUNT_DIR}/token`;
    try {
      await Deno.stat(tokenPath);
    } catch {
      throw new Error(`No ServiceAccount token at ${tokenPath}: is automountServiceAccountToken off?`);
    }
    // client-node reads process.env; the same values are passed through when a custom env is given.
    const saved = [Deno.env.get("KUBERNETES_SERVICE_HOST"), Deno.env.get("KUBERNETES_SERVICE_PORT")];
    Deno.env.set("KUBERNETES_SERVICE_HOST", host);
    Deno.env.set("KUBERNETES_SERVICE_PORT", port);
    try {
      config.loadFromCluster(root);
    } finally {
      restoreEnv("KUBERNETES_SERVICE_HOST", saved[0]);
      restoreEnv("KUBERNETES_SERVICE_PORT", saved[1]);
    }
    return await KubeClient.fromKubeConfig(config);
  }

  /** Builds a client from an already loaded KubeConfig (its current context). */
  static async fromKubeConfig(config: KubeConfig): Promise<KubeClient> {
    const cluster = config.getCurrentCluster();
    if (!cluster) throw new Error("The kubeconfig has no current cluster");
    if (cluster.skipTLSVerify) {
      throw new Error(
        `Cluster ${cluster.name}: insecure-skip-tls-verify is not supported; give its CA instead`,
      );
    }
    // The library resolves caFile/caData and client certificate files or data for us.
    const tls: { ca?: unknown; cert?: unknown; key?: unknown; headers?: Record<string, string> } = {
      headers: {},
    };
    try {
      await config.applyToHTTPSOptions(tls);
    } catch (error) {
      throw new Error(`Cannot read the credentials of cluster ${cluster.name}: ${(error as Error).message}`);
    }
    const ca = pemText(tls.ca);
    const cert = pemText(tls.cert);
    const key = pemText(tls.key);
    const options: Deno.CreateHttpClientOptions & Partial<Deno.TlsCertifiedKeyPem> = {};
    if (ca) options.caCerts = [ca];
    if (cert && key) {
      options.cert = cert;
      options.key = key;
    }
    const http = Deno.createHttpClient(options as Deno.CreateHttpClientOptions);
    const user = config.getCurrentUser();
    const tokenFile = user?.authProvider?.name === "tokenFile"
      ? String(user.authProvider.config?.tokenFile ?? "")
      : undefined;
    return new KubeClient(config, cluster.server, http, tokenFile || undefined);
  }

  async #authorization(): Promise<string | undefined> {
    if (this.#tokenFile) return `Bearer ${await this.#tokenFile.token()}`;
    // Static tokens, exec plugins and other auth providers: the library decides, and refreshes them itself.
    const opts: { headers: Record<string, string> } = { headers: {} };
    await this.#config.applyToHTTPSOptions(opts);
    const user = this.#config.getCurrentUser();
    if (user?.username && user.password !== undefined) {
      return `Basic ${btoa(`${user.username}:${user.password}`)}`;
    }
    return opts.headers["Authorization"] ?? opts.headers["authorization"];
  }

  /**
   * Sends a request to `path` (which starts with `/`) and returns the response; the caller reads or cancels
   * its body. Network failures reject; HTTP errors are returned as responses.
   */
  async request(path: string, init: KubeRequestInit = {}): Promise<Response> {
    const headers = new Headers({ Accept: "application/json" });
    const authorization = await this.#authorization();
    if (authorization) headers.set("Authorization", authorization);
    if (init.body !== undefined) headers.set("Content-Type", init.contentType ?? "application/json");
    return await fetch(`${this.server}${path}`, {
      method: init.method ?? "GET",
      headers,
      body: init.body,
      signal: init.signal,
      client: this.#http,
    });
  }

  /** Closes the pooled connections. */
  close(): void {
    this.#http.close();
  }
}

function restoreEnv(name: string, value: string | undefined): void {
  if (value === undefined) Deno.env.delete(name);
  else Deno.env.set(name, value);
}
