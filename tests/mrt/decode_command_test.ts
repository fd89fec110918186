import { deepStrictEqual, match, ok, strictEqual } from "node:assert/strict";

const CORPUS = new URL("../../../shared/corpus/", import.meta.url).pathname;
const MODULE = new URL("../../lib/cli/decode.ts", import.meta.url).pathname;

/** Runs `speaker decode ARGS` as its own process (the module's main) and captures everything. */
async function decode(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", MODULE, ...args],
    env: { NO_COLOR: "1", RUST_BACKTRACE: "0" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const d = new TextDecoder();
  return { code, stdout: d.decode(stdout), stderr: d.decode(stderr) };
}

Deno.test("speaker decode without a file is a usage error (exit 2)", async () => {
  const r = await decode();
  strictEqual(r.code, 2);
  strictEqual(r.stdout, "");
  match(r.stderr, /^speaker decode: no MRT file given\nUsage: speaker decode \[--json\] FILE\.\.\./);
});

Deno.test("speaker decode with an unknown option is a usage error (exit 2)", async () => {
  const r = await decode("--jsn", `${CORPUS}mrt/quagga_rib`);
  strictEqual(r.code, 2);
  match(r.stderr, /^speaker decode: unknown option --jsn\n/);
});

Deno.test("speaker decode prints the routes of several files in order", async () => {
  const r = await decode(`${CORPUS}mrt/quagga_rib`, `${CORPUS}mrt/bird-mrtdump_bgp`);
  strictEqual(r.code, 0);
  strictEqual(r.stderr, "");
  const expected = Deno.readTextFileSync(`${CORPUS}mrt-expected/quagga_rib.bgpdump-m.txt`) +
    Deno.readTextFileSync(`${CORPUS}mrt-expected/bird-mrtdump_bgp.bgpdump-m.txt`);
  strictEqual(r.stdout, expected);
});

Deno.test("speaker decode reports an unreadable file, goes on with the others and exits 1", async () => {
  const r = await decode(`${CORPUS}mrt/does-not-exist`, `${CORPUS}mrt/quagga_rib`);
  strictEqual(r.code, 1);
  match(r.stderr, /^speaker decode: cannot open .*does-not-exist: /);
  strictEqual(r.stdout, Deno.readTextFileSync(`${CORPUS}mrt-expected/quagga_rib.bgpdump-m.txt`));
});

Deno.test("speaker decode warns about damaged records on stderr and still exits 0", async () => {
  const r = await decode(`${CORPUS}mrt/rrc00.updates.20000325.0345.gz`);
  strictEqual(r.code, 0);
  const warnings = r.stderr.trim().split("\n");
  ok(warnings.length >= 2, r.stderr);
  ok(warnings.every((w) => w.startsWith("speaker decode: ")), r.stderr);
  match(warnings[warnings.length - 1], /incomplete record .* stopping$/);
  strictEqual(r.stdout.split("\n").length - 1, 5);
});

Deno.test("speaker decode reads gzip MRT from standard input given as -", async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", MODULE, "-"],
    env: { NO_COLOR: "1", RUST_BACKTRACE: "0" },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const input = Deno.readFileSync(`${CORPUS}mrt/updates.long_withdrawal.gz`);
  const writer = child.stdin.getWriter();
  await writer.write(input);
  await writer.close();
  const { code, stdout, stderr } = await child.output();
  strictEqual(code, 0, new TextDecoder().decode(stderr));
  const lines = new TextDecoder().decode(stdout).trim().split("\n");
  strictEqual(lines.length, 4096);
  strictEqual(lines[0], "BGP4MP|1577792407|W|2001:db8::2|65531|2001:db8::/64");
});

Deno.test("speaker decode stops quietly with status 0 when its reader closes stdout", async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", MODULE, `${CORPUS}mrt/updates.20070211.0141.gz`],
    env: { NO_COLOR: "1", RUST_BACKTRACE: "0" },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // Like `| head -1`: read one chunk, then close the pipe.
  const reader = child.stdout.getReader();
  const first = await reader.read();
  await reader.cancel();
  const [status, stderr] = await Promise.all([child.status, new Response(child.stderr).text()]);
  ok(!first.done && first.value.length > 0);
  strictEqual(stderr, "");
  strictEqual(status.code, 0);
});

Deno.test("speaker decode --json prints one JSON object per bgpdump line", async () => {
  const file = `${CORPUS}mrt/bird-mrtdump_rib`;
  const [json, text] = await Promise.all([decode("--json", file), decode(file)]);
  strictEqual(json.code, 0);
  const objects = json.stdout.trim().split("\n").map((l) => JSON.parse(l));
  const lines = text.stdout.trim().split("\n");
  strictEqual(objects.length, lines.length);
  for (let i = 0; i < lines.length; i++) {
    const f = lines[i].split("|");
    const o = objects[i];
    const ap = o.pathId === undefined ? 0 : 1;
    deepStrictEqual(
      [
        o.type,
        String(o.timestamp),
        o.entry,
        o.peer,
        String(o.peerAs),
        o.prefix,
        o.asPath,
        o.origin,
        o.nextHop,
      ],
      [f[0], f[1], f[2], f[3], f[4], f[5], f[6 + ap], f[7 + ap], f[8 + ap]],
    );
    deepStrictEqual([String(o.localPref), String(o.med), o.communities.join(" ")], [
      f[9 + ap],
      f[10 + ap],
      f[11 + ap],
    ]);
    strictEqual(typeof o.peerAs, "number");
  }
});
