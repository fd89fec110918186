/**
 * A direct client of BIRD's control socket (the protocol `birdc` speaks), so a benchmark can poll BIRD
 * every few milliseconds without starting a `birdc` process per poll.
 *
 * Protocol: BIRD greets with `0001 BIRD <version> ready.`; each command is one line; each reply line starts
 * with a four-digit code followed by `-` (more lines follow) or a space (the reply's last line), or with a
 * space (a continuation of the previous line).
 *
 * @example
 * ```ts ignore
 * await using ctl = await BirdControl.connect(bird.controlSocket);
 * const text = await ctl.command("show protocols all n10_99_0_1");
 * ```
 *
 * @module
 */

const END_OF_REPLY = /(?:^|\n)\d{4} [^\n]*\n$/;

/** One open control connection to a BIRD daemon. */
export class BirdControl implements AsyncDisposable {
  #conn: Deno.UnixConn;
  #buffer = "";
  #decoder = new TextDecoder();
  #chunk = new Uint8Array(1 << 16);

  private constructor(conn: Deno.UnixConn) {
    this.#conn = conn;
  }

  /** Connects to the socket at `path` and reads BIRD's greeting. */
  static async connect(path: string): Promise<BirdControl> {
    const conn = await Deno.connect({ transport: "unix", path });
    const ctl = new BirdControl(conn);
    await ctl.#readReply();
    return ctl;
  }

  async #readReply(): Promise<string> {
    while (!END_OF_REPLY.test(this.#buffer)) {
      const n = await this.#conn.read(this.#chunk);
      if (n === null) throw new Error("BIRD closed its control socket");
      this.#buffer += this.#decoder.decode(this.#chunk.subarray(0, n), { stream: true });
    }
    const reply = this.#buffer;
    this.#buffer = "";
    return reply;
  }

  /** Runs one command and returns its whole reply text (codes included). */
  async command(line: string): Promise<string> {
    const bytes = new TextEncoder().encode(line + "\n");
    let at = 0;
    while (at < bytes.length) at += await this.#conn.write(bytes.subarray(at));
    return await this.#readReply();
  }

  /** Closes the connection. */
  close(): void {
    try {
      this.#conn.close();
    } catch {
      // Already closed.
    }
  }

  /** Same as {@linkcode close}. */
  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }
}

/** The `Routes: N imported` count of a BGP protocol's channel in `show protocols all` output, or -1. */
export function importedRoutes(showProtocolsAll: string): number {
  const m = /Routes:\s+(\d+) imported/.exec(showProtocolsAll);
  return m ? Number(m[1]) : -1;
}

/**
 * BIRD's own timestamp (seconds) of the protocol's last state change, from a `show protocols NAME` line,
 * when BIRD runs with `timeformat protocol "%s.%3f"` and the protocol is Established; else undefined.
 */
export function establishedSince(showProtocols: string, name: string): number | undefined {
  for (const raw of showProtocols.split("\n")) {
    const line = raw.replace(/^\d{4}[- ]/, "");
    if (!line.startsWith(name + " ") || !line.includes("Established")) continue;
    const since = line.split(/\s+/).find((w) => /^\d{9,}\.\d{3}$/.test(w));
    return since === undefined ? undefined : Number(since);
  }
  return undefined;
}
