// The sharded Redis layout beside the single one, on one redis-server started here: jobs/s of
// one worker process (no-op handlers, concurrency 16) through N tasks submitted up front with
// submitMany, and Redis CPU per 1,000 jobs, for 1 queue, 4 queues, and 1 queue of 4
// partitions. On one node sharding cannot add Redis cores: this measures its overhead (more
// round trips per step, one claim script per shard); the gain needs a Cluster.
//
//   npm run build && node bench/sharded.mjs
//
// Environment: BENCH_SHARDED_TASKS (default 10,000), BENCH_SHARDED_REPS (default 3),
// TASKMILL_DIST (default ../dist/index.js).
import { resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { RedisControl } from "./lib/durable-redis.mjs";
import { startRedisServer } from "./lib/redis-server.mjs";

const here = fileURLToPath(new URL(".", import.meta.url));
const dist = process.env.TASKMILL_DIST ?? resolve(here, "../dist/index.js");
const { TaskManager } = await import(pathToFileURL(dist).href);
const TASKS = Number(process.env.BENCH_SHARDED_TASKS ?? 10_000);
const REPS = Number(process.env.BENCH_SHARDED_REPS ?? 3);

const CASES = [
  { name: "single, 1 queue", layout: "single", queues: ["q0"], partitions: 1 },
  { name: "sharded, 1 queue", layout: "sharded", queues: ["q0"], partitions: 1 },
  { name: "single, 4 queues", layout: "single", queues: ["q0", "q1", "q2", "q3"], partitions: 1 },
  { name: "sharded, 4 queues", layout: "sharded", queues: ["q0", "q1", "q2", "q3"], partitions: 1 },
  { name: "sharded, 1 queue x 4 partitions", layout: "sharded", queues: ["q0"], partitions: 4 },
];

async function runCase(server, control, spec, rep) {
  const prefix = `bench-${spec.layout}-${rep}-${Math.random().toString(36).slice(2, 8)}`;
  const backend = { type: "redis", url: server.url, prefix, layout: spec.layout };
  const queues = Object.fromEntries(
    spec.queues.map((queue) => [queue, spec.partitions > 1 ? { partitions: spec.partitions } : {}]),
  );
  const producer = new TaskManager({ backend, queues });
  const items = Array.from({ length: TASKS }, (_, n) => {
    const queue = spec.queues[n % spec.queues.length];
    return { name: `job-${queue}`, payload: n, options: { queue } };
  });
  for (let i = 0; i < items.length; i += 1_000)
    await producer.submitMany(items.slice(i, i + 1_000));
  let done = 0;
  let finish;
  const finished = new Promise((resolve) => {
    finish = resolve;
  });
  const before = await control.snapshot();
  const started = performance.now();
  const worker = new TaskManager({ backend, queues, concurrency: 16 });
  for (const queue of spec.queues)
    worker.register(
      `job-${queue}`,
      () => {
        if (++done === TASKS) finish();
      },
      { queue },
    );
  await finished;
  const ms = performance.now() - started;
  const after = await control.snapshot();
  await worker.stopGraceful({ timeoutMs: 5_000 });
  await producer.stopGraceful({ timeoutMs: 5_000 });
  return {
    jobsPerSec: (TASKS / ms) * 1000,
    cpuMsPer1k: ((after.cpuSec - before.cpuSec) * 1e6) / TASKS,
  };
}

const server = await startRedisServer();
const control = new RedisControl(server);
try {
  const results = new Map(CASES.map((spec) => [spec.name, []]));
  // Interleaved rounds: every case sees the same machine state.
  for (let rep = 0; rep < REPS; rep++)
    for (const spec of CASES)
      results.get(spec.name).push(await runCase(server, control, spec, rep));
  const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  console.log(`${TASKS} no-op tasks, concurrency 16, one worker process, median of ${REPS}`);
  console.log("| case | jobs/s | Redis CPU ms / 1,000 jobs |\n|---|---:|---:|");
  for (const [name, runs] of results)
    console.log(
      `| ${name} | ${Math.round(median(runs.map((r) => r.jobsPerSec)))} | ${median(runs.map((r) => r.cpuMsPer1k)).toFixed(0)} |`,
    );
} finally {
  await control.redis.quit();
  await server.stop();
}
