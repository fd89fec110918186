import { assertEquals, assertMatch, assertStringIncludes } from "../assert.ts";

const root = new URL("../..", import.meta.url).pathname;

Deno.test("the demo announces the example prefixes, shows a withdrawal and stops cleanly", async () => {
  const out = await new Deno.Command(`${root}denow`, {
    args: ["task", "demo"],
    cwd: root,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  assertEquals(out.code, 0, `${stdout}\n${new TextDecoder().decode(out.stderr)}`);
  assertMatch(stdout, /The router learned 9 routes/);
  for (
    const line of [
      /198\.51\.100\.0\/24 +next hop 127\.0\.0\.1 +AS path 65001/,
      /2001:db8:100::\/64 +next hop ::1 +AS path 65001/,
      /203\.0\.113\.201\/32 +next hop 127\.0\.0\.1/,
      /127\.0\.0\.1 +65000 +\S+ +Established/,
      /::1 +65000 +\S+ +Established/,
    ]
  ) assertMatch(stdout, line);
  assertMatch(stdout, /withdrawal of 203\.0\.113\.70\/32 \d+ ms after the file changed/);
  assertStringIncludes(stdout, "it now holds 8 routes");
  assertStringIncludes(stdout, 'NOTIFICATION 6/2 received: "speaker on node-1 shutting down"');
  assertStringIncludes(stdout, "speaker exited with code 0");
});
