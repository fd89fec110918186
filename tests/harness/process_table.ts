/**
 * Looks at the machine's process table (`/proc`), to prove that a test left no process behind.
 *
 * @module
 */

/** A process found in `/proc`. */
export interface ProcessEntry {
  /** Process id. */
  readonly pid: number;
  /** Its command line, arguments joined by spaces. */
  readonly cmdline: string;
}

/**
 * Every live process whose command line contains `text` (e.g. a topology's work dir, which every daemon
 * of the harness has in its arguments), excluding the calling process.
 *
 * @example
 * ```ts
 * assertEquals(await processesMatching(topo.workDir), []);
 * ```
 */
export async function processesMatching(text: string): Promise<ProcessEntry[]> {
  const found: ProcessEntry[] = [];
  for await (const entry of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    const pid = Number(entry.name);
    if (pid === Deno.pid) continue;
    let raw: Uint8Array;
    try {
      raw = await Deno.readFile(`/proc/${pid}/cmdline`);
    } catch {
      continue; // Exited meanwhile.
    }
    const cmdline = new TextDecoder().decode(raw).split("\0").filter((s) => s !== "").join(" ");
    // Zombies have an empty cmdline; they hold no resources worth reporting here.
    if (cmdline.includes(text)) found.push({ pid, cmdline });
  }
  return found;
}

/** True while a process with this PID exists (zombies included). */
export function pidExists(pid: number): boolean {
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch {
    return false;
  }
}
