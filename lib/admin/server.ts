/**
 * The admin HTTP server on `--pprof-port` (default 10667): `/metrics` (Prometheus text), `/livez`
 * (event loop responsive), `/readyz` (configuration valid and Kubernetes caches synced), `/healthz`
 * and `/status` (JSON). A thin shell: values come from the injected registry and callbacks, and every
 * response body passes the redaction guard.
 *
 * @example
 * ```ts
 * import { startAdminServer } from "./server.ts";
 * import { Registry } from "./prometheus_registry.ts";
 * const server = await startAdminServer({
 *   hostname: "127.0.0.1",
 *   port: 0,
 *   registry: new Registry(),
 *   readiness: () => ({ ready: true, reasons: [] }),
 *   status: () => ({ speaker: {} as never, peers: [], prefixes: [] }),
 * });
 * await (await fetch(`http://127.0.0.1:${server.port}/livez`)).text(); // "ok\n"
 * await server.shutdown();
 * ```
 *
 * @module
 */
import { EventLoopLagProbe } from "./event_loop_lag.ts";
import { EXPOSITION_CONTENT_TYPE, type Registry } from "./prometheus_registry.ts";
import type { Readiness } from "./readiness.ts";
import type { StatusReport } from "./status_report.ts";
import { Redactor } from "../log/redaction.ts";

/** What the admin server serves. */
export interface AdminServerOptions {
  /** Listen address; kube-ovn-speaker binds 0.0.0.0. */
  readonly hostname: string;
  /** Listen port; 0 picks a free one (see {@linkcode AdminServer.port}). */
  readonly port: number;
  readonly registry: Registry;
  /** Called per /readyz request: ready only when the configuration is valid and the caches synced. */
  readiness(): Readiness;
  /** Called per /status request. */
  status(): StatusReport | Promise<StatusReport>;
  /** Guard applied to every body; register the password here. */
  readonly redactor?: Redactor;
  /** Liveness limit on event-loop lag; default 5000 ms, sampled every 500 ms. */
  readonly maxLagMs?: number;
}

/** A running admin server. */
export interface AdminServer {
  readonly hostname: string;
  readonly port: number;
  /** Stops listening and the lag timer. */
  shutdown(): Promise<void>;
}

const TEXT = "text/plain; charset=utf-8";

/** Starts the admin server; resolves once it listens (rejects if the address cannot be bound). */
export function startAdminServer(options: AdminServerOptions): Promise<AdminServer> {
  const redactor = options.redactor ?? new Redactor();
  const probe = new EventLoopLagProbe({ intervalMs: 500, maxLagMs: options.maxLagMs ?? 5000 });
  let due = Date.now() + probe.intervalMs;
  const timer = setInterval(() => {
    const now = Date.now();
    probe.record(due, now);
    due = now + probe.intervalMs;
  }, probe.intervalMs);
  // The probe must not keep the process alive on its own.
  Deno.unrefTimer(timer);

  const respond = (status: number, body: string, contentType = TEXT) =>
    new Response(redactor.redact(body), { status, headers: { "content-type": contentType } });

  const handler = async (request: Request): Promise<Response> => {
    if (request.method !== "GET" && request.method !== "HEAD") {
      return new Response("method not allowed\n", { status: 405, headers: { allow: "GET, HEAD" } });
    }
    const path = new URL(request.url).pathname;
    try {
      switch (path) {
        case "/metrics":
          return respond(200, await options.registry.expose(), EXPOSITION_CONTENT_TYPE);
        case "/livez":
        case "/healthz": {
          const verdict = probe.verdict(Date.now());
          return verdict.live ? respond(200, "ok\n") : respond(503, `${verdict.reason}\n`);
        }
        case "/readyz": {
          const readiness = options.readiness();
          if (readiness.ready) return respond(200, "ok\n");
          const reasons = readiness.reasons.length > 0 ? readiness.reasons : ["not ready"];
          return respond(503, reasons.map((r) => `${r}\n`).join(""));
        }
        case "/status":
          return respond(200, JSON.stringify(await options.status(), null, 2) + "\n", "application/json");
        default:
          return respond(404, "not found; try /metrics, /status, /livez, /readyz or /healthz\n");
      }
    } catch (error) {
      return respond(500, `${path} failed: ${error instanceof Error ? error.message : String(error)}\n`);
    }
  };

  return new Promise((resolve, reject) => {
    try {
      const server = Deno.serve({
        hostname: options.hostname,
        port: options.port,
        onListen: (addr) => {
          resolve({
            hostname: addr.hostname,
            port: addr.port,
            shutdown: async () => {
              clearInterval(timer);
              await server.shutdown();
            },
          });
        },
        onError: (error) => respond(500, `internal error: ${error instanceof Error ? error.message : ""}\n`),
      }, handler);
    } catch (error) {
      clearInterval(timer);
      reject(error);
    }
  });
}
