// The memory suite on its own (run.mjs runs it too, after the other suites):
//
//   npm run build && node bench/memory.mjs
//
// Each variant runs in a child process of its own (see lib/memory.mjs), so this process needs
// no flags. Environment: TASKMILL_DIST, BENCH_QUICK=1, BENCH_MEMORY_TASKS,
// BENCH_MEMORY_SNAPSHOTS (see run.mjs) and BENCH_OUT (default bench/results/memory.json;
// quick runs default to bench/results/memory-quick.tmp). `node bench/report.mjs <file>`
// renders the file as markdown.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { machineInfo, packageVersions } from "./lib/env.mjs";
import { machineLine, memoryText } from "./lib/format.mjs";
import { memorySettings, runMemorySuite } from "./lib/memory.mjs";
import { DEFAULT_DIST, loadTaskmill, taskmillSource } from "./lib/taskmill.mjs";

const benchDir = dirname(fileURLToPath(import.meta.url));
const log = (line) => process.stderr.write(`${line}\n`);
const quick = process.env.BENCH_QUICK === "1";
const settings = {
  quick,
  scale: quick ? 0.1 : 1,
  memory: memorySettings(process.env, quick ? 0.1 : 1),
  out: resolve(
    benchDir,
    process.env.BENCH_OUT ?? `results/${quick ? "memory-quick.tmp" : "memory.json"}`,
  ),
};

const source = taskmillSource(process.env);
await loadTaskmill(source); // fail here, with the hint, rather than in every child
const machineAtStart = machineInfo();
const startedAt = Date.now();
log("Memory suite...");
const memory = await runMemorySuite({ source, settings, log });
const results = {
  schemaVersion: 1,
  date: new Date().toISOString(),
  durationSec: Math.round((Date.now() - startedAt) / 1000),
  machine: { ...machineAtStart, loadAverage1mAtEnd: machineInfo().loadAverage1m },
  packages: packageVersions([]),
  taskmill: { source, isDefaultBuild: source === DEFAULT_DIST },
  settings: { quick: settings.quick, scale: settings.scale },
  memory,
};
mkdirSync(dirname(settings.out), { recursive: true });
writeFileSync(settings.out, `${JSON.stringify(results, null, 2)}\n`);
process.stdout.write(`\nMachine: ${machineLine(results)}\n\n${memoryText(memory)}\n`);
log(`\nWrote ${settings.out} (${results.durationSec} s)`);
// As in run.mjs: only an error or a growing heap fails the run.
const failed = memory.variants.some((v) => v.error || v.heap.check === "FAIL");
process.exit(failed ? 1 : 0);
