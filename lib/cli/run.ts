/**
 * The speaker as a long-running program: flags → sources of Kubernetes objects (API server or objects
 * files) → desired prefixes → BGP sessions, plus the admin server and signal handling.
 *
 * Everything here is wiring; each decision lives in the module it names.
 *
 * @module
 */
import { EXIT_USAGE, formatConfigErrors, parseConfig } from "../config/flags.ts";
import { configLogFields, type SpeakerConfig } from "../config/speaker_config.ts";
import { USAGE } from "../config/usage.ts";
import { Logger, QueuedStreamSink } from "../log/logger.ts";
import { Registry } from "../admin/prometheus_registry.ts";
import { type PeerMetrics, SpeakerMetrics } from "../admin/metrics.ts";
import { ReadinessGate } from "../admin/readiness.ts";
import { type AdminServer, startAdminServer } from "../admin/server.ts";
import { type PrefixStatus, speakerStatus, type StatusReport } from "../admin/status_report.ts";
import { BgpSpeaker, type SpeakerConfig as BgpSpeakerConfig } from "../session/speaker.ts";
import { allowedSourceAddresses } from "../transport/source_address.ts";
import type { PeerStatus as SessionPeerStatus } from "../session/peer.ts";
import { DesiredState } from "../kube/desired_state.ts";
import { watchObjectsFiles } from "../kube/objects_file.ts";
import { type AnyRecord, CONVERTERS, createIntern, type RecordKind } from "../kube/records.ts";
import type { KubeClient } from "../kube/client.ts";
import type { ResourceWatch } from "../kube/watch.ts";
import {
  ENDPOINT_SLICES,
  IPTABLES_EIPS,
  PODS,
  resourceName,
  type ResourceType,
  SERVICES,
  SUBNETS,
} from "../kube/resources.ts";
import type { BfdService } from "../bfd/bfd_service.ts";
import { VERSION } from "../version.ts";

/** How often the incremental desired set is checked against a full recompute (a safety net). */
const FULL_RECOMPUTE_INTERVAL_MS = 5 * 60_000;

/** The environment variables the speaker reads (kube-ovn-speaker's, plus the password ones). */
const ENV_VARS = [
  "NODE_NAME",
  "POD_IP",
  "POD_IPS",
  "GATEWAY_NAME",
  "SPEAKER_AUTH_PASSWORD",
  "SPEAKER_AUTH_PASSWORD_FILE",
];

function readEnv(): Record<string, string | undefined> {
  return Object.fromEntries(ENV_VARS.map((name) => [name, Deno.env.get(name)]));
}

/** Files named by flags that this process's `--allow-read` does not cover, as flag errors. */
function unreadableFiles(config: SpeakerConfig): string[] {
  const files = [
    ...config.objectsFiles.map((path) => ["--objects-file", path]),
    ...(config.kubeconfig ? [["--kubeconfig", config.kubeconfig]] : []),
  ];
  return files
    .filter(([, path]) => Deno.permissions.querySync({ name: "read", path }).state !== "granted")
    .map(([flag, path]) =>
      `${flag}=${path}: not readable under this process's --allow-read; place it under /etc/speaker ` +
      "(the image's and the speaker task's readable directory) or run Deno with a wider --allow-read"
    );
}

function readSecretFile(path: string): string | Error {
  try {
    return Deno.readTextFileSync(path);
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
}

/**
 * The BGP engine's view of the validated configuration. `localAddresses` are the source addresses to bind
 * per neighbor (from `--allowed-source-addresses`).
 */
export function bgpSpeakerConfig(
  config: SpeakerConfig,
  logger: Logger,
  localAddresses: ReadonlyMap<string, string> = new Map(),
): BgpSpeakerConfig {
  const neighbors = [...config.neighborAddresses, ...config.neighborIpv6Addresses].map((address) => ({
    address,
    asn: config.neighborAs,
    port: config.neighborPort,
    localAddress: localAddresses.get(address),
  }));
  const session = logger.component("session");
  return {
    asn: config.clusterAs,
    routerId: config.routerId,
    holdTime: config.holdTimeSeconds,
    neighbors,
    passive: config.passiveMode,
    // The IPv6 wildcard listener also accepts IPv4 (dual-stack), so with both wildcards only it is opened.
    listen: {
      addresses: config.listenAddresses.includes("::")
        ? config.listenAddresses.filter((a) => a !== "0.0.0.0")
        : config.listenAddresses,
      port: config.listenPort,
    },
    md5Password: config.authPassword?.reveal(),
    ebgpMultihop: config.ebgpMultihop,
    gracefulRestart: config.gracefulRestart ? { restartTime: config.gracefulRestartTimeSeconds } : undefined,
    extendedNextHop: config.extendedNexthop,
    hostname: config.nodeName || undefined,
    nodeIps: [config.nodeIps.ipv4, config.nodeIps.ipv6].filter((a): a is NonNullable<typeof a> => !!a),
    podIps: [config.podIps.ipv4, config.podIps.ipv6].filter((a): a is NonNullable<typeof a> => !!a),
    logger: (level, msg, fields) => session[level](msg, fields),
  };
}

function peerMetrics(p: SessionPeerStatus): PeerMetrics {
  const counts = (c: SessionPeerStatus["messagesSent"]) => ({
    open: c.open,
    update: c.update,
    keepalive: c.keepalive,
    notification: c.notification,
    refresh: c.routeRefresh,
  });
  return {
    peer: p.address,
    peerAsn: p.asn,
    state: p.state,
    flaps: p.flaps,
    outQueue: 0,
    received: counts(p.messagesReceived),
    sent: counts(p.messagesSent),
    announcedPrefixes: p.prefixesSent,
  };
}

/** Starts the list/watch loops of every resource the configuration reads. */
function startWatches(
  Watch: typeof ResourceWatch,
  client: KubeClient,
  config: SpeakerConfig,
  desired: DesiredState,
  gate: ReadinessGate,
  metrics: SpeakerMetrics,
  logger: Logger,
): ResourceWatch<AnyRecord>[] {
  const log = logger.component("kube");
  const intern = createIntern();
  const resources: {
    resource: ResourceType;
    kind: RecordKind;
    fieldSelector?: string;
    labelSelector?: string;
  }[] = config.natGwMode
    ? [{
      resource: IPTABLES_EIPS,
      kind: "IptablesEIP",
      labelSelector: `ovn.kubernetes.io/vpc-nat-gw-name=${config.gatewayName}`,
    }]
    : [
      { resource: PODS, kind: "Pod", fieldSelector: "spec.hostNetwork=false" },
      { resource: SUBNETS, kind: "Subnet" },
      { resource: SERVICES, kind: "Service" },
      { resource: ENDPOINT_SLICES, kind: "EndpointSlice" },
    ];
  return resources.map(({ resource, kind, fieldSelector, labelSelector }) => {
    const name = resourceName(resource);
    const convert = CONVERTERS[kind];
    const watch = new Watch<AnyRecord>({
      client,
      resource,
      fieldSelector,
      labelSelector,
      convert: (obj) => {
        const converted = convert(obj, intern);
        if ("skip" in converted) {
          metrics.objectsSkipped("watch");
          log.warn("object skipped", { resource: name, key: converted.key, reason: converted.skip });
        }
        return converted;
      },
      onEvent: (event) => {
        if (event.type === "synced") {
          gate.markSynced(name);
          metrics.watchSynced(name, Date.now());
          log.info("cache synced", { resource: name, objects: watch.records.size });
        } else if (event.type === "upsert") {
          desired.upsert(event.record);
        } else {
          desired.delete(event.record.kind, event.record.key);
        }
      },
      onError: (err) => {
        metrics.watchRestarted(name);
        log.warn("watch restarts", { resource: name, error: err.message });
      },
    });
    watch.start();
    return watch;
  });
}

/** Runs the speaker until a signal stops it; returns the exit code. */
export async function runSpeaker(argv: string[]): Promise<number> {
  const parsed = parseConfig(argv, readEnv(), readSecretFile);
  if (!parsed.ok) {
    console.error(formatConfigErrors(parsed.errors));
    return EXIT_USAGE;
  }
  if (parsed.kind !== "run") {
    console.log(parsed.kind === "help" ? USAGE : `speaker ${VERSION}`);
    return 0;
  }
  const config = parsed.config;
  const unreadable = unreadableFiles(config);
  if (unreadable.length > 0) {
    console.error(formatConfigErrors(unreadable));
    return EXIT_USAGE;
  }
  const sink = new QueuedStreamSink();
  const logger = new Logger({ level: config.logLevel, format: config.logFormat, sink });
  logger.registerSecret(config.authPassword);
  for (const note of parsed.notes) logger.info("config", note);
  logger.info("config", "starting", { version: VERSION, ...configLogFields(config) });

  const startedAtMs = Date.now();
  const desired = new DesiredState(
    {
      nodeName: config.nodeName,
      announceClusterIp: config.announceClusterIp,
      announceLbIp: config.announceLbIp,
      natGwMode: config.natGwMode,
      gatewayName: config.gatewayName ?? "",
    },
    { onListenerError: (err) => logger.error("policy", "change listener failed", { error: String(err) }) },
  );
  // --allowed-source-addresses: the source toward each neighbor must be allowed, and is bound (as in
  // kube-ovn-speaker, checked once at start).
  const sources = allowedSourceAddresses(
    [...config.neighborAddresses, ...config.neighborIpv6Addresses],
    { ipv4: config.allowedSourceAddresses, ipv6: config.allowedSourceIpv6Addresses },
  );
  if (!sources.ok) {
    for (const error of sources.errors) logger.error("session", "speaker startup is rejected", { error });
    sink.flushSync();
    return 1;
  }
  const speaker = new BgpSpeaker(bgpSpeakerConfig(config, logger, sources.localAddresses));
  const staticMode = config.objectsFiles.length > 0;
  const caches = staticMode ? ["objects-files"] : config.natGwMode ? [resourceName(IPTABLES_EIPS)] : [
    resourceName(PODS),
    resourceName(SUBNETS),
    resourceName(SERVICES),
    resourceName(ENDPOINT_SLICES),
  ];
  const gate = new ReadinessGate(caches);
  const registry = new Registry();
  const metrics = new SpeakerMetrics(registry, config.nodeName, {
    peers: () => speaker.status().peers.map(peerMetrics),
    desiredPrefixes: () => {
      const claims = desired.counts().claims;
      return { pod: claims.pod, subnet: claims.subnet, service: claims.service, eip: claims.eip };
    },
    logCounts: () => logger.counts(),
  });

  // BFD: a neighbor's BGP session is held down until its BFD session is Up, and again whenever BFD
  // reports the path down; an administrative down (RFC 5882 §3.2) is not a path failure.
  let bfd: BfdService | undefined;
  if (config.enableBfd) {
    const { BfdService, bfdParametersFromFlags } = await import("../bfd/bfd_service.ts");
    const { registerBfdMetrics } = await import("../bfd/bfd_metrics.ts");
    const neighbors = [...config.neighborAddresses, ...config.neighborIpv6Addresses];
    for (const address of neighbors) speaker.holdPeer(address, "waiting for BFD to come up");
    const multihop = config.ebgpMultihop > 1;
    const bfdLog = logger.component("bfd");
    try {
      bfd = await BfdService.start({
        parameters: bfdParametersFromFlags(config),
        peers: neighbors.map((address) => ({
          address,
          multihop,
          minTtl: multihop ? 256 - config.ebgpMultihop : undefined,
        })),
        logger: bfdLog,
        onStateChange: (peer, up, diagnostic, change) => {
          if (up || change.administrative) speaker.releasePeer(peer);
          else speaker.holdPeer(peer, `BFD down (diagnostic ${diagnostic})`);
        },
      });
    } catch (err) {
      logger.error("bfd", "cannot start BFD", { error: (err as Error).message });
      sink.flushSync();
      return 1;
    }
    const service = bfd;
    registerBfdMetrics(registry, config.nodeName, () => service.status());
  }

  const policyLog = logger.component("policy");
  let admin: AdminServer | undefined;
  if (config.enableMetrics) {
    try {
      admin = await startAdminServer({
        hostname: config.adminAddress,
        port: config.adminPort,
        registry,
        redactor: logger.redactor,
        readiness: () => gate.verdict(),
        status: (): StatusReport => ({
          ...statusReport(config, speaker, desired, gate, startedAtMs),
          ...(bfd ? { bfd: bfd.status() } : {}),
        }),
      });
      logger.info("admin", "admin server listening", { address: admin.hostname, port: admin.port });
    } catch (err) {
      logger.error("admin", "cannot start the admin server", {
        address: config.adminAddress,
        port: config.adminPort,
        error: (err as Error).message,
      });
      sink.flushSync();
      return 1;
    }
  }

  // Sources: objects files (static mode) or the API server.
  let objects: ReturnType<typeof watchObjectsFiles> | undefined;
  let watches: ResourceWatch<AnyRecord>[] = [];
  let client: KubeClient | undefined;
  if (staticMode) {
    const objectsLog = logger.component("objects");
    objects = watchObjectsFiles(config.objectsFiles, desired, {
      logger: { info: (m, f) => objectsLog.info(m, f), warn: (m, f) => objectsLog.warn(m, f) },
      onReport: (report) => metrics.objectsSkipped("file", report.skipped),
      watch: true,
    });
    const report = await objects.ready;
    gate.markSynced("objects-files");
    logger.info("objects", "objects files loaded", { ...report, badFiles: report.badFiles.join(",") });
  } else {
    // The Kubernetes client library is loaded only here: static mode never pays for it.
    const { KubeClient } = await import("../kube/client.ts");
    try {
      client = await KubeClient.load({ kubeconfig: config.kubeconfig || undefined });
    } catch (err) {
      logger.error("kube", "cannot configure the Kubernetes client", { error: (err as Error).message });
      await admin?.shutdown();
      sink.flushSync();
      return 1;
    }
    const { ResourceWatch } = await import("../kube/watch.ts");
    watches = startWatches(ResourceWatch, client, config, desired, gate, metrics, logger);
    // The first table a peer receives should be complete: wait (bounded) for the caches before connecting.
    const synced = Promise.all(watches.map((w) => w.synced));
    const timeout = new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), 30_000));
    const first = await Promise.race([synced.then(() => "synced" as const), timeout]);
    if (first === "timeout") {
      logger.warn("kube", "caches not synced after 30 s; starting BGP with what is known", {
        reasons: gate.verdict().reasons.join("; "),
      });
    }
  }
  // The first table is handed over whole, once the sources are loaded; nothing listens before.
  desired.flush();
  speaker.setDesired(desired.prefixes());
  // From here on, only changes travel: each coalesced batch of the change feed costs what it changes.
  desired.onChange((added, removed) => {
    const started = performance.now();
    speaker.changeDesired(added, removed);
    metrics.observeEventToWire((performance.now() - started) / 1000);
    policyLog.info("desired prefixes changed", {
      added: added.length,
      removed: removed.length,
      total: desired.counts().prefixes,
      sample: [...added.slice(0, 3).map((p) => `+${p}`), ...removed.slice(0, 3).map((p) => `-${p}`)].join(
        " ",
      ),
    });
  });
  await speaker.start();
  logger.info("session", "BGP started", {
    neighbors: speaker.status().peers.map((p) => p.address).join(","),
    passive: config.passiveMode,
    prefixes: desired.counts().prefixes,
  });

  const safetyNet = setInterval(() => {
    const drift = desired.fullRecompute();
    if (drift.added.length + drift.removed.length > 0) {
      policyLog.warn("full recompute repaired drift", {
        added: drift.added.length,
        removed: drift.removed.length,
      });
    }
  }, FULL_RECOMPUTE_INTERVAL_MS);

  // Signals: SIGTERM/SIGINT stop (graceful restart rules in BgpSpeaker.shutdown), a second one exits at once;
  // SIGHUP reloads the objects files.
  const { promise: stopRequested, resolve: requestStop } = Promise.withResolvers<string>();
  let stopping = false;
  const onStop = (signal: "SIGTERM" | "SIGINT") => () => {
    if (stopping) {
      logger.warn("main", "second signal: exiting at once", { signal });
      sink.flushSync();
      Deno.exit(130);
    }
    stopping = true;
    requestStop(signal);
  };
  const onTerm = onStop("SIGTERM");
  const onInt = onStop("SIGINT");
  const onHup = () => {
    if (!objects) {
      logger.info("main", "SIGHUP ignored: no objects files to reload");
      return;
    }
    objects.reload().then((report) =>
      logger.info("objects", "objects files reloaded", { ...report, badFiles: report.badFiles.join(",") })
    );
  };
  Deno.addSignalListener("SIGTERM", onTerm);
  Deno.addSignalListener("SIGINT", onInt);
  Deno.addSignalListener("SIGHUP", onHup);

  const signal = await stopRequested;
  logger.info("main", "shutting down", { signal, gracefulRestart: config.gracefulRestart });
  clearInterval(safetyNet);
  objects?.close();
  await Promise.all(watches.map((w) => w.stop()));
  client?.close();
  await bfd?.close();
  await speaker.shutdown({
    shutdownMessage: `speaker on ${config.nodeName || config.routerId} shutting down`,
  });
  desired.close();
  await admin?.shutdown();
  Deno.removeSignalListener("SIGTERM", onTerm);
  Deno.removeSignalListener("SIGINT", onInt);
  Deno.removeSignalListener("SIGHUP", onHup);
  logger.info("main", "stopped");
  sink.flushSync();
  return 0;
}

function statusReport(
  config: SpeakerConfig,
  speaker: BgpSpeaker,
  desired: DesiredState,
  gate: ReadinessGate,
  startedAtMs: number,
): StatusReport {
  const now = Date.now();
  const status = speaker.status();
  // A prefix goes to the Established peers that negotiated its family.
  const establishedFor = (afi: number) =>
    status.peers.filter((p) => p.state === "Established" && p.negotiated?.families.some((f) => f.afi === afi))
      .map((p) => p.address);
  const peersByAfi = { 1: establishedFor(1), 2: establishedFor(2) };
  const prefixes: PrefixStatus[] = [];
  for (const [prefix, sources] of desired.snapshot()) {
    prefixes.push({
      prefix,
      source: sources[0].kind,
      objects: sources.map((s) => s.namespace ? `${s.namespace}/${s.name}` : s.name),
      peers: peersByAfi[prefix.includes(":") ? 2 : 1],
    });
  }
  return {
    speaker: speakerStatus({
      version: VERSION,
      nodeName: config.nodeName,
      routerId: config.routerId,
      localAs: config.clusterAs,
      startedAtMs,
      nowMs: now,
      readiness: gate.verdict(),
    }),
    peers: status.peers.map((p) => ({
      address: p.address,
      asn: p.asn,
      state: p.state,
      upDownSeconds: p.establishedAt ? Math.floor((now - p.establishedAt) / 1000) : null,
      lastError: p.lastError ?? null,
      capabilities: p.negotiated
        ? [
          ...p.negotiated.families.map((f) => (f.afi === 1 ? "ipv4-unicast" : "ipv6-unicast")),
          ...(p.negotiated.fourOctetAs ? ["4-octet-as"] : []),
          ...(p.negotiated.routeRefresh ? ["route-refresh"] : []),
          ...(p.negotiated.enhancedRouteRefresh ? ["enhanced-route-refresh"] : []),
          ...(p.negotiated.extendedNextHop ? ["extended-nexthop"] : []),
          ...(p.negotiated.gracefulRestart ? ["graceful-restart"] : []),
        ]
        : [],
      prefixes: {
        sent: p.prefixesSent.ipv4 + p.prefixesSent.ipv6,
        received: p.prefixesReceived.ipv4.announced + p.prefixesReceived.ipv6.announced,
      },
      localAddress: p.localAddress ?? null,
    })),
    prefixes,
  };
}
