/**
 * The speaker's runtime permission flags, read from the `speaker` task in deno.json so that they are
 * listed in exactly one place (the task, the build, the image and the Dockerfile check all use it).
 *
 * @module
 */

const configUrl = new URL("../deno.json", import.meta.url);

/** The `--allow-*` flags of the `speaker` task, in order. */
export function runtimePermissionFlags(configText = Deno.readTextFileSync(configUrl)): string[] {
  const config = JSON.parse(configText) as { tasks?: Record<string, string> };
  const task = config.tasks?.speaker;
  if (!task) throw new Error("deno.json has no 'speaker' task");
  return task.split(/\s+/).filter((word) => word.startsWith("--allow-"));
}

if (import.meta.main) {
  console.log(runtimePermissionFlags().join(" "));
}
