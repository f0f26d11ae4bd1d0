// Bulk enqueue into Redis: `RedisStore.enqueueMany` (one enqueue-many script call per batch,
// atomic) against the way it worked before (one enqueue script per task, pipelined in one
// round trip per batch, not atomic). Fills a fresh prefix with N tasks in batches of B, one
// batch in flight, and reports tasks/s (wall clock, as the client sees it) and Redis's own CPU
// per task (INFO commandstats: the script calls, including the commands they run).
//
//   npm run build && node bench/durable-enqueue-many.mjs
//
// Environment: TASKMILL_DIST (another build's dist/index.js), BENCH_ENQUEUE_TASKS (default
// 20,000), BENCH_ENQUEUE_BATCHES (default 100,1000), BENCH_ENQUEUE_REPS (default 5; the
// median is reported), BENCH_ENQUEUE_KEYED (default 0: the share of tasks, 0..1, that carry
// an idempotency key).
import { RedisControl } from "./lib/durable-redis.mjs";
import { startRedisServer } from "./lib/redis-server.mjs";
import { taskmillSource } from "./lib/taskmill.mjs";

const tasks = Number(process.env.BENCH_ENQUEUE_TASKS ?? 20_000);
const batches = (process.env.BENCH_ENQUEUE_BATCHES ?? "100,1000").split(",").map(Number);
const reps = Number(process.env.BENCH_ENQUEUE_REPS ?? 5);
const keyed = Number(process.env.BENCH_ENQUEUE_KEYED ?? 0);
const print = (text = "") => process.stdout.write(`${text}\n`);

// RedisStore and the script helpers are internal (not exported by the package): load them next
// to the chosen build.
const dist = new URL(".", taskmillSource(process.env));
const load = (path) => import(new URL(path, dist).href);
const { RedisStore } = await load("stores/redis/redis-store.js");
const { buildEnqueueCall, enqueueResult } = await load("stores/redis/enqueue.js");
const { queueScript } = await load("stores/redis/scripts.js");
const { default: Redis } = await import("ioredis");

const server = await startRedisServer();
const control = new RedisControl(server);
const redis = new Redis({ host: server.host, port: server.port });

/** The old `enqueueMany`: one enqueue script per task, pipelined. */
async function pipelined(store, inputs) {
  const calls = inputs.map((input) => buildEnqueueCall(store.keys, input));
  const pipeline = store.redis.pipeline();
  for (const call of calls) queueScript(pipeline, "enqueue", call.keys, call.args);
  const replies = await pipeline.exec();
  return calls.map((call, i) => {
    const [error, reply] = replies[i];
    if (error) throw error;
    return enqueueResult(reply, call);
  });
}

const ways = {
  "enqueueMany (one script per batch, atomic)": (store, inputs) => store.enqueueMany(inputs),
  "pipelined enqueue (one script per task)  ": pipelined,
};

async function scriptMicros() {
  const info = await redis.info("commandstats");
  let usec = 0;
  for (const match of info.matchAll(/^cmdstat_(?:evalsha|eval):calls=\d+,usec=(\d+)/gm))
    usec += Number(match[1]);
  return usec;
}

function inputsOf(from, count) {
  const inputs = [];
  for (let i = from; i < from + count; i++)
    inputs.push({
      name: "noop",
      payload: { i, to: `user-${i}@example.com` },
      ...(i < tasks * keyed ? { idempotencyKey: `k:${i}` } : {}),
    });
  return inputs;
}

async function fill(way, batch) {
  await control.flush();
  const store = new RedisStore(redis, { prefix: "enqueue" });
  // Warm-up: registers the scripts on the server (EVALSHA misses) outside the measurement.
  await way(new RedisStore(redis, { prefix: "warm" }), inputsOf(0, 10));
  const chunks = [];
  for (let i = 0; i < tasks; i += batch) chunks.push(inputsOf(i, Math.min(batch, tasks - i)));
  await redis.config("RESETSTAT");
  const started = process.hrtime.bigint();
  for (const chunk of chunks) await way(store, chunk);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const usec = await scriptMicros();
  const depth = await redis.zcard(store.keys.ready("default"));
  if (depth !== tasks) throw new Error(`expected ${tasks} ready tasks, found ${depth}`);
  return { perSecond: tasks / seconds, redisUsPerTask: usec / tasks };
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

print(
  `Bulk enqueue, ${tasks.toLocaleString("en-US")} tasks per run, median of ${reps} runs` +
    (keyed > 0 ? `, ${Math.round(keyed * 100)}% with an idempotency key` : ""),
);
print("(tasks/s: wall clock, one batch in flight; Redis CPU: INFO commandstats of the scripts)\n");
for (const batch of batches) {
  print(`batch ${batch}:`);
  // The ways take turns within each rep, so drift in the machine's load hits both alike.
  const runs = new Map(Object.keys(ways).map((label) => [label, []]));
  for (let rep = 0; rep < reps; rep++)
    for (const [label, way] of Object.entries(ways)) runs.get(label).push(await fill(way, batch));
  for (const [label, results] of runs) {
    const perSecond = median(results.map((r) => r.perSecond));
    const cpu = median(results.map((r) => r.redisUsPerTask));
    print(
      `  ${label}  ${Math.round(perSecond).toLocaleString("en-US").padStart(8)} tasks/s` +
        `  ${cpu.toFixed(1).padStart(5)} µs Redis CPU per task`,
    );
  }
}

redis.disconnect();
await control.quit();
await server.stop();
