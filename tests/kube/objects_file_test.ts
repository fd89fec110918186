// Static mode: objects files in every format, reloads applying only the diff, bad input keeping old state.
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { DesiredState } from "../../lib/kube/desired_state.ts";
import {
  ObjectsFiles,
  type ParsedObjects,
  parseObjectsText,
  readObjectsFile,
  watchObjectsFiles,
} from "../../lib/kube/objects_file.ts";
import type { PolicyConfig } from "../../lib/kube/policy.ts";

const NODE: PolicyConfig = {
  nodeName: "node-1",
  announceClusterIp: true,
  announceLbIp: false,
  natGwMode: false,
  gatewayName: "",
};
const EXAMPLES = new URL("../../manifests/examples/objects.yaml", import.meta.url).pathname;

const SUBNET_YAML = `apiVersion: kubeovn.io/v1
kind: Subnet
metadata:
  name: demo
  annotations: { ovn.kubernetes.io/bgp: cluster }
spec: { cidrBlock: "198.51.100.0/24" }
status: { conditions: [{ type: Ready, status: "True" }] }
`;

function podYaml(name: string, ip: string, extra = ""): string {
  return `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  namespace: ns
  annotations:
    ovn.kubernetes.io/ip_address: ${ip}
    ovn.kubernetes.io/logical_switch: demo${extra}
spec: { nodeName: node-1 }
status: { phase: Running }
`;
}

function podJson(name: string, ip: string) {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace: "ns",
      annotations: { "ovn.kubernetes.io/ip_address": ip, "ovn.kubernetes.io/logical_switch": "demo" },
    },
    spec: { nodeName: "node-1" },
  };
}

function keys(parsed: ParsedObjects): string[] {
  return parsed.records.map((r) => `${r.kind}/${r.key}`);
}

/** Collects log lines. */
function memoryLogger() {
  const lines: string[] = [];
  return {
    lines,
    info: (m: string) => void lines.push(`info ${m}`),
    warn: (m: string) => void lines.push(`warn ${m}`),
  };
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "speaker-objects-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("(await parseObjectsText()) reads multi-document YAML", async () => {
  const parsed = await parseObjectsText(`---\n${SUBNET_YAML}---\n${podYaml("a", "198.51.100.10")}---\n`);
  assertEquals(keys(parsed), ["Subnet/demo", "Pod/ns/a"]);
  assertEquals([parsed.problems, parsed.fatal], [[], undefined]);
});

Deno.test("(await parseObjectsText()) reads a single YAML document without markers", async () => {
  assertEquals(keys(await parseObjectsText(SUBNET_YAML)), ["Subnet/demo"]);
});

Deno.test("(await parseObjectsText()) reads a YAML List and a typed list whose items omit their kind", async () => {
  const list = `apiVersion: v1
kind: List
items:
  - { apiVersion: v1, kind: Service, metadata: { name: s, namespace: ns }, spec: { clusterIP: 203.0.113.1 } }
---
apiVersion: v1
kind: PodList
items:
  - metadata: { name: b, namespace: ns }
    spec: { nodeName: node-1 }
`;
  assertEquals(keys(await parseObjectsText(list)), ["Service/ns/s", "Pod/ns/b"]);
});

Deno.test("(await parseObjectsText()) reads JSON: an object, an array and a List", async () => {
  assertEquals(keys(await parseObjectsText(JSON.stringify(podJson("a", "198.51.100.10")))), ["Pod/ns/a"]);
  assertEquals(
    keys(
      await parseObjectsText(JSON.stringify([podJson("a", "198.51.100.10"), podJson("b", "198.51.100.11")])),
    ),
    [
      "Pod/ns/a",
      "Pod/ns/b",
    ],
  );
  const list = { apiVersion: "v1", kind: "List", items: [podJson("c", "198.51.100.12")] };
  assertEquals(keys(await parseObjectsText(JSON.stringify(list))), ["Pod/ns/c"]);
});

Deno.test("(await parseObjectsText()) reads YAML with directives, document end markers and CRLF line ends", async () => {
  const text = `%YAML 1.2\n---\n${SUBNET_YAML}...\n---\n${podYaml("a", "198.51.100.10")}`.replaceAll(
    "\n",
    "\r\n",
  );
  assertEquals(keys(await parseObjectsText(text)), ["Subnet/demo", "Pod/ns/a"]);
});

Deno.test("(await parseObjectsText()) counts VpcNatGateways and other kinds as ignored", async () => {
  const text = `apiVersion: kubeovn.io/v1
kind: VpcNatGateway
metadata: { name: gw1 }
---
apiVersion: v1
kind: ConfigMap
metadata: { name: c }
---
${SUBNET_YAML}`;
  const parsed = await parseObjectsText(text);
  assertEquals([keys(parsed), parsed.ignored, parsed.problems], [["Subnet/demo"], 2, []]);
});

Deno.test("(await parseObjectsText()) reports a bad object with a reason and remembers its key", async () => {
  const parsed = await parseObjectsText(
    `${SUBNET_YAML}---\napiVersion: v1\nkind: Service\nmetadata: { name: s }\nspec: { type: Odd }\n`,
  );
  assertEquals(keys(parsed), ["Subnet/demo"]);
  assertEquals(parsed.kept, [{ kind: "Service", key: "default/s" }]);
  assertEquals(parsed.skipped, 1);
  assert(parsed.problems[0].includes("skipped"), parsed.problems[0]);
});

Deno.test("(await parseObjectsText()) reports record warnings, such as an unknown bgp value", async () => {
  const parsed = await parseObjectsText(podYaml("a", "198.51.100.10", "\n    ovn.kubernetes.io/bgp: maybe"));
  assertEquals(parsed.records.length, 1);
  assert(parsed.problems[0].includes("ovn.kubernetes.io/bgp"), parsed.problems[0]);
});

Deno.test("(await parseObjectsText()) marks a file with invalid YAML or JSON as unusable", async () => {
  assert((await parseObjectsText(`${SUBNET_YAML}---\nkind: [unclosed\n`)).fatal?.includes("invalid YAML"));
  assert((await parseObjectsText(`{"kind": "Pod",`)).fatal?.includes("invalid JSON"));
});

Deno.test("(await parseObjectsText()) does not follow Lists nested deeper than two levels", async () => {
  const nested = {
    kind: "List",
    items: [{ kind: "List", items: [{ kind: "List", items: [podJson("a", "198.51.100.1")] }] }],
  };
  const parsed = await parseObjectsText(JSON.stringify(nested));
  assertEquals(parsed.records, []);
  assert(parsed.problems[0].includes("nested"));
});

Deno.test("readObjectsFile() streams a large multi-document file to the same records", async () => {
  await withDir(async (dir) => {
    const docs = [SUBNET_YAML];
    for (let i = 0; i < 1200; i++) docs.push(podYaml(`p${i}`, `198.51.100.${(i % 250) + 1}`));
    const text = docs.join("---\n");
    assert(text.length > 3 * 65536, "the file must span several read chunks");
    await Deno.writeTextFile(`${dir}/big.yaml`, text);
    const streamed = await readObjectsFile(`${dir}/big.yaml`);
    assertEquals(streamed.records.length, 1201);
    assertEquals(streamed.records, (await parseObjectsText(text)).records);
  });
});

Deno.test("readObjectsFile() streams JSON documents separated by --- lines", async () => {
  await withDir(async (dir) => {
    const docs = [
      JSON.stringify(podJson("a", "198.51.100.1")),
      `# comment\n${JSON.stringify(podJson("b", "198.51.100.2"))}`,
    ];
    await Deno.writeTextFile(`${dir}/pods.yaml`, `${docs.join("\n---\n")}\n`);
    assertEquals(keys(await readObjectsFile(`${dir}/pods.yaml`)), ["Pod/ns/a", "Pod/ns/b"]);
  });
});

Deno.test("readObjectsFile() reads .json files and reports a missing file", async () => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(
      `${dir}/pods.json`,
      JSON.stringify({ kind: "List", items: [podJson("a", "198.51.100.1")] }),
    );
    assertEquals((await readObjectsFile(`${dir}/pods.json`)).records.length, 1);
    assert((await readObjectsFile(`${dir}/missing.yaml`)).fatal?.includes("cannot open"));
  });
});

Deno.test("the example objects produce exactly the set documented in manifests/examples/README.md", async () => {
  const expect = async (config: PolicyConfig, prefixes: string[]) => {
    const state = new DesiredState(config);
    const report = await new ObjectsFiles([EXAMPLES], state).reload();
    assertEquals([report.problems, report.badFiles, report.upserted], [[], [], 18]);
    assertEquals(state.prefixes().sort(), prefixes.sort());
    state.close();
  };
  const base = [
    "198.51.100.0/24",
    "198.51.100.10/32",
    "2001:db8:100::/64",
    "2001:db8:100::10/128",
    "203.0.113.10/32",
    "203.0.113.70/32",
    "203.0.113.200/32",
    "2001:db8:300::a/128",
    "203.0.113.201/32",
  ];
  await expect(NODE, base);
  await expect({ ...NODE, announceLbIp: true }, [...base, "203.0.113.250/32"]);
  await expect({ ...NODE, nodeName: "node-2" }, [
    ...base.filter((p) => p !== "203.0.113.10/32"),
    "203.0.113.11/32",
    "198.51.100.20/32",
    "203.0.113.202/32",
  ]);
  await expect({ ...NODE, nodeName: "", natGwMode: true, gatewayName: "gw1" }, ["198.51.100.250/32"]);
});

Deno.test("ObjectsFiles.reload() applies only the difference", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/objects.yaml`;
    await Deno.writeTextFile(
      path,
      [SUBNET_YAML, podYaml("a", "198.51.100.10"), podYaml("b", "198.51.100.11")].join("---\n"),
    );
    const state = new DesiredState(NODE);
    const files = new ObjectsFiles([path], state);
    assertEquals((await files.reload()).upserted, 3);
    const changes: [string[], string[]][] = [];
    state.onChange((a, r) => changes.push([a, r]));
    await Deno.writeTextFile(
      path,
      [SUBNET_YAML, podYaml("a", "198.51.100.20"), podYaml("c", "198.51.100.12")].join("---\n"),
    );
    const report = await files.reload();
    assertEquals([report.upserted, report.deleted, report.unchanged], [2, 1, 1]);
    state.flush();
    assertEquals(changes.map(([a, r]) => [a.sort(), r.sort()]), [[
      ["198.51.100.12/32", "198.51.100.20/32"],
      ["198.51.100.10/32", "198.51.100.11/32"],
    ]]);
    assertEquals((await files.reload()).unchanged, 3);
    state.close();
  });
});

Deno.test("ObjectsFiles keeps what a file held when the file becomes unreadable or invalid", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/objects.yaml`;
    await Deno.writeTextFile(path, [SUBNET_YAML, podYaml("a", "198.51.100.10")].join("---\n"));
    const state = new DesiredState(NODE);
    const logger = memoryLogger();
    const files = new ObjectsFiles([path], state, { logger });
    await files.reload();
    const before = state.prefixes().sort();
    await Deno.writeTextFile(path, `${SUBNET_YAML}---\nkind: [broken\n`);
    const bad = await files.reload();
    assertEquals([bad.badFiles, bad.deleted, bad.upserted], [[path], 0, 0]);
    assertEquals(state.prefixes().sort(), before);
    assert(
      logger.lines.some((l) => l.startsWith("warn") && l.includes("invalid YAML")),
      logger.lines.join("\n"),
    );
    await Deno.remove(path);
    assertEquals((await files.reload()).badFiles, [path]);
    assertEquals(state.prefixes().sort(), before);
    await Deno.writeTextFile(path, SUBNET_YAML);
    assertEquals((await files.reload()).deleted, 1);
    assertEquals(state.prefixes(), ["198.51.100.0/24"]);
    state.close();
  });
});

Deno.test("ObjectsFiles keeps the previous version of an object that turned invalid", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/objects.yaml`;
    const svc = (type: string) =>
      `apiVersion: v1\nkind: Service\nmetadata: { name: s, namespace: ns, annotations: { ovn.kubernetes.io/bgp: "true" } }\n` +
      `spec: { type: ${type}, clusterIP: 203.0.113.1 }\n`;
    await Deno.writeTextFile(path, [SUBNET_YAML, svc("ClusterIP")].join("---\n"));
    const state = new DesiredState(NODE);
    const files = new ObjectsFiles([path], state);
    await files.reload();
    assertEquals(state.has("203.0.113.1/32"), true);
    await Deno.writeTextFile(path, [SUBNET_YAML, svc("Odd")].join("---\n"));
    const report = await files.reload();
    assertEquals([report.deleted, report.badFiles], [0, []]);
    assert(
      report.problems.some((p) => p.includes("keeping the previous version")),
      report.problems.join("\n"),
    );
    assertEquals(state.has("203.0.113.1/32"), true);
    await Deno.writeTextFile(path, SUBNET_YAML);
    assertEquals((await files.reload()).deleted, 1);
    assertEquals(state.has("203.0.113.1/32"), false);
    state.close();
  });
});

Deno.test("ObjectsFiles treats a document the Kubernetes schema rejects as a bad file", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/objects.yaml`;
    await Deno.writeTextFile(path, [SUBNET_YAML, podYaml("a", "198.51.100.10")].join("---\n"));
    const state = new DesiredState(NODE);
    const files = new ObjectsFiles([path], state);
    await files.reload();
    await Deno.writeTextFile(
      path,
      [
        SUBNET_YAML,
        "apiVersion: v1\nkind: Pod\nmetadata: { name: a, namespace: ns }\nspec: { containers: 3 }\n",
      ]
        .join("---\n"),
    );
    const report = await files.reload();
    assertEquals([report.deleted, report.badFiles], [0, [path]]);
    assertEquals(state.has("198.51.100.10/32"), true);
    state.close();
  });
});

Deno.test("ObjectsFiles merges several files; a later file wins for the same object", async () => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/a.yaml`, [SUBNET_YAML, podYaml("a", "198.51.100.10")].join("---\n"));
    await Deno.writeTextFile(
      `${dir}/b.json`,
      JSON.stringify([podJson("a", "198.51.100.20"), podJson("b", "198.51.100.21")]),
    );
    const state = new DesiredState(NODE);
    const report = await new ObjectsFiles([`${dir}/a.yaml`, `${dir}/b.json`], state).reload();
    assertEquals(report.upserted, 3);
    assert(report.problems.some((p) => p.includes("later file")), report.problems.join("\n"));
    assertEquals(state.prefixes().sort(), ["198.51.100.0/24", "198.51.100.20/32", "198.51.100.21/32"]);
    state.close();
  });
});

Deno.test("ObjectsFiles applies the last of two definitions in one file", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/objects.yaml`;
    await Deno.writeTextFile(
      path,
      [SUBNET_YAML, podYaml("a", "198.51.100.10"), podYaml("a", "198.51.100.20")].join("---\n"),
    );
    const state = new DesiredState(NODE);
    const report = await new ObjectsFiles([path], state).reload();
    assert(report.problems.some((p) => p.includes("more than once")), report.problems.join("\n"));
    assertEquals(state.prefixes().sort(), ["198.51.100.0/24", "198.51.100.20/32"]);
    state.close();
  });
});

Deno.test("ObjectsFiles folds a reload requested during a reload into the running one", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/objects.yaml`;
    await Deno.writeTextFile(path, [SUBNET_YAML, podYaml("a", "198.51.100.10")].join("---\n"));
    const state = new DesiredState(NODE);
    const files = new ObjectsFiles([path], state);
    const first = files.reload();
    const second = files.reload();
    assertEquals(first, second);
    const report = await second;
    // The second request made the loop read the files once more: everything unchanged then.
    assertEquals([report.upserted, report.unchanged], [0, 2]);
    assertEquals(state.has("198.51.100.10/32"), true);
    state.close();
  });
});

Deno.test("watchObjectsFiles() logs, and does not throw, when it cannot watch a file's directory", async () => {
  await withDir(async (dir) => {
    const state = new DesiredState(NODE);
    const logger = memoryLogger();
    const watch = watchObjectsFiles([`${dir}/missing/objects.yaml`], state, { logger });
    try {
      assertEquals((await watch.ready).badFiles.length, 1);
      assert(logger.lines.some((l) => l.includes("cannot watch")), logger.lines.join("\n"));
    } finally {
      watch.close();
      state.close();
    }
  });
});

Deno.test("watchObjectsFiles() reloads after a file is replaced", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/objects.yaml`;
    await Deno.writeTextFile(path, SUBNET_YAML);
    const state = new DesiredState(NODE);
    const watch = watchObjectsFiles([path], state, { debounceMs: 20 });
    try {
      assertEquals((await watch.ready).upserted, 1);
      // Replace by rename, as editors and config management tools do.
      await Deno.writeTextFile(`${path}.tmp`, [SUBNET_YAML, podYaml("a", "198.51.100.10")].join("---\n"));
      await Deno.rename(`${path}.tmp`, path);
      const deadline = Date.now() + 5000;
      while (!state.has("198.51.100.10/32") && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
      }
      assertEquals(state.has("198.51.100.10/32"), true, "the change was not picked up within 5 s");
      assertEquals((await watch.reload()).unchanged, 2);
    } finally {
      watch.close();
      state.close();
    }
  });
});
