/**
 * Structured log lines with a level, a time and a component: key=value text by default, JSON lines on
 * request. Every line passes a redaction guard, so a registered secret is never printed even when it is
 * handed to the logger by mistake. Lines per level are counted for `klog_lines_total`.
 *
 * @example
 * ```ts
 * import { Logger } from "./logger.ts";
 * const lines: string[] = [];
 * const log = new Logger({ sink: { write: (l) => lines.push(l) }, now: () => Date.UTC(2026, 10, 21, 6) });
 * log.info("session", "state change", { peer: "10.99.0.2", from: "OpenConfirm", to: "Established" });
 * // time=2026-11-21T06:00:00.000Z level=info component=session msg="state change" peer=10.99.0.2 from=OpenConfirm to=Established
 * ```
 *
 * @module
 */
import { levelRank, LOG_LEVELS, type LogLevel } from "./level.ts";
import { Redactor, Secret } from "./redaction.ts";

/** Key/value context of a line. */
export type LogFields = Readonly<Record<string, unknown>>;

/** Where finished lines go (each without a trailing newline). */
export interface LogSink {
  write(line: string): void;
}

/** Options of a {@linkcode Logger}. */
export interface LoggerOptions {
  /** Lines less severe than this are dropped; default info. */
  readonly level?: LogLevel;
  /** Default text (key=value). */
  readonly format?: "text" | "json";
  readonly sink: LogSink;
  /** Milliseconds since the epoch; default Date.now. */
  readonly now?: () => number;
  /** Guard shared with other outputs (HTTP); a new one by default. */
  readonly redactor?: Redactor;
}

/** Lines and bytes written per level since start. */
export type LogCounts = Readonly<Record<LogLevel, { readonly lines: number; readonly bytes: number }>>;

/** A {@linkcode Logger} with its component fixed (see {@linkcode Logger.component}). */
export interface ComponentLogger {
  error(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  debug(msg: string, fields?: LogFields): void;
  trace(msg: string, fields?: LogFields): void;
  enabled(level: LogLevel): boolean;
}

const RESERVED = new Set(["time", "level", "component", "msg"]);

/** A structured logger. Create one per process and pass it down. */
export class Logger {
  #level: LogLevel;
  #format: "text" | "json";
  #sink: LogSink;
  #now: () => number;
  #redactor: Redactor;
  #counts: Record<LogLevel, { lines: number; bytes: number }>;

  /** Creates a logger writing to `options.sink`. */
  constructor(options: LoggerOptions) {
    this.#level = options.level ?? "info";
    this.#format = options.format ?? "text";
    this.#sink = options.sink;
    this.#now = options.now ?? Date.now;
    this.#redactor = options.redactor ?? new Redactor();
    this.#counts = Object.fromEntries(LOG_LEVELS.map((l) => [l, { lines: 0, bytes: 0 }])) as Record<
      LogLevel,
      { lines: number; bytes: number }
    >;
  }

  /** The guard used on every line; register secrets here. */
  get redactor(): Redactor {
    return this.#redactor;
  }

  /** Guards `secret` from now on: any occurrence in a line is replaced by `***`. */
  registerSecret(secret: string | Secret | undefined): void {
    this.#redactor.register(secret);
  }

  /** Changes the threshold. */
  setLevel(level: LogLevel): void {
    this.#level = level;
  }

  /** Whether lines of `level` are written (to skip building expensive fields). */
  enabled(level: LogLevel): boolean {
    return levelRank(level) <= levelRank(this.#level);
  }

  /** Something failed and needs attention. */
  error(component: string, msg: string, fields?: LogFields): void {
    this.log("error", component, msg, fields);
  }

  /** Something unexpected that the speaker worked around. */
  warn(component: string, msg: string, fields?: LogFields): void {
    this.log("warn", component, msg, fields);
  }

  /** A normal, noteworthy event (state changes, summaries). */
  info(component: string, msg: string, fields?: LogFields): void {
    this.log("info", component, msg, fields);
  }

  /** Detail for diagnosing (-v=3). */
  debug(component: string, msg: string, fields?: LogFields): void {
    this.log("debug", component, msg, fields);
  }

  /** Per-prefix detail (-v=5). */
  trace(component: string, msg: string, fields?: LogFields): void {
    this.log("trace", component, msg, fields);
  }

  /** Writes one line at `level` if enabled. */
  log(level: LogLevel, component: string, msg: string, fields: LogFields = {}): void {
    if (!this.enabled(level)) return;
    const time = new Date(this.#now()).toISOString();
    const r = this.#redactor;
    // Secrets are removed from the raw values first (nested values get escaped twice when quoted, which
    // would hide them from a scan of the finished line), then from the line itself.
    const clean = r.active ? scrub(fields, r, 0) as LogFields : fields;
    const raw = this.#format === "json"
      ? formatJson(time, level, r.redact(component), r.redact(msg), clean)
      : formatText(time, level, r.redact(component), r.redact(msg), clean);
    const line = this.#redactor.redact(raw);
    const counts = this.#counts[level];
    counts.lines++;
    counts.bytes += line.length + 1;
    this.#sink.write(line);
  }

  /** A logger bound to one component, for the parts that always log under the same name. */
  component(name: string): ComponentLogger {
    return {
      error: (msg, fields) => this.log("error", name, msg, fields),
      warn: (msg, fields) => this.log("warn", name, msg, fields),
      info: (msg, fields) => this.log("info", name, msg, fields),
      debug: (msg, fields) => this.log("debug", name, msg, fields),
      trace: (msg, fields) => this.log("trace", name, msg, fields),
      enabled: (level) => this.enabled(level),
    };
  }

  /** Lines and bytes written per level. */
  counts(): LogCounts {
    return structuredClone(this.#counts);
  }
}

/** A copy of `value` with registered secrets replaced in every string, to a bounded depth. */
function scrub(value: unknown, redactor: Redactor, depth: number): unknown {
  if (typeof value === "string") return redactor.redact(value);
  if (value instanceof Error) return redactor.redact(value.message);
  if (value === null || typeof value !== "object" || value instanceof Secret || value instanceof Date) {
    return value;
  }
  if (depth > 8) return "[nested too deep]";
  if (Array.isArray(value)) return value.map((v) => scrub(v, redactor, depth + 1));
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [redactor.redact(k), scrub(v, redactor, depth + 1)]),
  );
}

function formatText(
  time: string,
  level: LogLevel,
  component: string,
  msg: string,
  fields: LogFields,
): string {
  const parts = [
    `time=${time}`,
    `level=${level}`,
    `component=${quoteText(component)}`,
    `msg=${quoteText(msg)}`,
  ];
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    parts.push(`${fieldKey(key)}=${quoteText(textOf(value))}`);
  }
  return parts.join(" ");
}

function formatJson(
  time: string,
  level: LogLevel,
  component: string,
  msg: string,
  fields: LogFields,
): string {
  const record: Record<string, unknown> = { time, level, component, msg };
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    record[fieldKey(key)] = jsonOf(value);
  }
  return JSON.stringify(record);
}

/** Keys are kept to a safe alphabet; reserved names get a `field_` prefix so they cannot be spoofed. */
function fieldKey(key: string): string {
  const clean = key.replace(/[^A-Za-z0-9_.\-]/g, "_") || "_";
  return RESERVED.has(clean) ? `field_${clean}` : clean;
}

function textOf(value: unknown): string {
  if (value instanceof Secret) return String(value);
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") {
    return String(value);
  }
  if (value === null) return "null";
  if (value instanceof Error) return value.message;
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(textOf).join(",");
  return safeJson(value);
}

function jsonOf(value: unknown): unknown {
  if (value instanceof Secret) return String(value);
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Error) return value.message;
  if (value instanceof Date) return value.toISOString();
  if (typeof value === "function" || typeof value === "symbol") return String(value);
  return JSON.parse(safeJson(value));
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value, (_k, v) => typeof v === "bigint" ? v.toString() : v) ?? "null";
  } catch {
    return JSON.stringify(String(value));
  }
}

/**
 * logfmt quoting: bare when the value has only printable characters other than space, `"`, `=` and
 * `\`; otherwise double-quoted with JSON escapes, so one line stays one line.
 */
function quoteText(value: string): string {
  if (value !== "" && /^[\x21-\x7e\u00a0-\uffff]+$/.test(value) && !/["=\\]/.test(value)) return value;
  return JSON.stringify(value);
}

/**
 * A sink writing to a stream without stalling the event loop: lines are queued and written
 * asynchronously in batches. When the reader falls far behind, lines are dropped and counted rather than
 * buffered without bound. {@linkcode QueuedStreamSink.flushSync} writes what is left at exit.
 */
export class QueuedStreamSink implements LogSink {
  #stream: { write(p: Uint8Array): Promise<number>; writeSync(p: Uint8Array): number };
  #queue: string[] = [];
  #queuedBytes = 0;
  #maxQueuedBytes: number;
  #writing = false;
  #dropped = 0;
  #encoder = new TextEncoder();

  /** Writes to `stream` (default Deno.stderr), keeping at most `maxQueuedBytes` waiting. */
  constructor(
    stream: { write(p: Uint8Array): Promise<number>; writeSync(p: Uint8Array): number } = Deno.stderr,
    maxQueuedBytes = 4 * 1024 * 1024,
  ) {
    this.#stream = stream;
    this.#maxQueuedBytes = maxQueuedBytes;
  }

  /** Lines dropped because the stream was too slow. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Queues one line. */
  write(line: string): void {
    if (this.#queuedBytes + line.length > this.#maxQueuedBytes) {
      this.#dropped++;
      return;
    }
    this.#queue.push(line);
    this.#queuedBytes += line.length + 1;
    if (!this.#writing) void this.#drain();
  }

  async #drain(): Promise<void> {
    this.#writing = true;
    try {
      while (this.#queue.length > 0) {
        let text = "";
        if (this.#dropped > 0) {
          text += `time=${
            new Date().toISOString()
          } level=warn component=log msg="lines dropped" count=${this.#dropped}\n`;
          this.#dropped = 0;
        }
        text += this.#queue.join("\n") + "\n";
        this.#queue = [];
        this.#queuedBytes = 0;
        let bytes = this.#encoder.encode(text);
        while (bytes.length > 0) bytes = bytes.subarray(await this.#stream.write(bytes));
      }
    } catch {
      // A closed stderr must not crash the speaker; what was queued is lost.
      this.#queue = [];
      this.#queuedBytes = 0;
    } finally {
      this.#writing = false;
    }
  }

  /** Writes every queued line synchronously; for shutdown. */
  flushSync(): void {
    if (this.#queue.length === 0) return;
    let bytes = this.#encoder.encode(this.#queue.join("\n") + "\n");
    this.#queue = [];
    this.#queuedBytes = 0;
    try {
      while (bytes.length > 0) bytes = bytes.subarray(this.#stream.writeSync(bytes));
    } catch {
      // Nothing more can be done when stderr is gone.
    }
  }
}
