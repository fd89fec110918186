/**
 * `./denow task image`: assembles a distroless-equivalent OCI image of the speaker without a container
 * daemon, reproducibly (two builds from the same inputs give the same digest).
 *
 * Root filesystem: glibc and libgcc from Debian packages, the CA bundle built from Debian's
 * ca-certificates, `/etc/passwd` with `nonroot` (65532), no shell; the Deno runtime and the bundle
 * `dist/speaker.js`; the entrypoint runs the bundle with the permission flags of the `speaker` task.
 *
 * Output: an OCI image layout in `dist/image/` (and `dist/speaker-image.tar`); prints the manifest digest.
 *
 * @module
 */
import { runtimeFlags } from "./permissions.ts";

const root = new URL("..", import.meta.url).pathname;
const dist = `${root}dist`;
const cacheDir = Deno.env.get("SPEAKER_IMAGE_CACHE") ?? "/var/cache/speaker-image";
/** Debian packages that make up the distroless-equivalent base (as gcr.io/distroless/cc-debian12). */
const PACKAGES = ["libc6", "libgcc-s1", "ca-certificates", "netbase", "tzdata"];
/** Fixed timestamp for every file and the image config, so the digest depends only on content. */
const EPOCH = 0;
const NONROOT = 65532;

/** The image's entrypoint; kept in one place so the smoke test runs exactly this. */
export function entrypoint(): string[] {
  return [
    "/usr/bin/deno",
    "run",
    "--no-config",
    "--no-lock",
    "--no-remote",
    ...runtimeFlags(),
    "/app/speaker.js",
  ];
}

/** Environment of the image's process. */
export const IMAGE_ENV = [
  "PATH=/usr/bin:/bin",
  "HOME=/home/nonroot",
  "DENO_DIR=/tmp/deno",
  "DENO_NO_UPDATE_CHECK=1",
  "DENO_NO_PROMPT=1",
  "RUST_BACKTRACE=0",
  "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt",
];

async function sh(cmd: string, args: string[], opts: { cwd?: string; stdout?: "piped" | "null" } = {}) {
  const out = await new Deno.Command(cmd, {
    args,
    cwd: opts.cwd ?? root,
    stdout: opts.stdout ?? "piped",
    stderr: "piped",
    env: { LC_ALL: "C", TZ: "UTC" },
  }).output();
  if (out.code !== 0) {
    throw new Error(`${cmd} ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr).trim()}`);
  }
  return new TextDecoder().decode(out.stdout);
}

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The version apt would install now: the image is pinned by the apt index in use. */
async function candidateVersion(pkg: string): Promise<string> {
  const policy = await sh("apt-cache", ["policy", pkg]);
  const version = policy.match(/Candidate:\s*(\S+)/)?.[1];
  if (!version || version === "(none)") {
    throw new Error(`image: apt has no candidate for ${pkg}; run 'apt-get update' first`);
  }
  return version;
}

/** Downloads the .deb files of the base packages into the cache, once per version. */
async function fetchDebs(): Promise<string[]> {
  const debDir = `${cacheDir}/debs`;
  await Deno.mkdir(debDir, { recursive: true });
  const files: string[] = [];
  for (const pkg of PACKAGES) {
    const version = await candidateVersion(pkg);
    // apt-get download names files pkg_version_arch.deb, with the epoch's colon escaped as %3a.
    const stem = `${pkg}_${version.replace(":", "%3a")}_`;
    const find = () => [...Deno.readDirSync(debDir)].map((e) => e.name).find((n) => n.startsWith(stem));
    if (!find()) await sh("apt-get", ["download", `${pkg}=${version}`], { cwd: debDir });
    const name = find();
    if (!name) throw new Error(`image: ${stem}*.deb not found in ${debDir} after apt-get download`);
    files.push(`${debDir}/${name}`);
  }
  return files;
}

async function assembleRootfs(rootfs: string, debs: string[], denoBin: string, bundle: string) {
  await Deno.remove(rootfs, { recursive: true }).catch(() => {});
  await Deno.mkdir(rootfs, { recursive: true });
  for (const deb of debs) await sh("dpkg-deb", ["-x", deb, rootfs]);
  // Documentation other than copyright notices is not needed at run time.
  for (const dir of ["usr/share/man", "usr/share/lintian", "usr/share/locale", "usr/share/info"]) {
    await Deno.remove(`${rootfs}/${dir}`, { recursive: true }).catch(() => {});
  }
  for (const entry of Deno.readDirSync(`${rootfs}/usr/share/doc`)) {
    if (!entry.isDirectory) continue;
    for (const f of Deno.readDirSync(`${rootfs}/usr/share/doc/${entry.name}`)) {
      if (f.name !== "copyright") {
        await Deno.remove(`${rootfs}/usr/share/doc/${entry.name}/${f.name}`, { recursive: true });
      }
    }
  }
  // The CA bundle, as update-ca-certificates would build it: every certificate, sorted by path.
  const certs: string[] = [];
  const walk = (dir: string) => {
    for (const e of [...Deno.readDirSync(dir)].sort((a, b) => a.name < b.name ? -1 : 1)) {
      const p = `${dir}/${e.name}`;
      if (e.isDirectory) walk(p);
      else if (e.name.endsWith(".crt")) certs.push(Deno.readTextFileSync(p).trimEnd() + "\n");
    }
  };
  walk(`${rootfs}/usr/share/ca-certificates`);
  await Deno.mkdir(`${rootfs}/etc/ssl/certs`, { recursive: true });
  await Deno.writeTextFile(`${rootfs}/etc/ssl/certs/ca-certificates.crt`, certs.join(""));

  await Deno.writeTextFile(
    `${rootfs}/etc/passwd`,
    "root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n" +
      `nonroot:x:${NONROOT}:${NONROOT}:nonroot:/home/nonroot:/sbin/nologin\n`,
  );
  await Deno.writeTextFile(
    `${rootfs}/etc/group`,
    `root:x:0:\nnogroup:x:65534:\nnonroot:x:${NONROOT}:\n`,
  );
  await Deno.writeTextFile(`${rootfs}/etc/nsswitch.conf`, "passwd: files\ngroup: files\nhosts: files dns\n");
  for (const dir of ["tmp", "home/nonroot", "root", "app", "usr/bin", "proc", "dev", "sys"]) {
    await Deno.mkdir(`${rootfs}/${dir}`, { recursive: true });
  }
  await Deno.chmod(`${rootfs}/tmp`, 0o1777);
  await Deno.chmod(`${rootfs}/root`, 0o700);
  await Deno.copyFile(denoBin, `${rootfs}/usr/bin/deno`);
  await Deno.chmod(`${rootfs}/usr/bin/deno`, 0o755);
  await Deno.copyFile(bundle, `${rootfs}/app/speaker.js`);
  await Deno.chmod(`${rootfs}/app/speaker.js`, 0o644);
  // No shell: Debian's libc6 ships none, and nothing here adds one.
  for (const sh of ["bin/sh", "usr/bin/sh", "bin/bash", "usr/bin/bash"]) {
    await Deno.remove(`${rootfs}/${sh}`).catch(() => {});
  }
}

/** Writes a deterministic tar of `rootfs`: sorted, fixed mtimes, numeric owners. */
async function layerTar(rootfs: string, out: string) {
  await sh("tar", [
    "--sort=name",
    `--mtime=@${EPOCH}`,
    "--numeric-owner",
    "--format=posix",
    "--xattrs",
    "--xattrs-include=security.capability",
    "--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime",
    "-C",
    rootfs,
    "-cf",
    out,
    ".",
  ]);
}

async function writeBlob(layout: string, bytes: Uint8Array): Promise<string> {
  const hex = await sha256Hex(bytes);
  await Deno.mkdir(`${layout}/blobs/sha256`, { recursive: true });
  await Deno.writeFile(`${layout}/blobs/sha256/${hex}`, bytes);
  return `sha256:${hex}`;
}

/** Builds the image and returns its manifest digest. */
export async function buildImage(): Promise<{ digest: string; layout: string; size: number }> {
  const bundle = `${dist}/speaker.js`;
  const build = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-write",
      "--allow-run",
      "--allow-env",
      "--allow-net",
      "tools/build.ts",
    ],
    cwd: root,
    stdout: "null",
    stderr: "inherit",
  }).output();
  if (build.code !== 0) throw new Error("image: the bundle build failed");

  const work = `${dist}/image-work`;
  const rootfs = `${work}/rootfs`;
  const layout = `${dist}/image`;
  await Deno.remove(layout, { recursive: true }).catch(() => {});
  await Deno.mkdir(work, { recursive: true });
  await assembleRootfs(rootfs, await fetchDebs(), Deno.execPath(), bundle);
  // Ownership inside the layer: root owns everything but nonroot's home directory.
  await sh("chown", ["-R", "0:0", rootfs]);
  await sh("chown", [`${NONROOT}:${NONROOT}`, `${rootfs}/home/nonroot`]);
  await sh("chmod", [
    "755",
    `${rootfs}/home/nonroot`,
    `${rootfs}/app`,
    `${rootfs}/usr/bin`,
    `${rootfs}/etc/ssl/certs`,
  ]);
  // Passive mode listens on port 179 as nonroot: the runtime carries CAP_NET_BIND_SERVICE as a file
  // capability, as kube-ovn's image does. It takes effect only where the container keeps that capability
  // in its bounding set and allows privilege escalation (see manifests/daemonset.yaml). Set after chown,
  // which clears file capabilities.
  await sh("setcap", ["cap_net_bind_service=+ep", `${rootfs}/usr/bin/deno`]).catch((err) => {
    throw new Error(`${err.message}\nimage: setcap is missing: apt-get install -y libcap2-bin`);
  });
  await layerTar(rootfs, `${work}/layer.tar`);
  const tar = await Deno.readFile(`${work}/layer.tar`);
  const diffId = `sha256:${await sha256Hex(tar)}`;
  await sh("gzip", ["-n", "-6", "-f", `${work}/layer.tar`]);
  const gz = await Deno.readFile(`${work}/layer.tar.gz`);
  const layerDigest = await writeBlob(layout, gz);

  const config = {
    architecture: "amd64",
    os: "linux",
    created: new Date(EPOCH * 1000).toISOString(),
    config: {
      User: `${NONROOT}:${NONROOT}`,
      Entrypoint: entrypoint(),
      Env: IMAGE_ENV,
      WorkingDir: "/home/nonroot",
      Labels: { "org.opencontainers.image.title": "speaker" },
    },
    rootfs: { type: "layers", diff_ids: [diffId] },
    history: [{ created: new Date(EPOCH * 1000).toISOString(), created_by: "tools/image.ts" }],
  };
  const configBytes = new TextEncoder().encode(JSON.stringify(config));
  const configDigest = await writeBlob(layout, configBytes);
  const manifest = {
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: {
      mediaType: "application/vnd.oci.image.config.v1+json",
      digest: configDigest,
      size: configBytes.length,
    },
    layers: [{
      mediaType: "application/vnd.oci.image.layer.v1.tar+gzip",
      digest: layerDigest,
      size: gz.length,
    }],
  };
  const manifestBytes = new TextEncoder().encode(JSON.stringify(manifest));
  const digest = await writeBlob(layout, manifestBytes);
  await Deno.writeTextFile(`${layout}/oci-layout`, JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  await Deno.writeTextFile(
    `${layout}/index.json`,
    JSON.stringify({
      schemaVersion: 2,
      manifests: [{
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        digest,
        size: manifestBytes.length,
        annotations: { "org.opencontainers.image.ref.name": "latest" },
      }],
    }),
  );
  await Deno.remove(work, { recursive: true });
  return { digest, layout, size: gz.length };
}

if (import.meta.main) {
  const { digest, layout, size } = await buildImage();
  console.log(
    `image: OCI layout in ${layout.replace(root, "")} (layer ${(size / 1048576).toFixed(1)} MiB compressed)`,
  );
  console.log(digest);
}
