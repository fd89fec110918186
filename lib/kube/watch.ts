/**
 * The list/watch loop for one resource: a paginated LIST, then a WATCH from the list's resourceVersion
 * with bookmarks and a server-side timeout, resumed from the last resourceVersion seen after a timeout or
 * a dropped connection. On 410 Gone it lists again and emits only the real differences against what it
 * holds, so nothing still present is ever deleted and re-added. Only compact records made by `convert`
 * are kept, never whole objects.
 *
 * @example
 * ```ts
 * import { KubeClient } from "./client.ts";
 * import { PODS } from "./resources.ts";
 * const client = await KubeClient.load({ kubeconfig: "admin.kubeconfig" });
 * const pods = new ResourceWatch({
 *   client,
 *   resource: PODS,
 *   fieldSelector: "spec.hostNetwork=false",
 *   convert: (pod) => pod.metadata?.annotations?.["ovn.kubernetes.io/bgp"] ?? { skip: "not annotated" },
 *   onEvent: (event) => console.log(event),
 * });
 * pods.start();
 * await pods.synced;
 * await pods.stop();
 * ```
 *
 * @module
 */

import type { KubeRequester } from "./client.ts";
import { collectionPath, objectKey, resourceName, type ResourceType } from "./resources.ts";

/** The parts of a Kubernetes object the loop itself reads; `convert` gets the whole object. */
export interface KubeObject {
  /** API version. */
  apiVersion?: string;
  /** Kind. */
  kind?: string;
  /** Object metadata. */
  metadata?: {
    name?: string;
    namespace?: string;
    resourceVersion?: string;
    uid?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    deletionTimestamp?: string;
    [field: string]: unknown;
  };
  [field: string]: unknown;
}

/** What `convert` returns for an object the caller does not keep, with the reason (for counters/logs). */
export interface Skip {
  /** Why the object is not kept. */
  skip: string;
}

/** An event of the loop. `record` of a delete is the record last held. */
export type WatchEvent<R> =
  | { type: "upsert"; key: string; record: R }
  | { type: "delete"; key: string; record: R }
  | { type: "synced" };

/** Options of {@linkcode ResourceWatch}. */
export interface ResourceWatchOptions<R> {
  /** The API server connection, normally a {@linkcode KubeClient}. */
  client: KubeRequester;
  /** What to list and watch. */
  resource: ResourceType;
  /** Only this namespace (namespaced resources); default all namespaces. */
  namespace?: string;
  /** Server-side field selector, e.g. `spec.hostNetwork=false` for Pods. */
  fieldSelector?: string;
  /** Server-side label selector. */
  labelSelector?: string;
  /**
   * Turns an object into the compact record kept, or `{ skip: reason }` to keep nothing (an object held
   * before is then deleted). Records must not themselves have a string `skip` field. Must not throw; if it
   * does, the object counts as skipped and `onError` hears about it.
   */
  convert: (object: KubeObject) => R | Skip;
  /** Record equality deciding whether an update is real; default: equal JSON. */
  equals?: (a: R, b: R) => boolean;
  /** Receives every upsert and delete in order, and `synced` once after the first complete list. */
  onEvent: (event: WatchEvent<R>) => void;
  /** Receives every error; the loop keeps retrying with backoff. */
  onError?: (error: Error) => void;
  /** Objects per LIST page (default 500). */
  pageSize?: number;
  /**
   * Server-side watch timeout in seconds (default 300). Each watch asks for a random value between this and
   * twice this, as client-go does, so that many watchers do not reconnect in step.
   */
  timeoutSeconds?: number;
  /** Backoff after errors: the first delay (default 500 ms) and the cap (default 30,000 ms). */
  backoff?: BackoffOptions;
  /** Source of randomness in [0, 1) for jitter (default Math.random); tests pass a fixed one. */
  random?: () => number;
}

/** Exponential backoff settings. */
export interface BackoffOptions {
  /** First delay in milliseconds. */
  initialMs: number;
  /** Largest delay in milliseconds. */
  maxMs: number;
}

/** Default backoff: 0.5 s doubling up to 30 s. */
export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 500, maxMs: 30_000 };

/**
 * Delay before retry number `attempt` (0-based): exponential up to the cap, with "equal jitter" (half fixed,
 * half random) so retries spread out but never collapse to zero. A `Retry-After` from the server (429, 503)
 * wins when it asks for longer.
 *
 * @example
 * ```ts
 * backoffDelay(3, DEFAULT_BACKOFF, () => 0.5); // 3000
 * ```
 */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions,
  random: () => number,
  retryAfterMs?: number,
): number {
  const ceiling = Math.min(options.maxMs, options.initialMs * 2 ** Math.min(attempt, 30));
  const delay = Math.round(ceiling / 2 + (ceiling / 2) * random());
  return retryAfterMs !== undefined && retryAfterMs > delay ? Math.min(retryAfterMs, 300_000) : delay;
}

/**
 * Parses a `Retry-After` header (seconds, or an HTTP date) into milliseconds from `now`.
 *
 * @example
 * ```ts
 * parseRetryAfter("2", 0); // 2000
 * ```
 */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (value === null || value.trim() === "") return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** An HTTP error from the API server, with the verb and resource it was for. */
export class KubeApiError extends Error {
  /** HTTP status, or the `code` of a Status object in a watch stream. */
  readonly status: number;
  /** `list` or `watch`. */
  readonly verb: string;
  /** Resource name such as `subnets.kubeovn.io`. */
  readonly resource: string;
  /** Delay the server asked for (429, 503), in milliseconds. */
  readonly retryAfterMs: number | undefined;

  /** Creates the error; `message` is complete and shown as is. */
  constructor(message: string, status: number, verb: string, resource: string, retryAfterMs?: number) {
    super(message);
    this.name = "KubeApiError";
    this.status = status;
    this.verb = verb;
    this.resource = resource;
    this.retryAfterMs = retryAfterMs;
  }
}

/** 403: the credentials lack `verb` on the resource; the message says which RBAC rule to grant. */
export class ForbiddenError extends KubeApiError {
  /** Creates the error for one verb and resource type. */
  constructor(verb: string, resource: ResourceType, serverMessage: string) {
    const group = resource.group === "" ? `the core group ("")` : `group "${resource.group}"`;
    super(
      `Forbidden: cannot ${verb} ${
        resourceName(resource)
      }: grant "${verb}" on "${resource.plural}" in ${group}` +
        (serverMessage ? ` (API server: ${serverMessage})` : ""),
      403,
      verb,
      resourceName(resource),
    );
    this.name = "ForbiddenError";
  }
}

/** 410 Gone: the resourceVersion we resume from was compacted away; the loop lists again. */
class ExpiredError extends Error {
  constructor(what: string) {
    super(`Expired: ${what}`);
    this.name = "ExpiredError";
  }
}

/** Counters of what the loop did, for metrics and tests. */
export interface WatchStats {
  /** Complete LISTs (the first one and every relist). */
  lists: number;
  /** Relists caused by 410 Gone. */
  expired: number;
  /** WATCH requests started. */
  watches: number;
  /** Watches that ended by the server's timeout or a closed stream and were resumed. */
  resumes: number;
  /** Errors (each followed by a backoff). */
  errors: number;
  /** Objects `convert` skipped. */
  skipped: number;
  /** Bookmarks received. */
  bookmarks: number;
}

interface ListPage {
  metadata?: { resourceVersion?: string; continue?: string };
  items?: KubeObject[];
}

/** Bound on one LIST page request, body included. */
const LIST_PAGE_TIMEOUT_MS = 60_000;

interface Status {
  kind?: string;
  code?: number;
  reason?: string;
  message?: string;
}

const defaultEquals = (a: unknown, b: unknown): boolean => a === b || JSON.stringify(a) === JSON.stringify(b);

function isSkip(value: unknown): value is Skip {
  return typeof value === "object" && value !== null && typeof (value as Skip).skip === "string";
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
  });
}

/** The list/watch loop of one resource; see the module documentation. */
export class ResourceWatch<R> {
  readonly #options: ResourceWatchOptions<R>;
  readonly #records = new Map<string, R>();
  readonly #abort = new AbortController();
  readonly #equals: (a: R, b: R) => boolean;
  readonly #random: () => number;
  readonly #backoff: BackoffOptions;
  readonly #name: string;
  #resourceVersion = "";
  #loop: Promise<void> | undefined;
  #resolveSynced!: () => void;
  #stats: WatchStats = { lists: 0, expired: 0, watches: 0, resumes: 0, errors: 0, skipped: 0, bookmarks: 0 };

  /** Resolves after the first complete LIST has been emitted (never rejects; errors go to `onError`). */
  readonly synced: Promise<void>;

  /** Creates the loop; nothing happens until {@linkcode start}. */
  constructor(options: ResourceWatchOptions<R>) {
    this.#options = options;
    this.#equals = options.equals ?? defaultEquals;
    this.#random = options.random ?? Math.random;
    this.#backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.#name = resourceName(options.resource);
    this.synced = new Promise((resolve) => this.#resolveSynced = resolve);
  }

  /** The records held, by key (`namespace/name` or `name`). */
  get records(): ReadonlyMap<string, R> {
    return this.#records;
  }

  /** The last resourceVersion seen (list, event or bookmark). */
  get resourceVersion(): string {
    return this.#resourceVersion;
  }

  /** What the loop has done so far. */
  get stats(): Readonly<WatchStats> {
    return { ...this.#stats };
  }

  /** Starts the loop in the background. */
  start(): void {
    if (this.#loop) return;
    this.#loop = this.#run();
  }

  /** Stops the loop, aborting any request in flight, and waits for it to end. */
  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#loop;
  }

  async #run(): Promise<void> {
    const signal = this.#abort.signal;
    let attempt = 0;
    let needList = true;
    let expiredInARow = 0;
    while (!signal.aborted) {
      try {
        if (needList) {
          await this.#list(signal);
          needList = false;
          attempt = 0;
        }
        const started = Date.now();
        const progressed = await this.#watch(signal);
        if (signal.aborted) break;
        this.#stats.resumes++;
        expiredInARow = 0;
        if (progressed || Date.now() - started > 1000) {
          attempt = 0;
        } else if (!signal.aborted) {
          // A watch closed at once with nothing in it: do not spin against such a server.
          await abortableSleep(backoffDelay(attempt++, this.#backoff, this.#random), signal);
        }
      } catch (error) {
        if (signal.aborted) break;
        if (error instanceof ExpiredError) {
          // Not a failure: the server compacted past us. List again at once and diff; only a server that
          // keeps expiring what it just listed is backed off from.
          this.#stats.expired++;
          needList = true;
          if (expiredInARow++ > 0) {
            await abortableSleep(backoffDelay(attempt++, this.#backoff, this.#random), signal);
          }
          continue;
        }
        this.#stats.errors++;
        const err = error instanceof Error ? error : new Error(String(error));
        this.#report(err);
        const retryAfter = err instanceof KubeApiError ? err.retryAfterMs : undefined;
        await abortableSleep(backoffDelay(attempt++, this.#backoff, this.#random, retryAfter), signal);
      }
    }
  }

  #report(error: Error): void {
    try {
      this.#options.onError?.(error);
    } catch {
      // A failing error listener must not stop the loop.
    }
  }

  #emit(event: WatchEvent<R>): void {
    try {
      this.#options.onEvent(event);
    } catch (error) {
      this.#report(
        new Error(`Event listener of ${this.#name} failed: ${(error as Error)?.message ?? error}`),
      );
    }
  }

  #query(extra: Record<string, string>): string {
    const params = new URLSearchParams();
    if (this.#options.fieldSelector) params.set("fieldSelector", this.#options.fieldSelector);
    if (this.#options.labelSelector) params.set("labelSelector", this.#options.labelSelector);
    for (const [k, v] of Object.entries(extra)) params.set(k, v);
    return `${collectionPath(this.#options.resource, this.#options.namespace)}?${params}`;
  }

  async #failure(res: Response, verb: string): Promise<Error> {
    let status: Status = {};
    try {
      status = await res.json() as Status;
    } catch {
      // Not a Status object (a proxy's error page, for instance).
    }
    const message = status.message ?? res.statusText;
    if (res.status === 403) return new ForbiddenError(verb, this.#options.resource, message);
    if (res.status === 410) return new ExpiredError(`${verb} ${this.#name}: ${message}`);
    if (res.status === 404) {
      return new KubeApiError(
        `Not found: the API server does not serve ${this.#name} (${verb}); is its CustomResourceDefinition ` +
          `installed?`,
        404,
        verb,
        this.#name,
      );
    }
    if (res.status === 401) {
      return new KubeApiError(
        `Unauthorized: the API server rejected the credentials for ${verb} ${this.#name} (expired or revoked ` +
          `token?)`,
        401,
        verb,
        this.#name,
      );
    }
    const retryAfter = parseRetryAfter(res.headers.get("Retry-After"), Date.now());
    const text = `Cannot ${verb} ${this.#name}: HTTP ${res.status} ${status.reason ?? ""} ${message}`;
    return new KubeApiError(text.replace(/\s+/g, " ").trim(), res.status, verb, this.#name, retryAfter);
  }

  /** Reads one object into a record, counting skips. */
  #convert(object: KubeObject): R | undefined {
    let converted: R | Skip;
    try {
      converted = this.#options.convert(object);
    } catch (error) {
      const key = objectKey(this.#options.resource, object.metadata ?? {});
      this.#report(new Error(`Cannot convert ${this.#name} ${key}: ${(error as Error)?.message ?? error}`));
      converted = { skip: "conversion failed" };
    }
    if (isSkip(converted)) {
      this.#stats.skipped++;
      return undefined;
    }
    return converted;
  }

  /** Applies the current state of one object: upsert on a real change, delete if it no longer qualifies. */
  #apply(key: string, record: R | undefined): void {
    const held = this.#records.get(key);
    if (record === undefined) {
      if (held !== undefined || this.#records.has(key)) {
        this.#records.delete(key);
        this.#emit({ type: "delete", key, record: held as R });
      }
      return;
    }
    if (this.#records.has(key) && this.#equals(held as R, record)) return;
    this.#records.set(key, record);
    this.#emit({ type: "upsert", key, record });
  }

  /** One LIST page, or the failed response; bounded in time so a hung connection cannot stall the loop. */
  async #page(query: Record<string, string>, signal: AbortSignal): Promise<ListPage | Response> {
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), LIST_PAGE_TIMEOUT_MS);
    try {
      const res = await this.#options.client.request(this.#query(query), {
        signal: AbortSignal.any([signal, deadline.signal]),
      });
      if (!res.ok) return res;
      return await res.json() as ListPage;
    } catch (error) {
      if (deadline.signal.aborted && !signal.aborted) {
        throw new Error(`List of ${this.#name} took longer than ${LIST_PAGE_TIMEOUT_MS} ms`);
      }
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  async #list(signal: AbortSignal): Promise<void> {
    const pageSize = String(this.#options.pageSize ?? 500);
    const fresh = new Map<string, R>();
    let token = "";
    let resourceVersion = "";
    let restarts = 0;
    while (!signal.aborted) {
      const page = await this.#page(
        token ? { limit: pageSize, continue: token } : { limit: pageSize },
        signal,
      );
      if (page instanceof Response) {
        const error = await this.#failure(page, "list");
        // An expired continue token (compaction between pages): start this list over, a few times at most.
        if (error instanceof ExpiredError && token !== "" && restarts++ < 3) {
          this.#stats.expired++;
          fresh.clear();
          token = "";
          continue;
        }
        throw error;
      }
      for (const item of page.items ?? []) {
        const record = this.#convert(item);
        if (record !== undefined) fresh.set(objectKey(this.#options.resource, item.metadata ?? {}), record);
      }
      token = page.metadata?.continue ?? "";
      resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
      if (token === "") break;
    }
    if (signal.aborted) return;

    // Diff against what is held: only real changes become events, so a relist after 410 withdraws nothing
    // that still exists.
    for (const key of [...this.#records.keys()]) {
      if (!fresh.has(key)) this.#apply(key, undefined);
    }
    for (const [key, record] of fresh) this.#apply(key, record);
    this.#resourceVersion = resourceVersion;
    this.#stats.lists++;
    if (this.#stats.lists === 1) {
      this.#emit({ type: "synced" });
      this.#resolveSynced();
    }
  }

  /**
   * One WATCH from the last resourceVersion until the server ends it or the connection drops. Returns
   * whether anything arrived (then the next failure starts a fresh backoff).
   */
  async #watch(signal: AbortSignal): Promise<boolean> {
    const base = this.#options.timeoutSeconds ?? 300;
    const timeoutSeconds = Math.max(1, Math.floor(base + base * this.#random()));
    // A dead TCP connection without a reset would otherwise hang here forever.
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), (timeoutSeconds + 30) * 1000);
    try {
      return await this.#watchUntil(timeoutSeconds, AbortSignal.any([signal, deadline.signal]), signal);
    } finally {
      clearTimeout(timer);
    }
  }

  async #watchUntil(timeoutSeconds: number, guard: AbortSignal, signal: AbortSignal): Promise<boolean> {
    this.#stats.watches++;
    const res = await this.#options.client.request(
      this.#query({
        watch: "1",
        allowWatchBookmarks: "true",
        resourceVersion: this.#resourceVersion,
        timeoutSeconds: String(timeoutSeconds),
      }),
      { signal: guard },
    );
    if (!res.ok) throw await this.#failure(res, "watch");
    if (!res.body) return false;
    let progressed = false;
    let buffer = "";
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    try {
      while (true) {
        let chunk: ReadableStreamReadResult<string>;
        try {
          chunk = await reader.read();
        } catch (error) {
          if (signal.aborted) return progressed;
          if (guard.aborted) return progressed; // Our own guard: resume like a server timeout.
          throw new Error(`Watch of ${this.#name} dropped: ${(error as Error)?.message ?? error}`);
        }
        if (chunk.done) break;
        buffer += chunk.value;
        let newline: number;
        while ((newline = buffer.indexOf("\n")) >= 0) {
          const line = buffer.slice(0, newline).trim();
          buffer = buffer.slice(newline + 1);
          if (line === "") continue;
          this.#event(line);
          progressed = true;
        }
      }
    } finally {
      reader.cancel().catch(() => {});
    }
    return progressed;
  }

  #event(line: string): void {
    let event: { type?: string; object?: KubeObject & Status };
    try {
      event = JSON.parse(line);
    } catch {
      throw new Error(`Watch of ${this.#name} sent a line that is not JSON: ${line.slice(0, 200)}`);
    }
    const object = event.object ?? {};
    const rv = object.metadata?.resourceVersion;
    switch (event.type) {
      case "ADDED":
      case "MODIFIED": {
        this.#apply(objectKey(this.#options.resource, object.metadata ?? {}), this.#convert(object));
        break;
      }
      case "DELETED": {
        this.#apply(objectKey(this.#options.resource, object.metadata ?? {}), undefined);
        break;
      }
      case "BOOKMARK":
        this.#stats.bookmarks++;
        break;
      case "ERROR": {
        const status = object as Status;
        if (status.code === 410) throw new ExpiredError(`watch ${this.#name}: ${status.message ?? ""}`);
        if (status.code === 403) {
          throw new ForbiddenError("watch", this.#options.resource, status.message ?? "");
        }
        throw new KubeApiError(
          `Watch of ${this.#name} failed: ${status.code ?? ""} ${status.reason ?? ""} ${status.message ?? ""}`
            .replace(/\s+/g, " ").trim(),
          status.code ?? 0,
          "watch",
          this.#name,
        );
      }
      default:
        throw new Error(`Watch of ${this.#name} sent an unknown event type ${event.type}`);
    }
    if (rv) this.#resourceVersion = rv;
  }
}
