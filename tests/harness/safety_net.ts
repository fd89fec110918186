/**
 * Last-resort cleanup: every process and namespace the harness creates is recorded here, and whatever is
 * still recorded when the Deno process unloads is killed (SIGKILL by PID) and deleted synchronously.
 *
 * Normal cleanup happens in `Topology.destroy()` / `ManagedProcess.stop()`; this only covers a test file
 * that throws past its `await using` or is interrupted.
 *
 * @module
 */

const livePids = new Set<number>();
const liveNamespaces = new Set<string>();
let installed = false;

function install(): void {
  if (installed) return;
  installed = true;
  globalThis.addEventListener("unload", sweep);
}

/** Kills every recorded PID and deletes every recorded namespace, synchronously. Safe to call twice. */
export function sweep(): void {
  for (const pid of livePids) {
    try {
      Deno.kill(pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
  livePids.clear();
  for (const ns of liveNamespaces) {
    try {
      new Deno.Command("ip", { args: ["netns", "del", ns], stdout: "null", stderr: "null" }).outputSync();
    } catch {
      // Nothing more can be done while unloading.
    }
  }
  liveNamespaces.clear();
}

/** Records a running process so that it is killed if the test process unloads first. */
export function trackPid(pid: number): void {
  install();
  livePids.add(pid);
}

/** Forgets a process once it has been reaped. */
export function untrackPid(pid: number): void {
  livePids.delete(pid);
}

/** Records a namespace so that it is deleted if the test process unloads first. */
export function trackNamespace(name: string): void {
  install();
  liveNamespaces.add(name);
}

/** Forgets a namespace once it has been deleted. */
export function untrackNamespace(name: string): void {
  liveNamespaces.delete(name);
}
