/**
 * Memory and CPU time of a running process, read from `/proc` (Linux). Thin shell over procfs.
 *
 * @example
 * ```ts
 * const u = processUsage(Deno.pid);
 * console.log(u.rssMb, u.peakRssMb, u.cpuSeconds);
 * ```
 *
 * @module
 */

/** One reading of a process's resource use. */
export interface ProcessUsage {
  /** Resident set size now (VmRSS), MiB. */
  readonly rssMb: number;
  /** Peak resident set size since the process started (VmHWM), MiB. */
  readonly peakRssMb: number;
  /** User plus system CPU time since the process started, seconds (all threads). */
  readonly cpuSeconds: number;
}

/** Clock ticks per second of `/proc/PID/stat` (USER_HZ, 100 on every Linux build in use). */
const USER_HZ = 100;

/** Reads VmRSS, VmHWM and utime+stime of `pid`; throws when the process is gone. */
export function processUsage(pid: number): ProcessUsage {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
  return { rssMb: kb("VmRSS") / 1024, peakRssMb: kb("VmHWM") / 1024, cpuSeconds: cpuSeconds(pid) };
}

/** utime+stime of `pid` in seconds. */
export function cpuSeconds(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / USER_HZ;
}

/**
 * Samples `pid`'s RSS every `intervalMs` until {@linkcode RssSampler.stop}, keeping the peak: VmHWM cannot
 * be reset, so the peak of one phase (e.g. a flood after startup) needs sampling.
 */
export class RssSampler {
  #peakMb = 0;
  #timer: ReturnType<typeof setInterval>;

  /** Starts sampling. */
  constructor(readonly pid: number, intervalMs = 20) {
    this.#sample();
    this.#timer = setInterval(() => this.#sample(), intervalMs);
  }

  #sample(): void {
    try {
      this.#peakMb = Math.max(this.#peakMb, processUsage(this.pid).rssMb);
    } catch {
      // The process is gone; the peak so far stands.
    }
  }

  /** Stops sampling and returns the peak RSS seen, MiB. */
  stop(): number {
    clearInterval(this.#timer);
    this.#sample();
    return this.#peakMb;
  }
}

/**
 * Samples `pid`'s CPU time every `intervalMs` with wall-clock stamps, so that the CPU used between two
 * instants known only afterwards (e.g. a peer's own Established timestamp) can be read back.
 */
export class CpuTrack {
  readonly #samples: { t: number; cpu: number }[] = [];
  #timer: ReturnType<typeof setInterval>;

  /** Starts sampling. */
  constructor(readonly pid: number, intervalMs = 10) {
    this.#sample();
    this.#timer = setInterval(() => this.#sample(), intervalMs);
  }

  #sample(): void {
    try {
      this.#samples.push({ t: Date.now() / 1000, cpu: cpuSeconds(this.pid) });
    } catch {
      // Gone.
    }
  }

  /** CPU seconds at the last sample taken at or before `t` (epoch seconds), NaN if none. */
  cpuAt(t: number): number {
    let best = NaN;
    for (const s of this.#samples) {
      if (s.t <= t) best = s.cpu;
      else break;
    }
    return best;
  }

  /** Stops sampling and returns the CPU seconds now. */
  stop(): number {
    clearInterval(this.#timer);
    this.#sample();
    return this.#samples.at(-1)?.cpu ?? NaN;
  }
}
