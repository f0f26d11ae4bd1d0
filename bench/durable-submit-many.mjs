// Bulk submit on Redis, side by side: taskmill's `submitMany` (one call of N tasks, and the
// same N in chunks) against bee-queue's `saveAll` (N jobs, one pipeline of one script per job),
// on one redis-server this script starts (127.0.0.1, no persistence), interleaved round by
// round with the first contender rotated, medians of the rounds.
//
//   npm run build && node --expose-gc bench/durable-submit-many.mjs
//
// What is timed: from building the user's array of N jobs to the call resolving (every job in
// Redis), as a user sees it; the job objects of bee-queue (`createJob`) are part of its call.
// Also reported: this process's CPU and redis-server's CPU per task over the same interval.
//
// Environment: TASKMILL_DIST (build to measure), TASKMILL_BASELINE_DIST (a second build in the
// same rounds; chunks only), BENCH_SUBMIT_TASKS (default 20,000), BENCH_SUBMIT_REPS (default 7),
// BENCH_SUBMIT_CHUNK (default 1,000), BENCH_OUT (JSON; default bench/results/submit-many.json).
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { RedisControl } from "./lib/durable-redis.mjs";
import { machineInfo } from "./lib/env.mjs";
import { startRedisServer } from "./lib/redis-server.mjs";
import { baselineSource, loadTaskmill, taskmillSource } from "./lib/taskmill.mjs";

const tasks = Number(process.env.BENCH_SUBMIT_TASKS ?? 20_000);
const reps = Number(process.env.BENCH_SUBMIT_REPS ?? 7);
const chunk = Number(process.env.BENCH_SUBMIT_CHUNK ?? 1_000);
const print = (text = "") => process.stdout.write(`${text}\n`);
const benchDir = dirname(fileURLToPath(import.meta.url));
const out = resolve(benchDir, process.env.BENCH_OUT ?? "results/submit-many.json");

const payloadOf = (i) => ({ i, to: `user-${i}@example.com` });

// `oneCall` false for a build from before submitMany took 20,000 items in one call.
function taskmillWays(label, TaskManager, oneCall = true) {
  const open = async (url) => {
    const mill = new TaskManager({ backend: { type: "redis", url, prefix: "submit" } });
    await mill.queues(); // connected
    return mill;
  };
  const check = (handles, n) => {
    if (handles.length !== n) throw new Error(`${label}: ${handles.length} handles of ${n}`);
  };
  const ways = [
    {
      name: `${label} submitMany (1 call of ${tasks.toLocaleString("en-US")})`,
      open,
      async run(mill) {
        const items = new Array(tasks);
        for (let i = 0; i < tasks; i++) items[i] = { name: "noop", payload: payloadOf(i) };
        check(await mill.submitMany(items), tasks);
      },
      close: (mill) => mill.stopGraceful({ timeoutMs: 30_000 }),
    },
    {
      name: `${label} submitMany (chunks of ${chunk.toLocaleString("en-US")}, one in flight)`,
      open,
      async run(mill) {
        for (let from = 0; from < tasks; from += chunk) {
          const n = Math.min(chunk, tasks - from);
          const items = new Array(n);
          for (let i = 0; i < n; i++) items[i] = { name: "noop", payload: payloadOf(from + i) };
          check(await mill.submitMany(items), n);
        }
      },
      close: (mill) => mill.stopGraceful({ timeoutMs: 30_000 }),
    },
  ];
  return oneCall ? ways : ways.slice(1);
}

async function beeQueueWay() {
  let BeeQueue;
  try {
    const bee = await import("bee-queue");
    BeeQueue = bee.default ?? bee;
  } catch {
    return [];
  }
  return [
    {
      name: `bee-queue saveAll (${tasks.toLocaleString("en-US")} jobs)`,
      async open(_url, server) {
        const queue = new BeeQueue("bench", {
          redis: { host: server.host, port: server.port },
          prefix: "submit",
          isWorker: false,
          getEvents: false,
          sendEvents: false,
          storeJobs: false,
        });
        await queue.ready();
        return queue;
      },
      async run(queue) {
        const jobs = new Array(tasks);
        for (let i = 0; i < tasks; i++) jobs[i] = queue.createJob(payloadOf(i));
        const errors = await queue.saveAll(jobs);
        if (errors.size > 0) throw [...errors.values()][0];
      },
      close: (queue) => queue.close(30_000),
    },
  ];
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function measure(way, server, control) {
  await control.flush();
  const handle = await way.open(server.url, server);
  try {
    globalThis.gc?.();
    const before = await control.snapshot();
    const cpu = process.cpuUsage();
    const started = process.hrtime.bigint();
    await way.run(handle);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const used = process.cpuUsage(cpu);
    const after = await control.snapshot();
    return {
      perSecond: tasks / seconds,
      nodeUsPerTask: (used.user + used.system) / tasks,
      redisUsPerTask: ((after.cpuSec - before.cpuSec) * 1e6) / tasks,
    };
  } finally {
    await way.close(handle);
  }
}

const server = await startRedisServer();
const control = new RedisControl(server);
const ways = [...taskmillWays("taskmill", await loadTaskmill(taskmillSource(process.env)))];
const baseline = baselineSource(process.env);
if (baseline) ways.push(...taskmillWays("taskmill@baseline", await loadTaskmill(baseline), false));
ways.push(...(await beeQueueWay()));
const machine = machineInfo();
const runs = new Map(ways.map((way) => [way.name, []]));
try {
  // One unmeasured run each: loads the scripts into Redis and warms the code.
  for (const way of ways) await measure(way, server, control);
  for (let rep = 0; rep < reps; rep++)
    for (let k = 0; k < ways.length; k++) {
      const way = ways[(rep + k) % ways.length];
      runs.get(way.name).push(await measure(way, server, control));
    }
} finally {
  await control.quit().catch(() => {});
  await server.stop();
}

const bee = ways.find((way) => way.name.startsWith("bee-queue"));
const beeRate = bee && median(runs.get(bee.name).map((r) => r.perSecond));
print(
  `Bulk submit on Redis, ${tasks.toLocaleString("en-US")} tasks per run, median of ${reps} ` +
    `interleaved rounds (load ${machine.loadAverage1m} at start, ${machineInfo().loadAverage1m} at end)`,
);
const results = [];
for (const way of ways) {
  const rounds = runs.get(way.name);
  const row = {
    way: way.name,
    perSecond: Math.round(median(rounds.map((r) => r.perSecond))),
    nodeUsPerTask: Number(median(rounds.map((r) => r.nodeUsPerTask)).toFixed(1)),
    redisUsPerTask: Number(median(rounds.map((r) => r.redisUsPerTask)).toFixed(1)),
    vsBeeQueue: beeRate
      ? Number((median(rounds.map((r) => r.perSecond)) / beeRate).toFixed(2))
      : null,
    rounds: rounds.map((r) => Math.round(r.perSecond)),
  };
  results.push(row);
  print(
    `  ${row.way.padEnd(62)} ${row.perSecond.toLocaleString("en-US").padStart(8)} tasks/s` +
      `  ${row.vsBeeQueue === null ? "" : `${row.vsBeeQueue.toFixed(2)}x bee-queue`}` +
      `  node ${row.nodeUsPerTask} µs/task, Redis ${row.redisUsPerTask} µs/task`,
  );
}
mkdirSync(dirname(out), { recursive: true });
writeFileSync(
  out,
  `${JSON.stringify({ date: new Date().toISOString(), machine, tasks, reps, chunk, results }, null, 2)}\n`,
);
process.exit(0);
