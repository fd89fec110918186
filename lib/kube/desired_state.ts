/**
 * The desired set of prefixes, maintained incrementally from record events.
 *
 * Each `upsert`/`delete` recomputes only what the event can affect: a Pod event its own prefixes; a
 * Subnet event its CIDRs and, through an index, the Pods whose networks name it; an EndpointSlice event
 * the Service it belongs to (before and after). Every prefix keeps the list of objects that want it and
 * is withdrawn only when the last one lets go. Changes are coalesced for a few milliseconds and handed to
 * `onChange` listeners as one `(added, removed)` pair; `fullRecompute()` is the slow safety net.
 *
 * The class holds state but does no I/O; time enters only through the injected {@linkcode ChangeTimer}.
 *
 * @example
 * ```ts
 * import { DesiredState } from "./desired_state.ts";
 * import { subnetRecord } from "./records.ts";
 * const state = new DesiredState({
 *   nodeName: "node-1",
 *   announceClusterIp: false,
 *   announceLbIp: false,
 *   natGwMode: false,
 *   gatewayName: "",
 * });
 * state.onChange((added, removed) => console.log(added, removed)); // ["198.51.100.0/24"] []
 * state.upsert(subnetRecord({
 *   metadata: { name: "demo", annotations: { "ovn.kubernetes.io/bgp": "cluster" } },
 *   spec: { cidrBlock: "198.51.100.0/24" },
 *   status: { conditions: [{ type: "Ready", status: "True" }] },
 * }) as never);
 * state.flush();
 * ```
 *
 * @module
 */

import {
  compareSources,
  eipPrefixes,
  podPrefixes,
  type PolicyConfig,
  servicePrefixes,
  type Source,
  type SourceKind,
  sourceOf,
  subnetPrefixes,
} from "./policy.ts";
import {
  type AnyRecord,
  type EndpointSliceRecord,
  type RecordKind,
  sameRecord,
  type SubnetRecord,
} from "./records.ts";

/** A change of the object store, as the watch loop or the objects files produce it. */
export type RecordEvent =
  | { readonly type: "upsert"; readonly record: AnyRecord }
  | { readonly type: "delete"; readonly kind: RecordKind; readonly key: string };

/** A one-shot timer, injected so that coalescing is deterministic under test. */
export interface ChangeTimer {
  set(callback: () => void, ms: number): unknown;
  clear(id: unknown): void;
}

/** Receives the prefixes that became desired and those that stopped being desired. */
export type ChangeListener = (added: string[], removed: string[]) => void;

/** Options of {@linkcode DesiredState}. */
export interface DesiredStateOptions {
  /** How long changes are gathered before listeners hear of them; default 5 ms. */
  readonly coalesceMs?: number;
  /** Default: `setTimeout`/`clearTimeout`. */
  readonly timer?: ChangeTimer;
  /** Called when a listener throws; default `console.error`. Other listeners still run. */
  readonly onListenerError?: (error: unknown) => void;
}

/** Sizes for metrics. */
export interface StateCounts {
  /** Records held, per kind. */
  readonly records: Record<RecordKind, number>;
  /** (prefix, object) claims per source kind: how many prefixes the objects of each kind want. */
  readonly claims: Record<SourceKind, number>;
  /** Distinct desired prefixes. */
  readonly prefixes: number;
}

/** One object held: its current record and the prefixes it currently claims. */
interface Entry {
  record: AnyRecord;
  out: readonly string[];
}

const NOTHING: readonly string[] = Object.freeze([]);
const SOURCE_KIND = {
  Pod: "pod",
  Subnet: "subnet",
  Service: "service",
  IptablesEIP: "eip",
  EndpointSlice: undefined,
} as const;

const defaultTimer: ChangeTimer = {
  set: (callback, ms) => setTimeout(callback, ms),
  clear: (id) => clearTimeout(id as number),
};

/** The records held and the prefixes they make desired, kept in step event by event. */
export class DesiredState {
  readonly #config: PolicyConfig;
  readonly #timer: ChangeTimer;
  readonly #coalesceMs: number;
  readonly #onListenerError: (error: unknown) => void;
  readonly #entries: Record<RecordKind, Map<string, Entry>> = {
    Pod: new Map(),
    Subnet: new Map(),
    Service: new Map(),
    EndpointSlice: new Map(),
    IptablesEIP: new Map(),
  };
  /** Subnet name → keys of the Pods with a network in it. */
  #podsBySubnet = new Map<string, Set<string>>();
  /** Service key → keys of its EndpointSlices. */
  #slicesByService = new Map<string, Set<string>>();
  /** Prefix → the entry, or entries, claiming it. */
  #desired = new Map<string, Entry | Entry[]>();
  #claims: Record<SourceKind, number> = { pod: 0, subnet: 0, service: 0, eip: 0 };
  readonly #listeners = new Set<ChangeListener>();
  /** Prefix → whether it was desired when listeners last heard. */
  #pending = new Map<string, boolean>();
  #timerId: unknown;

  /** Creates an empty state for a speaker with `config`. */
  constructor(config: PolicyConfig, options: DesiredStateOptions = {}) {
    this.#config = config;
    this.#timer = options.timer ?? defaultTimer;
    this.#coalesceMs = options.coalesceMs ?? 5;
    this.#onListenerError = options.onListenerError ?? ((error) => console.error(error));
  }

  /** The configuration the policy runs with. */
  get config(): PolicyConfig {
    return this.#config;
  }

  /** Applies one event. */
  apply(event: RecordEvent): void {
    if (event.type === "upsert") this.upsert(event.record);
    else this.delete(event.kind, event.key);
  }

  /** Adds or replaces a record and recomputes what it affects. Replacing with an equal record does nothing. */
  upsert(record: AnyRecord): void {
    const map = this.#entries[record.kind];
    const entry = map.get(record.key);
    if (entry !== undefined && sameRecord(entry.record, record)) return;
    const old = entry?.record;
    const current: Entry = entry ?? { record, out: NOTHING };
    current.record = record;
    if (entry === undefined) map.set(record.key, current);
    switch (record.kind) {
      case "Pod":
        if (old?.kind === "Pod") {
          for (const n of old.networks) this.#unindex(this.#podsBySubnet, n.subnet, record.key);
        }
        for (const n of record.networks) this.#index(this.#podsBySubnet, n.subnet, record.key);
        this.#recompute(current);
        break;
      case "Subnet":
        this.#recompute(current);
        if (old?.kind !== "Subnet" || old.ready !== record.ready || old.bgp !== record.bgp) {
          this.#recomputePodsOf(record.key);
        }
        break;
      case "EndpointSlice": {
        const before = old?.kind === "EndpointSlice" ? old.service : "";
        if (before !== "") this.#unindex(this.#slicesByService, before, record.key);
        if (record.service !== "") this.#index(this.#slicesByService, record.service, record.key);
        this.#recomputeService(before);
        if (record.service !== before) this.#recomputeService(record.service);
        break;
      }
      default:
        this.#recompute(current);
    }
  }

  /** Removes a record, if held, and withdraws what only it wanted. */
  delete(kind: RecordKind, key: string): void {
    const map = this.#entries[kind];
    const entry = map.get(key);
    if (entry === undefined) return;
    this.#setOut(entry, NOTHING);
    map.delete(key);
    const record = entry.record;
    if (record.kind === "Pod") {
      for (const n of record.networks) this.#unindex(this.#podsBySubnet, n.subnet, key);
    } else if (record.kind === "Subnet") {
      this.#recomputePodsOf(key);
    } else if (record.kind === "EndpointSlice" && record.service !== "") {
      this.#unindex(this.#slicesByService, record.service, key);
      this.#recomputeService(record.service);
    }
  }

  /** The record held for `kind`/`key`. */
  get(kind: RecordKind, key: string): AnyRecord | undefined {
    return this.#entries[kind].get(key)?.record;
  }

  /** The keys held for `kind`. */
  keys(kind: RecordKind): string[] {
    return [...this.#entries[kind].keys()];
  }

  /** The records held for `kind`. */
  *records(kind: RecordKind): IterableIterator<AnyRecord> {
    for (const entry of this.#entries[kind].values()) yield entry.record;
  }

  /** True when `prefix` (canonical) is desired. */
  has(prefix: string): boolean {
    return this.#desired.has(prefix);
  }

  /** The desired prefixes. */
  prefixes(): string[] {
    return [...this.#desired.keys()];
  }

  /** Every desired prefix, sorted, with the objects that want it. */
  snapshot(): Map<string, Source[]> {
    const out = new Map<string, Source[]>();
    for (const prefix of [...this.#desired.keys()].sort()) {
      const claim = this.#desired.get(prefix)!;
      const entries = Array.isArray(claim) ? claim : [claim];
      out.set(prefix, entries.map((e) => sourceOf(e.record)!).sort(compareSources));
    }
    return out;
  }

  /** Sizes for metrics. */
  counts(): StateCounts {
    const e = this.#entries;
    return {
      records: {
        Pod: e.Pod.size,
        Subnet: e.Subnet.size,
        Service: e.Service.size,
        EndpointSlice: e.EndpointSlice.size,
        IptablesEIP: e.IptablesEIP.size,
      },
      claims: { ...this.#claims },
      prefixes: this.#desired.size,
    };
  }

  /**
   * Calls `listener` with the net changes gathered over each coalescing window (a prefix added and
   * removed within one window is not reported). Returns a function that unsubscribes.
   */
  onChange(listener: ChangeListener): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0) this.#dropPending();
    };
  }

  /** Delivers the pending changes now instead of at the end of the window. */
  flush(): void {
    if (this.#timerId !== undefined) this.#timer.clear(this.#timerId);
    this.#timerId = undefined;
    const added: string[] = [];
    const removed: string[] = [];
    for (const [prefix, was] of this.#pending) {
      const now = this.#desired.has(prefix);
      if (now && !was) added.push(prefix);
      else if (!now && was) removed.push(prefix);
    }
    this.#pending.clear();
    if (added.length === 0 && removed.length === 0) return;
    for (const listener of [...this.#listeners]) {
      try {
        listener(added, removed);
      } catch (error) {
        this.#onListenerError(error);
      }
    }
  }

  /** Cancels the pending timer and forgets undelivered changes. */
  close(): void {
    this.#dropPending();
    this.#listeners.clear();
  }

  /**
   * Recomputes everything from the records and repairs any drift of the incremental bookkeeping. Returns
   * the prefixes that had to be added and removed (empty unless something went wrong); listeners hear of
   * them through the change feed as usual.
   */
  fullRecompute(): { added: string[]; removed: string[] } {
    const before = new Set(this.#desired.keys());
    const all = Object.values(this.#entries);
    this.#podsBySubnet = new Map();
    this.#slicesByService = new Map();
    for (const entry of this.#entries.Pod.values()) {
      if (entry.record.kind !== "Pod") continue;
      for (const n of entry.record.networks) this.#index(this.#podsBySubnet, n.subnet, entry.record.key);
    }
    for (const entry of this.#entries.EndpointSlice.values()) {
      const r = entry.record;
      if (r.kind === "EndpointSlice" && r.service !== "") {
        this.#index(this.#slicesByService, r.service, r.key);
      }
    }
    // Rebuild the claims from each entry's freshly computed prefixes.
    this.#desired = new Map();
    this.#claims = { pod: 0, subnet: 0, service: 0, eip: 0 };
    for (const map of all) {
      for (const entry of map.values()) {
        entry.out = NOTHING;
        this.#recompute(entry, true);
      }
    }
    const added = [...this.#desired.keys()].filter((p) => !before.has(p));
    const removed = [...before].filter((p) => !this.#desired.has(p));
    for (const p of added) this.#markChanged(p, false);
    for (const p of removed) this.#markChanged(p, true);
    return { added, removed };
  }

  #subnetNamed = (name: string): SubnetRecord | undefined => {
    const record = this.#entries.Subnet.get(name)?.record;
    return record?.kind === "Subnet" ? record : undefined;
  };

  #slicesOf(serviceKey: string): EndpointSliceRecord[] {
    const keys = this.#slicesByService.get(serviceKey);
    if (keys === undefined) return [];
    const out: EndpointSliceRecord[] = [];
    for (const key of keys) {
      const record = this.#entries.EndpointSlice.get(key)?.record;
      if (record?.kind === "EndpointSlice") out.push(record);
    }
    return out;
  }

  #recompute(entry: Entry, quiet = false): void {
    const r = entry.record;
    const c = this.#config;
    let next: readonly string[];
    switch (r.kind) {
      case "Pod":
        next = podPrefixes(r, this.#subnetNamed, c);
        break;
      case "Subnet":
        next = subnetPrefixes(r, c);
        break;
      case "Service":
        next = servicePrefixes(r, this.#slicesOf(r.key), c);
        break;
      case "IptablesEIP":
        next = eipPrefixes(r, c);
        break;
      default:
        next = NOTHING;
    }
    this.#setOut(entry, next, quiet);
  }

  #recomputePodsOf(subnet: string): void {
    const keys = this.#podsBySubnet.get(subnet);
    if (keys === undefined) return;
    for (const key of keys) {
      const entry = this.#entries.Pod.get(key);
      if (entry !== undefined) this.#recompute(entry);
    }
  }

  #recomputeService(serviceKey: string): void {
    if (serviceKey === "") return;
    const entry = this.#entries.Service.get(serviceKey);
    if (entry !== undefined) this.#recompute(entry);
  }

  #index(index: Map<string, Set<string>>, name: string, key: string): void {
    const set = index.get(name);
    if (set === undefined) index.set(name, new Set([key]));
    else set.add(key);
  }

  #unindex(index: Map<string, Set<string>>, name: string, key: string): void {
    const set = index.get(name);
    if (set === undefined) return;
    set.delete(key);
    if (set.size === 0) index.delete(name);
  }

  #setOut(entry: Entry, next: readonly string[], quiet = false): void {
    const prev = entry.out;
    if (prev === next) return;
    for (const prefix of prev) if (!next.includes(prefix)) this.#release(prefix, entry, quiet);
    for (const prefix of next) if (!prev.includes(prefix)) this.#claim(prefix, entry, quiet);
    const kind = SOURCE_KIND[entry.record.kind];
    if (kind !== undefined) this.#claims[kind] += next.length - prev.length;
    entry.out = next;
  }

  #claim(prefix: string, entry: Entry, quiet: boolean): void {
    const current = this.#desired.get(prefix);
    if (current === undefined) {
      this.#desired.set(prefix, entry);
      if (!quiet) this.#markChanged(prefix, false);
    } else if (Array.isArray(current)) {
      current.push(entry);
    } else {
      this.#desired.set(prefix, [current, entry]);
    }
  }

  #release(prefix: string, entry: Entry, quiet: boolean): void {
    const current = this.#desired.get(prefix);
    if (current === entry) {
      this.#desired.delete(prefix);
      if (!quiet) this.#markChanged(prefix, true);
    } else if (Array.isArray(current)) {
      const i = current.indexOf(entry);
      if (i >= 0) current.splice(i, 1);
      if (current.length === 1) this.#desired.set(prefix, current[0]);
    }
  }

  #markChanged(prefix: string, wasDesired: boolean): void {
    if (this.#listeners.size === 0) return;
    if (!this.#pending.has(prefix)) this.#pending.set(prefix, wasDesired);
    if (this.#timerId === undefined) {
      this.#timerId = this.#timer.set(() => {
        this.#timerId = undefined;
        this.flush();
      }, this.#coalesceMs);
    }
  }

  #dropPending(): void {
    if (this.#timerId !== undefined) this.#timer.clear(this.#timerId);
    this.#timerId = undefined;
    this.#pending.clear();
  }
}
