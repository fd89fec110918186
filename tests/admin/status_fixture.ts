/**
 * A `/status` document shared by the admin server and `speaker status` tests.
 *
 * @module
 */
import type { StatusReport } from "../../lib/admin/status_report.ts";

/** The TCP-MD5 password used to check that secrets never leave the process. */
export const FIXTURE_PASSWORD = "Zq9-distinctive-MD5-key-7f3a";

/** Two peers (one up, one down with an error) and three prefixes. */
export function statusFixture(): StatusReport {
  return {
    speaker: {
      version: "0.1.0",
      nodeName: "node-1",
      routerId: "10.99.0.1",
      localAs: 65000,
      startedAt: "2026-11-21T06:00:00.000Z",
      uptimeSeconds: 3725,
      ready: true,
      readyReasons: [],
    },
    peers: [
      {
        address: "10.99.0.2",
        asn: 65030,
        state: "Established",
        upDownSeconds: 3600,
        lastError: null,
        capabilities: ["mp-ipv4-unicast", "4-octet-as", "route-refresh"],
        prefixes: { sent: 3, received: 0 },
        localAddress: "10.99.0.1",
      },
      {
        address: "fd99::2",
        asn: 65030,
        state: "Active",
        upDownSeconds: 90061,
        lastError: "connect: connection refused",
        capabilities: [],
        prefixes: { sent: 0, received: 0 },
        localAddress: null,
      },
    ],
    prefixes: [
      { prefix: "10.16.0.0/16", source: "subnet", objects: ["subnet ovn-default"], peers: ["10.99.0.2"] },
      {
        prefix: "10.16.0.5/32",
        source: "pod",
        objects: ["pod default/web-0", "subnet ovn-default"],
        peers: ["10.99.0.2"],
      },
      { prefix: "2001:db8::5/128", source: "service", objects: ["service default/api"], peers: [] },
    ],
  };
}
