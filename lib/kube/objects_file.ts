/**
 * Static mode: Kubernetes objects read from files (`--objects-file PATH`, repeatable) instead of an API
 * server, through the same converters and into the same {@linkcode DesiredState}.
 *
 * A file holds JSON (a single object, an array, or a `List`) or YAML (one or many documents separated by
 * `---`, each an object or a `List`/`*List`). Pods, Subnets, Services, EndpointSlices and IptablesEIPs are
 * read; VpcNatGateways and any other kind are counted as ignored. YAML is read document by document as
 * the file streams in, and a document in JSON syntax takes the native JSON parser; the Kubernetes
 * client's YAML loader is imported only when a YAML document needs it. The leanest format for large
 * inventories is therefore one JSON object per document, documents separated by `---` lines.
 *
 * Loads and reloads (on a change of a file, debounced, or on an explicit `reload()`, which main.ts calls
 * on SIGHUP) read each file twice: a check of the whole file, then an apply pass that hands each object
 * to the state as it streams in, so records of a large file are never all held at once. Only the
 * difference reaches the state: upserts of new or changed objects, deletes of vanished ones; the loader
 * remembers only the kind and key of what each file defines. A file that cannot be read or parsed keeps
 * contributing what it held before; an object that fails to convert but can be identified keeps its
 * previous version; when several files define an object, the last file wins. Every problem goes to the
 * injected logger.
 *
 * @example
 * ```ts
 * import { DesiredState } from "./desired_state.ts";
 * import { watchObjectsFiles } from "./objects_file.ts";
 * const state = new DesiredState({
 *   nodeName: "node-1",
 *   announceClusterIp: true,
 *   announceLbIp: false,
 *   natGwMode: false,
 *   gatewayName: "",
 * });
 * const files = watchObjectsFiles(["manifests/examples/objects.yaml"], state, { logger: console });
 * const report = await files.ready;
 * console.log(report.upserted, state.prefixes());
 * Deno.addSignalListener("SIGHUP", () => void files.reload());
 * ```
 *
 * @module
 */

import { resolve } from "node:path";
import type { DesiredState } from "./desired_state.ts";
import {
  type AnyRecord,
  CONVERTERS,
  createIntern,
  type Intern,
  isRecordKind,
  type RecordKind,
  sameRecord,
} from "./records.ts";

/** Where problems and summaries go. `console` fits. */
export interface ObjectsLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
}

/** What one file yielded. */
export interface ParsedObjects {
  /** Objects converted, in file order. */
  readonly records: AnyRecord[];
  /** Objects that failed to convert but were identifiable: their previous version is kept. */
  readonly kept: { readonly kind: RecordKind; readonly key: string }[];
  /** Objects of kinds the policy does not read. */
  ignored: number;
  /** Objects of kinds the policy reads that could not be converted (each also has a problem line). */
  skipped: number;
  /** Problems with single objects or fields, to log. */
  readonly problems: string[];
  /** Set when the file as a whole is unusable (unreadable, bad JSON or YAML): nothing of it is applied. */
  fatal?: string;
  /** When set, converted records go here instead of into `records`. */
  readonly sink?: (record: AnyRecord) => void;
}

/** The outcome of a load or reload. */
export interface ReloadReport {
  readonly upserted: number;
  readonly deleted: number;
  readonly unchanged: number;
  /** Objects that could not be converted (their reasons are among `problems`). */
  readonly skipped: number;
  /** Files that could not be used; what they held before stays applied. */
  readonly badFiles: string[];
  readonly problems: string[];
}

/** Options of {@linkcode ObjectsFiles}. */
export interface ObjectsFilesOptions {
  /** Default: a logger that drops everything. */
  readonly logger?: ObjectsLogger;
  /**
   * Quiet period after a file event before reloading; default 20 ms: it gathers the events of one write, and
   * keeps a change's reaction time low. Writers should rename a complete file into place: a writer that
   * pauses longer than this mid-write can have a partial file read (a syntax error keeps the old contents).
   */
  readonly debounceMs?: number;
  /** Most problems logged per reload; default 50. */
  readonly maxLoggedProblems?: number;
  /** Told the outcome of every load and reload, whatever started it (for metrics). */
  readonly onReport?: (report: ReloadReport) => void;
}

/** Deepest `List` nesting followed. */
const MAX_LIST_DEPTH = 2;

function emptyParse(sink?: (record: AnyRecord) => void): ParsedObjects {
  return { records: [], kept: [], ignored: 0, skipped: 0, problems: [], sink };
}

/** Adds the objects in one parsed document (an object, an array, or a List) to `out`. */
function collect(
  value: unknown,
  where: string,
  out: ParsedObjects,
  intern: Intern,
  depth = 0,
  itemKind?: string,
): void {
  if (value === null || value === undefined) return;
  if (Array.isArray(value)) {
    value.forEach((item, i) => collect(item, `${where} item ${i}`, out, intern, depth + 1, itemKind));
    return;
  }
  if (typeof value !== "object") {
    out.problems.push(`${where}: not an object`);
    return;
  }
  let obj = value as Record<string, unknown>;
  const kind = obj.kind ?? itemKind;
  if (typeof kind === "string" && kind.endsWith("List") && Array.isArray(obj.items)) {
    if (depth >= MAX_LIST_DEPTH) {
      out.problems.push(`${where}: List nested too deep`);
      return;
    }
    // Items of a typed list (PodList) may omit their kind, as API server responses do.
    const inner = kind === "List" ? undefined : kind.slice(0, -"List".length);
    obj.items.forEach((item, i) => collect(item, `${where} item ${i}`, out, intern, depth + 1, inner));
    return;
  }
  if (!isRecordKind(kind)) {
    out.ignored++;
    return;
  }
  if (obj.kind === undefined) obj = { ...obj, kind };
  const converted = CONVERTERS[kind](obj, intern);
  if ("skip" in converted) {
    const name = converted.key === undefined ? "" : ` ${converted.key}`;
    out.skipped++;
    out.problems.push(`${where}: ${kind}${name} skipped: ${converted.skip}`);
    if (converted.key !== undefined) out.kept.push({ kind, key: converted.key });
    return;
  }
  for (const warning of converted.warnings) {
    out.problems.push(`${where}: ${kind} ${converted.key}: ${warning}`);
  }
  if (out.sink !== undefined) out.sink(converted);
  else out.records.push(converted);
}

/**
 * Parses a whole file's text: JSON when it starts with `{` or `[`, YAML otherwise. Used for small texts
 * and by tests; {@linkcode readObjectsFile} streams instead.
 */
export function parseObjectsText(
  text: string,
  name = "<text>",
  intern: Intern = createIntern(),
): Promise<ParsedObjects> {
  return parseText(text, name, intern, emptyParse());
}

async function parseText(
  text: string,
  name: string,
  intern: Intern,
  out: ParsedObjects,
): Promise<ParsedObjects> {
  if (/^\s*[[{]/.test(text)) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      // Perhaps JSON documents separated by `---` lines: YAML takes them, or the JSON error stands.
      const asYaml = await parseText(`---\n${text}`, name, intern, emptyParse(out.sink));
      if (asYaml.fatal === undefined) return asYaml;
      out.fatal = `${name}: invalid JSON: ${messageOf(error)}`;
      return out;
    }
    collect(value, name, out, intern);
    return out;
  }
  const docs: string[] = [];
  const splitter = new YamlDocuments((doc) => docs.push(doc));
  splitter.push(text);
  splitter.end();
  for (let i = 0; i < docs.length; i++) await parseDocument(docs[i], `${name} document ${i}`, out, intern);
  return out;
}

type YamlLoader = (text: string) => unknown[];
let yamlLoader: Promise<YamlLoader> | undefined;

/**
 * The Kubernetes client's YAML loader (js-yaml), imported on first use: it costs about 20 MB of memory,
 * which a file of JSON documents never needs.
 */
function loadYamlModule(): Promise<YamlLoader> {
  yamlLoader ??= import("@kubernetes/client-node/dist/yaml.js").then((m) => m.loadAllYaml as YamlLoader);
  return yamlLoader;
}

/** Everything but the leading `---`, comment and blank lines of a document. */
const DOCUMENT_HEAD = /^(?:[ \t]*(?:#[^\n]*)?\r?\n|---[ \t]*\r?\n)*/;

async function parseDocument(doc: string, where: string, out: ParsedObjects, intern: Intern): Promise<void> {
  if (out.fatal !== undefined) return;
  const body = doc.replace(DOCUMENT_HEAD, "");
  if (body.startsWith("{") || body.startsWith("[")) {
    // YAML 1.2 is a superset of JSON: a document in JSON syntax takes the native parser, many times
    // faster and lighter than js-yaml. Flow-style YAML (`{a: 1}`) is not JSON and falls through.
    let value: unknown;
    try {
      value = JSON.parse(body);
    } catch {
      value = undefined;
    }
    if (value !== undefined) {
      collect(value, where, out, intern);
      return;
    }
  }
  try {
    const load = await loadYamlModule();
    for (const value of load(doc)) collect(value, where, out, intern);
  } catch (error) {
    // js-yaml syntax errors, and the client's schema errors (a list where a map belongs, ...).
    out.fatal = `${where}: invalid YAML: ${messageOf(error)}`;
  }
}

/**
 * Reads one file. A `.json` file is parsed whole; any other streams as YAML, document by document, with
 * documents written in JSON syntax taking the native JSON parser. So the lightest format for very large
 * inventories is one JSON object per document, documents separated by `---` lines. With `sink`, each
 * record goes to it as soon as it is converted instead of into `records`.
 */
export async function readObjectsFile(
  path: string,
  intern: Intern = createIntern(),
  sink?: (record: AnyRecord) => void,
): Promise<ParsedObjects> {
  const out = emptyParse(sink);
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (error) {
    out.fatal = `${path}: cannot open: ${messageOf(error)}`;
    return out;
  }
  const docs: string[] = [];
  const splitter = new YamlDocuments((doc) => docs.push(doc));
  let index = 0;
  const drain = async () => {
    for (const doc of docs.splice(0)) await parseDocument(doc, `${path} document ${index++}`, out, intern);
  };
  const json: string[] | undefined = path.endsWith(".json") ? [] : undefined;
  try {
    for await (const chunk of file.readable.pipeThrough(new TextDecoderStream())) {
      if (json !== undefined) {
        json.push(chunk);
        continue;
      }
      splitter.push(chunk);
      await drain();
      if (out.fatal !== undefined) break;
    }
  } catch (error) {
    out.fatal = `${path}: cannot read: ${messageOf(error)}`;
    return out;
  }
  if (json !== undefined) return parseText(json.join(""), path, intern, out);
  splitter.end();
  await drain();
  return out;
}

/**
 * Splits streamed YAML text into documents at `---` and `...` marker lines (YAML 1.2 §9.1: a marker at
 * the start of a line always ends the document, even inside a block scalar), so each document can be
 * parsed and dropped before the next one is read.
 */
class YamlDocuments {
  #lines: string[] = [];
  #rest = "";
  #index = 0;
  #onlyDirectives = true;
  readonly #emit: (doc: string, index: number) => void;

  constructor(emit: (doc: string, index: number) => void) {
    this.#emit = emit;
  }

  push(text: string): void {
    const parts = (this.#rest + text).split("\n");
    this.#rest = parts.pop()!;
    for (const line of parts) this.#line(line);
  }

  end(): void {
    if (this.#rest !== "") this.#line(this.#rest);
    this.#rest = "";
    this.#finish();
  }

  #line(raw: string): void {
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (/^---(\s|$)/.test(line)) {
      // Directives (%YAML, %TAG) belong to the document that this marker starts.
      if (!this.#onlyDirectives) this.#finish();
      this.#lines.push(line);
      this.#onlyDirectives = false;
      return;
    }
    if (/^\.\.\.(\s|$)/.test(line)) {
      this.#finish();
      return;
    }
    if (this.#onlyDirectives && !/^\s*(#.*)?$/.test(line) && !line.startsWith("%")) {
      this.#onlyDirectives = false;
    }
    this.#lines.push(line);
  }

  #finish(): void {
    const lines = this.#lines;
    this.#lines = [];
    this.#onlyDirectives = true;
    if (lines.every((l) => /^\s*(#.*)?$/.test(l) || /^---\s*(#.*)?$/.test(l))) return;
    this.#emit(lines.join("\n"), this.#index++);
  }
}

function messageOf(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  const line = text.split("\n")[0];
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}

const silent: ObjectsLogger = { info() {}, warn() {} };

/** The objects of a set of files, applied to a {@linkcode DesiredState} and kept in step with the files. */
export class ObjectsFiles {
  readonly #paths: readonly string[];
  readonly #state: DesiredState;
  readonly #logger: ObjectsLogger;
  readonly #debounceMs: number;
  readonly #maxLogged: number;
  readonly #onReport: ((report: ReloadReport) => void) | undefined;
  /** Path → the objects that file contributes. */
  #byFile = new Map<string, Identities>();
  #running: Promise<ReloadReport> | undefined;
  #again = false;
  #watcher: Deno.FsWatcher | undefined;
  #debounce: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  /** Prepares to read `paths` into `state`; nothing is read until {@linkcode reload}. */
  constructor(paths: readonly string[], state: DesiredState, options: ObjectsFilesOptions = {}) {
    this.#paths = paths.map((p) => resolve(p));
    this.#state = state;
    this.#logger = options.logger ?? silent;
    this.#debounceMs = options.debounceMs ?? 20;
    this.#maxLogged = options.maxLoggedProblems ?? 50;
    this.#onReport = options.onReport;
  }

  /**
   * Reads every file again and applies the difference. Calls made while a reload runs are folded into
   * one more reload after it.
   */
  reload(): Promise<ReloadReport> {
    // A running loop sees the flag and reads the files once more before it settles.
    this.#again = true;
    this.#running ??= (async () => {
      try {
        let report: ReloadReport;
        do {
          this.#again = false;
          report = await this.#reloadOnce();
        } while (this.#again && !this.#closed);
        return report;
      } finally {
        this.#running = undefined;
      }
    })();
    return this.#running;
  }

  /** Starts watching the files' directories; a change to one of the files triggers a debounced reload. */
  watch(): void {
    if (this.#watcher !== undefined || this.#closed) return;
    const dirs = [...new Set(this.#paths.map((p) => p.slice(0, p.lastIndexOf("/")) || "/"))];
    const wanted = new Set(this.#paths);
    // Watch directories, not files: editors and kubectl-style tools replace files by rename.
    let watcher: Deno.FsWatcher;
    try {
      watcher = Deno.watchFs(dirs, { recursive: false });
    } catch (error) {
      this.#logger.warn("objects files: cannot watch; reload() still works", {
        dirs,
        error: messageOf(error),
      });
      return;
    }
    this.#watcher = watcher;
    (async () => {
      try {
        for await (const event of watcher) {
          if (event.paths.some((p) => wanted.has(resolve(p)))) this.#schedule();
        }
      } catch (error) {
        if (!this.#closed) this.#logger.warn("objects files: watching stopped", { error: messageOf(error) });
      }
    })();
  }

  /** Stops watching. The state keeps what was applied. */
  close(): void {
    this.#closed = true;
    if (this.#debounce !== undefined) clearTimeout(this.#debounce);
    this.#debounce = undefined;
    try {
      this.#watcher?.close();
    } catch {
      // Already closed.
    }
    this.#watcher = undefined;
  }

  #schedule(): void {
    if (this.#closed) return;
    if (this.#debounce !== undefined) clearTimeout(this.#debounce);
    this.#debounce = setTimeout(() => {
      this.#debounce = undefined;
      this.reload().catch((error) =>
        this.#logger.warn("objects files: reload failed", { error: messageOf(error) })
      );
    }, this.#debounceMs);
  }

  async #reloadOnce(): Promise<ReloadReport> {
    const previous = this.#byFile;
    const next = new Map<string, Identities>();
    const badFiles: string[] = [];
    const problems: string[] = [];
    const state = this.#state;
    // Identity → the file (its position in reading order) that defines it in this round. What a file
    // held before and no file defines now is deleted at the end.
    const seen: Record<RecordKind, Map<string, number>> = {
      Pod: new Map(),
      Subnet: new Map(),
      Service: new Map(),
      EndpointSlice: new Map(),
      IptablesEIP: new Map(),
    };
    let fileIndex = 0;
    const keep = (ids: Identities | undefined) =>
      ids?.kinds.forEach((kind, i) => seen[kind].set(ids.keys[i], fileIndex));
    let deleted = 0, upserted = 0, unchanged = 0, skipped = 0;
    // One intern table per reload: records of one load share their node, Subnet and provider strings.
    const intern = createIntern();
    // Later files win: read them first, and skip in earlier files what a later one defines, so that an
    // object defined twice is never applied in one version and then the other.
    for (const path of [...this.#paths].reverse()) {
      fileIndex++;
      const old = previous.get(path);
      // Two passes: check the whole file first, then apply it object by object as it streams in, so
      // neither does a broken file flap routes nor is a large one ever held as records all at once.
      const check = await readObjectsFile(path, intern, () => {});
      if (check.fatal !== undefined) {
        badFiles.push(path);
        problems.push(`${check.fatal}; keeping what the file held before`);
        if (old !== undefined) next.set(path, old);
        keep(old);
        continue;
      }
      const ids: Identities = { kinds: [], keys: [] };
      const applied = await readObjectsFile(path, intern, (record) => {
        const definedBy = seen[record.kind].get(record.key);
        if (definedBy === fileIndex) {
          problems.push(`${path}: ${record.kind} ${record.key} is defined more than once; the last one wins`);
        } else if (definedBy !== undefined) {
          problems.push(`${path}: ${record.kind} ${record.key} is also defined in a later file, which wins`);
          return;
        }
        const held = state.get(record.kind, record.key);
        if (held !== undefined && sameRecord(held, record)) {
          unchanged++;
        } else {
          state.upsert(record);
          upserted++;
        }
        // Keep the key string the state holds, so that no identity is stored twice.
        const key = state.canonicalKey(record.kind, record.key) ?? record.key;
        seen[record.kind].set(key, fileIndex);
        ids.kinds.push(record.kind);
        ids.keys.push(key);
      });
      problems.push(...applied.problems);
      skipped += applied.skipped;
      if (applied.fatal !== undefined) {
        // The file changed between the passes: keep what was applied and what it held before.
        badFiles.push(path);
        problems.push(`${applied.fatal}; keeping what the file held before`);
        keep(old);
        old?.kinds.forEach((kind, i) => {
          ids.kinds.push(kind);
          ids.keys.push(old.keys[i]);
        });
      }
      if (applied.kept.length > 0 && old !== undefined) {
        const wanted = new Set(applied.kept.map(({ kind, key }) => `${kind}/${key}`));
        old.kinds.forEach((kind, i) => {
          const key = old.keys[i];
          if (!wanted.has(`${kind}/${key}`) || seen[kind].has(key)) return;
          seen[kind].set(key, fileIndex);
          ids.kinds.push(kind);
          ids.keys.push(key);
          problems.push(`${path}: keeping the previous version of ${kind} ${key}`);
        });
      }
      if (applied.ignored > 0) {
        this.#logger.info("objects files: ignored objects of other kinds", { path, count: applied.ignored });
      }
      next.set(path, ids);
    }
    for (const ids of previous.values()) {
      ids.kinds.forEach((kind, i) => {
        const key = ids.keys[i];
        if (seen[kind].has(key) || state.get(kind, key) === undefined) return;
        state.delete(kind, key);
        seen[kind].set(key, -1);
        deleted++;
      });
    }
    this.#byFile = next;
    problems.slice(0, this.#maxLogged).forEach((p) => this.#logger.warn(`objects files: ${p}`));
    if (problems.length > this.#maxLogged) {
      this.#logger.warn(`objects files: ${problems.length - this.#maxLogged} more problems not shown`);
    }
    this.#logger.info("objects files: loaded", {
      files: this.#paths.length,
      upserted,
      deleted,
      unchanged,
      skipped,
    });
    const report = { upserted, deleted, unchanged, skipped, badFiles, problems };
    this.#onReport?.(report);
    return report;
  }
}

/** The objects a file defines, as parallel arrays of kinds and keys (no object per entry). */
interface Identities {
  readonly kinds: RecordKind[];
  readonly keys: string[];
}

/**
 * Loads `paths` into `state` and watches them. `ready` resolves with the first load's report; call
 * `reload()` on SIGHUP and `close()` on shutdown.
 */
export function watchObjectsFiles(
  paths: readonly string[],
  state: DesiredState,
  options: ObjectsFilesOptions & { readonly watch?: boolean } = {},
): { ready: Promise<ReloadReport>; reload(): Promise<ReloadReport>; close(): void } {
  const files = new ObjectsFiles(paths, state, options);
  const ready = files.reload();
  if (options.watch !== false) files.watch();
  return { ready, reload: () => files.reload(), close: () => files.close() };
}
