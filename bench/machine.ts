/**
 * The machine a benchmark run measured: cores, memory, kernel, load, Deno and the peers' versions.
 *
 * @module
 */

async function firstLine(argv: string[]): Promise<string> {
  try {
    const out = await new Deno.Command(argv[0], { args: argv.slice(1), stdout: "piped", stderr: "piped" })
      .output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    return text.split("\n").find((l) => l.trim() !== "" && !l.includes("Running as user"))?.trim() ?? "?";
  } catch {
    return "not installed";
  }
}

function readOr(path: string, fallback = "?"): string {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return fallback;
  }
}

/** The load average now (1, 5, 15 minutes), as text. */
export function loadAverage(): string {
  return readOr("/proc/loadavg").split(" ").slice(0, 3).join(" ");
}

/** Label/value pairs describing this machine and the tools in use. */
export async function describeMachine(): Promise<[string, string][]> {
  const meminfo = readOr("/proc/meminfo");
  const memKb = Number(/MemTotal:\s+(\d+)/.exec(meminfo)?.[1] ?? NaN);
  const cpu = /model name\s*:\s*(.*)/.exec(readOr("/proc/cpuinfo"))?.[1]?.trim() ?? "?";
  const nproc = await firstLine(["nproc"]);
  const repo = new URL("..", import.meta.url).pathname;
  const commit = await firstLine(["git", "-C", repo, "log", "-1", "--format=%h %ci"]);
  return [
    ["commit at start", commit],
    ["nproc", nproc],
    ["CPU", cpu],
    ["memory", `${(memKb / 1024 / 1024).toFixed(1)} GiB`],
    ["kernel", Deno.osRelease()],
    ["load average at start", loadAverage()],
    ["Deno", `${Deno.version.deno} (V8 ${Deno.version.v8})`],
    ["BIRD", await firstLine(["bird", "--version"])],
    ["gobgpd", await firstLine(["gobgpd", "--version"])],
    ["FRR", await firstLine(["/usr/lib/frr/bgpd", "--version"])],
    [
      "bgpdump",
      (await firstLine(["dpkg-query", "-W", "-f", "${Version}", "bgpdump"])).replace(/^/, "Debian "),
    ],
    ["tshark", await firstLine(["tshark", "--version"])],
  ];
}
