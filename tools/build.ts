/**
 * `./denow task build`: writes the minified bundle `dist/speaker.js` (the payload `deno compile` embeds)
 * and, when a denort runtime is available, the single executable `dist/speaker`.
 *
 * The runtime permission flags come from the `speaker` task in deno.json, the one place they are listed.
 *
 * @module
 */
import { runtimeFlags } from "./permissions.ts";

const root = new URL("..", import.meta.url).pathname;
/** The output folder: `dist/`, or `SPEAKER_DIST` (tests build elsewhere so that builds never race). */
const dist = Deno.env.get("SPEAKER_DIST") || `${root}dist`;

async function run(cmd: string, args: string[], env: Record<string, string> = {}): Promise<boolean> {
  const child = new Deno.Command(cmd, { args, cwd: root, env, stdout: "inherit", stderr: "inherit" });
  const { code } = await child.output();
  return code === 0;
}

/** Where `deno compile` can find a denort runtime offline, or why it cannot. */
export function findDenort(env: Record<string, string | undefined>, denoVersion: string): {
  found: boolean;
  reason: string;
} {
  const explicit = env.DENORT_BIN;
  if (explicit) {
    try {
      Deno.statSync(explicit);
      return { found: true, reason: `DENORT_BIN=${explicit}` };
    } catch {
      return { found: false, reason: `DENORT_BIN is set to ${explicit}, which does not exist` };
    }
  }
  const denoDir = env.DENO_DIR ?? `${env.HOME ?? "/root"}/.cache/deno`;
  const cached = `${denoDir}/dl/release/v${denoVersion}/denort-x86_64-unknown-linux-gnu.zip`;
  try {
    Deno.statSync(cached);
    return { found: true, reason: `cached runtime ${cached}` };
  } catch {
    return {
      found: false,
      reason: `no denort runtime: DENORT_BIN is unset and ${cached} does not exist ` +
        "(deno compile would download it from Deno's server, which this machine cannot reach)",
    };
  }
}

if (import.meta.main) {
  await Deno.mkdir(dist, { recursive: true });
  const bundle = `${dist}/speaker.js`;
  if (!await run(Deno.execPath(), ["bundle", "--minify", "--platform", "deno", "-o", bundle, "main.ts"])) {
    console.error("build: deno bundle failed");
    Deno.exit(1);
  }
  const size = Deno.statSync(bundle).size;
  console.log(`build: wrote ${bundle.replace(root, "")} (${(size / 1024).toFixed(0)} KiB)`);

  const flags = runtimeFlags();
  const denort = findDenort(Deno.env.toObject(), Deno.version.deno);
  if (!denort.found) {
    console.log(`build: skipped ${dist.replace(root, "")}/speaker (deno compile): ${denort.reason}`);
    console.log(`build: run the bundle with: deno run ${flags.join(" ")} ${bundle.replace(root, "")}`);
    Deno.exit(0);
  }
  const ok = await run(Deno.execPath(), ["compile", ...flags, "-o", `${dist}/speaker`, bundle]);
  if (!ok) {
    console.error(`build: deno compile failed (runtime from ${denort.reason})`);
    Deno.exit(1);
  }
  // A runtime that is not a real denort (e.g. the full deno binary) yields an executable that ignores the
  // embedded program: check that it runs ours.
  const check = await new Deno.Command(`${dist}/speaker`, {
    args: ["--version"],
    stdout: "piped",
    stderr: "piped",
  })
    .output().catch(() => undefined);
  const version = check ? new TextDecoder().decode(check.stdout).trim() : "";
  if (!version.startsWith("speaker ")) {
    await Deno.remove(`${dist}/speaker`).catch(() => {});
    console.error(
      `build: ${
        dist.replace(root, "")
      }/speaker (runtime from ${denort.reason}) does not run the speaker: '--version' printed ` +
        `${
          JSON.stringify(version.split("\n")[0])
        }; the runtime is not a denort build, so the file was removed`,
    );
    Deno.exit(1);
  }
  console.log(`build: wrote ${dist.replace(root, "")}/speaker (${version}) with ${denort.reason}`);
}
