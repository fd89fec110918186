import { assertEquals, assertStringIncludes } from "../assert.ts";

const root = new URL("../..", import.meta.url).pathname;

async function speaker(args: string[], permissions: string[] = ["-A"]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...permissions, "main.ts", ...args],
    cwd: root,
    env: { NO_COLOR: "1", RUST_BACKTRACE: "0" },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

Deno.test("the speaker without flags exits 2 and lists every missing flag at once", async () => {
  const { code, stderr } = await speaker([]);
  assertEquals(code, 2);
  for (const flag of ["--cluster-as", "--neighbor-as", "--neighbor-address", "--node-name", "--router-id"]) {
    assertStringIncludes(stderr, flag);
  }
});

Deno.test("the speaker exits 2 for an objects file its --allow-read does not cover", async () => {
  const { code, stderr } = await speaker(
    [
      "--cluster-as=65001",
      "--neighbor-as=65000",
      "--neighbor-address=127.0.0.1",
      "--router-id=127.0.0.1",
      "--node-name=node-1",
      "--objects-file=/opt/objects.yaml",
    ],
    ["--allow-net", "--allow-ffi", "--allow-env", "--allow-read=/etc/speaker"],
  );
  assertEquals(code, 2);
  assertStringIncludes(
    stderr,
    "--objects-file=/opt/objects.yaml: not readable under this process's --allow-read",
  );
});

Deno.test("speaker --version and the subcommands' --help answer without starting anything", async () => {
  const version = await speaker(["--version"]);
  assertEquals(version.code, 0);
  assertStringIncludes(version.stdout, "speaker ");
  const listen = await speaker(["listen", "--help"]);
  assertEquals(listen.code, 0);
  assertStringIncludes(listen.stdout, "Usage: speaker listen");
  const badListen = await speaker(["listen", "--as", "x"]);
  assertEquals(badListen.code, 2);
});

Deno.test("the speaker refuses to start when the source toward a neighbor is not an allowed source address", async () => {
  const { code, stderr } = await speaker([
    "--cluster-as=65001",
    "--neighbor-as=65000",
    "--neighbor-address=127.0.0.2",
    "--router-id=127.0.0.1",
    "--node-name=node-1",
    "--allowed-source-addresses=127.0.0.9",
    "--enable-metrics=false",
    "--objects-file=manifests/examples/objects.yaml",
  ]);
  assertEquals(code, 1);
  assertStringIncludes(stderr, "speaker startup is rejected");
  assertStringIncludes(stderr, "toward neighbor 127.0.0.2 is 127.0.0.1");
});
