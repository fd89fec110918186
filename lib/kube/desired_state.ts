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
 * Pods, the bulk of any cluster, are held in columns rather than as objects: with its prefix and indexes,
 * a Pod costs about 190 bytes, so 100,000 Pods take some 19 MB.
 *
 * @example
 * ```ts
 * import { DesiredState } from "./desired_state.ts";
 * import { isSkip, subnetRecord } from "./records.ts";
 * const state = new DesiredState({
 *   nodeName: "node-1",
 *   announceClusterIp: false,
 *   announceLbIp: false,
 *   natGwMode: false,
 *   gatewayName: "",
 * });
 * state.onChange((added, removed) => console.log(added, removed)); // ["198.51.100.0/24"] []
 * const subnet = subnetRecord({
 *   metadata: { name: "demo", annotations: { "ovn.kubernetes.io/bgp": "cluster" } },
 *   spec: { cidrBlock: "198.51.100.0/24" },
 *   status: { conditions: [{ type: "Ready", status: "True" }] },
 * });
 * if (!isSkip(subnet)) state.upsert(subnet);
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
  type BgpSetting,
  type EndpointSliceRecord,
  type PodRecord,
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

/**
 * The records held and the prefixes they make desired, kept in step event by event.
 *
 * Invariant: every held record claims exactly the prefixes the policy gives it in the current state.
 * So the prefixes a record claimed can be recomputed instead of stored (at 100,000 Pods, a stored list
 * per object costs some 4 MB); an event that changes what other records see (a Subnet, an EndpointSlice)
 * computes their prefixes before and after it.
 */
export class DesiredState {
  readonly #config: PolicyConfig;
  readonly #timer: ChangeTimer;
  readonly #coalesceMs: number;
  readonly #onListenerError: (error: unknown) => void;
  readonly #pods = new PodStore();
  readonly #records: { [K in RecordKind]: RecordMap<Extract<AnyRecord, { kind: K }>> } = {
    Pod: this.#pods,
    Subnet: new Map(),
    Service: new Map(),
    EndpointSlice: new Map(),
    IptablesEIP: new Map(),
  };
  /** Subnet name → keys of the Pods with a network in it. */
  #podsBySubnet = new Map<string, Set<string>>();
  /** Service key → keys of its EndpointSlices. */
  #slicesByService = new Map<string, Set<string>>();
  /** Prefix → the object, or objects, claiming it. */
  #desired = new Map<string, Claimant | Claimant[]>();
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
    const old = this.#records[record.kind].get(record.key);
    if (old !== undefined && sameRecord(old, record)) return;
    this.#replace(record.kind, record.key, old, record);
  }

  /** Removes a record, if held, and withdraws what only it wanted. */
  delete(kind: RecordKind, key: string): void {
    const old = this.#records[kind].get(key);
    if (old !== undefined) this.#replace(kind, key, old, undefined);
  }

  /**
   * The record held for `kind`/`key`. A Pod is rebuilt from its columns on each call: equal to what was
   * upserted (warnings aside), not the same object.
   */
  get(kind: RecordKind, key: string): AnyRecord | undefined {
    return this.#records[kind].get(key);
  }

  /**
   * The key string the state holds for `kind`/`key` (equal to `key`), or undefined when not held.
   * Callers that keep keys of their own can share this string instead of holding a second copy.
   */
  canonicalKey(kind: RecordKind, key: string): string | undefined {
    return kind === "Pod" ? this.#pods.canonicalKey(key) : this.#records[kind].get(key)?.key;
  }

  /** The keys held for `kind`. */
  keys(kind: RecordKind): string[] {
    return [...this.#records[kind].keys()];
  }

  /** The records held for `kind` (Pods rebuilt one by one as the iteration reaches them). */
  records(kind: RecordKind): IterableIterator<AnyRecord> {
    return this.#records[kind].values();
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
      const claimants = Array.isArray(claim) ? claim : [claim];
      out.set(prefix, claimants.map(claimantSource).sort(compareSources));
    }
    return out;
  }

  /** Sizes for metrics. */
  counts(): StateCounts {
    const r = this.#records;
    return {
      records: {
        Pod: r.Pod.size,
        Subnet: r.Subnet.size,
        Service: r.Service.size,
        EndpointSlice: r.EndpointSlice.size,
        IptablesEIP: r.IptablesEIP.size,
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
    this.#podsBySubnet = new Map();
    this.#slicesByService = new Map();
    for (const pod of this.#records.Pod.values()) this.#indexPod(pod, true);
    for (const slice of this.#records.EndpointSlice.values()) this.#indexSlice(slice, true);
    this.#desired = new Map();
    this.#claims = { pod: 0, subnet: 0, service: 0, eip: 0 };
    for (const map of Object.values(this.#records)) {
      for (const record of map.values()) {
        this.#swap(undefined, NOTHING, this.#claimant(record), this.#outOf(record), true);
      }
    }
    const added = [...this.#desired.keys()].filter((p) => !before.has(p));
    const removed = [...before].filter((p) => !this.#desired.has(p));
    for (const p of added) this.#markChanged(p, false);
    for (const p of removed) this.#markChanged(p, true);
    return { added, removed };
  }

  /** Replaces (or removes, `next` undefined) the record of `kind`/`key` and updates every claim it affects. */
  #replace(kind: RecordKind, key: string, old: AnyRecord | undefined, next: AnyRecord | undefined): void {
    // Objects whose prefixes depend on this one, with what they claim before the change.
    const dependents: [AnyRecord, readonly string[]][] = [];
    if (kind === "Subnet" && !this.#samePodView(old, next)) {
      for (const podKey of this.#podsBySubnet.get(key) ?? []) {
        const pod = this.#records.Pod.get(podKey);
        if (pod !== undefined) dependents.push([pod, this.#outOf(pod)]);
      }
    } else if (kind === "EndpointSlice") {
      for (const service of new Set([serviceOf(old), serviceOf(next)])) {
        const record = service === "" ? undefined : this.#records.Service.get(service);
        if (record !== undefined) dependents.push([record, this.#outOf(record)]);
      }
    }
    const oldOut = old === undefined ? NOTHING : this.#outOf(old);
    const oldClaimant = old === undefined ? undefined : this.#claimant(old);
    const map = this.#records[kind] as RecordMap<AnyRecord>;
    if (old?.kind === "Pod") this.#indexPod(old, false);
    if (old?.kind === "EndpointSlice") this.#indexSlice(old, false);
    if (next === undefined) map.delete(key);
    else map.set(key, next);
    if (next?.kind === "Pod") this.#indexPod(next, true);
    if (next?.kind === "EndpointSlice") this.#indexSlice(next, true);
    const nextClaimant = next === undefined ? undefined : this.#claimant(next);
    this.#swap(oldClaimant, oldOut, nextClaimant, next === undefined ? NOTHING : this.#outOf(next));
    for (const [record, before] of dependents) {
      const claimant = this.#claimant(record);
      this.#swap(claimant, before, claimant, this.#outOf(record));
    }
  }

  /** What stands for a held record in the claims: its key string for a Pod (Pods are not kept as objects), else the record. */
  #claimant(record: AnyRecord): Claimant {
    return record.kind === "Pod" ? this.#pods.canonicalKey(record.key)! : record;
  }

  /** True when Pods see no difference between two versions of a Subnet. */
  #samePodView(a: AnyRecord | undefined, b: AnyRecord | undefined): boolean {
    return a?.kind === "Subnet" && b?.kind === "Subnet" && a.ready === b.ready && a.bgp === b.bgp;
  }

  /** The prefixes the policy gives `record` in the current state. */
  #outOf(record: AnyRecord): readonly string[] {
    const c = this.#config;
    switch (record.kind) {
      case "Pod":
        return podPrefixes(record, this.#subnetNamed, c);
      case "Subnet":
        return subnetPrefixes(record, c);
      case "Service":
        return servicePrefixes(record, this.#slicesOf(record.key), c);
      case "IptablesEIP":
        return eipPrefixes(record, c);
      default:
        return NOTHING;
    }
  }

  #subnetNamed = (name: string): SubnetRecord | undefined => this.#records.Subnet.get(name);

  #slicesOf(serviceKey: string): EndpointSliceRecord[] {
    const out: EndpointSliceRecord[] = [];
    for (const key of this.#slicesByService.get(serviceKey) ?? []) {
      const record = this.#records.EndpointSlice.get(key);
      if (record !== undefined) out.push(record);
    }
    return out;
  }

  #indexPod(pod: PodRecord, add: boolean): void {
    const key = this.#pods.canonicalKey(pod.key) ?? pod.key;
    for (const n of pod.networks) this.#index(this.#podsBySubnet, n.subnet, key, add);
  }

  #indexSlice(slice: EndpointSliceRecord, add: boolean): void {
    if (slice.service !== "") this.#index(this.#slicesByService, slice.service, slice.key, add);
  }

  #index(index: Map<string, Set<string>>, name: string, key: string, add: boolean): void {
    const set = index.get(name);
    if (add) {
      if (set === undefined) index.set(name, new Set([key]));
      else set.add(key);
    } else if (set !== undefined) {
      set.delete(key);
      if (set.size === 0) index.delete(name);
    }
  }

  /**
   * Moves the claims of `old` (which claimed `oldOut`) to `next` (which now claims `nextOut`); either
   * may be undefined. A prefix both claim changes hands without any change being reported.
   */
  #swap(
    old: Claimant | undefined,
    oldOut: readonly string[],
    next: Claimant | undefined,
    nextOut: readonly string[],
    quiet = false,
  ): void {
    if (old === next && oldOut === nextOut) return;
    for (const prefix of oldOut) {
      if (next !== undefined && nextOut.includes(prefix)) {
        if (old !== next) this.#handOver(prefix, old!, next);
      } else {
        this.#release(prefix, old!, quiet);
      }
    }
    for (const prefix of nextOut) {
      if (old === undefined || !oldOut.includes(prefix)) this.#claim(prefix, next!, quiet);
    }
    if (old !== undefined) this.#claims[claimantKind(old)] -= oldOut.length;
    if (next !== undefined) this.#claims[claimantKind(next)] += nextOut.length;
  }

  #handOver(prefix: string, old: Claimant, next: Claimant): void {
    const current = this.#desired.get(prefix);
    if (current === old) {
      this.#desired.set(prefix, next);
    } else if (Array.isArray(current)) {
      const i = current.indexOf(old);
      if (i >= 0) current[i] = next;
    }
  }

  #claim(prefix: string, claimant: Claimant, quiet: boolean): void {
    const current = this.#desired.get(prefix);
    if (current === undefined) {
      this.#desired.set(prefix, claimant);
      if (!quiet) this.#markChanged(prefix, false);
    } else if (Array.isArray(current)) {
      current.push(claimant);
    } else {
      this.#desired.set(prefix, [current, claimant]);
    }
  }

  #release(prefix: string, claimant: Claimant, quiet: boolean): void {
    const current = this.#desired.get(prefix);
    if (current === claimant) {
      this.#desired.delete(prefix);
      if (!quiet) this.#markChanged(prefix, true);
    } else if (Array.isArray(current)) {
      const i = current.indexOf(claimant);
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

/** How a record kind's records are held: a Map, or for Pods the compact {@linkcode PodStore}. */
interface RecordMap<R extends AnyRecord> {
  readonly size: number;
  get(key: string): R | undefined;
  set(key: string, record: R): unknown;
  delete(key: string): unknown;
  keys(): IterableIterator<string>;
  values(): IterableIterator<R>;
}

/** The networks of a Pod without their IPs; shared by every Pod of the same layout. */
type PodShape = readonly { readonly provider: string; readonly subnet: string; readonly count: number }[];

const BGP_CODES: readonly BgpSetting[] = [undefined, "cluster", "local", "off"];
const ACTIVE = 4;

/**
 * Pods in columns rather than one object graph each: a slot per Pod in typed arrays (node, network
 * layout, policy bits) plus its prefixes as one string when it has one IP. 100,000 Pods take about
 * 13 MB here against some 30 MB as record objects. Records are rebuilt on read; equal Pods read back
 * equal (`sameRecord`), and a Pod keeps the key string it was first stored with.
 */
class PodStore implements RecordMap<PodRecord> {
  #slots = new Map<string, number>();
  #keys: string[] = [];
  #prefixes: (string | readonly string[])[] = [];
  #node = new Int32Array(64);
  #shape = new Int32Array(64);
  #flags = new Uint8Array(64);
  #free: number[] = [];
  #nodes: string[] = [];
  #nodeIds = new Map<string, number>();
  #shapes: PodShape[] = [];
  #shapeIds = new Map<string, number>();

  get size(): number {
    return this.#slots.size;
  }

  /** The key string the store holds for `key`, or undefined. */
  canonicalKey(key: string): string | undefined {
    const slot = this.#slots.get(key);
    return slot === undefined ? undefined : this.#keys[slot];
  }

  get(key: string): PodRecord | undefined {
    const slot = this.#slots.get(key);
    return slot === undefined ? undefined : this.#read(slot);
  }

  set(key: string, pod: PodRecord): string {
    let slot = this.#slots.get(key);
    if (slot === undefined) {
      slot = this.#free.pop() ?? this.#keys.length;
      this.#slots.set(key, slot);
      this.#keys[slot] = key;
      this.#grow(slot);
    }
    this.#node[slot] = this.#intern(this.#nodes, this.#nodeIds, pod.nodeName, pod.nodeName);
    const shape: PodShape = pod.networks.map((n) => ({
      provider: n.provider,
      subnet: n.subnet,
      count: n.prefixes.length,
    }));
    const shapeKey = shape.map((n) => `${n.provider}\0${n.subnet}\0${n.count}`).join("\n");
    this.#shape[slot] = this.#intern(this.#shapes, this.#shapeIds, shapeKey, shape);
    this.#flags[slot] = BGP_CODES.indexOf(pod.bgp) | (pod.active ? ACTIVE : 0);
    const all = pod.networks.length === 1
      ? pod.networks[0].prefixes
      : pod.networks.flatMap((n) => n.prefixes);
    this.#prefixes[slot] = all.length === 1 ? all[0] : all;
    return this.#keys[slot];
  }

  delete(key: string): void {
    const slot = this.#slots.get(key);
    if (slot === undefined) return;
    this.#slots.delete(key);
    this.#keys[slot] = "";
    this.#prefixes[slot] = NOTHING;
    this.#free.push(slot);
  }

  keys(): IterableIterator<string> {
    return this.#slots.keys();
  }

  *values(): IterableIterator<PodRecord> {
    for (const slot of this.#slots.values()) yield this.#read(slot);
  }

  #read(slot: number): PodRecord {
    const stored = this.#prefixes[slot];
    const all = typeof stored === "string" ? [stored] : stored;
    const shape = this.#shapes[this.#shape[slot]];
    let at = 0;
    const networks = shape.map((n) => {
      const prefixes = shape.length === 1 ? all : all.slice(at, at + n.count);
      at += n.count;
      return { provider: n.provider, subnet: n.subnet, prefixes };
    });
    const flags = this.#flags[slot];
    return {
      kind: "Pod",
      key: this.#keys[slot],
      nodeName: this.#nodes[this.#node[slot]],
      bgp: BGP_CODES[flags & 3],
      active: (flags & ACTIVE) !== 0,
      networks,
      warnings: NOTHING,
    };
  }

  #intern<T>(table: T[], ids: Map<string, number>, key: string, value: T): number {
    let id = ids.get(key);
    if (id === undefined) {
      id = table.length;
      table.push(value);
      ids.set(key, id);
    }
    return id;
  }

  #grow(slot: number): void {
    if (slot < this.#node.length) return;
    const size = Math.max(slot + 1, this.#node.length * 2);
    const node = new Int32Array(size), shape = new Int32Array(size), flags = new Uint8Array(size);
    node.set(this.#node);
    shape.set(this.#shape);
    flags.set(this.#flags);
    this.#node = node;
    this.#shape = shape;
    this.#flags = flags;
  }
}

/** An object claiming prefixes: a Pod's key string, or the record of any other kind. */
type Claimant = AnyRecord | string;

function claimantKind(claimant: Claimant): SourceKind {
  return typeof claimant === "string" ? "pod" : SOURCE_KIND[claimant.kind] ?? "pod";
}

function claimantSource(claimant: Claimant): Source {
  if (typeof claimant !== "string") return sourceOf(claimant)!;
  const slash = claimant.indexOf("/");
  return { kind: "pod", namespace: claimant.slice(0, slash), name: claimant.slice(slash + 1) };
}

function serviceOf(record: AnyRecord | undefined): string {
  return record?.kind === "EndpointSlice" ? record.service : "";
}
