/**
 * Command-line and environment parsing: kube-ovn-speaker's flags with the same names, types, defaults
 * and validation, so an existing DaemonSet argument list works unchanged, plus the speaker's own flags.
 *
 * Pure: argv, the environment and file reading are passed in. Every problem is collected and returned
 * at once, each naming the flag, the value and what is allowed; nothing throws.
 *
 * Accepted syntaxes are pflag's and Go flag's: `--flag=value`, `--flag value`, `-flag=value`,
 * `-flag value`, booleans as `--flag` or `--flag=false` (strconv.ParseBool words), `-v=3`, `-v 3`,
 * `-v3`, and `--` to end the flags.
 *
 * @example
 * ```ts
 * import { parseConfig } from "./flags.ts";
 * const result = parseConfig(
 *   ["--neighbor-address=10.32.32.1", "--neighbor-as=65030", "--cluster-as=65000"],
 *   { NODE_NAME: "Node-1", POD_IPS: "10.32.32.5,fd00::5" },
 *   () => new Error("no files"),
 * );
 * if (result.ok && result.kind === "run") result.config.routerId; // "10.32.32.5"
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import { closestFlagName, flagByName, flagByShorthand, FLAGS, type FlagSpec } from "./flag_table.ts";
import { parseGoBool, parseGoDuration, parseGoInt, parseGoUint } from "./go_values.ts";
import { type Ipv4Address, type Ipv6Address, parseIp } from "./ip_address.ts";
import type { AddressPair, Asn, LogFormat, Port, RouterIdSource, SpeakerConfig } from "./speaker_config.ts";
import { levelForVerbosity } from "../log/level.ts";
import { MASK, Redactor, Secret } from "../log/redaction.ts";

/** The exit code for a command line that cannot be used (as Go's flag package and most CLIs do). */
export const EXIT_USAGE = 2;

/**
 * The message printed to stderr for a refused command line, before exiting with {@linkcode EXIT_USAGE}.
 *
 * @example
 * ```ts
 * import { formatConfigErrors } from "./flags.ts";
 * formatConfigErrors(["--ebgp-multihop=0: must be between 1 and 255"]);
 * // "speaker: cannot start with this command line (1 problem):\n  --ebgp-multihop=0: must be between 1 and 255\n..."
 * ```
 */
export function formatConfigErrors(errors: readonly string[]): string {
  const noun = errors.length === 1 ? "1 problem" : `${errors.length} problems`;
  return [
    `speaker: cannot start with this command line (${noun}):`,
    ...errors.map((e) => `  ${e}`),
    "Run speaker --help for every flag, its default and allowed values.",
  ].join("\n");
}

/** Reads a secret file; returns its text or the error met. */
export type ReadSecretFile = (path: string) => string | Error;

/**
 * The outcome of {@linkcode parseConfig}: a configuration to run with, a request for help or the
 * version (other flags are then not validated), or every problem found.
 */
export type ParseConfigResult =
  | {
    readonly ok: true;
    readonly kind: "run";
    readonly config: SpeakerConfig;
    readonly notes: readonly string[];
  }
  | { readonly ok: true; readonly kind: "help" | "version"; readonly notes: readonly string[] }
  | { readonly ok: false; readonly errors: readonly string[] };

/** RFC 2385 keys are limited by Linux's TCP_MD5SIG_MAXKEYLEN. */
const MAX_MD5_KEY_BYTES = 80;
const SECOND = 1_000_000_000n;
const KLOG_NOTE_FLAGS = new Set(FLAGS.filter((f) => f.group === "klog" && f.name !== "v").map((f) => f.name));

interface Occurrence {
  readonly spec: FlagSpec;
  readonly value: string;
}

/**
 * Parses argv (without the program name) and the environment into a validated configuration.
 * Environment variables read: NODE_NAME, POD_IP, POD_IPS, GATEWAY_NAME, SPEAKER_AUTH_PASSWORD,
 * SPEAKER_AUTH_PASSWORD_FILE.
 */
export function parseConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  readSecretFile: ReadSecretFile,
): ParseConfigResult {
  const errors: string[] = [];
  const notes: string[] = [];
  const { occurrences, positionals } = tokenize(argv, errors);
  const values = collectWithParseArgs(occurrences);

  const redactor = new Redactor();
  for (const v of values.get("auth-password") ?? []) redactor.register(v);
  redactor.register(env.SPEAKER_AUTH_PASSWORD);
  const finish = (result: ParseConfigResult): ParseConfigResult => {
    if (result.ok) return { ...result, notes: result.notes.map((n) => redactor.redact(n)) };
    return { ok: false, errors: result.errors.map((e) => redactor.redact(e)) };
  };

  const reader = new FlagReader(values, errors);
  if (reader.bool("help", false)) return finish({ ok: true, kind: "help", notes });
  if (reader.bool("version", false)) return finish({ ok: true, kind: "version", notes });

  for (const arg of positionals) {
    errors.push(
      `unexpected argument ${JSON.stringify(arg)}: the speaker takes only flags ` +
        `(a boolean flag takes its value after "=", as in --passivemode=true)`,
    );
  }

  // BGP identity and neighbors.
  const clusterAs = reader.asn("cluster-as");
  const neighborAs = reader.asn("neighbor-as");
  const neighborAddresses = reader.ipList(
    "neighbor-address",
    4,
    "put IPv6 neighbors in --neighbor-ipv6-address",
  );
  const neighborIpv6Addresses = reader.ipList(
    "neighbor-ipv6-address",
    6,
    "put IPv4 neighbors in --neighbor-address",
  );
  if (!values.has("neighbor-address") && !values.has("neighbor-ipv6-address")) {
    errors.push("--neighbor-address or --neighbor-ipv6-address: at least one BGP neighbor is required");
  } else if (
    neighborAddresses.length === 0 && neighborIpv6Addresses.length === 0 &&
    !reader.hasErrorFor("neighbor-address") && !reader.hasErrorFor("neighbor-ipv6-address")
  ) {
    errors.push(
      "--neighbor-address or --neighbor-ipv6-address: the lists are empty; give at least one neighbor",
    );
  }
  const neighborPort = reader.port("neighbor-port", 179, 1);
  const nodeIps = lastPerFamily(reader.ipList("node-ips", undefined, ""));
  const allowedSourceAddresses = reader.ipList(
    "allowed-source-addresses",
    4,
    "put IPv6 addresses in --allowed-source-ipv6-addresses",
  );
  const allowedSourceIpv6Addresses = reader.ipList(
    "allowed-source-ipv6-addresses",
    6,
    "put IPv4 addresses in --allowed-source-addresses",
  );

  // Timers.
  const holdTime = reader.duration("holdtime", 90n * SECOND);
  let holdTimeSeconds = Number(holdTime / SECOND);
  // kube-ovn-speaker compares the seconds as a float before truncating them.
  if (holdTime < 3n * SECOND || holdTime > 65536n * SECOND) {
    errors.push(`${reader.display("holdtime")}: must be between 3s and 65536s`);
  } else if (holdTimeSeconds > 65535) {
    notes.push("--holdtime=65536s does not fit the 16-bit OPEN field; sending 65535s");
    holdTimeSeconds = 65535;
  }
  const gracefulRestart = reader.bool("graceful-restart", false);
  const grTime = reader.duration("graceful-restart-time", 90n * SECOND);
  const grDeferral = reader.duration("graceful-restart-deferral-time", 360n * SECOND);
  if (gracefulRestart && (grTime < SECOND || grTime > 4095n * SECOND)) {
    errors.push(
      `${
        reader.display("graceful-restart-time")
      }: must be between 1s and 4095s when --graceful-restart is set`,
    );
  }
  if (gracefulRestart && (grDeferral < SECOND || grDeferral > 18n * 3600n * SECOND)) {
    errors.push(
      `${
        reader.display("graceful-restart-deferral-time")
      }: must be between 1s and 18h when --graceful-restart is set`,
    );
  }

  // Transport.
  const passiveMode = reader.bool("passivemode", false);
  const listenAddresses = values.has("listen-address")
    ? reader.ipList("listen-address", undefined, "")
    : ["0.0.0.0", "::"];
  const listenPort = reader.port("listen-port", 179, 1);
  if (!passiveMode && (values.has("listen-address") || values.has("listen-port"))) {
    notes.push("--listen-address and --listen-port take effect only with --passivemode");
  }
  const ebgpMultihop = reader.ranged("ebgp-multihop", 1, 1, 255, "uint8");
  const extendedNexthop = reader.bool("extended-nexthop", false);

  // Password: argv wins over the environment; within each, only one source may be given.
  const password = readPassword(reader, values, env, readSecretFile, errors, notes, redactor);

  // What to announce and where from.
  const announceClusterIp = reader.bool("announce-cluster-ip", false);
  const announceLbIp = reader.bool("announce-lb-ip", false);
  const natGwMode = reader.bool("nat-gw-mode", false);
  const nodeName = (reader.string("node-name") ?? env.NODE_NAME ?? "").trim().toLowerCase();
  if (nodeName === "" && !natGwMode) {
    errors.push(
      "--node-name: required unless --nat-gw-mode; set it or the NODE_NAME environment variable " +
        "(downward API spec.nodeName)",
    );
  }
  const gatewayName = env.GATEWAY_NAME?.trim() || undefined;
  if (natGwMode && gatewayName === undefined) {
    errors.push("GATEWAY_NAME: required with --nat-gw-mode; set it to the name of the VpcNatGateway");
  }
  const kubeconfig = reader.string("kubeconfig") || undefined;
  const objectsFiles = (values.get("objects-file") ?? []).filter((file, i) => {
    if (file !== "") return true;
    errors.push(`--objects-file=${JSON.stringify(file)} (occurrence ${i + 1}): needs a file path`);
    return false;
  });

  // Admin server and logging.
  const enableMetrics = reader.bool("enable-metrics", true);
  const adminAddress = reader.ip("admin-address") ?? "0.0.0.0";
  const adminPort = reader.port("pprof-port", 10667, 0, "int32");
  const logFormat = reader.choice("log-format", ["text", "json"], "text") as LogFormat;
  const logPerm = readLogPerm(reader, errors);
  const verbosity = reader.verbosity();
  reader.severity("stderrthreshold");

  // BFD.
  const enableBfd = reader.bool("enable-bfd", false);
  const bfdMinTxMs = reader.ranged(
    "bfd-min-tx",
    1000,
    enableBfd ? 1 : 0,
    4294967,
    "uint32",
    "when --enable-bfd is set",
  );
  const bfdMinRxMs = reader.ranged(
    "bfd-min-rx",
    1000,
    enableBfd ? 1 : 0,
    4294967,
    "uint32",
    "when --enable-bfd is set",
  );
  const bfdDetectionMultiplier = reader.ranged(
    "bfd-detection-multiplier",
    3,
    enableBfd ? 1 : 0,
    255,
    "uint8",
    "when --enable-bfd is set",
  );

  // Compatibility flags: validated by type, then explained.
  for (const name of ["log_file", "log_dir", "vmodule", "log_backtrace_at"]) reader.string(name);
  for (const name of ["logtostderr", "alsologtostderr", "one_output", "skip_headers", "skip_log_headers"]) {
    reader.bool(name, false);
  }
  reader.bool("add_dir_header", false);
  reader.ranged("log_file_max_size", 1800, 0, Number.MAX_SAFE_INTEGER, "uint64");
  const klogGiven = [...values.keys()].filter((name) => KLOG_NOTE_FLAGS.has(name));
  if (klogGiven.length > 0) {
    notes.push(
      `klog flags ${klogGiven.map((n) => `--${n}`).join(", ")} are accepted for compatibility and ignored: ` +
        `the speaker writes structured logs to stderr only (set verbosity with -v, format with --log-format)`,
    );
  }
  reader.ip("grpc-host");
  reader.ranged("grpc-port", 50051, -2147483648, 2147483647, "int32");
  if (values.has("grpc-host") || values.has("grpc-port")) {
    notes.push(
      "--grpc-host and --grpc-port are accepted and ignored: the GoBGP gRPC API is not provided; " +
        "read peers and prefixes with `speaker status` or GET /status on the admin port (--pprof-port)",
    );
  }

  const pod = readPodIps(env, notes);
  const routerId = deriveRouterId(reader, pod, nodeIps, errors);

  if (errors.length > 0) return finish({ ok: false, errors });
  if (routerId === undefined) throw new Error("Router id missing without an error");
  if (routerId.source !== "--router-id") {
    notes.push(`router id ${routerId.address} taken from ${routerId.source}`);
  }

  const config: SpeakerConfig = deepFreeze({
    clusterAs: clusterAs as Asn,
    neighborAs: neighborAs as Asn,
    neighborAddresses: neighborAddresses as Ipv4Address[],
    neighborIpv6Addresses: neighborIpv6Addresses as Ipv6Address[],
    neighborPort,
    routerId: routerId.address,
    routerIdSource: routerId.source,
    podIps: pod.ips,
    nodeIps,
    allowedSourceAddresses: allowedSourceAddresses as Ipv4Address[],
    allowedSourceIpv6Addresses: allowedSourceIpv6Addresses as Ipv6Address[],
    authPassword: password?.secret,
    authPasswordSource: password?.source,
    holdTimeSeconds,
    gracefulRestart,
    gracefulRestartTimeSeconds: Number(grTime / SECOND),
    gracefulRestartDeferralTimeSeconds: Number(grDeferral / SECOND),
    passiveMode,
    listenAddresses,
    listenPort,
    ebgpMultihop,
    extendedNexthop,
    announceClusterIp,
    announceLbIp,
    nodeName,
    natGwMode,
    gatewayName,
    kubeconfig,
    objectsFiles,
    enableMetrics,
    adminAddress,
    adminPort,
    logLevel: levelForVerbosity(verbosity),
    verbosity,
    logFormat,
    logPerm,
    enableBfd,
    bfdMinTxMs,
    bfdMinRxMs,
    bfdDetectionMultiplier,
  });
  return finish({ ok: true, kind: "run", config, notes });
}

/** Splits argv into flag occurrences with pflag's and Go's rules; unknown flags become errors. */
function tokenize(
  argv: readonly string[],
  errors: string[],
): { occurrences: Occurrence[]; positionals: string[] } {
  const occurrences: Occurrence[] = [];
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith("-") || arg === "-") {
      positionals.push(arg);
      continue;
    }
    const dashes = arg.startsWith("--") ? "--" : "-";
    const body = arg.slice(dashes.length);
    const eq = body.indexOf("=");
    const name = eq < 0 ? body : body.slice(0, eq);
    const inline = eq < 0 ? undefined : body.slice(eq + 1);
    let spec = flagByName(name);
    let value = inline;
    // pflag shorthand forms: -v3, -v=3, -v 3 (and --v=3 through the long name). A word such as
    // -verbose is reported as an unknown flag rather than read as -v=erbose.
    const short = dashes === "-" ? flagByShorthand(body[0]) : undefined;
    const rest = body.slice(1);
    if (
      spec === undefined && short !== undefined && (rest === "" || rest.startsWith("=") || /^\d+$/.test(rest))
    ) {
      spec = short;
      value = rest === "" ? undefined : rest.startsWith("=") ? rest.slice(1) : rest;
    }
    if (spec === undefined) {
      const suggestion = closestFlagName(name);
      const shown = `${dashes}${name}`;
      // The value of an unknown flag is never echoed: it may be a mistyped password.
      errors.push(`${shown}: unknown flag${suggestion ? `; did you mean --${suggestion}?` : ""}`);
      // `--unknown value` would leave "value" as a stray positional; pflag stops at the first error, so
      // skipping one value-looking argument keeps the report about the real mistakes.
      if (inline === undefined && i + 1 < argv.length && !argv[i + 1].startsWith("-")) i++;
      continue;
    }
    if (spec.kind === "bool") {
      occurrences.push({ spec, value: value ?? "true" });
      continue;
    }
    if (value === undefined) {
      // pflag takes the next argument as the value whatever it looks like.
      if (i + 1 >= argv.length) {
        errors.push(`--${spec.name}: needs a value (${exampleFor(spec)})`);
        continue;
      }
      value = argv[++i];
    }
    occurrences.push({ spec, value });
  }
  return { occurrences, positionals };
}

function exampleFor(spec: FlagSpec): string {
  const sample: Record<string, string> = {
    duration: "90s",
    uint8: "1",
    uint32: "65000",
    uint64: "200",
    int32: "10667",
    ip: "10.0.0.1",
    ipSlice: "10.0.0.1,10.0.0.2",
    verbosity: "3",
    severity: "ERROR",
  };
  return `for example --${spec.name}=${sample[spec.kind] ?? "VALUE"}`;
}

/**
 * Collects the values of each flag in order with `node:util` `parseArgs` in strict mode. The
 * occurrences were normalised to `--name=value`, so parseArgs sees only known long options.
 */
function collectWithParseArgs(occurrences: readonly Occurrence[]): Map<string, string[]> {
  const options: Record<string, { type: "string"; multiple: true }> = {};
  for (const spec of FLAGS) options[spec.name] = { type: "string", multiple: true };
  const { values } = parseArgs({
    args: occurrences.map((o) => `--${o.spec.name}=${o.value}`),
    options,
    strict: true,
    allowPositionals: false,
  });
  const out = new Map<string, string[]>();
  for (const [name, list] of Object.entries(values)) {
    if (Array.isArray(list) && list.length > 0) out.set(name, list as string[]);
  }
  return out;
}

/** Reads typed values of flags, recording each problem as an error naming flag and value. */
class FlagReader {
  #values: ReadonlyMap<string, string[]>;
  #errors: string[];
  #failed = new Set<string>();

  constructor(values: ReadonlyMap<string, string[]>, errors: string[]) {
    this.#values = values;
    this.#errors = errors;
  }

  /** pflag scalars: the last occurrence wins. */
  last(name: string): string | undefined {
    const list = this.#values.get(name);
    return list === undefined ? undefined : list[list.length - 1];
  }

  /** `--name=value` for messages; the password is masked. */
  display(name: string, value = this.last(name)): string {
    if (value === undefined) return `--${name}`;
    const shown = name === "auth-password"
      ? MASK
      : /^[^\s"'\\]+$/.test(value)
      ? value
      : JSON.stringify(value);
    return `--${name}=${shown}`;
  }

  fail(name: string, message: string, value?: string): void {
    this.#failed.add(name);
    this.#errors.push(`${this.display(name, value)}: ${message}`);
  }

  hasErrorFor(name: string): boolean {
    return this.#failed.has(name);
  }

  bool(name: string, fallback: boolean): boolean {
    const text = this.last(name);
    if (text === undefined) return fallback;
    const parsed = parseGoBool(text);
    if (!parsed.ok) {
      this.fail(name, "must be true or false (or 1, 0, t, f)");
      return fallback;
    }
    return parsed.value;
  }

  string(name: string): string | undefined {
    return this.last(name);
  }

  asn(name: string): number {
    const text = this.last(name);
    if (text === undefined) {
      this.#failed.add(name);
      this.#errors.push(`--${name}: required; give an AS number between 1 and 4294967295`);
      return 0;
    }
    const parsed = parseGoUint(text, 32);
    if (!parsed.ok || parsed.value === 0) {
      this.fail(name, "must be an AS number between 1 and 4294967295");
      return 0;
    }
    return parsed.value;
  }

  /** An integer flag with pflag's type and a validated range. */
  ranged(
    name: string,
    fallback: number,
    min: number,
    max: number,
    kind: "uint8" | "uint32" | "uint64" | "int32",
    when = "",
  ): number {
    const text = this.last(name);
    if (text === undefined) return fallback;
    const parsed = kind === "int32"
      ? parseGoInt(text, 32)
      : parseGoUint(text, kind === "uint8" ? 8 : kind === "uint32" ? 32 : 64);
    const suffix = when === "" ? "" : ` ${when}`;
    if (!parsed.ok || parsed.value < min || parsed.value > max) {
      this.fail(name, `must be between ${min} and ${max}${suffix}`);
      return fallback;
    }
    return parsed.value;
  }

  port(name: string, fallback: number, min: number, kind: "uint32" | "int32" = "uint32"): Port {
    return this.ranged(name, fallback, min, 65535, kind) as Port;
  }

  duration(name: string, fallback: bigint): bigint {
    const text = this.last(name);
    if (text === undefined) return fallback;
    const parsed = parseGoDuration(text);
    if (!parsed.ok) {
      this.fail(name, parsed.reason);
      return fallback;
    }
    return parsed.value;
  }

  choice(name: string, allowed: readonly string[], fallback: string): string {
    const text = this.last(name);
    if (text === undefined) return fallback;
    if (!allowed.includes(text)) {
      this.fail(name, `must be ${allowed.slice(0, -1).join(", ")} or ${allowed[allowed.length - 1]}`);
      return fallback;
    }
    return text;
  }

  ip(name: string): string | undefined {
    const text = this.last(name);
    if (text === undefined) return undefined;
    const parsed = parseIp(text.trim());
    if (parsed === undefined) {
      this.fail(name, "not an IP address");
      return undefined;
    }
    return parsed.text;
  }

  /**
   * An IP slice: comma-separated and repeatable, entries trimmed. `family` 4 requires IPv4 (Go's
   * `To4() != nil`), 6 requires anything else.
   */
  ipList(name: string, family: 4 | 6 | undefined, hint: string): string[] {
    const out: string[] = [];
    for (const text of this.#values.get(name) ?? []) {
      if (text.trim() === "") continue;
      for (const raw of text.split(",")) {
        const entry = raw.trim().replace(/^"|"$/g, "");
        const parsed = parseIp(entry);
        if (parsed === undefined) {
          this.fail(name, "not an IP address", entry);
        } else if (family === 4 && parsed.family !== 4) {
          this.fail(name, `must be an IPv4 address (${hint})`, entry);
        } else if (family === 6 && parsed.family !== 6) {
          this.fail(name, `must be an IPv6 address (${hint})`, entry);
        } else if (!out.includes(parsed.text)) {
          out.push(parsed.text);
        }
      }
    }
    return out;
  }

  verbosity(): number {
    const text = this.last("v");
    if (text === undefined) return 0;
    const parsed = parseGoUint(text, 32);
    if (!parsed.ok || !/^[0-9]+$/.test(text)) {
      this.#failed.add("v");
      this.#errors.push(`-v=${text}: must be a non-negative integer (0-2 info, 3-4 debug, 5 and more trace)`);
      return 0;
    }
    return parsed.value;
  }

  severity(name: string): void {
    const text = this.last(name);
    if (text === undefined) return;
    if (!/^(INFO|WARNING|ERROR|FATAL|[0-3])$/i.test(text)) {
      this.fail(name, "must be INFO, WARNING, ERROR or FATAL");
    }
  }
}

function readLogPerm(reader: FlagReader, errors: string[]): number {
  const text = reader.string("log-perm") ?? "640";
  if (!/^0?[0-7]{1,4}$/.test(text)) {
    errors.push(`${reader.display("log-perm")}: must be an octal file mode such as 640`);
    return 0o640;
  }
  return parseInt(text, 8);
}

function readPassword(
  reader: FlagReader,
  values: ReadonlyMap<string, string[]>,
  env: Readonly<Record<string, string | undefined>>,
  readSecretFile: ReadSecretFile,
  errors: string[],
  notes: string[],
  redactor: Redactor,
): { secret: Secret; source: NonNullable<SpeakerConfig["authPasswordSource"]> } | undefined {
  const fromFile = (flagText: string, path: string) => {
    if (path.trim() === "") {
      errors.push(`${flagText}: needs a file path`);
      return undefined;
    }
    const read = readSecretFile(path);
    if (read instanceof Error) {
      errors.push(`${flagText}=${path}: cannot read the password file: ${read.message}`);
      return undefined;
    }
    // A trailing newline is how editors and `echo` end files, never part of the key.
    const text = read.replace(/\r?\n$/, "");
    redactor.register(text);
    if (text === "") {
      errors.push(`${flagText}=${path}: the password file is empty`);
      return undefined;
    }
    return text;
  };

  let found: { text: string; source: NonNullable<SpeakerConfig["authPasswordSource"]> } | undefined;
  const argvPassword = reader.string("auth-password");
  const argvFile = reader.string("auth-password-file");
  if (argvPassword !== undefined && argvFile !== undefined) {
    errors.push("--auth-password and --auth-password-file: give only one");
    return undefined;
  }
  if (argvFile !== undefined) {
    const text = fromFile("--auth-password-file", argvFile);
    if (text === undefined) return undefined;
    found = { text, source: "--auth-password-file" };
  } else if (values.has("auth-password")) {
    if (argvPassword !== "") {
      notes.push(
        "--auth-password on the command line is visible to every local user through /proc; " +
          "prefer --auth-password-file or the SPEAKER_AUTH_PASSWORD_FILE environment variable",
      );
    }
    found = argvPassword === "" ? undefined : { text: argvPassword!, source: "--auth-password" };
  } else {
    const envText = env.SPEAKER_AUTH_PASSWORD;
    const envFile = env.SPEAKER_AUTH_PASSWORD_FILE;
    if (envText && envFile) {
      errors.push("SPEAKER_AUTH_PASSWORD and SPEAKER_AUTH_PASSWORD_FILE: set only one");
      return undefined;
    }
    if (envFile) {
      const text = fromFile("SPEAKER_AUTH_PASSWORD_FILE", envFile);
      if (text === undefined) return undefined;
      found = { text, source: "SPEAKER_AUTH_PASSWORD_FILE" };
    } else if (envText) {
      found = { text: envText, source: "SPEAKER_AUTH_PASSWORD" };
    }
  }
  if (found === undefined) return undefined;
  const secret = new Secret(found.text);
  if (secret.byteLength > MAX_MD5_KEY_BYTES) {
    errors.push(
      `${found.source}: the password is ${secret.byteLength} bytes long; TCP-MD5 allows at most ${MAX_MD5_KEY_BYTES}`,
    );
    return undefined;
  }
  return { secret, source: found.source };
}

/**
 * The speaker's own IPs from POD_IPS (downward API status.podIPs), else POD_IP. Bad values are ignored
 * with a note, as kube-ovn-speaker does, and the next source is tried.
 */
function readPodIps(
  env: Readonly<Record<string, string | undefined>>,
  notes: string[],
): { ips: AddressPair; source: "POD_IPS" | "POD_IP" } {
  for (const name of ["POD_IPS", "POD_IP"] as const) {
    const text = env[name]?.trim();
    if (!text) continue;
    const entries = text.split(",").map((s) => s.trim()).filter((s) => s !== "");
    const parsed = entries.map((e) => parseIp(e));
    if (entries.length > 2 || parsed.some((p) => p === undefined)) {
      notes.push(`${name}=${text}: ignored, expected one or two IP addresses separated by a comma`);
      continue;
    }
    return { ips: lastPerFamily(parsed.map((p) => p!.text)), source: name };
  }
  return { ips: {}, source: "POD_IPS" };
}

function lastPerFamily(addresses: readonly string[]): AddressPair {
  let ipv4: Ipv4Address | undefined;
  let ipv6: Ipv6Address | undefined;
  for (const address of addresses) {
    const parsed = parseIp(address)!;
    if (parsed.family === 4) ipv4 = parsed.text;
    else ipv6 = parsed.text;
  }
  return { ...(ipv4 ? { ipv4 } : {}), ...(ipv6 ? { ipv6 } : {}) };
}

/**
 * RFC 6286 §2.1: the BGP identifier is a non-zero 32-bit value. Taken from --router-id, else the IPv4
 * pod IP, else the IPv4 node IP; kube-ovn-speaker's fallback to 0.0.0.0 is refused instead.
 */
function deriveRouterId(
  reader: FlagReader,
  pod: { ips: AddressPair; source: "POD_IPS" | "POD_IP" },
  nodeIps: AddressPair,
  errors: string[],
): { address: Ipv4Address; source: RouterIdSource } | undefined {
  const text = reader.string("router-id");
  if (text !== undefined) {
    const parsed = parseIp(text.trim());
    if (parsed === undefined) {
      reader.fail("router-id", "not an IP address");
    } else if (parsed.family !== 4) {
      reader.fail("router-id", "must be an IPv4 address (the BGP identifier is 32 bits)");
    } else if (parsed.text === "0.0.0.0") {
      reader.fail("router-id", "must not be 0.0.0.0 (RFC 6286 requires a non-zero BGP identifier)");
    } else {
      return { address: parsed.text, source: "--router-id" };
    }
    return undefined;
  }
  if (pod.ips.ipv4 !== undefined && pod.ips.ipv4 !== "0.0.0.0") {
    return { address: pod.ips.ipv4, source: pod.source };
  }
  if (nodeIps.ipv4 !== undefined && nodeIps.ipv4 !== "0.0.0.0") {
    return { address: nodeIps.ipv4, source: "--node-ips" };
  }
  errors.push(
    "--router-id: no IPv4 address to derive the BGP identifier from (POD_IPS, POD_IP and --node-ips " +
      "hold none); set --router-id to an IPv4 address of this node",
  );
  return undefined;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !(value instanceof Secret) && !Object.isFrozen(value)) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
