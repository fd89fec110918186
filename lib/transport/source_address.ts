/**
 * The local address the kernel would use toward a neighbor, found as `ip route get` would: a UDP socket
 * connected to the neighbor (which sends nothing) and asked for its local address.
 *
 * @module
 */
import { closeFd, localEndpoint, openUdpSocket, startConnect } from "./libc.ts";
import { ipFamily, normalizeIp } from "./socket_address.ts";

/** The kernel's source address toward `neighbor`; throws an OsError when there is no route. */
export function sourceAddressToward(neighbor: string): string {
  const family = ipFamily(neighbor);
  const fd = openUdpSocket(family);
  try {
    // A UDP connect only picks the route and the source address; no packet leaves.
    startConnect(fd, neighbor, 179, family);
    return normalizeIp(localEndpoint(fd).address);
  } finally {
    closeFd(fd);
  }
}

/**
 * kube-ovn-speaker's `--allowed-source-addresses`: the local address toward each neighbor must be one of the
 * allowed addresses of its family, and sessions then bind it. Returns the address to bind per neighbor, or
 * the problems (as kube-ovn-speaker, a neighbor whose source is not allowed refuses the start).
 */
export function allowedSourceAddresses(
  neighbors: readonly string[],
  allowed: { readonly ipv4: readonly string[]; readonly ipv6: readonly string[] },
  sourceToward: (neighbor: string) => string = sourceAddressToward,
): { ok: true; localAddresses: Map<string, string> } | { ok: false; errors: string[] } {
  const localAddresses = new Map<string, string>();
  const errors: string[] = [];
  for (const neighbor of neighbors) {
    const list = (ipFamily(neighbor) === 4 ? allowed.ipv4 : allowed.ipv6).map(normalizeIp);
    if (list.length === 0) continue;
    let source: string;
    try {
      source = sourceToward(neighbor);
    } catch (err) {
      errors.push(`no route toward neighbor ${neighbor}: ${(err as Error).message}`);
      continue;
    }
    if (list.includes(source)) localAddresses.set(neighbor, source);
    else {
      errors.push(
        `the source address toward neighbor ${neighbor} is ${source}, which is not among the allowed ` +
          `source addresses (${list.join(", ")})`,
      );
    }
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, localAddresses };
}
