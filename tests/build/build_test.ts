import { assertEquals, assertMatch, assertStringIncludes } from "../assert.ts";
import { findDenort } from "../../tools/build.ts";
import { runtimeFlags } from "../../tools/permissions.ts";

const root = new URL("../..", import.meta.url).pathname;

/** Builds into a folder of its own (SPEAKER_DIST), so that it never races the image test over dist/. */
async function build(dist: string, env: Record<string, string>) {
  const out = await new Deno.Command(`${root}denow`, {
    args: ["task", "build"],
    cwd: root,
    env: { NO_COLOR: "1", SPEAKER_DIST: dist, ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: out.code,
    output: new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr),
  };
}

Deno.test("the build writes the bundle, which runs with the speaker's runtime flags, and says why it skips compile", async () => {
  const dist = await Deno.makeTempDir({ prefix: "speaker-build-" });
  try {
    // No denort on our machines (PLATFORM.md): neither DENORT_BIN nor Deno's cache has one.
    const { code, output } = await build(dist, { DENORT_BIN: "" });
    assertEquals(code, 0, output);
    assertStringIncludes(output, `build: wrote ${dist}/speaker.js`);
    assertMatch(output, /build: skipped \S+\/speaker \(deno compile\): no denort runtime/);
    const run = await new Deno.Command(Deno.execPath(), {
      args: ["run", ...runtimeFlags(), `${dist}/speaker.js`, "--version"],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assertEquals(run.code, 0, new TextDecoder().decode(run.stderr));
    assertMatch(new TextDecoder().decode(run.stdout), /^speaker \d+\.\d+\.\d+/);
  } finally {
    await Deno.remove(dist, { recursive: true });
  }
});

Deno.test("the build refuses a runtime that is not a denort instead of writing an executable that ignores the program", async () => {
  const dist = await Deno.makeTempDir({ prefix: "speaker-build-" });
  try {
    const { code, output } = await build(dist, { DENORT_BIN: Deno.execPath() });
    assertEquals(code, 1, output);
    assertStringIncludes(output, "the runtime is not a denort build, so the file was removed");
    assertEquals(await Deno.stat(`${dist}/speaker`).then(() => true, () => false), false);
  } finally {
    await Deno.remove(dist, { recursive: true });
  }
});

Deno.test("findDenort() looks at DENORT_BIN, then Deno's cache", () => {
  assertEquals(findDenort({ DENORT_BIN: "/nonexistent/denort" }, "2.9.6").found, false);
  assertEquals(findDenort({ DENORT_BIN: Deno.execPath() }, "2.9.6").found, true);
  const cached = findDenort({ DENO_DIR: "/nonexistent", HOME: "/nonexistent" }, "2.9.6");
  assertEquals(cached.found, false);
  assertStringIncludes(cached.reason, "/nonexistent/dl/release/v2.9.6/denort-x86_64-unknown-linux-gnu.zip");
});
