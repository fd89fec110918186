import { assert, assertEquals } from "../assert.ts";
import { Logger, QueuedStreamSink } from "../../lib/log/logger.ts";
import { levelForVerbosity, type LogLevel } from "../../lib/log/level.ts";
import { Redactor, Secret } from "../../lib/log/redaction.ts";

const PASSWORD = 'Zq9-"distinctive" MD5\\key';
const NOW = () => Date.UTC(2026, 10, 21, 6, 0, 0);

function capture(options: { level?: LogLevel; format?: "text" | "json" } = {}) {
  const lines: string[] = [];
  const logger = new Logger({ ...options, sink: { write: (line) => lines.push(line) }, now: NOW });
  return { logger, lines };
}

Deno.test("Logger writes key=value lines with time, level, component and message", () => {
  const { logger, lines } = capture();
  logger.info("session", "state change", { peer: "10.99.0.2", from: "OpenConfirm", to: "Established" });
  assertEquals(lines, [
    'time=2026-11-21T06:00:00.000Z level=info component=session msg="state change" peer=10.99.0.2 from=OpenConfirm to=Established',
  ]);
});

Deno.test("Logger quotes text values that need it and keeps one line per entry", () => {
  const { logger, lines } = capture();
  logger.warn("kube", "x", {
    empty: "",
    spaced: "a b",
    quoted: 'say "hi"',
    equals: "a=b",
    newline: "one\ntwo",
    backslash: "C:\\dir",
    number: 42,
    flag: true,
    list: ["10.0.0.1/32", "10.0.0.2/32"],
    error: new Error("connect refused"),
    nested: { a: 1 },
    absent: undefined,
    nothing: null,
    big: 10n,
  });
  assertEquals(lines.length, 1);
  assertEquals(
    lines[0],
    'time=2026-11-21T06:00:00.000Z level=warn component=kube msg=x empty="" spaced="a b" quoted="say \\"hi\\"" ' +
      'equals="a=b" newline="one\\ntwo" backslash="C:\\\\dir" number=42 flag=true list=10.0.0.1/32,10.0.0.2/32 ' +
      'error="connect refused" nested="{\\"a\\":1}" nothing=null big=10',
  );
});

Deno.test("Logger keeps caller fields from overriding the line's own keys", () => {
  const { logger, lines } = capture();
  logger.info("session", "m", { level: "error", "bad key": 1 });
  assertEquals(lines, [
    "time=2026-11-21T06:00:00.000Z level=info component=session msg=m field_level=error bad_key=1",
  ]);
});

Deno.test("Logger writes JSON lines with --log-format json", () => {
  const { logger, lines } = capture({ format: "json" });
  logger.error("admin", "bind failed", { port: 10667, error: new Error("address in use"), big: 5n });
  assertEquals(JSON.parse(lines[0]), {
    time: "2026-11-21T06:00:00.000Z",
    level: "error",
    component: "admin",
    msg: "bind failed",
    port: 10667,
    error: "address in use",
    big: "5",
  });
});

Deno.test("Logger drops lines below its level, which -v raises", () => {
  const { logger, lines } = capture({ level: levelForVerbosity(0) });
  logger.debug("session", "hidden");
  logger.trace("session", "hidden");
  logger.info("session", "shown");
  assertEquals(lines.length, 1);
  assertEquals(logger.enabled("debug"), false);
  logger.setLevel(levelForVerbosity(3));
  logger.debug("session", "shown");
  logger.trace("session", "hidden");
  assertEquals(lines.length, 2);
  logger.setLevel(levelForVerbosity(5));
  logger.trace("session", "shown");
  assertEquals(lines.length, 3);
});

Deno.test("Logger never prints a registered secret, in text or JSON, however it is passed", () => {
  for (const format of ["text", "json"] as const) {
    const { logger, lines } = capture({ format });
    logger.registerSecret(new Secret(PASSWORD));
    logger.info("config", `password is ${PASSWORD}`, {
      password: PASSWORD,
      wrapped: new Secret(PASSWORD),
      nested: { deep: [PASSWORD] },
      error: new Error(`rejected ${PASSWORD}`),
    });
    logger.info(PASSWORD, "component name");
    const all = lines.join("\n");
    assert(!all.includes(PASSWORD), all);
    assert(!all.includes(JSON.stringify(PASSWORD).slice(1, -1)), all);
    assert(!all.includes("distinctive"), all);
    assert(all.includes("***"));
  }
});

Deno.test("Secret hides its value from string conversion, JSON and the inspector", () => {
  const secret = new Secret(PASSWORD);
  assertEquals(`${secret}`, "***");
  assertEquals(JSON.stringify({ secret }), '{"secret":"***"}');
  assert(!Deno.inspect({ secret }).includes("distinctive"));
  assertEquals(secret.reveal(), PASSWORD);
});

Deno.test("Redactor replaces the longest registered secret first", () => {
  const redactor = new Redactor();
  redactor.register("abc");
  redactor.register("abcdef");
  redactor.register("");
  assertEquals(redactor.redact("x abcdef y abc"), "x *** y ***");
});

Deno.test("Logger counts lines and bytes per level", () => {
  const { logger, lines } = capture({ level: "debug" });
  logger.info("a", "one");
  logger.info("a", "two");
  logger.error("a", "three");
  logger.trace("a", "dropped");
  const counts = logger.counts();
  assertEquals(counts.info.lines, 2);
  assertEquals(counts.error.lines, 1);
  assertEquals(counts.trace.lines, 0);
  assertEquals(counts.info.bytes, lines[0].length + lines[1].length + 2);
});

Deno.test("QueuedStreamSink writes lines asynchronously, in order, and flushes at exit", async () => {
  const chunks: string[] = [];
  const decoder = new TextDecoder();
  let release: () => void = () => {};
  const gate = new Promise<void>((resolve) => release = resolve);
  const stream = {
    write: async (p: Uint8Array) => {
      await gate;
      chunks.push(decoder.decode(p));
      return p.length;
    },
    writeSync: (p: Uint8Array) => {
      chunks.push(decoder.decode(p));
      return p.length;
    },
  };
  const sink = new QueuedStreamSink(stream, 40);
  sink.write("first");
  sink.write("second");
  assertEquals(chunks.length, 0);
  release();
  await new Promise((resolve) => setTimeout(resolve, 10));
  assertEquals(chunks.join(""), "first\nsecond\n");
  // The first write is in flight on a slow stream; the queue is bounded at 40 bytes.
  let releaseSlow: () => void = () => {};
  const slow = new Promise<void>((resolve) => releaseSlow = resolve);
  stream.write = async (p: Uint8Array) => {
    await slow;
    chunks.push(decoder.decode(p));
    return p.length;
  };
  sink.write("a".repeat(10));
  for (let i = 0; i < 10; i++) sink.write("b".repeat(10));
  assertEquals(sink.dropped > 0, true);
  sink.flushSync();
  releaseSlow();
  await new Promise((resolve) => setTimeout(resolve, 10));
  const text = chunks.join("");
  assert(text.includes("aaaaaaaaaa"));
  assert(text.includes("bbbbbbbbbb"));
});

Deno.test("Logger.component() binds the component name", () => {
  const { logger, lines } = capture({ level: "debug" });
  const session = logger.component("session");
  session.info("hold timer expired", { peer: "10.99.0.2" });
  session.trace("hidden");
  assertEquals(session.enabled("trace"), false);
  assertEquals(lines, [
    'time=2026-11-21T06:00:00.000Z level=info component=session msg="hold timer expired" peer=10.99.0.2',
  ]);
});
