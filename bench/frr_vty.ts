/**
 * A direct client of FRR bgpd's vty socket (the protocol `vtysh` speaks), so a benchmark can poll bgpd
 * every few milliseconds without starting a `vtysh` process per poll.
 *
 * Protocol: the client writes a command terminated by a NUL byte; bgpd answers with the output followed by
 * three NUL bytes and a status byte (0 for success).
 *
 * @example
 * ```ts ignore
 * await using vty = await FrrVty.connect(`${frr.vtyDir}/bgpd.vty`);
 * const json = JSON.parse(await vty.command("show bgp neighbors 10.99.0.1 json"));
 * ```
 *
 * @module
 */

/** One open vty connection to FRR bgpd. */
export class FrrVty implements AsyncDisposable {
  #conn: Deno.UnixConn;
  #chunk = new Uint8Array(1 << 16);

  private constructor(conn: Deno.UnixConn) {
    this.#conn = conn;
  }

  /** Connects to bgpd's vty socket at `path` (`<vty dir>/bgpd.vty`). */
  static async connect(path: string): Promise<FrrVty> {
    return new FrrVty(await Deno.connect({ transport: "unix", path }));
  }

  /** Runs one command and returns its output; throws when bgpd reports a failure status. */
  async command(line: string): Promise<string> {
    const bytes = new TextEncoder().encode(line + "\0");
    let at = 0;
    while (at < bytes.length) at += await this.#conn.write(bytes.subarray(at));
    const parts: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      const n = await this.#conn.read(this.#chunk);
      if (n === null) throw new Error("FRR closed its vty socket");
      parts.push(this.#chunk.slice(0, n));
      total += n;
      const tail = lastBytes(parts, total, 4);
      if (tail && tail[0] === 0 && tail[1] === 0 && tail[2] === 0) {
        const all = concat(parts, total);
        const status = all[total - 1];
        const text = new TextDecoder().decode(all.subarray(0, total - 4));
        if (status !== 0) throw new Error(`FRR command failed (status ${status}): ${line}: ${text.trim()}`);
        return text;
      }
    }
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

function concat(parts: Uint8Array[], total: number): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function lastBytes(parts: Uint8Array[], total: number, n: number): Uint8Array | undefined {
  if (total < n) return undefined;
  const last = parts[parts.length - 1];
  if (last.length >= n) return last.subarray(last.length - n);
  return concat(parts, total).subarray(total - n);
}
