// Where the bench gets taskmill from. Every entry point (run.mjs, memory.mjs and the memory
// suite's child processes) resolves it the same way, so they all measure the same build.
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

export const DEFAULT_DIST = new URL("../../dist/index.js", import.meta.url).href;

// The bench measures the built package, exactly what users import.
export function taskmillSource(env) {
  return env.TASKMILL_DIST ? pathToFileURL(resolve(env.TASKMILL_DIST)).href : DEFAULT_DIST;
}

// Exits with a hint instead of a stack trace: a missing build is the usual cause.
export async function loadTaskmill(source) {
  try {
    const { TaskManager } = await import(source);
    if (typeof TaskManager !== "function") throw new Error("it does not export TaskManager");
    return TaskManager;
  } catch (error) {
    console.error(`Cannot load taskmill from ${source}: ${error.message}`);
    console.error(
      "Run `npm run build` first, or set BENCH_PEERS_ONLY=1 to measure the peers only.",
    );
    process.exit(1);
  }
}

/** Name of the contender that runs a second build (TASKMILL_BASELINE_DIST) beside this one. */
export const BASELINE_BUILD = "taskmill@baseline";

// A second build to measure side by side with this one (e.g. main before a change), so that a
// change to a hot path is judged by a same-run, interleaved ratio rather than across runs.
export function baselineSource(env) {
  return env.TASKMILL_BASELINE_DIST
    ? pathToFileURL(resolve(env.TASKMILL_BASELINE_DIST)).href
    : null;
}
