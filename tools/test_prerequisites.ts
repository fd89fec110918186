/**
 * Installs what the tests need before `./denow task test` runs them, so that the README's test command
 * works on a fresh Debian machine with only Node.js, npm and root: the real BGP peers and tools from apt,
 * and the test kube-apiserver (built once from the k8s.io/kubernetes Go module, then cached).
 *
 * Nothing is installed when everything is present. Without root or apt, it lists what is missing and the
 * tests that need it fail with the same advice. `SPEAKER_TEST_SETUP=skip` turns it off.
 *
 * @module
 */

/** Each binary the tests run, with the Debian package that provides it. */
export const TEST_TOOLS: readonly { readonly path: string; readonly pkg: string }[] = [
  { path: "gobgpd", pkg: "gobgpd" },
  { path: "bird", pkg: "bird2" },
  { path: "/usr/lib/frr/bgpd", pkg: "frr" },
  { path: "exabgp", pkg: "exabgp" },
  { path: "tshark", pkg: "tshark" },
  { path: "tcpdump", pkg: "tcpdump" },
  { path: "ip", pkg: "iproute2" },
  { path: "ping", pkg: "iputils-ping" },
  { path: "bgpdump", pkg: "bgpdump" },
  { path: "etcd", pkg: "etcd-server" },
  { path: "etcdctl", pkg: "etcd-client" },
  { path: "umoci", pkg: "umoci" },
  { path: "setcap", pkg: "libcap2-bin" },
  { path: "openssl", pkg: "openssl" },
];

const SEARCH_PATH = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];

function exists(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/** True when `tool` (a name looked up in the usual directories, or an absolute path) exists. */
export function haveTool(tool: string): boolean {
  return tool.startsWith("/") ? exists(tool) : SEARCH_PATH.some((dir) => exists(`${dir}/${tool}`));
}

/** The Debian packages of the tools that are missing, without duplicates. */
export function missingPackages(have: (tool: string) => boolean = haveTool): string[] {
  return [...new Set(TEST_TOOLS.filter((t) => !have(t.path)).map((t) => t.pkg))];
}

/** Runs a command with its output on stderr (the test task's stdout stays the tests'); true on success. */
async function run(
  cmd: string,
  args: string[],
  env: Record<string, string> = {},
  quiet = false,
): Promise<boolean> {
  const out = await new Deno.Command(cmd, { args, env, stdout: "piped", stderr: quiet ? "null" : "inherit" })
    .output();
  if (!quiet) await Deno.stderr.write(out.stdout);
  return out.code === 0;
}

async function main(): Promise<number> {
  if (Deno.env.get("SPEAKER_TEST_SETUP") === "skip") return 0;
  const root = new URL("..", import.meta.url).pathname;
  const missing = missingPackages();
  if (missing.length > 0) {
    const isRoot = Deno.uid() === 0;
    if (!isRoot || !haveTool("apt-get")) {
      console.error(
        `test setup: missing packages: ${missing.join(" ")}; install them as root with ` +
          `'apt-get install -y ${missing.join(" ")}' (the tests that need them will fail until then)`,
      );
    } else {
      console.error(`test setup: installing ${missing.join(" ")} with apt-get`);
      const env = { DEBIAN_FRONTEND: "noninteractive" };
      if (
        !await run("apt-get", ["update", "-q"], env) ||
        !await run("apt-get", ["install", "-y", "-q", ...missing], env)
      ) {
        console.error("test setup: apt-get failed; the tests that need these packages will fail");
      }
    }
  }
  const script = `${root}tools/kube/build-apiserver.sh`;
  if (!await run(script, ["--check"], {}, true)) {
    console.error(
      "test setup: building the test kube-apiserver (about 9 minutes the first time, then cached)",
    );
    if (!await run(script, [])) {
      console.error(
        "test setup: the kube-apiserver build failed; the tests that start an API server will fail",
      );
    }
  }
  return 0;
}

if (import.meta.main) {
  Deno.exit(await main());
}
