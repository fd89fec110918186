/**
 * Objects files for the speaker's static mode (`--objects-file`) that make it announce exactly a given set
 * of bulk host routes: one Ready, unannotated Subnet per family and one Pod per address, each Pod
 * annotated `ovn.kubernetes.io/bgp: cluster`. Written as one JSON object per document (`---` between
 * documents), the form the speaker loads fastest.
 *
 * @example
 * ```ts ignore
 * await writeObjectsFile("/tmp/pods.yaml", [{ family: "ipv4", offset: 0, count: 100_000 }]);
 * ```
 *
 * @module
 */

import { type BenchFamily, bulkAddress } from "./prefixes.ts";

/** A run of consecutive bulk hosts (see {@linkcode bulkAddress}). */
export interface HostRange {
  readonly family: BenchFamily;
  /** Index of the first host. */
  readonly offset: number;
  /** Number of hosts. */
  readonly count: number;
}

/** The Subnet (Kube-OVN logical switch) the bench Pods of `family` belong to. */
export function benchSubnetName(family: BenchFamily): string {
  return family === "ipv4" ? "bench4" : "bench6";
}

function subnetDocument(family: BenchFamily): string {
  return JSON.stringify({
    apiVersion: "kubeovn.io/v1",
    kind: "Subnet",
    metadata: { name: benchSubnetName(family) },
    spec: {
      protocol: family === "ipv4" ? "IPv4" : "IPv6",
      cidrBlock: family === "ipv4" ? "100.64.0.0/10" : "2001:db8::/32",
    },
    status: { conditions: [{ type: "Ready", status: "True" }] },
  });
}

/** The Pod document that announces bulk host `i` of `family`. */
export function podDocument(family: BenchFamily, i: number): string {
  const subnet = benchSubnetName(family);
  return `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p${family === "ipv4" ? 4 : 6}-${i}",` +
    `"namespace":"bench","annotations":{"ovn.kubernetes.io/bgp":"cluster",` +
    `"ovn.kubernetes.io/ip_address":"${
      bulkAddress(family, i)
    }","ovn.kubernetes.io/logical_switch":"${subnet}"}},` +
    `"spec":{"nodeName":"node-1"},"status":{"phase":"Running"}}`;
}

/**
 * Writes an objects file announcing every host of `ranges`, atomically (a temporary file renamed over
 * `path`, so a watching speaker never reads half a file). Streams in chunks: a million Pods is about
 * 250 MB of text.
 */
export async function writeObjectsFile(path: string, ranges: readonly HostRange[]): Promise<void> {
  const tmp = `${path}.tmp-${Deno.pid}`;
  const file = await Deno.open(tmp, { write: true, create: true, truncate: true });
  const encoder = new TextEncoder();
  try {
    const families = [...new Set(ranges.map((r) => r.family))];
    let chunk = families.map((f) => `---\n${subnetDocument(f)}\n`).join("");
    for (const r of ranges) {
      for (let i = r.offset; i < r.offset + r.count; i++) {
        chunk += `---\n${podDocument(r.family, i)}\n`;
        if (chunk.length > 1 << 20) {
          await writeAll(file, encoder.encode(chunk));
          chunk = "";
        }
      }
    }
    await writeAll(file, encoder.encode(chunk));
  } finally {
    file.close();
  }
  await Deno.rename(tmp, path);
}

async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  let at = 0;
  while (at < bytes.length) at += await file.write(bytes.subarray(at));
}
