import { assert, assertEquals, assertMatch } from "../assert.ts";
import { buildImage, entrypoint, IMAGE_ENV } from "../../tools/image.ts";

const root = new URL("../..", import.meta.url).pathname;

async function run(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

function requireTool(tool: string, pkg: string) {
  const found = ["/usr/bin", "/usr/sbin", "/bin", "/sbin"].some((dir) => {
    try {
      return Deno.statSync(`${dir}/${tool}`).isFile;
    } catch {
      return false;
    }
  });
  if (!found) throw new Error(`${tool} is missing: install it with 'apt-get install -y ${pkg}'`);
}

/** Runs the image's entrypoint inside its unpacked root filesystem, as nonroot, with /proc mounted. */
async function runInImage(rootfs: string, args: string[]) {
  const env = IMAGE_ENV.map((kv) => `'${kv}'`).join(" ");
  const argv = [...entrypoint(), ...args].map((a) => `'${a}'`).join(" ");
  const script = `mount -t proc proc '${rootfs}/proc' && mount --rbind /dev '${rootfs}/dev' && ` +
    `exec env -i ${env} /usr/sbin/chroot --userspec=65532:65532 '${rootfs}' ${argv}`;
  return await run("unshare", ["-m", "--", "sh", "-c", script]);
}

Deno.test("the image builds reproducibly and its entrypoint runs as nonroot without a shell", async () => {
  requireTool("umoci", "umoci");
  requireTool("unshare", "util-linux");
  const first = await buildImage();
  const second = await buildImage();
  assertMatch(first.digest, /^sha256:[0-9a-f]{64}$/);
  assertEquals(second.digest, first.digest, "two builds from the same inputs give the same digest");

  const unpacked = await Deno.makeTempDir({ prefix: "speaker-image-" });
  try {
    const unpack = await run("umoci", [
      "unpack",
      "--image",
      `${root}dist/image:latest`,
      `${unpacked}/bundle`,
    ]);
    assertEquals(unpack.code, 0, unpack.stderr);
    const rootfs = `${unpacked}/bundle/rootfs`;
    for (const shell of ["bin/sh", "usr/bin/sh", "bin/bash", "usr/bin/bash"]) {
      assert(!(await Deno.lstat(`${rootfs}/${shell}`).catch(() => null)), `the image has no ${shell}`);
    }
    const passwd = await Deno.readTextFile(`${rootfs}/etc/passwd`);
    assertMatch(passwd, /^nonroot:x:65532:65532:/m);
    const config = JSON.parse(await Deno.readTextFile(`${unpacked}/bundle/config.json`));
    assertEquals(config.process.user.uid, 65532);

    const version = await runInImage(rootfs, ["--version"]);
    assertEquals(version.code, 0, version.stderr);
    assertMatch(version.stdout, /^speaker \d+\.\d+\.\d+/);
  } finally {
    await Deno.remove(unpacked, { recursive: true });
  }
});
