import { median } from "./stats.mjs";

// The bulk-submit comparison (bench/durable-submit-many.mjs alone, and a section of
// bench/durable.mjs): taskmill's `submitMany` (one call of N tasks, and N in chunks) against
// bee-queue's `saveAll` of N jobs, on one redis-server, interleaved rounds with the first
// contender rotated, medians. Timed: from building the user's array of N jobs to the call
// resolving (every job in Redis); bee-queue's `createJob` objects are part of its call. Also:
// this process's CPU and redis-server's CPU per task over the same interval.
const payloadOf = (i) => ({ i, to: `user-${i}@example.com` });

// `oneCall` false for a build from before submitMany took 20,000 items in one call.
function taskmillWays(label, TaskManager, { tasks, chunk, oneCall = true }) {
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

async function beeQueueWay(tasks) {
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

async function measure(way, server, control, tasks) {
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

/**
 * Runs the comparison on `server`; resolves with one row per way: median tasks/s, CPU per task
 * (Node, Redis), ratio to bee-queue's median, and every round's tasks/s.
 */
export async function runSubmitMany({
  server,
  control,
  TaskManager,
  BaselineTaskManager,
  tasks = 20_000,
  reps = 5,
  chunk = 1_000,
  log = () => {},
}) {
  const ways = [];
  if (TaskManager) ways.push(...taskmillWays("taskmill", TaskManager, { tasks, chunk }));
  // A build from before submitMany took 20,000 items in one call: chunks only.
  if (BaselineTaskManager)
    ways.push(
      ...taskmillWays("taskmill@baseline", BaselineTaskManager, { tasks, chunk, oneCall: false }),
    );
  ways.push(...(await beeQueueWay(tasks)));
  const runs = new Map(ways.map((way) => [way.name, []]));
  // One unmeasured run each: loads the scripts into Redis and warms the code.
  for (const way of ways) await measure(way, server, control, tasks);
  for (let rep = 0; rep < reps; rep++)
    for (let k = 0; k < ways.length; k++) {
      const way = ways[(rep + k) % ways.length];
      const run = await measure(way, server, control, tasks);
      runs.get(way.name).push(run);
      log(`  round ${rep + 1} ${way.name}: ${Math.round(run.perSecond)} tasks/s`);
    }
  const bee = ways.find((way) => way.name.startsWith("bee-queue"));
  const beeRate = bee && median(runs.get(bee.name).map((r) => r.perSecond));
  return {
    tasks,
    reps,
    chunk,
    method:
      "from building the user's array of N jobs to the call resolving (every job in Redis); interleaved rounds, first contender rotated, medians; CPU: this process (process.cpuUsage) and redis-server (INFO cpu) over the same interval",
    results: ways.map((way) => {
      const rounds = runs.get(way.name);
      const perSecond = median(rounds.map((r) => r.perSecond));
      return {
        way: way.name,
        perSecond: Math.round(perSecond),
        nodeUsPerTask: Number(median(rounds.map((r) => r.nodeUsPerTask)).toFixed(1)),
        redisUsPerTask: Number(median(rounds.map((r) => r.redisUsPerTask)).toFixed(1)),
        vsBeeQueue: beeRate ? Number((perSecond / beeRate).toFixed(2)) : null,
        rounds: rounds.map((r) => Math.round(r.perSecond)),
      };
    }),
  };
}

/** Text lines of a `runSubmitMany` result. */
export function submitManyLines(result) {
  return result.results.map(
    (row) =>
      `${row.way.padEnd(62)} ${row.perSecond.toLocaleString("en-US").padStart(8)} tasks/s` +
      `  ${row.vsBeeQueue === null ? "" : `${row.vsBeeQueue.toFixed(2)}x bee-queue`}` +
      `  node ${row.nodeUsPerTask} µs/task, Redis ${row.redisUsPerTask} µs/task`,
  );
}
