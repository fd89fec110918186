/**
 * Flag value syntaxes of Go's `strconv` and `time` packages, as spf13/pflag applies them, so that an
 * argument list written for kube-ovn-speaker means the same thing here.
 *
 * Every parser returns either a value or a short reason saying what is wrong; none throws.
 *
 * @example
 * ```ts
 * import { parseGoBool, parseGoDuration, parseGoUint } from "./go_values.ts";
 * parseGoDuration("1m30s"); // { ok: true, value: 90_000_000_000n }
 * parseGoDuration("90"); // { ok: false, reason: "missing unit (use Go syntax such as 90s, 1m30s, 1h)" }
 * parseGoUint("0x10", 32); // { ok: true, value: 16 }
 * parseGoBool("T"); // { ok: true, value: true }
 * ```
 *
 * @module
 */

/** The outcome of parsing one flag value. */
export type GoParse<T> = { readonly ok: true; readonly value: T } | {
  readonly ok: false;
  readonly reason: string;
};

const TRUE_WORDS = new Set(["1", "t", "T", "TRUE", "true", "True"]);
const FALSE_WORDS = new Set(["0", "f", "F", "FALSE", "false", "False"]);

/** Parses a boolean with `strconv.ParseBool`'s word list (1, t, T, TRUE, true, True and the false forms). */
export function parseGoBool(text: string): GoParse<boolean> {
  if (TRUE_WORDS.has(text)) return { ok: true, value: true };
  if (FALSE_WORDS.has(text)) return { ok: true, value: false };
  return { ok: false, reason: "not a boolean (use true or false)" };
}

/**
 * Parses an unsigned integer as `strconv.ParseUint(text, 0, bits)` does: decimal, `0x` hex, `0o` or
 * leading-`0` octal, `0b` binary, with `_` allowed between digits.
 */
export function parseGoUint(text: string, bits: 8 | 16 | 32 | 64): GoParse<number> {
  const parsed = parseBaseZero(text);
  if (parsed === undefined) return { ok: false, reason: "not an unsigned integer" };
  if (parsed > (1n << BigInt(bits)) - 1n) return { ok: false, reason: "out of range" };
  return { ok: true, value: Number(parsed) };
}

/** Parses a signed integer as `strconv.ParseInt(text, 0, bits)` does. */
export function parseGoInt(text: string, bits: 32 | 64): GoParse<number> {
  let sign = 1n;
  let body = text;
  if (body.startsWith("-") || body.startsWith("+")) {
    sign = body[0] === "-" ? -1n : 1n;
    body = body.slice(1);
  }
  const parsed = parseBaseZero(body);
  if (parsed === undefined) return { ok: false, reason: "not an integer" };
  const value = sign * parsed;
  const limit = 1n << BigInt(bits - 1);
  if (value < -limit || value > limit - 1n) return { ok: false, reason: "out of range" };
  return { ok: true, value: Number(value) };
}

function parseBaseZero(text: string): bigint | undefined {
  let base = 10;
  let digits = text;
  let prefixed = false;
  const lower = text.toLowerCase();
  if (lower.startsWith("0x")) [base, digits, prefixed] = [16, text.slice(2), true];
  else if (lower.startsWith("0o")) [base, digits, prefixed] = [8, text.slice(2), true];
  else if (lower.startsWith("0b")) [base, digits, prefixed] = [2, text.slice(2), true];
  else if (text.length > 1 && text[0] === "0") [base, digits, prefixed] = [8, text.slice(1), true];
  const digitClass = base === 16 ? "[0-9a-fA-F]" : base === 8 ? "[0-7]" : base === 2 ? "[01]" : "[0-9]";
  // strconv's underscoreOK: "_" only between digits, or between a base prefix and a digit.
  const shape = new RegExp(`^${prefixed ? "_?" : ""}${digitClass}+(_${digitClass}+)*$`);
  if (!shape.test(digits)) return undefined;
  const clean = digits.replaceAll("_", "");
  let value = 0n;
  for (const ch of clean) value = value * BigInt(base) + BigInt(parseInt(ch, base));
  return value;
}

const UNIT_NANOS: Readonly<Record<string, bigint>> = {
  ns: 1n,
  us: 1_000n,
  "\u00b5s": 1_000n,
  "\u03bcs": 1_000n,
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};
const MAX_DURATION = (1n << 63n) - 1n;
const DURATION_HINT = "use Go syntax such as 90s, 1m30s, 1h";

/**
 * Parses a duration with `time.ParseDuration`'s grammar (`300ms`, `-1.5h`, `2h45m`; a bare `0` is the
 * only number without a unit) into nanoseconds.
 */
export function parseGoDuration(text: string): GoParse<bigint> {
  let rest = text;
  let negative = false;
  if (rest.startsWith("-") || rest.startsWith("+")) {
    negative = rest[0] === "-";
    rest = rest.slice(1);
  }
  if (rest === "0") return { ok: true, value: 0n };
  if (rest === "") return { ok: false, reason: `invalid duration (${DURATION_HINT})` };
  let total = 0n;
  while (rest !== "") {
    const number = /^([0-9]*)(?:\.([0-9]*))?/.exec(rest);
    const whole = number?.[1] ?? "";
    const fraction = number?.[2] ?? "";
    if (whole === "" && fraction === "") return { ok: false, reason: `invalid duration (${DURATION_HINT})` };
    rest = rest.slice(number![0].length);
    const unitMatch = /^[^0-9.]*/.exec(rest)![0];
    if (unitMatch === "") return { ok: false, reason: `missing unit (${DURATION_HINT})` };
    const unit = UNIT_NANOS[unitMatch];
    if (unit === undefined) return { ok: false, reason: `unknown unit "${unitMatch}" (${DURATION_HINT})` };
    rest = rest.slice(unitMatch.length);
    let part = BigInt(whole === "" ? "0" : whole) * unit;
    if (fraction !== "") part += (BigInt(fraction) * unit) / 10n ** BigInt(fraction.length);
    total += part;
    if (total > MAX_DURATION + (negative ? 1n : 0n)) return { ok: false, reason: "out of range" };
  }
  return { ok: true, value: negative ? -total : total };
}
