/**
 * Checks that the external programs a test needs are installed, failing with an actionable message.
 *
 * @module
 */

/** The Debian package that provides each program the harness knows about. */
export const TOOL_PACKAGES: Readonly<Record<string, string>> = {
  ip: "iproute2",
  tc: "iproute2",
  ss: "iproute2",
  ping: "iputils-ping",
  gobgpd: "gobgpd",
  gobgp: "gobgpd",
  bird: "bird2",
  birdc: "bird2",
  "/usr/lib/frr/bgpd": "frr",
  "/usr/lib/frr/zebra": "frr",
  vtysh: "frr",
  exabgp: "exabgp",
  python3: "python3",
  tshark: "tshark",
  tcpdump: "tcpdump",
  bgpdump: "bgpdump",
  etcd: "etcd-server",
  etcdctl: "etcd-client",
};

const SEARCH_PATH = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];

function isExecutable(path: string): boolean {
  try {
    const info = Deno.statSync(path);
    return info.isFile && ((info.mode ?? 0o111) & 0o111) !== 0;
  } catch {
    return false;
  }
}

/**
 * Returns the absolute path of `tool` (a name looked up in PATH and the usual sbin folders, or an absolute
 * path), or `undefined` when it is not installed.
 */
export function findTool(tool: string): string | undefined {
  if (tool.startsWith("/")) return isExecutable(tool) ? tool : undefined;
  const dirs = [...(Deno.env.get("PATH") ?? "").split(":").filter((d) => d !== ""), ...SEARCH_PATH];
  for (const dir of dirs) {
    const candidate = `${dir}/${tool}`;
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/** Thrown by {@linkcode requireTools}; the message names every missing program and its apt package. */
export class MissingToolError extends Error {
  /** Creates the error for the given missing programs. */
  constructor(readonly missing: readonly string[]) {
    const packages = [...new Set(missing.map((t) => TOOL_PACKAGES[t] ?? t))];
    super(
      `Missing ${missing.map((t) => `'${t}'`).join(", ")}: install with ` +
        `'DEBIAN_FRONTEND=noninteractive apt-get install -y ${packages.join(" ")}' (as root), ` +
        `or run .ci/run which installs everything the tests need`,
    );
    this.name = "MissingToolError";
  }
}

/**
 * Throws a {@linkcode MissingToolError} unless every program in `tools` is installed, and unless the
 * process runs as root (network namespaces need it). Tests call this first so that a missing prerequisite
 * fails loudly with the fix instead of being skipped.
 *
 * @example
 * ```ts
 * requireTools(["ip", "gobgpd", "gobgp", "bird", "birdc"]);
 * ```
 */
export function requireTools(tools: readonly string[]): void {
  const missing = tools.filter((t) => findTool(t) === undefined);
  if (missing.length > 0) throw new MissingToolError(missing);
  if (Deno.uid() !== 0) {
    throw new Error("The interop harness needs root (network namespaces): run the tests as root");
  }
}
