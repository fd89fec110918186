/**
 * The speaker's runtime flags (permissions and V8 settings), read from the `speaker` task in deno.json so that they are
 * listed in exactly one place (the task, the build, the image and the demo all use it).
 *
 * Why each is needed: `--allow-net` for BGP, BFD, the admin server and the API server; `--allow-ffi` for
 * TCP MD5, TTL and BFD's socket options through libc; `--allow-env` because the Kubernetes client library
 * reads environment variables of its own; `--allow-sys=hostname` for the FQDN capability; and reads only of
 * the ServiceAccount directory, `/etc/speaker` (kubeconfig, objects files, password file) and systemd's
 * credentials.
 *
 * @module
 */

const configUrl = new URL("../deno.json", import.meta.url);

/** Options of {@linkcode runtimeFlags}. */
export interface PermissionOptions {
  /** Paths added to `--allow-read` (e.g. the demo's objects file). */
  readonly extraReadPaths?: readonly string[];
  /** The text of deno.json (default: this repository's). */
  readonly configText?: string;
}

/**
 * The runtime flags of the `speaker` task, in order: its `--allow-*` permissions (with `extraReadPaths`
 * merged into `--allow-read`) and its `--v8-flags` (a small young generation keeps RSS low at 100,000
 * objects).
 */
export function runtimeFlags(options: PermissionOptions = {}): string[] {
  const config = JSON.parse(options.configText ?? Deno.readTextFileSync(configUrl)) as {
    tasks?: Record<string, string>;
  };
  const task = config.tasks?.speaker;
  if (!task) throw new Error("deno.json has no 'speaker' task");
  const flags = task.split(/\s+/).filter((word) =>
    word.startsWith("--allow-") || word.startsWith("--v8-flags=")
  );
  const extra = options.extraReadPaths ?? [];
  if (extra.length === 0) return flags;
  return flags.map((flag) => flag.startsWith("--allow-read=") ? `${flag},${extra.join(",")}` : flag);
}

if (import.meta.main) {
  console.log(runtimeFlags().join(" "));
}
