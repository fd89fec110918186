/**
 * Transport failures as values with a stable `code`, and the translation of Deno's and Node's socket
 * errors into the same short reasons libc failures get (`connection refused`).
 *
 * @module
 */

import { Errno, errnoMessage, OsError } from "./libc.ts";
import { formatEndpoint } from "./socket_address.ts";

/**
 * A connect attempt that failed: `Connect to 10.99.0.2:179 failed: connection refused`. `code` is the errno
 * name (`ECONNREFUSED`, `ETIMEDOUT`, ...) or `EABORTED` when the caller's signal aborted it.
 */
export class ConnectError extends Error {
  /** `ECONNREFUSED`, `ETIMEDOUT`, `EHOSTUNREACH`, `EABORTED`, ... */
  readonly code: string;
  /** The peer's address in canonical text. */
  readonly remoteAddress: string;
  /** The peer's port. */
  readonly remotePort: number;
  /** `reason` is the short lower-case cause (`connection refused`). */
  constructor(
    remoteAddress: string,
    remotePort: number,
    code: string,
    reason: string,
    options?: ErrorOptions,
  ) {
    super(`Connect to ${formatEndpoint(remoteAddress, remotePort)} failed: ${reason}`, options);
    this.name = "ConnectError";
    this.code = code;
    this.remoteAddress = remoteAddress;
    this.remotePort = remotePort;
  }
}

/**
 * An established connection that failed: `Connection with 10.99.0.2:179 failed: connection reset`.
 */
export class ConnectionError extends Error {
  /** `ECONNRESET`, `EPIPE`, `ECALLBACK` (the data receiver threw), ... or `EUNKNOWN`. */
  readonly code: string;
  /** `reason` is the short lower-case cause (`connection reset`). */
  constructor(
    remoteAddress: string,
    remotePort: number,
    code: string,
    reason: string,
    options?: ErrorOptions,
  ) {
    super(`Connection with ${formatEndpoint(remoteAddress, remotePort)} failed: ${reason}`, options);
    this.name = "ConnectionError";
    this.code = code;
  }
}

/** The error a connection closes with when its data receiver threw `err`. */
export function callbackError(remoteAddress: string, remotePort: number, err: Error): ConnectionError {
  return new ConnectionError(remoteAddress, remotePort, "ECALLBACK", `data receiver threw: ${err.message}`, {
    cause: err,
  });
}

const EXTRA_REASONS: Record<string, string> = {
  EPIPE: "broken pipe",
  ECONNRESET: "connection reset",
};

/**
 * A `{ code, reason }` for any socket error: an {@linkcode OsError}, a `Deno.errors.*` (which carry an errno
 * name in `code`), or a Node-style error from `node:net`.
 */
export function describeSocketError(err: unknown): { code: string; reason: string } {
  if (err instanceof OsError) return { code: err.code, reason: errnoMessage(err.errno) };
  const code = typeof (err as { code?: unknown })?.code === "string" ? (err as { code: string }).code : "";
  if (code in Errno) return { code, reason: errnoMessage(Errno[code as keyof typeof Errno]) };
  if (code in EXTRA_REASONS) return { code, reason: EXTRA_REASONS[code] };
  if (err instanceof Deno.errors.ConnectionReset) return { code: "ECONNRESET", reason: "connection reset" };
  if (err instanceof Deno.errors.BrokenPipe) return { code: "EPIPE", reason: "broken pipe" };
  if (err instanceof Deno.errors.ConnectionRefused) {
    return { code: "ECONNREFUSED", reason: "connection refused" };
  }
  if (err instanceof Deno.errors.TimedOut) return { code: "ETIMEDOUT", reason: "timed out" };
  if (err instanceof Deno.errors.AddrNotAvailable) {
    return { code: "EADDRNOTAVAIL", reason: "address not available" };
  }
  if (err instanceof Deno.errors.AddrInUse) return { code: "EADDRINUSE", reason: "address in use" };
  if (err instanceof Deno.errors.PermissionDenied) return { code: "EACCES", reason: "permission denied" };
  const message = err instanceof Error ? err.message : String(err);
  // Deno messages end in "(os error N)"; keep the words, drop the suffix.
  return { code: code || "EUNKNOWN", reason: message.replace(/\s*\(os error \d+\)$/, "").toLowerCase() };
}

/** A listener that could not be opened: `Listen on 0.0.0.0:179 failed: address in use`. */
export class ListenError extends Error {
  /** `EADDRINUSE`, `EACCES`, ... */
  readonly code: string;
  /** `reason` is the short lower-case cause (`address in use`). */
  constructor(address: string, port: number, code: string, reason: string, options?: ErrorOptions) {
    super(`Listen on ${formatEndpoint(address, port)} failed: ${reason}`, options);
    this.name = "ListenError";
    this.code = code;
  }
}
