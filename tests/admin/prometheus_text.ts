/**
 * A strict parser of the Prometheus text exposition format 0.0.4, for tests: every line must match
 * the grammar, TYPE and HELP come before a family's samples, families are contiguous, series are
 * unique and histograms are consistent. Throws an Error naming the line on any violation.
 *
 * @module
 */

/** One sample line. */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** One metric family. */
export interface ParsedFamily {
  readonly name: string;
  type: string;
  help?: string;
  readonly samples: Sample[];
}

const NAME = "[a-zA-Z_:][a-zA-Z0-9_:]*";
const LABEL = "[a-zA-Z_][a-zA-Z0-9_]*";
const VALUE = String.raw`(?:[+-]?Inf|NaN|[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)`;
const LABEL_VALUE = String.raw`"(?:[^"\\\n]|\\[\\"n])*"`;
const SAMPLE = new RegExp(
  `^(${NAME})(?:\\{((?:${LABEL}=${LABEL_VALUE})(?:,${LABEL}=${LABEL_VALUE})*,?)?\\})? (${VALUE})(?: (-?\\d+))?$`,
);
const HELP = new RegExp(`^# HELP (${NAME}) ?(.*)$`);
const TYPE = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`);

/** Parses and validates `text`; returns families by name. */
export function parsePrometheusText(text: string): Map<string, ParsedFamily> {
  if (!text.endsWith("\n")) throw new Error("Exposition must end with a newline");
  const families = new Map<string, ParsedFamily>();
  const finished = new Set<string>();
  const seenSeries = new Set<string>();
  let current: string | undefined;

  const familyFor = (sampleName: string): string => {
    for (const suffix of ["_bucket", "_sum", "_count"]) {
      const base = sampleName.slice(0, -suffix.length);
      if (sampleName.endsWith(suffix) && families.get(base)?.type === "histogram") return base;
    }
    return sampleName;
  };
  const enter = (name: string, lineNo: number) => {
    if (current !== name) {
      if (finished.has(name)) throw new Error(`Line ${lineNo}: family ${name} is not contiguous`);
      if (current !== undefined) finished.add(current);
      current = name;
    }
  };

  text.slice(0, -1).split("\n").forEach((line, index) => {
    const lineNo = index + 1;
    if (line === "") return;
    if (line.startsWith("#")) {
      const help = HELP.exec(line);
      const type = TYPE.exec(line);
      if (help) {
        enter(help[1], lineNo);
        const family = families.get(help[1]) ?? { name: help[1], type: "untyped", samples: [] };
        if (family.help !== undefined) throw new Error(`Line ${lineNo}: second HELP for ${help[1]}`);
        if (/\\[^\\n]/.test(help[2].replaceAll("\\\\", ""))) {
          throw new Error(`Line ${lineNo}: bad HELP escape`);
        }
        family.help = help[2];
        families.set(help[1], family);
      } else if (type) {
        enter(type[1], lineNo);
        const family = families.get(type[1]) ?? { name: type[1], type: "untyped", samples: [] };
        if (family.samples.length > 0) throw new Error(`Line ${lineNo}: TYPE after samples of ${type[1]}`);
        family.type = type[2];
        families.set(type[1], family);
      } else if (/^# (HELP|TYPE)/.test(line)) {
        throw new Error(`Line ${lineNo}: malformed ${line}`);
      }
      return;
    }
    const match = SAMPLE.exec(line);
    if (!match) throw new Error(`Line ${lineNo}: not a valid sample: ${line}`);
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? "").matchAll(new RegExp(`(${LABEL})=(${LABEL_VALUE})`, "g"))) {
      if (pair[1] in labels) throw new Error(`Line ${lineNo}: label ${pair[1]} repeated`);
      labels[pair[1]] = pair[2].slice(1, -1).replace(/\\([\\"n])/g, (_, c) => c === "n" ? "\n" : c);
    }
    const familyName = familyFor(match[1]);
    enter(familyName, lineNo);
    const family = families.get(familyName) ?? { name: familyName, type: "untyped", samples: [] };
    families.set(familyName, family);
    const key = `${match[1]}${JSON.stringify(Object.entries(labels).sort())}`;
    if (seenSeries.has(key)) throw new Error(`Line ${lineNo}: duplicate series ${line}`);
    seenSeries.add(key);
    const raw = match[3];
    const value = raw.endsWith("Inf") ? (raw.startsWith("-") ? -Infinity : Infinity) : Number(raw);
    family.samples.push({ name: match[1], labels, value });
  });

  for (const family of families.values()) {
    if (family.type === "histogram") checkHistogram(family);
  }
  return families;
}

function checkHistogram(family: ParsedFamily): void {
  const groups = new Map<string, Sample[]>();
  for (const sample of family.samples) {
    const { le: _le, ...rest } = sample.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    groups.set(key, [...(groups.get(key) ?? []), sample]);
  }
  for (const samples of groups.values()) {
    const buckets = samples.filter((s) => s.name === `${family.name}_bucket`);
    const count = samples.find((s) => s.name === `${family.name}_count`);
    if (!samples.some((s) => s.name === `${family.name}_sum`) || count === undefined) {
      throw new Error(`Histogram ${family.name} lacks _sum or _count`);
    }
    const inf = buckets.find((b) => b.labels.le === "+Inf");
    if (inf === undefined || inf.value !== count.value) {
      throw new Error(`Histogram ${family.name}: +Inf != _count`);
    }
    let previous = -Infinity;
    let previousBound = -Infinity;
    for (const bucket of buckets) {
      const bound = bucket.labels.le === "+Inf" ? Infinity : Number(bucket.labels.le);
      if (!(bound > previousBound) || bucket.value < previous) {
        throw new Error(`Histogram ${family.name}: buckets not cumulative in order`);
      }
      [previous, previousBound] = [bucket.value, bound];
    }
  }
}
