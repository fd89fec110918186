/**
 * The benchmark report: sections of tables with medians and ratios, rendered as the Markdown of
 * `bench/RESULTS.md`. Pure.
 *
 * @example
 * ```ts
 * const md = renderReport({
 *   title: "Benchmarks",
 *   date: "2026-11-21T07:00:00Z",
 *   mode: "full",
 *   machine: [["nproc", "2"]],
 *   sections: [{ title: "Codec", method: ["How."], tables: [{ columns: ["a"], rows: [["1"]] }] }],
 * });
 * ```
 *
 * @module
 */

/** One Markdown table. */
export interface Table {
  /** Optional caption line above the table. */
  readonly caption?: string;
  readonly columns: readonly string[];
  readonly rows: readonly (readonly string[])[];
}

/** A target of the issue and whether this run met it. */
export interface TargetCheck {
  readonly target: string;
  readonly measured: string;
  /** `undefined` when the run could not decide (not measured). */
  readonly met: boolean | undefined;
}

/** The result of one benchmark. */
export interface Section {
  readonly title: string;
  /** How it was measured: one paragraph or bullet per entry (Markdown). */
  readonly method: readonly string[];
  readonly tables: readonly Table[];
  readonly targets?: readonly TargetCheck[];
  /** Set when the benchmark failed; its tables may be partial. */
  readonly error?: string;
}

/** The whole report. */
export interface Report {
  readonly title: string;
  /** ISO date and time of the run's start (UTC). */
  readonly date: string;
  readonly mode: "full" | "quick";
  /** Machine description as label/value pairs. */
  readonly machine: readonly (readonly [string, string])[];
  /** Paragraphs after the machine description. */
  readonly preamble?: readonly string[];
  readonly sections: readonly Section[];
}

function cell(text: string): string {
  return text.replaceAll("|", "\\|").replaceAll("\n", " ");
}

/** Renders one table as Markdown lines. */
export function renderTable(table: Table): string[] {
  const lines: string[] = [];
  if (table.caption) lines.push(table.caption, "");
  lines.push(`| ${table.columns.map(cell).join(" | ")} |`);
  lines.push(`|${table.columns.map(() => "---").join("|")}|`);
  for (const row of table.rows) lines.push(`| ${row.map(cell).join(" | ")} |`);
  return lines;
}

/** Renders the report as Markdown. */
export function renderReport(report: Report): string {
  const out: string[] = [`# ${report.title}`, ""];
  out.push(
    `Run: ${report.date} (${
      report.mode === "quick" ? "quick mode: fewer sizes and repetitions, a smoke test only" : "full run"
    }).`,
    "",
  );
  out.push("## Machine", "");
  out.push(...renderTable({ columns: ["", ""], rows: report.machine.map(([k, v]) => [k, v]) }), "");
  for (const p of report.preamble ?? []) out.push(p, "");
  const checks = report.sections.flatMap((s) => s.targets ?? []);
  if (checks.length > 0) {
    out.push("## Targets", "");
    out.push(
      ...renderTable({
        columns: ["target", "measured", "met"],
        rows: checks.map((
          c,
        ) => [c.target, c.measured, c.met === undefined ? "n/a" : c.met ? "yes" : "**no**"]),
      }),
      "",
    );
  }
  for (const s of report.sections) {
    out.push(`## ${s.title}`, "");
    if (s.error) out.push(`**Failed:** ${s.error}`, "");
    for (const m of s.method) out.push(m, "");
    for (const t of s.tables) out.push(...renderTable(t), "");
  }
  return out.join("\n").replace(/\n+$/, "\n");
}

/** Seconds with 3 decimals, or `-` for NaN. */
export function seconds(x: number): string {
  return Number.isFinite(x) ? x.toFixed(3) : "-";
}

/** Milliseconds with 1 decimal, or `-`. */
export function millis(x: number): string {
  return Number.isFinite(x) ? x.toFixed(1) : "-";
}

/** MiB as an integer, or `-`. */
export function mebibytes(x: number): string {
  return Number.isFinite(x) ? x.toFixed(0) : "-";
}

/** The ratio `ours / theirs` as `0.52x`, or `-` when either is missing or zero. */
export function ratio(ours: number, theirs: number): string {
  if (!Number.isFinite(ours) || !Number.isFinite(theirs) || theirs === 0) return "-";
  return `${(ours / theirs).toFixed(2)}x`;
}
