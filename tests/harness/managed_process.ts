/**
 * A long-running program started by a test (a BGP daemon, a capture, the speaker under test), optionally
 * inside a network namespace, stopped by its own PID.
 *
 * @module
 */

import { trackPid, untrackPid } from "./safety_net.ts";

/** How to start a {@linkcode ManagedProcess}. */
export interface SpawnOptions {
  /** Short name used in messages, e.g. `"gobgpd@h1"`. */
  readonly name: string;
  /** Program and arguments. */
  readonly argv: readonly string[];
  /** Run inside this network namespace (through `ip netns exec`, which execs, so the PID is the program's). */
  readonly netns?: string;
  /** File that receives stdout and stderr (appended). */
  readonly logPath: string;
  /** Extra environment variables. */
  readonly env?: Readonly<Record<string, string>>;
  /** Working directory. */
  readonly cwd?: string;
  /** `"piped"` gives access to {@linkcode ManagedProcess.stdin}; default `"null"`. */
  readonly stdin?: "piped" | "null";
}

/** How a process ended. */
export interface ExitStatus {
  /** Exit code (128 + signal number when killed). */
  readonly code: number;
  /** The signal that ended the process, if any. */
  readonly signal: Deno.Signal | null;
}

/**
 * A child process with a known PID, its output in a log file, and bounded stop/kill.
 *
 * The program is started as `[ip netns exec NS] sh -c 'exec "$@" >>LOG 2>&1' …`: both `ip netns exec` and
 * `exec` replace the process image, so {@linkcode pid} is the program itself and signals reach it directly.
 *
 * @example
 * ```ts
 * const p = ManagedProcess.spawn({ name: "sleep", argv: ["sleep", "60"], logPath: "/tmp/x/sleep.log" });
 * await p.stop(); // SIGTERM, then SIGKILL after 3 s
 * ```
 */
export class ManagedProcess {
  #child: Deno.ChildProcess;
  #status: Promise<ExitStatus>;
  #exited: ExitStatus | undefined;
  #name: string;
  #logPath: string;

  private constructor(name: string, logPath: string, child: Deno.ChildProcess) {
    this.#name = name;
    this.#logPath = logPath;
    this.#child = child;
    trackPid(child.pid);
    this.#status = child.status.then((s) => {
      this.#exited = { code: s.code, signal: s.signal };
      untrackPid(child.pid);
      return this.#exited;
    });
  }

  /** Starts the program; throws if it cannot be executed at all. */
  static spawn(options: SpawnOptions): ManagedProcess {
    const inner = [
      "sh",
      "-c",
      'log=$1; shift; exec "$@" >>"$log" 2>&1',
      "sh",
      options.logPath,
      ...options.argv,
    ];
    const argv = options.netns === undefined ? inner : ["ip", "netns", "exec", options.netns, ...inner];
    const child = new Deno.Command(argv[0], {
      args: argv.slice(1),
      env: options.env ? { ...options.env } : undefined,
      cwd: options.cwd,
      stdin: options.stdin ?? "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    return new ManagedProcess(options.name, options.logPath, child);
  }

  /** The program's PID (the same process as the daemon: nothing sits in between). */
  get pid(): number {
    return this.#child.pid;
  }

  /** The name given at spawn. */
  get name(): string {
    return this.#name;
  }

  /** Path of the file holding the program's stdout and stderr. */
  get logPath(): string {
    return this.#logPath;
  }

  /** True until the process has exited and been reaped. */
  get running(): boolean {
    return this.#exited === undefined;
  }

  /** The exit status once known, else `undefined`. */
  get exitStatus(): ExitStatus | undefined {
    return this.#exited;
  }

  /** Resolves when the process exits. */
  get status(): Promise<ExitStatus> {
    return this.#status;
  }

  /** The process's stdin when spawned with `stdin: "piped"`. */
  get stdin(): WritableStream<Uint8Array> {
    return this.#child.stdin;
  }

  /** Sends a signal by PID; a no-op once the process has exited. */
  signal(signal: Deno.Signal): void {
    if (!this.running) return;
    try {
      Deno.kill(this.pid, signal);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }

  /**
   * Stops the process: SIGTERM, then SIGKILL if it is still alive after `graceMs` (default 3000), and waits
   * until it is reaped. Returns its exit status.
   */
  async stop(graceMs = 3_000): Promise<ExitStatus> {
    if (!this.running) return await this.#status;
    this.signal("SIGTERM");
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<boolean>((resolve) => timer = setTimeout(() => resolve(true), graceMs));
    const timedOut = await Promise.race([this.#status.then(() => false), expired]);
    clearTimeout(timer);
    if (timedOut) this.signal("SIGKILL");
    return await this.#status;
  }

  /** Kills the process with SIGKILL (no chance to say goodbye, as in a crash) and waits until it is reaped. */
  async kill(): Promise<ExitStatus> {
    this.signal("SIGKILL");
    return await this.#status;
  }

  /** The last `maxChars` characters of the log (default 4000), or a note when it cannot be read. */
  async logTail(maxChars = 4_000): Promise<string> {
    try {
      const text = await Deno.readTextFile(this.#logPath);
      return text.length > maxChars ? `…${text.slice(-maxChars)}` : text;
    } catch (error) {
      return `(no log at ${this.#logPath}: ${error instanceof Error ? error.message : String(error)})`;
    }
  }

  /** Stops the process (see {@linkcode stop}). */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
