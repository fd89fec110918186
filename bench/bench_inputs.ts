/**
 * Input files of the benchmarks (objects files, MRT dumps, BIRD static route includes), each written once
 * per run into a private temporary folder and reused by every repetition, removed at the end of the run.
 *
 * @module
 */

import { writeObjectsFile } from "./objects_file_writer.ts";
import { tableDump } from "./mrt_table_dump.ts";
import { type BenchFamily, bulkPrefixes } from "./prefixes.ts";

/** The lazily written input files of one benchmark run. */
export class BenchInputs implements AsyncDisposable {
  readonly #dir: string;
  readonly #written = new Map<string, Promise<string>>();

  private constructor(dir: string) {
    this.#dir = dir;
  }

  /** Creates the folder (mode 755: FRR and BIRD may read below it). */
  static async create(): Promise<BenchInputs> {
    const dir = await Deno.makeTempDir({ prefix: "speaker-bench-" });
    await Deno.chmod(dir, 0o755);
    return new BenchInputs(dir);
  }

  /** The folder holding the inputs. */
  get dir(): string {
    return this.#dir;
  }

  #once(name: string, write: (path: string) => Promise<void>): Promise<string> {
    let p = this.#written.get(name);
    if (!p) {
      const path = `${this.#dir}/${name}`;
      p = write(path).then(() => path);
      this.#written.set(name, p);
    }
    return p;
  }

  /** An objects file whose Pods make the speaker announce the first `n` bulk hosts of `family`. */
  objectsFile(family: BenchFamily, n: number): Promise<string> {
    return this.#once(
      `pods-${family}-${n}.yaml`,
      (path) => writeObjectsFile(path, [{ family, offset: 0, count: n }]),
    );
  }

  /** A TABLE_DUMP_V2 file of the first `n` bulk hosts of `family` with next hop `nextHop`. */
  mrtDump(family: BenchFamily, n: number, nextHop: string): Promise<string> {
    return this.#once(
      `routes-${family}-${n}-${nextHop}.mrt`,
      (path) => Deno.writeFile(path, tableDump(family, n, nextHop)),
    );
  }

  /**
   * A BIRD config fragment of `protocol static` lines for bulk hosts 1..n-1 of `family` (host 0 goes through
   * the harness's own static protocol, which makes BIRD export static routes).
   */
  birdStatics(family: BenchFamily, n: number): Promise<string> {
    return this.#once(`static-${family}-${n}.conf`, async (path) => {
      const lines = bulkPrefixes(family, n).slice(1).map((p) => `  route ${p} blackhole;`);
      await Deno.writeTextFile(path, lines.join("\n") + "\n");
    });
  }

  /** Removes the folder. */
  async [Symbol.asyncDispose](): Promise<void> {
    await Deno.remove(this.#dir, { recursive: true }).catch(() => undefined);
  }
}
