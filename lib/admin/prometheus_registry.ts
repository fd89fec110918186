/**
 * A small Prometheus registry: gauges, counters and histograms with labels, rendered in the text
 * exposition format 0.0.4 with HELP and TYPE lines, escaped label values and a stable order (families
 * by name, series by label values).
 *
 * Collectors registered with {@linkcode Registry.onCollect} run before each scrape, so values that live
 * elsewhere (session counters, cache sizes) are read when asked for rather than pushed.
 *
 * @example
 * ```ts
 * import { Registry } from "./prometheus_registry.ts";
 * const registry = new Registry();
 * const up = registry.gauge("peer_up", "1 if the session is Established", ["peer"]);
 * up.set({ peer: "10.99.0.2" }, 1);
 * await registry.expose();
 * // # HELP peer_up 1 if the session is Established
 * // # TYPE peer_up gauge
 * // peer_up{peer="10.99.0.2"} 1
 * ```
 *
 * @module
 */

/** Label values of one series, keyed by label name. */
export type Labels = Readonly<Record<string, string>>;

/** The content type of the text exposition format. */
export const EXPOSITION_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

abstract class Family {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
  abstract readonly type: "gauge" | "counter" | "histogram";

  constructor(name: string, help: string, labelNames: readonly string[]) {
    if (!METRIC_NAME.test(name)) throw new Error(`Invalid metric name ${JSON.stringify(name)}`);
    for (const label of labelNames) {
      if (!LABEL_NAME.test(label) || label.startsWith("__") || label === "le") {
        throw new Error(`Invalid label name ${JSON.stringify(label)} for ${name}`);
      }
    }
    this.name = name;
    this.help = help;
    this.labelNames = labelNames;
  }

  /** The series key: label values in declared order; throws on missing or extra labels. */
  protected keyOf(labels: Labels): string {
    const keys = Object.keys(labels);
    if (
      keys.length !== this.labelNames.length || this.labelNames.some((n) => typeof labels[n] !== "string")
    ) {
      throw new Error(`Metric ${this.name} takes labels ${this.labelNames.join(",")}; got ${keys.join(",")}`);
    }
    return JSON.stringify(this.labelNames.map((n) => labels[n]));
  }

  protected labelsOf(key: string): string[] {
    return JSON.parse(key);
  }

  protected renderLabels(values: readonly string[], extra?: readonly [string, string]): string {
    const pairs = this.labelNames.map((n, i) => `${n}="${escapeLabelValue(values[i])}"`);
    if (extra) pairs.push(`${extra[0]}="${escapeLabelValue(extra[1])}"`);
    return pairs.length === 0 ? "" : `{${pairs.join(",")}}`;
  }

  /** Removes every series. */
  abstract reset(): void;
  /** Removes one series; returns whether it existed. */
  abstract delete(labels: Labels): boolean;
  /** The sample lines, sorted. */
  abstract samples(): string[];
}

/** A family whose series each hold one number. */
abstract class ScalarFamily extends Family {
  #series = new Map<string, number>();

  /** Replaces the series' value. */
  protected put(labels: Labels, value: number): void {
    this.#series.set(this.keyOf(labels), value);
  }

  /** Adds to the series' value, starting from 0. */
  protected add(labels: Labels, by: number): void {
    const key = this.keyOf(labels);
    this.#series.set(key, (this.#series.get(key) ?? 0) + by);
  }

  /** The current value, if the series exists. */
  get(labels: Labels): number | undefined {
    return this.#series.get(this.keyOf(labels));
  }

  delete(labels: Labels): boolean {
    return this.#series.delete(this.keyOf(labels));
  }

  reset(): void {
    this.#series.clear();
  }

  samples(): string[] {
    return [...this.#series.entries()]
      .sort(([a], [b]) => compareKeys(a, b))
      .map(([key, value]) => `${this.name}${this.renderLabels(this.labelsOf(key))} ${formatValue(value)}`);
  }
}

/** A value that goes up and down. */
export class Gauge extends ScalarFamily {
  readonly type = "gauge";

  /** Sets the series' value. */
  set(labels: Labels, value: number): void {
    this.put(labels, value);
  }

  /** Adds `by` (default 1). */
  inc(labels: Labels, by = 1): void {
    this.add(labels, by);
  }

  /** Subtracts `by` (default 1). */
  dec(labels: Labels, by = 1): void {
    this.add(labels, -by);
  }
}

/** A value that only goes up (resets only when the process restarts). */
export class Counter extends ScalarFamily {
  readonly type = "counter";

  /** Adds `by` (default 1); negative amounts are refused. */
  inc(labels: Labels, by = 1): void {
    if (!(by >= 0)) throw new Error(`Counter ${this.name} cannot decrease`);
    this.add(labels, by);
  }
}

interface HistogramSeries {
  counts: number[];
  sum: number;
  count: number;
}

/** Observations counted into cumulative buckets, with their sum and count. */
export class Histogram extends Family {
  readonly type = "histogram";
  readonly buckets: readonly number[];
  #series = new Map<string, HistogramSeries>();

  constructor(name: string, help: string, labelNames: readonly string[], buckets: readonly number[]) {
    super(name, help, labelNames);
    const sorted = [...buckets].sort((a, b) => a - b);
    if (sorted.length === 0 || sorted.some((b, i) => !Number.isFinite(b) || (i > 0 && b === sorted[i - 1]))) {
      throw new Error(`Histogram ${name} needs distinct finite buckets`);
    }
    this.buckets = sorted;
  }

  /** Records one observation. */
  observe(labels: Labels, value: number): void {
    const key = this.keyOf(labels);
    let series = this.#series.get(key);
    if (series === undefined) {
      series = { counts: new Array(this.buckets.length).fill(0), sum: 0, count: 0 };
      this.#series.set(key, series);
    }
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]) series.counts[i]++;
    series.sum += value;
    series.count++;
  }

  delete(labels: Labels): boolean {
    return this.#series.delete(this.keyOf(labels));
  }

  reset(): void {
    this.#series.clear();
  }

  samples(): string[] {
    const lines: string[] = [];
    for (const [key, series] of [...this.#series.entries()].sort(([a], [b]) => compareKeys(a, b))) {
      const values = this.labelsOf(key);
      this.buckets.forEach((bound, i) => {
        lines.push(
          `${this.name}_bucket${this.renderLabels(values, ["le", formatValue(bound)])} ${series.counts[i]}`,
        );
      });
      lines.push(`${this.name}_bucket${this.renderLabels(values, ["le", "+Inf"])} ${series.count}`);
      lines.push(`${this.name}_sum${this.renderLabels(values)} ${formatValue(series.sum)}`);
      lines.push(`${this.name}_count${this.renderLabels(values)} ${series.count}`);
    }
    return lines;
  }
}

/** A callback run before each scrape to refresh values. */
export type Collector = () => void | Promise<void>;

/** Holds metric families and renders them. */
export class Registry {
  #families = new Map<string, Family>();
  #collectors: Collector[] = [];

  /** Registers a gauge. */
  gauge(name: string, help: string, labelNames: readonly string[] = []): Gauge {
    return this.#add(new Gauge(name, help, labelNames));
  }

  /** Registers a counter. */
  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    return this.#add(new Counter(name, help, labelNames));
  }

  /** Registers a histogram with upper bucket bounds (+Inf is implied). */
  histogram(
    name: string,
    help: string,
    labelNames: readonly string[],
    buckets: readonly number[],
  ): Histogram {
    return this.#add(new Histogram(name, help, labelNames, buckets));
  }

  /** Runs `collector` before every scrape. */
  onCollect(collector: Collector): void {
    this.#collectors.push(collector);
  }

  #add<F extends Family>(family: F): F {
    if (this.#families.has(family.name)) throw new Error(`Metric ${family.name} is already registered`);
    this.#families.set(family.name, family);
    return family;
  }

  /**
   * Runs the collectors and renders every family. A collector that throws leaves its metrics with
   * their previous values, so one failing source does not break the scrape.
   */
  async expose(): Promise<string> {
    for (const collector of this.#collectors) {
      try {
        await collector();
      } catch {
        // Keep the last values, as kube-ovn-speaker does on a GoBGP query error.
      }
    }
    const lines: string[] = [];
    for (const family of [...this.#families.values()].sort((a, b) => a.name < b.name ? -1 : 1)) {
      lines.push(`# HELP ${family.name} ${escapeHelp(family.help)}`);
      lines.push(`# TYPE ${family.name} ${family.type}`);
      lines.push(...family.samples());
    }
    return lines.join("\n") + "\n";
  }
}

/** Exposition format: `\` → `\\`, `"` → `\"`, newline → `\n` in label values. */
export function escapeLabelValue(value: string): string {
  return value.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n");
}

/** Exposition format: `\` → `\\`, newline → `\n` in HELP text. */
function escapeHelp(help: string): string {
  return help.replaceAll("\\", "\\\\").replaceAll("\n", "\\n");
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
