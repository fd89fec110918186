/**
 * speaker: a BGP speaker for Kubernetes, a drop-in replacement for kube-ovn-speaker.
 *
 * `speaker [flags]` runs the speaker (kube-ovn-speaker's flags); the subcommands are tools around it:
 * `speaker decode` (MRT files as `bgpdump -m`), `speaker status` (a running speaker's peers and prefixes)
 * and `speaker listen` (a passive BGP endpoint that prints what it receives). Each is loaded only when
 * used, so the tools start fast.
 *
 * @module
 */

/** Runs the subcommand named by the first argument, or the speaker; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  switch (args[0]) {
    case "decode":
      return await (await import("./lib/cli/decode.ts")).decodeCommand(args.slice(1));
    case "status":
      return await (await import("./lib/cli/status.ts")).statusCommand(args.slice(1));
    case "listen":
      return await (await import("./lib/cli/listen.ts")).listenCommand(args.slice(1));
    default:
      return await (await import("./lib/cli/run.ts")).runSpeaker(args);
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
