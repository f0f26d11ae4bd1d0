// Child of bench/durable-profile.mjs: one taskmill worker process that drains a prefilled
// queue. Run under `node --cpu-prof`, so that the profile holds the worker's work only.
// Prints one JSON line: { jobs, concurrency, processMs, jobsPerSec, cpuUsPerJob }.
import { loadTaskmill, taskmillSource } from "./taskmill.mjs";

const { PROFILE_URL: url, PROFILE_PREFIX: prefix } = process.env;
const jobs = Number(process.env.PROFILE_JOBS);
const concurrency = Number(process.env.PROFILE_CONCURRENCY);
const TaskManager = await loadTaskmill(taskmillSource(process.env));

let completed = 0;
let handled = 0;
let allDone = () => {};
const done = new Promise((resolve) => {
  allDone = resolve;
});
// As in the durable suite: the worker's own signal that Redis took the ack (durable-contenders.mjs).
const mill = new TaskManager({
  concurrency,
  retry: { maxRetries: 0 },
  backend: { type: "redis", url, prefix },
  hooks: {
    onFinish: () => {
      completed += 1;
      if (completed === jobs) allDone();
    },
  },
});
await mill.queues(); // connected
const cpuBefore = process.cpuUsage();
const start = performance.now();
mill.register("noop", async () => {
  handled += 1;
});
await done;
const processMs = performance.now() - start;
const cpu = process.cpuUsage(cpuBefore);
await mill.stopGraceful({ timeoutMs: 30_000 });
process.stdout.write(
  `${JSON.stringify({
    jobs,
    concurrency,
    handled,
    processMs: Math.round(processMs),
    jobsPerSec: Math.round((jobs / processMs) * 1000),
    cpuUsPerJob: Math.round(((cpu.user + cpu.system) / jobs) * 10) / 10,
  })}\n`,
);
process.exit(0);
