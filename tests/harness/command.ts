/**
 * One-shot commands (ip, birdc, vtysh, gobgp, tshark …), optionally inside a network namespace.
 *
 * @module
 */

/** Output of a finished command. */
export interface CommandResult {
  /** Exit code. */
  readonly code: number;
  /** Everything written to stdout. */
  readonly stdout: string;
  /** Everything written to stderr. */
  readonly stderr: string;
}

/** Options of {@linkcode runCommand}. */
export interface RunOptions {
  /** Run inside this network namespace (`ip netns exec NS …`). */
  readonly netns?: string;
  /** Text written to the command's stdin. */
  readonly stdin?: string;
  /** Kill the command after this many milliseconds (default 15 000) and fail. */
  readonly timeoutMs?: number;
  /** Return a non-zero exit instead of throwing. */
  readonly allowFailure?: boolean;
  /** Extra environment variables. */
  readonly env?: Readonly<Record<string, string>>;
}

/** Thrown when a command exits non-zero (unless `allowFailure`) or runs past its timeout. */
export class CommandError extends Error {
  /** Creates the error from the command line and what it printed. */
  constructor(readonly argv: readonly string[], readonly result: CommandResult, reason: string) {
    super(
      `Command ${reason}: ${argv.join(" ")}\n` +
        (result.stderr.trim() !== "" ? `stderr: ${result.stderr.trim().slice(-2_000)}\n` : "") +
        (result.stdout.trim() !== "" ? `stdout: ${result.stdout.trim().slice(-2_000)}` : ""),
    );
    this.name = "CommandError";
  }
}

/**
 * Runs `argv` to completion and returns its output; throws a {@linkcode CommandError} on a non-zero exit
 * (unless `allowFailure`) or after `timeoutMs`.
 *
 * @example
 * ```ts
 * const { stdout } = await runCommand(["ip", "-j", "addr"], { netns: host.netns });
 * ```
 */
export async function runCommand(argv: readonly string[], options: RunOptions = {}): Promise<CommandResult> {
  const full = options.netns === undefined ? [...argv] : ["ip", "netns", "exec", options.netns, ...argv];
  const child = new Deno.Command(full[0], {
    args: full.slice(1),
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
    env: options.env ? { ...options.env } : undefined,
  }).spawn();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      child.kill("SIGKILL");
    } catch {
      // Already exited.
    }
  }, options.timeoutMs ?? 15_000);
  try {
    if (options.stdin !== undefined) {
      const writer = child.stdin.getWriter();
      try {
        await writer.write(new TextEncoder().encode(options.stdin));
        await writer.close();
      } catch (error) {
        // The command exited without reading all of its input: its exit status tells what went wrong.
        if (!(error instanceof Deno.errors.BrokenPipe)) throw error;
      }
    }
    const out = await child.output();
    const decoder = new TextDecoder();
    const result = { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
    if (timedOut) throw new CommandError(full, result, `timed out after ${options.timeoutMs ?? 15_000} ms`);
    if (result.code !== 0 && !options.allowFailure) {
      throw new CommandError(full, result, `failed with exit code ${result.code}`);
    }
    return result;
  } finally {
    clearTimeout(timer);
  }
}
