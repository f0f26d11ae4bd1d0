// Bulk submit on Redis, side by side: taskmill's `submitMany` (one call of N tasks, and the
// same N in chunks) against bee-queue's `saveAll` (N jobs, one pipeline of one script per job),
// on one redis-server this script starts (127.0.0.1, no persistence). What and how: see
// bench/lib/durable-submit-many.mjs. `bench/durable.mjs` runs the same comparison as a section.
//
//   npm run build && node --expose-gc bench/durable-submit-many.mjs
//
// Environment: TASKMILL_DIST (build to measure), TASKMILL_BASELINE_DIST (a second build in the
// same rounds; chunks only), BENCH_SUBMIT_TASKS (default 20,000), BENCH_SUBMIT_REPS (default 7),
// BENCH_SUBMIT_CHUNK (default 1,000), BENCH_OUT (JSON; default bench/results/submit-many.json).
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { RedisControl } from "./lib/durable-redis.mjs";
import { runSubmitMany, submitManyLines } from "./lib/durable-submit-many.mjs";
import { machineInfo } from "./lib/env.mjs";
import { startRedisServer } from "./lib/redis-server.mjs";
import { baselineSource, loadTaskmill, taskmillSource } from "./lib/taskmill.mjs";

const print = (text = "") => process.stdout.write(`${text}\n`);
const benchDir = dirname(fileURLToPath(import.meta.url));
const out = resolve(benchDir, process.env.BENCH_OUT ?? "results/submit-many.json");
const baseline = baselineSource(process.env);

const machine = machineInfo();
const server = await startRedisServer();
const control = new RedisControl(server);
let result;
try {
  result = await runSubmitMany({
    server,
    control,
    TaskManager: await loadTaskmill(taskmillSource(process.env)),
    BaselineTaskManager: baseline ? await loadTaskmill(baseline) : undefined,
    tasks: Number(process.env.BENCH_SUBMIT_TASKS ?? 20_000),
    reps: Number(process.env.BENCH_SUBMIT_REPS ?? 7),
    chunk: Number(process.env.BENCH_SUBMIT_CHUNK ?? 1_000),
  });
} finally {
  await control.quit().catch(() => {});
  await server.stop();
}
const end = machineInfo().loadAverage1m;
print(
  `Bulk submit on Redis, ${result.tasks.toLocaleString("en-US")} tasks per run, median of ` +
    `${result.reps} interleaved rounds (load ${machine.loadAverage1m} at start, ${end} at end)`,
);
for (const line of submitManyLines(result)) print(`  ${line}`);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(
  out,
  `${JSON.stringify({ date: new Date().toISOString(), machine, loadAverage1mAtEnd: end, ...result }, null, 2)}\n`,
);
process.exit(0);
