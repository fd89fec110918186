import { assert, assertEquals, assertMatch } from "../assert.ts";
import { buildImage, entrypoint, IMAGE_ENV } from "../../tools/image.ts";
import { requireTools, startBird, Topology } from "../harness/mod.ts";

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

/**
 * The command that runs the image's entrypoint inside its unpacked root filesystem, as nonroot, with /proc
 * and /dev mounted in a private mount namespace (each step execs, so the PID is the speaker's own).
 */
function imageCommand(rootfs: string, args: string[]): string[] {
  const env = IMAGE_ENV.map((kv) => `'${kv}'`).join(" ");
  const argv = [...entrypoint(), ...args].map((a) => `'${a}'`).join(" ");
  const script = `mount -t proc proc '${rootfs}/proc' && mount --rbind /dev '${rootfs}/dev' && ` +
    `exec env -i ${env} /usr/sbin/chroot --userspec=65532:65532 '${rootfs}' ${argv}`;
  return ["unshare", "-m", "--", "sh", "-c", script];
}

async function runInImage(rootfs: string, args: string[]) {
  const [cmd, ...rest] = imageCommand(rootfs, args);
  return await run(cmd, rest);
}

/** Announces a Subnet from inside the image to BIRD in a namespace, and checks what BIRD holds. */
async function announceFromImage(rootfs: string) {
  requireTools(["ip", "bird", "birdc"]);
  await Deno.mkdir(`${rootfs}/etc/speaker`, { recursive: true });
  await Deno.writeTextFile(
    `${rootfs}/etc/speaker/objects.json`,
    JSON.stringify({
      apiVersion: "kubeovn.io/v1",
      kind: "Subnet",
      metadata: { name: "image-test", annotations: { "ovn.kubernetes.io/bgp": "cluster" } },
      spec: { cidrBlock: "203.0.113.0/26" },
      status: { conditions: [{ type: "Ready", status: "True" }] },
    }),
  );
  await using topo = await Topology.create({ hosts: 2 });
  const [h1, h2] = [topo.host(1), topo.host(2)];
  const bird = await startBird(topo, {
    host: h2,
    asn: 65000,
    neighbors: [{ address: h1.ipv4, peerAs: 65001 }],
  });
  const speaker = topo.spawn(
    h1,
    "speaker-image",
    imageCommand(rootfs, [
      "--cluster-as=65001",
      "--neighbor-as=65000",
      `--neighbor-address=${h2.ipv4}`,
      `--router-id=${h1.ipv4}`,
      "--node-name=node-1",
      "--objects-file=/etc/speaker/objects.json",
      "--enable-metrics=false",
    ]),
  );
  try {
    const routes = await bird.waitForRoutes("ipv4", (rs) => rs.some((r) => r.prefix === "203.0.113.0/26"));
    const route = routes.find((r) => r.prefix === "203.0.113.0/26")!;
    assertEquals({ nextHop: route.nextHop, asPath: route.asPath }, { nextHop: h1.ipv4, asPath: [65001] });
    const status = await Deno.readTextFile(`/proc/${speaker.pid}/status`);
    assertMatch(status, /^Uid:\s+65532\s/m, "the speaker runs as nonroot");
  } catch (err) {
    throw new Error(`${(err as Error).message}\n${await bird.diagnostics()}\n${await speaker.logTail()}`);
  }
}

Deno.test("the image builds reproducibly, has no shell, and its entrypoint announces to BIRD as nonroot", async () => {
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

    await announceFromImage(rootfs);
  } finally {
    await Deno.remove(unpacked, { recursive: true });
  }
});
