import { assert, assertEquals, assertStringIncludes, fail } from "../assert.ts";
import {
  EXIT_USAGE,
  formatConfigErrors,
  parseConfig,
  type ParseConfigResult,
} from "../../lib/config/flags.ts";
import { configLogFields, formatConfigForLog, type SpeakerConfig } from "../../lib/config/speaker_config.ts";
import { USAGE } from "../../lib/config/usage.ts";
import { FLAGS } from "../../lib/config/flag_table.ts";

const BASE = ["--neighbor-address=10.32.32.1", "--neighbor-as=65030", "--cluster-as=65000"];
const ENV = { NODE_NAME: "node-1", POD_IPS: "10.32.32.5" };
const PASSWORD = "Zq9-distinctive-MD5-key-7f3a";

function files(map: Record<string, string> = {}) {
  return (path: string) => path in map ? map[path] : new Error(`open ${path}: no such file or directory`);
}

function parse(
  argv: string[],
  env: Record<string, string | undefined> = ENV,
  f = files(),
): ParseConfigResult {
  return parseConfig(argv, env, f);
}

function configOf(argv: string[], env: Record<string, string | undefined> = ENV, f = files()) {
  const result = parse(argv, env, f);
  if (!result.ok) fail(`expected a configuration, got errors:\n${result.errors.join("\n")}`);
  if (result.kind !== "run") fail(`expected kind run, got ${result.kind}`);
  return { config: result.config, notes: result.notes };
}

function errorsOf(
  argv: string[],
  env: Record<string, string | undefined> = ENV,
  f = files(),
): readonly string[] {
  const result = parse(argv, env, f);
  if (result.ok) fail(`expected errors for ${argv.join(" ")}`);
  return result.errors;
}

Deno.test("parseConfig() applies kube-ovn-speaker's defaults", () => {
  const { config, notes } = configOf(BASE);
  const expected: Record<string, unknown> = {
    clusterAs: 65000,
    neighborAs: 65030,
    neighborAddresses: ["10.32.32.1"],
    neighborIpv6Addresses: [],
    neighborPort: 179,
    routerId: "10.32.32.5",
    routerIdSource: "POD_IPS",
    nodeIps: {},
    allowedSourceAddresses: [],
    allowedSourceIpv6Addresses: [],
    authPassword: undefined,
    authPasswordSource: undefined,
    holdTimeSeconds: 90,
    gracefulRestart: false,
    gracefulRestartTimeSeconds: 90,
    gracefulRestartDeferralTimeSeconds: 360,
    passiveMode: false,
    listenAddresses: ["0.0.0.0", "::"],
    listenPort: 179,
    ebgpMultihop: 1,
    extendedNexthop: false,
    announceClusterIp: false,
    announceLbIp: false,
    nodeName: "node-1",
    natGwMode: false,
    gatewayName: undefined,
    kubeconfig: undefined,
    objectsFiles: [],
    enableMetrics: true,
    adminAddress: "0.0.0.0",
    adminPort: 10667,
    logLevel: "info",
    verbosity: 0,
    logFormat: "text",
    logPerm: 0o640,
    enableBfd: false,
    bfdMinTxMs: 1000,
    bfdMinRxMs: 1000,
    bfdDetectionMultiplier: 3,
  };
  for (const [key, value] of Object.entries(expected)) {
    assertEquals(config[key as keyof SpeakerConfig], value, `default of ${key}`);
  }
  assertEquals(notes, ["router id 10.32.32.5 taken from POD_IPS"]);
});

Deno.test("parseConfig() accepts the kube-ovn DaemonSet argument list unchanged", () => {
  // yamls/speaker.yaml (reference §5.1), with its environment from the downward API.
  const argv = [
    "--logtostderr=false",
    "--alsologtostderr=true",
    "--log_file=/var/log/kube-ovn/kube-ovn-speaker.log",
    "--log_file_max_size=200",
    "--neighbor-address=10.32.32.1",
    "--neighbor-as=65030",
    "--cluster-as=65000",
  ];
  const { config, notes } = configOf(argv, {
    NODE_NAME: "kube-ovn-worker",
    POD_IP: "172.18.0.3",
    POD_IPS: "172.18.0.3,fc00:f853:ccd:e793::3",
  });
  assertEquals(config.clusterAs, 65000);
  assertEquals(config.neighborAs, 65030);
  assertEquals(config.neighborAddresses, ["10.32.32.1"]);
  assertEquals(config.routerId, "172.18.0.3");
  assertEquals(config.podIps, { ipv4: "172.18.0.3", ipv6: "fc00:f853:ccd:e793::3" });
  assertEquals(config.nodeName, "kube-ovn-worker");
  assert(
    notes.some((n) =>
      n.startsWith("klog flags --logtostderr, --alsologtostderr, --log_file, --log_file_max_size")
    ),
  );
});

Deno.test("parseConfig() accepts the kind lab argument lists of kube-ovn's makefiles", () => {
  const v4 = configOf([
    "--neighbor-address=10.0.1.1",
    "--neighbor-as=65001",
    "--cluster-as=65002",
    "--announce-cluster-ip=true",
  ]).config;
  assertEquals(v4.announceClusterIp, true);
  const v6 = configOf(
    [
      "--neighbor-ipv6-address=fd00:10:1::1",
      "--neighbor-as=65001",
      "--cluster-as=65002",
      "--router-id=10.0.1.2",
    ],
    { NODE_NAME: "kube-ovn-control-plane", POD_IPS: "fd00:10:1::2" },
  ).config;
  assertEquals(v6.neighborIpv6Addresses, ["fd00:10:1::1"]);
  assertEquals(v6.routerId, "10.0.1.2");
  assertEquals(v6.routerIdSource, "--router-id");
});

Deno.test("parseConfig() accepts pflag and Go flag syntaxes", () => {
  const forms = [
    ["--holdtime=30s"],
    ["--holdtime", "30s"],
    ["-holdtime=30s"],
    ["-holdtime", "30s"],
  ];
  for (const form of forms) {
    assertEquals(configOf([...BASE, ...form]).config.holdTimeSeconds, 30, form.join(" "));
  }
  for (const form of [["-v=4"], ["-v", "4"], ["-v4"], ["--v=4"], ["--v", "4"]]) {
    const { config } = configOf([...BASE, ...form]);
    assertEquals(config.verbosity, 4, form.join(" "));
    assertEquals(config.logLevel, "debug");
  }
  const split = configOf([
    "--cluster-as",
    "65000",
    "--neighbor-as",
    "65030",
    "--neighbor-address",
    "10.32.32.1",
  ]);
  assertEquals(split.config.clusterAs, 65000);
});

Deno.test("parseConfig() reads booleans with strconv.ParseBool's words", () => {
  for (const word of ["1", "t", "T", "TRUE", "true", "True"]) {
    assertEquals(configOf([...BASE, `--passivemode=${word}`]).config.passiveMode, true, word);
  }
  for (const word of ["0", "f", "F", "FALSE", "false", "False"]) {
    assertEquals(configOf([...BASE, `--enable-metrics=${word}`]).config.enableMetrics, false, word);
  }
  assertEquals(configOf([...BASE, "--graceful-restart"]).config.gracefulRestart, true);
  assertEquals(configOf([...BASE, "-extended-nexthop"]).config.extendedNexthop, true);
  assertEquals(errorsOf([...BASE, "--passivemode=yes"]), [
    "--passivemode=yes: must be true or false (or 1, 0, t, f)",
  ]);
  assertEquals(errorsOf([...BASE, "--passivemode", "true"]), [
    'unexpected argument "true": the speaker takes only flags (a boolean flag takes its value after "=", as in --passivemode=true)',
  ]);
});

Deno.test("parseConfig() lets the last value of a scalar flag win, as pflag does", () => {
  assertEquals(configOf([...BASE, "--holdtime=30s", "--holdtime=60s"]).config.holdTimeSeconds, 60);
  assertEquals(configOf([...BASE, "--cluster-as=65001"]).config.clusterAs, 65001);
});

Deno.test("parseConfig() reads IP lists comma-separated and repeated, checking families", () => {
  const { config } = configOf([
    "--neighbor-address=10.0.0.1, 10.0.0.2",
    "--neighbor-address=10.0.0.3,10.0.0.1",
    "--neighbor-ipv6-address=FD00:0:0::1",
    "--neighbor-ipv6-address=fd00::2",
    "--neighbor-as=65030",
    "--cluster-as=65000",
  ]);
  assertEquals(config.neighborAddresses, ["10.0.0.1", "10.0.0.2", "10.0.0.3"]);
  assertEquals(config.neighborIpv6Addresses, ["fd00::1", "fd00::2"]);
  // Go's To4() treats an IPv4-mapped address as IPv4.
  assertEquals(configOf([...BASE, "--neighbor-address=::ffff:10.0.0.9"]).config.neighborAddresses, [
    "10.32.32.1",
    "10.0.0.9",
  ]);
  assertEquals(errorsOf([...BASE, "--neighbor-address=fd00::1,10.0.0.300"]), [
    "--neighbor-address=fd00::1: must be an IPv4 address (put IPv6 neighbors in --neighbor-ipv6-address)",
    "--neighbor-address=10.0.0.300: not an IP address",
  ]);
  assertEquals(errorsOf([...BASE, "--neighbor-ipv6-address=10.0.0.1"]), [
    "--neighbor-ipv6-address=10.0.0.1: must be an IPv6 address (put IPv4 neighbors in --neighbor-address)",
  ]);
  assertEquals(errorsOf([...BASE, "--allowed-source-addresses=fd00::1"]), [
    "--allowed-source-addresses=fd00::1: must be an IPv4 address (put IPv6 addresses in --allowed-source-ipv6-addresses)",
  ]);
  assertEquals(errorsOf([...BASE, "--allowed-source-ipv6-addresses=10.1.1.1"]), [
    "--allowed-source-ipv6-addresses=10.1.1.1: must be an IPv6 address (put IPv4 addresses in --allowed-source-addresses)",
  ]);
  assertEquals(
    configOf([...BASE, "--allowed-source-addresses=10.1.1.1", "--allowed-source-ipv6-addresses=fd00::a"])
      .config
      .allowedSourceIpv6Addresses,
    ["fd00::a"],
  );
  assertEquals(errorsOf([...BASE, "--node-ips=node-1"]), ["--node-ips=node-1: not an IP address"]);
});

Deno.test("parseConfig() keeps the last node IP of each family", () => {
  const { config } = configOf([...BASE, "--node-ips=10.0.0.1,fd00::1", "--node-ips=10.0.0.2"]);
  assertEquals(config.nodeIps, { ipv4: "10.0.0.2", ipv6: "fd00::1" });
});

Deno.test("parseConfig() requires the ASNs and a neighbor, reporting all of them at once", () => {
  assertEquals(errorsOf([]), [
    "--cluster-as: required; give an AS number between 1 and 4294967295",
    "--neighbor-as: required; give an AS number between 1 and 4294967295",
    "--neighbor-address or --neighbor-ipv6-address: at least one BGP neighbor is required",
  ]);
  assertEquals(errorsOf(["--cluster-as=0", "--neighbor-as=4294967296", "--neighbor-address="]), [
    "--cluster-as=0: must be an AS number between 1 and 4294967295",
    "--neighbor-as=4294967296: must be an AS number between 1 and 4294967295",
    "--neighbor-address or --neighbor-ipv6-address: the lists are empty; give at least one neighbor",
  ]);
  const big =
    configOf(["--cluster-as=4200000000", "--neighbor-as=0x10", "--neighbor-address=10.0.0.1"]).config;
  assertEquals([big.clusterAs, big.neighborAs], [4200000000, 16]);
});

Deno.test("parseConfig() reports every invalid value at once, each naming flag, value and what is allowed", () => {
  const errors = errorsOf([
    ...BASE,
    "--ebgp-multihop=0",
    "--holdtime=2s",
    "--pprof-port=70000",
    "--log-format=xml",
    "--log-perm=999",
    "--neighbor-port=0",
    "--router-id=fd00::1",
    "-v=x",
    "--stderrthreshold=LOUD",
  ]);
  assertEquals(errors, [
    "--neighbor-port=0: must be between 1 and 65535",
    "--holdtime=2s: must be between 3s and 65536s",
    "--ebgp-multihop=0: must be between 1 and 255",
    "--pprof-port=70000: must be between 0 and 65535",
    "--log-format=xml: must be text or json",
    "--log-perm=999: must be an octal file mode such as 640",
    "-v=x: must be a non-negative integer (0-2 info, 3-4 debug, 5 and more trace)",
    "--stderrthreshold=LOUD: must be INFO, WARNING, ERROR or FATAL",
    "--router-id=fd00::1: must be an IPv4 address (the BGP identifier is 32 bits)",
  ]);
  assertEquals(EXIT_USAGE, 2);
});

Deno.test("parseConfig() validates each numeric flag's range", () => {
  const cases: Array<[string, string | number, keyof SpeakerConfig]> = [
    ["--ebgp-multihop=1", 1, "ebgpMultihop"],
    ["--ebgp-multihop=255", 255, "ebgpMultihop"],
    ["--ebgp-multihop=0x10", 16, "ebgpMultihop"],
    ["--neighbor-port=1179", 1179, "neighborPort"],
    ["--listen-port=1790", 1790, "listenPort"],
    ["--pprof-port=0", 0, "adminPort"],
    ["--pprof-port=65535", 65535, "adminPort"],
    ["--log-perm=600", 0o600, "logPerm"],
    ["--log-perm=0644", 0o644, "logPerm"],
    ["--log-format=json", "json", "logFormat"],
    ["--bfd-min-tx=50", 50, "bfdMinTxMs"],
    ["--bfd-min-rx=4294967", 4294967, "bfdMinRxMs"],
    ["--bfd-detection-multiplier=255", 255, "bfdDetectionMultiplier"],
  ];
  for (const [arg, value, key] of cases) assertEquals(configOf([...BASE, arg]).config[key], value, arg);
  const invalid: Array<[string, string]> = [
    ["--ebgp-multihop=256", "--ebgp-multihop=256: must be between 1 and 255"],
    ["--ebgp-multihop=-1", "--ebgp-multihop=-1: must be between 1 and 255"],
    ["--neighbor-port=65536", "--neighbor-port=65536: must be between 1 and 65535"],
    ["--listen-port=0", "--listen-port=0: must be between 1 and 65535"],
    ["--pprof-port=-1", "--pprof-port=-1: must be between 0 and 65535"],
    ["--grpc-port=99999999999", "--grpc-port=99999999999: must be between -2147483648 and 2147483647"],
    ["--log_file_max_size=-5", "--log_file_max_size=-5: must be between 0 and 9007199254740991"],
  ];
  for (const [arg, message] of invalid) assertEquals(errorsOf([...BASE, arg]), [message], arg);
});

Deno.test("parseConfig() checks the BFD timers only when BFD is on", () => {
  assertEquals(configOf([...BASE, "--bfd-min-tx=0"]).config.bfdMinTxMs, 0);
  assertEquals(
    errorsOf([
      ...BASE,
      "--enable-bfd",
      "--bfd-min-tx=0",
      "--bfd-min-rx=4294968",
      "--bfd-detection-multiplier=0",
    ]),
    [
      "--bfd-min-tx=0: must be between 1 and 4294967 when --enable-bfd is set",
      "--bfd-min-rx=4294968: must be between 1 and 4294967 when --enable-bfd is set",
      "--bfd-detection-multiplier=0: must be between 1 and 255 when --enable-bfd is set",
    ],
  );
});

Deno.test("parseConfig() reads the hold time as a Go duration truncated to seconds", () => {
  const cases: Array<[string, number]> = [["3s", 3], ["3.9s", 3], ["1m30s", 90], ["1h", 3600], [
    "65535s",
    65535,
  ]];
  for (const [text, seconds] of cases) {
    assertEquals(configOf([...BASE, `--holdtime=${text}`]).config.holdTimeSeconds, seconds, text);
  }
  const wrapped = configOf([...BASE, "--holdtime=65536s"]);
  assertEquals(wrapped.config.holdTimeSeconds, 65535);
  assert(wrapped.notes.includes("--holdtime=65536s does not fit the 16-bit OPEN field; sending 65535s"));
  const invalid: Array<[string, string]> = [
    ["2.9s", "--holdtime=2.9s: must be between 3s and 65536s"],
    ["0", "--holdtime=0: must be between 3s and 65536s"],
    ["65537s", "--holdtime=65537s: must be between 3s and 65536s"],
    ["90", "--holdtime=90: missing unit (use Go syntax such as 90s, 1m30s, 1h)"],
    ["90sec", '--holdtime=90sec: unknown unit "sec" (use Go syntax such as 90s, 1m30s, 1h)'],
    ["", '--holdtime="": invalid duration (use Go syntax such as 90s, 1m30s, 1h)'],
  ];
  for (const [text, message] of invalid) {
    assertEquals(errorsOf([...BASE, `--holdtime=${text}`]), [message], text);
  }
});

Deno.test("parseConfig() checks the graceful-restart timers only when graceful restart is on", () => {
  const off =
    configOf([...BASE, "--graceful-restart-time=0s", "--graceful-restart-deferral-time=24h"]).config;
  assertEquals(off.gracefulRestart, false);
  const on = configOf([
    ...BASE,
    "--graceful-restart",
    "--graceful-restart-time=2m",
    "--graceful-restart-deferral-time=18h",
  ]).config;
  assertEquals(
    [on.gracefulRestart, on.gracefulRestartTimeSeconds, on.gracefulRestartDeferralTimeSeconds],
    [true, 120, 64800],
  );
  assertEquals(
    errorsOf([
      ...BASE,
      "--graceful-restart=true",
      "--graceful-restart-time=4096s",
      "--graceful-restart-deferral-time=500ms",
    ]),
    [
      "--graceful-restart-time=4096s: must be between 1s and 4095s when --graceful-restart is set",
      "--graceful-restart-deferral-time=500ms: must be between 1s and 18h when --graceful-restart is set",
    ],
  );
});

Deno.test("parseConfig() lists unknown flags with a suggestion and never echoes their values", () => {
  const errors = errorsOf([
    ...BASE,
    "--holdtim=3s",
    "--auth-pasword",
    PASSWORD,
    "--frobnicate",
    "-log-file=x",
  ]);
  assertEquals(errors, [
    "--holdtim: unknown flag; did you mean --holdtime?",
    "--auth-pasword: unknown flag; did you mean --auth-password?",
    "--frobnicate: unknown flag",
    "-log-file: unknown flag; did you mean --log_file?",
  ]);
  assertEquals(errorsOf([...BASE, "-verbose", "-hx"]), ["-verbose: unknown flag", "-hx: unknown flag"]);
  assert(!errors.join("\n").includes(PASSWORD));
});

Deno.test("parseConfig() needs a value after a value flag at the end of argv", () => {
  assertEquals(errorsOf([...BASE, "--holdtime"]), ["--holdtime: needs a value (for example --holdtime=90s)"]);
});

Deno.test("parseConfig() takes the node name from NODE_NAME, lower-cased, and requires one outside NAT-GW mode", () => {
  assertEquals(configOf(BASE, { NODE_NAME: "Worker-1", POD_IPS: "10.0.0.1" }).config.nodeName, "worker-1");
  assertEquals(configOf([...BASE, "--node-name=Worker-2"]).config.nodeName, "worker-2");
  assertEquals(errorsOf(BASE, { POD_IPS: "10.0.0.1" }), [
    "--node-name: required unless --nat-gw-mode; set it or the NODE_NAME environment variable (downward API spec.nodeName)",
  ]);
  const gw = configOf([...BASE, "--nat-gw-mode"], { POD_IPS: "10.0.0.1", GATEWAY_NAME: "gw1" }).config;
  assertEquals([gw.natGwMode, gw.nodeName, gw.gatewayName], [true, "", "gw1"]);
  assertEquals(errorsOf([...BASE, "--nat-gw-mode"], { POD_IPS: "10.0.0.1" }), [
    "GATEWAY_NAME: required with --nat-gw-mode; set it to the name of the VpcNatGateway",
  ]);
});

Deno.test("parseConfig() derives the router id from POD_IPS, POD_IP, then --node-ips, never 0.0.0.0", () => {
  const fromPodIps =
    configOf(BASE, { NODE_NAME: "n", POD_IPS: "fd00::5,10.0.0.5", POD_IP: "10.9.9.9" }).config;
  assertEquals([fromPodIps.routerId, fromPodIps.routerIdSource], ["10.0.0.5", "POD_IPS"]);
  const fromPodIp = configOf(BASE, { NODE_NAME: "n", POD_IP: "10.0.0.6" }).config;
  assertEquals([fromPodIp.routerId, fromPodIp.routerIdSource], ["10.0.0.6", "POD_IP"]);
  const fromNode = configOf([...BASE, "--node-ips=fd00::1,192.168.1.7"], {
    NODE_NAME: "n",
    POD_IPS: "fd00::5",
  });
  assertEquals([fromNode.config.routerId, fromNode.config.routerIdSource], ["192.168.1.7", "--node-ips"]);
  assert(fromNode.notes.includes("router id 192.168.1.7 taken from --node-ips"));
  const badPodIps = configOf(BASE, { NODE_NAME: "n", POD_IPS: "10.0.0.5/24", POD_IP: "10.0.0.5" });
  assertEquals(badPodIps.config.routerIdSource, "POD_IP");
  assert(
    badPodIps.notes.includes(
      "POD_IPS=10.0.0.5/24: ignored, expected one or two IP addresses separated by a comma",
    ),
  );
  const none =
    "--router-id: no IPv4 address to derive the BGP identifier from (POD_IPS, POD_IP and --node-ips " +
    "hold none); set --router-id to an IPv4 address of this node";
  assertEquals(errorsOf(BASE, { NODE_NAME: "n", POD_IPS: "fd00::5" }), [none]);
  assertEquals(errorsOf(BASE, { NODE_NAME: "n", POD_IP: "0.0.0.0" }), [none]);
  assertEquals(errorsOf([...BASE, "--router-id=0.0.0.0"]), [
    "--router-id=0.0.0.0: must not be 0.0.0.0 (RFC 6286 requires a non-zero BGP identifier)",
  ]);
  assertEquals(errorsOf([...BASE, "--router-id=10.1.1"]), ["--router-id=10.1.1: not an IP address"]);
});

Deno.test("parseConfig() reads the password from a file, the environment or argv, with a note for argv", () => {
  const fromFile = configOf(
    [...BASE, "--auth-password-file=/etc/speaker/md5"],
    ENV,
    files({ "/etc/speaker/md5": `${PASSWORD}\n` }),
  );
  assertEquals(fromFile.config.authPassword?.reveal(), PASSWORD);
  assertEquals(fromFile.config.authPasswordSource, "--auth-password-file");
  assertEquals(fromFile.notes, ["router id 10.32.32.5 taken from POD_IPS"]);

  const fromEnvFile = configOf(
    BASE,
    { ...ENV, SPEAKER_AUTH_PASSWORD_FILE: "/run/md5" },
    files({ "/run/md5": PASSWORD }),
  );
  assertEquals(fromEnvFile.config.authPasswordSource, "SPEAKER_AUTH_PASSWORD_FILE");
  const fromEnv = configOf(BASE, { ...ENV, SPEAKER_AUTH_PASSWORD: PASSWORD });
  assertEquals(fromEnv.config.authPasswordSource, "SPEAKER_AUTH_PASSWORD");
  assertEquals(fromEnv.config.authPassword?.reveal(), PASSWORD);

  const fromArgv = configOf([...BASE, `--auth-password=${PASSWORD}`], {
    ...ENV,
    SPEAKER_AUTH_PASSWORD: "other",
  });
  assertEquals(fromArgv.config.authPasswordSource, "--auth-password");
  assert(fromArgv.notes.some((n) => n.startsWith("--auth-password on the command line is visible")));
  assertEquals(configOf([...BASE, "--auth-password="]).config.authPassword, undefined);
});

Deno.test("parseConfig() rejects conflicting, unreadable, empty and over-long passwords", () => {
  assertEquals(errorsOf([...BASE, `--auth-password=${PASSWORD}`, "--auth-password-file=/x"]), [
    "--auth-password and --auth-password-file: give only one",
  ]);
  assertEquals(
    errorsOf(BASE, { ...ENV, SPEAKER_AUTH_PASSWORD: PASSWORD, SPEAKER_AUTH_PASSWORD_FILE: "/x" }),
    [
      "SPEAKER_AUTH_PASSWORD and SPEAKER_AUTH_PASSWORD_FILE: set only one",
    ],
  );
  assertEquals(errorsOf([...BASE, "--auth-password-file=/missing"]), [
    "--auth-password-file=/missing: cannot read the password file: open /missing: no such file or directory",
  ]);
  assertEquals(errorsOf([...BASE, "--auth-password-file=/empty"], ENV, files({ "/empty": "\n" })), [
    "--auth-password-file=/empty: the password file is empty",
  ]);
  const long = PASSWORD.repeat(3);
  assertEquals(errorsOf([...BASE, `--auth-password=${long}`]), [
    "--auth-password: the password is 84 bytes long; TCP-MD5 allows at most 80",
  ]);
});

Deno.test("the password never appears in the logged configuration, errors or notes", () => {
  const { config, notes } = configOf([...BASE, `--auth-password=${PASSWORD}`]);
  const logged = formatConfigForLog(config);
  assertStringIncludes(logged, "auth-password=***");
  assert(!logged.includes(PASSWORD));
  assert(!JSON.stringify(configLogFields(config)).includes(PASSWORD));
  assert(!JSON.stringify(config).includes(PASSWORD));
  assert(!Deno.inspect(config, { depth: 10 }).includes(PASSWORD));
  assert(!String(config.authPassword).includes(PASSWORD));
  assert(!notes.join("\n").includes(PASSWORD));

  // A file reader error that quotes the content, and invalid flags around the password.
  const leaky = (path: string) => new Error(`bad content in ${path}: ${PASSWORD}`);
  const errors = errorsOf(
    [
      ...BASE,
      "--auth-password-file=/p",
      `--holdtime=${PASSWORD}`,
      `--vmodule=${PASSWORD}`,
      "--ebgp-multihop=0",
    ],
    { ...ENV, SPEAKER_AUTH_PASSWORD: PASSWORD },
    leaky,
  );
  assert(errors.length >= 2);
  for (const e of errors) assert(!e.includes(PASSWORD), e);
  const tooLong = errorsOf([...BASE, `--auth-password=${PASSWORD.repeat(4)}`]);
  for (const e of tooLong) assert(!e.includes(PASSWORD), e);
});

Deno.test("parseConfig() maps klog's -v to a level and explains the ignored klog and gRPC flags", () => {
  const cases: Array<[string, string]> = [["-v=0", "info"], ["-v=2", "info"], ["-v=3", "debug"], [
    "-v=5",
    "trace",
  ]];
  for (const [arg, level] of cases) assertEquals(configOf([...BASE, arg]).config.logLevel, level, arg);
  const { notes } = configOf([
    ...BASE,
    "--one_output=true",
    "--skip_headers",
    "--skip_log_headers=false",
    "--stderrthreshold=WARNING",
    "--vmodule=speaker=5",
    "--add_dir_header",
    "--log_backtrace_at=bgp.go:10",
    "--log_dir=/tmp",
    "--grpc-host=127.0.0.1",
    "--grpc-port=50051",
  ]);
  assert(notes.some((n) => n.startsWith("klog flags --one_output, --skip_headers")), notes.join("\n"));
  assert(
    notes.includes(
      "--grpc-host and --grpc-port are accepted and ignored: the GoBGP gRPC API is not provided; read peers " +
        "and prefixes with `speaker status` or GET /status on the admin port (--pprof-port)",
    ),
  );
  assertEquals(errorsOf([...BASE, "--grpc-host=localhost"]), ["--grpc-host=localhost: not an IP address"]);
  assertEquals(errorsOf([...BASE, "--alsologtostderr=maybe"]), [
    "--alsologtostderr=maybe: must be true or false (or 1, 0, t, f)",
  ]);
});

Deno.test("parseConfig() reads the speaker's own flags", () => {
  const { config, notes } = configOf([
    ...BASE,
    "--objects-file=a.yaml",
    "--objects-file",
    "b.json",
    "--neighbor-port=1179",
    "--announce-lb-ip",
    "--kubeconfig=/root/.kube/config",
    "--admin-address=127.0.0.1",
    "--listen-address=10.0.0.1,fd00::1",
  ]);
  assertEquals(config.objectsFiles, ["a.yaml", "b.json"]);
  assertEquals(config.announceLbIp, true);
  assertEquals(config.kubeconfig, "/root/.kube/config");
  assertEquals(config.adminAddress, "127.0.0.1");
  assertEquals(config.listenAddresses, ["10.0.0.1", "fd00::1"]);
  assert(notes.includes("--listen-address and --listen-port take effect only with --passivemode"));
  assertEquals(errorsOf([...BASE, "--admin-address=any"]), ["--admin-address=any: not an IP address"]);
});

Deno.test("parseConfig() answers --help and --version without validating the rest", () => {
  for (const arg of ["--help", "-h", "-help"]) {
    const result = parse(["--ebgp-multihop=0", arg]);
    assert(result.ok && result.kind === "help", arg);
  }
  const version = parse(["--version"]);
  assert(version.ok && version.kind === "version");
});

Deno.test("parseConfig() returns a deeply frozen configuration", () => {
  const { config } = configOf([...BASE, "--node-ips=10.0.0.1"]);
  assert(Object.isFrozen(config));
  assert(Object.isFrozen(config.neighborAddresses));
  assert(Object.isFrozen(config.nodeIps));
  try {
    (config.neighborAddresses as unknown as string[]).push("10.0.0.9");
  } catch {
    // Expected in strict mode.
  }
  assertEquals(config.neighborAddresses, ["10.32.32.1"]);
});

Deno.test("parseConfig() treats everything after -- as arguments, which it refuses", () => {
  assertEquals(errorsOf([...BASE, "--", "--holdtime=3s"]), [
    'unexpected argument "--holdtime=3s": the speaker takes only flags (a boolean flag takes its value after "=", as in --passivemode=true)',
  ]);
});

Deno.test("USAGE documents every flag with its default, klog and gRPC flags in a compatibility section", () => {
  for (const flag of FLAGS) {
    const head = flag.name.length === 1 ? `-${flag.name}` : `--${flag.name}`;
    const line = USAGE.split("\n").find((l) =>
      l.trimStart().startsWith(head + " ") || l.includes(`, ${head}`)
    );
    assert(line !== undefined, `USAGE lacks ${head}`);
    assertStringIncludes(line, `(default ${flag.defaultText})`);
  }
  const compat = USAGE.indexOf("Compatibility: klog flags");
  assert(compat > 0 && USAGE.indexOf("--logtostderr") > compat && USAGE.indexOf("--grpc-port") > compat);
});

Deno.test("formatConfigErrors() lists every problem under one heading", () => {
  const errors = errorsOf([...BASE, "--ebgp-multihop=0", "--holdtime=1s"]);
  assertEquals(
    formatConfigErrors(errors),
    [
      "speaker: cannot start with this command line (2 problems):",
      "  --holdtime=1s: must be between 3s and 65536s",
      "  --ebgp-multihop=0: must be between 1 and 255",
      "Run speaker --help for every flag, its default and allowed values.",
    ].join("\n"),
  );
});
