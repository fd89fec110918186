/**
 * speaker: a BGP speaker for Kubernetes, a drop-in replacement for kube-ovn-speaker.
 *
 * @module
 */
import { VERSION } from "./lib/version.ts";

const USAGE = `speaker ${VERSION}: announces Kubernetes Pod, Subnet, Service and EIP prefixes over BGP

Usage:
  speaker [flags]            run the speaker (kube-ovn-speaker flags)
  speaker --version          print the version
  speaker --help             print this help
`;

if (import.meta.main) {
  const args = Deno.args;
  if (args.includes("--version")) {
    console.log(`speaker ${VERSION}`);
  } else {
    console.log(USAGE);
  }
}
