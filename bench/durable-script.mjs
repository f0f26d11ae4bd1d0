// Redis CPU of the worker's step script, alone: fills a fresh redis-server with N no-op tasks,
// then drives `RedisStore.step` directly (acks of the previous batch + a claim of B) until the
// queue is empty, and reads Redis's own accounting (INFO commandstats) for the drain. No worker,
// no handlers, one call in flight: the figure is the script's CPU per job at batch size B, the
// number to watch when changing a Lua script (the throughput bench also moves with Node's side
// and with the machine).
//
//   npm run build && node bench/durable-script.mjs
//
// Environment: TASKMILL_DIST (another build's dist/index.js), BENCH_SCRIPT_JOBS (default
// 20,000), BENCH_SCRIPT_BATCHES (default 1,8,32: concurrency 1 and the batch sizes of two
// calls in flight at concurrency 16 and 64), BENCH_SCRIPT_REPS (default 3; the median is
// reported).
import { RedisControl } from "./lib/durable-redis.mjs";
import { startRedisServer } from "./lib/redis-server.mjs";
import { taskmillSource } from "./lib/taskmill.mjs";

const jobs = Number(process.env.BENCH_SCRIPT_JOBS ?? 20_000);
const batches = (process.env.BENCH_SCRIPT_BATCHES ?? "1,8,32").split(",").map(Number);
const reps = Number(process.env.BENCH_SCRIPT_REPS ?? 3);
const print = (text = "") => process.stdout.write(`${text}\n`);
const PREFIX = "script";
const FILL_CHUNK = 1_000;

// RedisStore is internal (not exported by the package): load it next to the chosen build.
const dist = new URL(".", taskmillSource(process.env));
const { RedisStore } = await import(new URL("stores/redis/redis-store.js", dist).href);
const { default: Redis } = await import("ioredis");

const server = await startRedisServer();
const control = new RedisControl(server);
const redis = new Redis({ host: server.host, port: server.port });

/** Per command: calls and µs of Redis CPU, from INFO commandstats. */
async function commandStats() {
  const stats = new Map();
  const info = await redis.info("commandstats");
  for (const match of info.matchAll(/^cmdstat_(\w+):calls=(\d+),usec=(\d+)/gm))
    stats.set(match[1], { calls: Number(match[2]), usec: Number(match[3]) });
  return stats;
}

async function drain(batch) {
  await control.flush();
  const store = new RedisStore(redis, { prefix: PREFIX });
  for (let i = 0; i < jobs; i += FILL_CHUNK) {
    const inputs = [];
    for (let j = i; j < Math.min(jobs, i + FILL_CHUNK); j++)
      inputs.push({ name: "noop", payload: { i: j } });
    await store.enqueueMany(inputs);
  }
  await redis.config("RESETSTAT");
  let acks = [];
  let done = 0;
  for (let call = 0; done < jobs; call++) {
    const { tasks } = await store.step(acks, ["default"], batch, { requestId: `bench:${call}` });
    if (tasks.length === 0) throw new Error(`the queue ran dry after ${done} of ${jobs} tasks`);
    acks = tasks.map((task) => ({ id: task.id, token: task.token, value: undefined }));
    done += tasks.length;
  }
  await store.step(acks, ["default"], 0);
  return commandStats();
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

print(`Step script, ${jobs.toLocaleString("en-US")} no-op tasks, median of ${reps} drains`);
print("(Redis CPU from INFO commandstats; EVALSHA includes the commands the script runs)\n");
for (const batch of batches) {
  const runs = [];
  for (let rep = 0; rep < reps; rep++) runs.push(await drain(batch));
  const perJob = (stats, name) => (stats.get(name)?.usec ?? 0) / jobs;
  const script = median(runs.map((stats) => perJob(stats, "evalsha")));
  print(`batch ${batch}: ${script.toFixed(1)} µs of Redis CPU per job in the script`);
  const inner = [...runs[0].keys()].filter((name) => name !== "evalsha" && name !== "config");
  const rows = inner
    .map((name) => ({
      name,
      calls: median(runs.map((stats) => (stats.get(name)?.calls ?? 0) / jobs)),
      usec: median(runs.map((stats) => perJob(stats, name))),
    }))
    .filter((row) => row.calls > 0)
    .sort((a, b) => b.usec - a.usec);
  for (const row of rows)
    print(
      `  ${row.name.padEnd(14)} ${row.calls.toFixed(2)} calls/job  ${row.usec.toFixed(2)} µs/job`,
    );
}

redis.disconnect();
await control.quit();
await server.stop();
