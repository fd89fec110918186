/**
 * Kubernetes objects for the fault tests and the soak, written as the speaker's objects file: one Ready
 * Subnet under the `cluster` policy and its Running Pods, so the desired set is the Subnet's CIDR plus one
 * host route per Pod, whatever node runs the speaker.
 *
 * @example
 * ```ts ignore
 * const pods = podsInRange("100.64.0.0", 500);
 * await writeClusterObjects(path, { subnetCidr: "100.64.0.0/16", pods });
 * desiredPrefixes({ subnetCidr: "100.64.0.0/16", pods }); // 501 prefixes
 * ```
 *
 * @module
 */

/** One Pod: its name and IPv4 address. */
export interface PodAddress {
  readonly name: string;
  readonly ip: string;
}

/** The inventory of an objects file. */
export interface ClusterObjects {
  /** The Subnet's CIDR (announced itself). */
  readonly subnetCidr: string;
  /** The Pods, each announced as a /32. */
  readonly pods: readonly PodAddress[];
  /** The Subnet's name (default "soak"). */
  readonly subnetName?: string;
}

/** The IPv4 address `index` places after `base` (a dotted quad). */
export function ipv4Plus(base: string, index: number): string {
  const [a, b, c, d] = base.split(".").map(Number);
  const n = (((a << 24) >>> 0) + (b << 16) + (c << 8) + d + index) >>> 0;
  return [n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff].join(".");
}

/** `count` Pods `pod-<i>` at consecutive addresses from `first`. */
export function podsInRange(first: string, count: number, offset = 0): PodAddress[] {
  return Array.from(
    { length: count },
    (_, i) => ({ name: `pod-${offset + i}`, ip: ipv4Plus(first, offset + i) }),
  );
}

/** The objects as a JSON array (the file format the speaker reads fastest). */
export function clusterObjectsJson(objects: ClusterObjects): string {
  const subnet = objects.subnetName ?? "soak";
  const items: unknown[] = [{
    apiVersion: "kubeovn.io/v1",
    kind: "Subnet",
    metadata: { name: subnet, annotations: { "ovn.kubernetes.io/bgp": "cluster" } },
    spec: { protocol: "IPv4", cidrBlock: objects.subnetCidr },
    status: { conditions: [{ type: "Ready", status: "True" }] },
  }];
  for (const pod of objects.pods) {
    items.push({
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        name: pod.name,
        namespace: "soak",
        annotations: {
          "ovn.kubernetes.io/ip_address": pod.ip,
          "ovn.kubernetes.io/logical_switch": subnet,
        },
      },
      spec: { nodeName: "node-2", containers: [{ name: "app", image: "busybox" }] },
      status: { phase: "Running" },
    });
  }
  return JSON.stringify(items);
}

/** Writes the objects file atomically (a rename), so the speaker never reads half a file. */
export async function writeClusterObjects(path: string, objects: ClusterObjects): Promise<void> {
  await Deno.writeTextFile(`${path}.tmp`, clusterObjectsJson(objects));
  await Deno.rename(`${path}.tmp`, path);
}

/** The prefixes the speaker must announce for `objects`, sorted. */
export function desiredPrefixes(objects: ClusterObjects): string[] {
  return [objects.subnetCidr, ...objects.pods.map((p) => `${p.ip}/32`)].sort();
}
