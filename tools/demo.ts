/**
 * `./denow task demo`: the speaker announcing Kubernetes prefixes to a router, on loopback, in seconds.
 * No cluster, no root, no router: `speaker listen` plays the upstream router and the example objects in
 * `manifests/examples/` play the cluster.
 *
 * 1. start `speaker listen` (the router, AS 65000) on 127.0.0.1 and ::1;
 * 2. start the speaker (AS 65001, node-1) with the example objects, peering over IPv4 and IPv6;
 * 3. show what the router learned and what `speaker status` says;
 * 4. change an annotation in the objects file and show the withdrawal;
 * 5. stop the speaker (SIGTERM: Cease with a shutdown message) and the router.
 *
 * @module
 */
import { runtimeFlags } from "./permissions.ts";

const root = new URL("..", import.meta.url).pathname;
const EXPECTED = 9;
const WITHDRAWN = "203.0.113.70/32";
const encoder = new TextEncoder();

function say(text = "") {
  Deno.stdout.writeSync(encoder.encode(text + "\n"));
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** A child process whose stdout lines are collected as they arrive. */
class Child {
  readonly lines: string[] = [];
  readonly #process: Deno.ChildProcess;
  readonly #done: Promise<void>;

  constructor(args: string[], opts: { stdoutLines?: boolean } = {}) {
    this.#process = new Deno.Command(Deno.execPath(), {
      args,
      cwd: root,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      env: { RUST_BACKTRACE: "0", NO_COLOR: "1" },
    }).spawn();
    const collect = async (stream: ReadableStream<Uint8Array>, into: string[] | undefined) => {
      const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
      let rest = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        const parts = (rest + value).split("\n");
        rest = parts.pop() ?? "";
        into?.push(...parts);
      }
      if (rest) into?.push(rest);
    };
    this.stderr = [];
    this.#done = Promise.all([
      collect(this.#process.stdout, opts.stdoutLines === false ? undefined : this.lines),
      collect(this.#process.stderr, this.stderr),
    ]).then(() => {});
  }

  readonly stderr: string[];

  kill(signal: Deno.Signal = "SIGTERM") {
    try {
      this.#process.kill(signal);
    } catch {
      // already exited
    }
  }

  async exited(timeoutMs: number): Promise<number | undefined> {
    const timer = new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), timeoutMs));
    const status = await Promise.race([this.#process.status, timer]);
    if (status === undefined) {
      this.kill("SIGKILL");
      await this.#process.status;
      await this.#done;
      return undefined;
    }
    await this.#done;
    return status.code;
  }
}

async function waitFor<T>(what: string, timeoutMs: number, probe: () => T | undefined): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`demo: timed out after ${timeoutMs} ms waiting for ${what}`);
}

interface RouterEvent {
  kind: string;
  peer: string;
  prefix?: string;
  nextHop?: string;
  asPath?: number[];
  reason?: string;
  time: string;
}

function events(router: Child): RouterEvent[] {
  return router.lines.filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
}

/** The routes the router holds now: announcements minus withdrawals, per prefix. */
function table(router: Child): Map<string, RouterEvent> {
  const routes = new Map<string, RouterEvent>();
  for (const e of events(router)) {
    if (e.kind === "announce" && e.prefix) routes.set(e.prefix, e);
    if (e.kind === "withdraw" && e.prefix) routes.delete(e.prefix);
  }
  return routes;
}

async function main(): Promise<number> {
  const work = await Deno.makeTempDir({ prefix: "speaker-demo-" });
  const objects = `${work}/objects.yaml`;
  await Deno.copyFile(`${root}manifests/examples/objects.yaml`, objects);
  const bgpPort = freePort();
  const adminPort = freePort();
  const speakerFlags = runtimeFlags({ extraReadPaths: [work] });
  let router: Child | undefined;
  let speaker: Child | undefined;
  try {
    say("speaker demo: a node announcing its Kubernetes prefixes to an upstream router, on loopback.\n");
    say(
      `1. The router: 'speaker listen' (AS 65000) accepts BGP sessions from 127.0.0.1 and ::1 on port ${bgpPort}.`,
    );
    router = new Child([
      "run",
      "--allow-net",
      "--allow-ffi",
      "--allow-read",
      "main.ts",
      "listen",
      "--address",
      "::",
      "--port",
      String(bgpPort),
      "--neighbor",
      "127.0.0.1",
      "--neighbor",
      "::1",
      "--as",
      "65000",
      "--json",
    ]);
    await waitFor(
      "the router to listen",
      10_000,
      () => router!.stderr.some((l) => l.includes("waiting for")) || undefined,
    );

    say(
      "2. The speaker (AS 65001, node node-1) reads the example objects (manifests/examples/objects.yaml):",
    );
    say("   a dual-stack Subnet, Pods under the cluster and local policies, annotated Services.");
    const args = [
      "--cluster-as=65001",
      "--neighbor-as=65000",
      "--neighbor-address=127.0.0.1",
      "--neighbor-ipv6-address=::1",
      `--neighbor-port=${bgpPort}`,
      "--router-id=127.0.0.1",
      "--node-name=node-1",
      "--announce-cluster-ip",
      "--holdtime=9s",
      `--objects-file=${objects}`,
      "--admin-address=127.0.0.1",
      `--pprof-port=${adminPort}`,
    ];
    say(`   speaker ${args.join(" ")}\n`);
    const started = performance.now();
    speaker = new Child(["run", ...speakerFlags, "main.ts", ...args], { stdoutLines: false });

    const learned = await waitFor(`${EXPECTED} routes at the router`, 20_000, () => {
      const t = table(router!);
      return t.size >= EXPECTED ? t : undefined;
    });
    say(
      `3. The router learned ${learned.size} routes ${
        ((performance.now() - started) / 1000).toFixed(1)
      } s after the speaker started:`,
    );
    for (const [prefix, e] of [...learned].sort(([a], [b]) => a.localeCompare(b))) {
      say(
        `     ${prefix.padEnd(22)} next hop ${(e.nextHop ?? "").padEnd(10)} AS path ${
          e.asPath?.join(" ")
        }  (session ${e.peer})`,
      );
    }
    const status = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-net", "main.ts", "status", "--address", `127.0.0.1:${adminPort}`],
      cwd: root,
      stdout: "piped",
      stderr: "piped",
    }).output();
    say("\n   What the speaker reports (speaker status):");
    for (const line of new TextDecoder().decode(status.stdout).trimEnd().split("\n")) say(`     ${line}`);

    say(
      `\n4. Pod demo/lone stops asking to be announced: its annotation ovn.kubernetes.io/bgp changes to "false".`,
    );
    const text = await Deno.readTextFile(objects);
    const changed = text.replace(
      /(name: lone\n(?:.*\n)*?\s+ovn\.kubernetes\.io\/bgp: )"true"/,
      `$1"false"`,
    );
    if (changed === text) {
      throw new Error("demo: could not find Pod demo/lone's annotation in the objects file");
    }
    const edited = performance.now();
    await Deno.writeTextFile(objects, changed);
    const withdrawal = await waitFor(
      `the withdrawal of ${WITHDRAWN}`,
      10_000,
      () => events(router!).find((e) => e.kind === "withdraw" && e.prefix === WITHDRAWN),
    );
    say(
      `   The router saw the withdrawal of ${withdrawal.prefix} ${
        (performance.now() - edited).toFixed(0)
      } ms after the file changed;`,
    );
    say(`   it now holds ${table(router).size} routes.`);

    say("\n5. The speaker stops (SIGTERM): without graceful restart it sends Cease with a shutdown message,");
    say("   and the router withdraws everything at once.");
    speaker.kill("SIGTERM");
    const code = await speaker.exited(10_000);
    const down = await waitFor(
      "the router to see the Cease",
      5_000,
      () => events(router!).find((e) => e.kind === "down" && (e.reason ?? "").includes("6/2")),
    );
    say(`   router: ${down.reason}`);
    say(`   speaker exited with code ${code}.`);
    router.kill("SIGTERM");
    await router.exited(5_000);
    router = undefined;
    speaker = undefined;
    say(
      "\nDone. Next: './denow task test' runs every test, including interop tests against gobgpd, BIRD, FRR",
    );
    say("and ExaBGP in network namespaces; README.md explains the flags, the DaemonSet and the image.");
    return code === 0 ? 0 : 1;
  } catch (err) {
    say(`\n${(err as Error).message}`);
    if (speaker) say(`speaker log:\n${speaker.stderr.slice(-20).join("\n")}`);
    if (router) say(`router output:\n${[...router.stderr, ...router.lines].slice(-20).join("\n")}`);
    return 1;
  } finally {
    speaker?.kill("SIGKILL");
    router?.kill("SIGKILL");
    await speaker?.exited(5_000);
    await router?.exited(5_000);
    await Deno.remove(work, { recursive: true });
  }
}

if (import.meta.main) {
  Deno.exit(await main());
}
