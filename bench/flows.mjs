// Flows: taskmill's submitFlow (memory and Redis) beside BullMQ's FlowProducer (Redis), in one
// process and one run, interleaved round by round, so every ratio compares numbers taken on the
// same machine at the same time. Two shapes, each handler a no-op:
//
//   chain3   a -> b -> c (FLOWS_CHAINS flows, default 5,000)
//   fan10    root -> 8 middles -> sink (FLOWS_FANS flows, default 1,000). BullMQ's flows are
//            trees (a job has one parent), so its flow of 10 is sink <- 8 middles, the first
//            of them <- a leaf: the same 10 jobs and 3 levels; a shared root is not expressible.
//
// A flow counts once its last node completed; flows/s = flows / (first submit .. last node).
// Submits run FLOWS_INFLIGHT (default 64) at a time; workers run FLOWS_CONCURRENCY (default 16)
// handlers, in this process, for every contender.
//
// Reported: per contender the median flows/s over the rounds, and the median of the same-round
// ratios to BullMQ (each round's numbers were taken side by side; the machine is noisy).
//
//   npm run bench (runs it as a child suite) or: npm run build && node bench/flows.mjs
//   (redis-server on PATH; BullMQ is a devDependency)
//   FLOWS_ROUNDS=n (default 5), FLOWS_QUICK=1 or BENCH_QUICK=1 (1/10 of the flows, 1 round),
//   BENCH_OUT=path (the JSON results; default bench/results/flows.json)
//   TASKMILL_BASELINE_DIST=path also runs that build's Redis contender, as "taskmill@baseline
//   redis", in the same interleaved rounds (an A/B of a change to the flow path; see
//   docs/benchmarks.md)
import { randomUUID } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { startRedisServer } from "./lib/redis-server.mjs";
import { baselineSource, loadTaskmill, taskmillSource } from "./lib/taskmill.mjs";

const env = process.env;
const quick = env.FLOWS_QUICK === "1" || env.BENCH_QUICK === "1";
const CHAINS = Number(env.FLOWS_CHAINS ?? (quick ? 500 : 5_000));
const FANS = Number(env.FLOWS_FANS ?? (quick ? 100 : 1_000));
const ROUNDS = Number(env.FLOWS_ROUNDS ?? (quick ? 1 : 5));
const OUT = resolve(dirname(fileURLToPath(import.meta.url)), env.BENCH_OUT ?? "results/flows.json");
const INFLIGHT = Number(env.FLOWS_INFLIGHT ?? 64);
const CONCURRENCY = Number(env.FLOWS_CONCURRENCY ?? 16);
const BASELINE_REDIS = "taskmill@baseline redis";
const log = (line) => process.stderr.write(`${line}\n`);

/** Runs `count` submits, `INFLIGHT` at a time. */
async function submitAll(count, submit) {
  let next = 0;
  const lane = async () => {
    while (next < count) await submit(next++);
  };
  await Promise.all(Array.from({ length: Math.min(INFLIGHT, count) }, lane));
}

/** Resolves once `count` flows have completed, counted by `tick`. */
function counter(count) {
  let done = 0;
  let resolve;
  const finished = new Promise((r) => {
    resolve = r;
  });
  return {
    finished,
    tick() {
      if (++done === count) resolve();
    },
  };
}

const taskmillShapes = {
  chain3: () => [
    { ref: "a", name: "step" },
    { ref: "b", name: "step", dependsOn: ["a"] },
    { ref: "c", name: "last", dependsOn: ["b"] },
  ],
  fan10: () => {
    const middles = Array.from({ length: 8 }, (_, i) => ({
      ref: `m${i}`,
      name: "step",
      dependsOn: ["root"],
    }));
    return [
      { ref: "root", name: "step" },
      ...middles,
      { ref: "sink", name: "last", dependsOn: middles.map((m) => m.ref) },
    ];
  },
};

function taskmillContender(TaskManager, label, backend) {
  return {
    name: label,
    async run(shape, count) {
      const done = counter(count);
      const mill = new TaskManager({
        concurrency: CONCURRENCY,
        retry: { maxRetries: 0 },
        backend: backend(),
        hooks: {
          onFinish: (event) => {
            if (event.task.name === "last") done.tick();
          },
        },
      });
      mill.register("step", async () => {});
      mill.register("last", async () => {});
      await mill.queues();
      const started = performance.now();
      await submitAll(count, () => mill.submitFlow(taskmillShapes[shape]()));
      await done.finished;
      const ms = performance.now() - started;
      await mill.stopGraceful({ timeoutMs: 10_000 });
      return ms;
    },
  };
}

function bullmqShape(shape, queueName) {
  const job = (name, children) => ({
    name,
    queueName,
    data: {},
    ...(children ? { children } : {}),
  });
  if (shape === "chain3") return job("last", [job("step", [job("step")])]);
  return job(
    "last",
    Array.from({ length: 8 }, (_, i) => (i === 0 ? job("step", [job("step")]) : job("step"))),
  );
}

function bullmqContender({ FlowProducer, Worker }, redis) {
  return {
    name: "bullmq",
    async run(shape, count) {
      const done = counter(count);
      const connection = { host: redis.host, port: redis.port, maxRetriesPerRequest: null };
      const prefix = `bull-${randomUUID().slice(0, 8)}`;
      const queueName = "flows";
      const producer = new FlowProducer({ connection, prefix });
      const worker = new Worker(queueName, async () => {}, {
        connection,
        prefix,
        concurrency: CONCURRENCY,
        removeOnComplete: { count: 10_000 },
      });
      const errors = [];
      worker.on("error", (error) => errors.push(error));
      producer.on?.("error", (error) => errors.push(error));
      worker.on("completed", (job) => {
        if (job.name === "last") done.tick();
      });
      await worker.waitUntilReady();
      const started = performance.now();
      await submitAll(count, () => producer.add(bullmqShape(shape, queueName)));
      await done.finished;
      const ms = performance.now() - started;
      await worker.close();
      await producer.close();
      if (errors.length > 0) throw errors[0];
      return ms;
    },
  };
}

const redis = await startRedisServer();
try {
  const TaskManager = await loadTaskmill(taskmillSource(env));
  const bull = await import("bullmq");
  const baseline = baselineSource(env);
  const BaselineTaskManager = baseline && (await loadTaskmill(baseline));
  const redisBackend = () => ({
    type: "redis",
    url: redis.url,
    prefix: `flows-${randomUUID().slice(0, 8)}`,
  });
  const contenders = [
    taskmillContender(TaskManager, "taskmill memory", () => ({ type: "memory" })),
    taskmillContender(TaskManager, "taskmill redis", redisBackend),
    ...(BaselineTaskManager
      ? [taskmillContender(BaselineTaskManager, BASELINE_REDIS, redisBackend)]
      : []),
    bullmqContender(bull, redis),
  ];
  const shapes = [
    ["chain3", CHAINS],
    ["fan10", FANS],
  ];
  const rates = new Map(); // `${shape}|${name}` -> flows/s per round
  const ratios = new Map(); // `${shape}|${name}` -> same-round ratio to BullMQ per round
  const median = (values) => {
    const sorted = [...values].sort((a, b) => a - b);
    const mid = Math.floor(sorted.length / 2);
    return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  };
  const push = (map, key, value) => map.set(key, [...(map.get(key) ?? []), value]);
  for (let round = 1; round <= ROUNDS; round++)
    for (const [shape, count] of shapes) {
      // The starting contender rotates every round, so none always runs on a cold machine.
      const order = contenders.map((_, i) => contenders[(i + round) % contenders.length]);
      const thisRound = new Map();
      for (const contender of order) {
        const ms = await contender.run(shape, count);
        const rate = (count * 1000) / ms;
        log(
          `round ${round} ${shape} ${contender.name}: ${count} flows in ${ms.toFixed(0)} ms = ${rate.toFixed(0)} flows/s`,
        );
        thisRound.set(contender.name, rate);
        push(rates, `${shape}|${contender.name}`, rate);
      }
      for (const [name, rate] of thisRound)
        push(ratios, `${shape}|${name}`, rate / thisRound.get("bullmq"));
    }
  const rows = shapes.map(([shape, count]) => {
    const figure = (name) => ({
      medianPerSec: median(rates.get(`${shape}|${name}`)),
      perRound: rates.get(`${shape}|${name}`),
      medianRatioToBullmq: median(ratios.get(`${shape}|${name}`)),
    });
    return {
      shape,
      flows: count,
      memory: figure("taskmill memory"),
      redis: figure("taskmill redis"),
      bullmq: figure("bullmq"),
      ...(BaselineTaskManager ? { baseline: figure(BASELINE_REDIS) } : {}),
    };
  });
  const baselineRows = BaselineTaskManager
    ? rows.map((row) => {
        const base = median(rates.get(`${row.shape}|${BASELINE_REDIS}`));
        const ratio = median(ratios.get(`${row.shape}|${BASELINE_REDIS}`));
        return `| ${row.shape} | ${base.toFixed(0)}/s | ${ratio.toFixed(2)}x | ${row.redis.medianRatioToBullmq.toFixed(2)}x |`;
      })
    : [];
  const lines = [
    `Flows (${CONCURRENCY} handlers, ${INFLIGHT} submits in flight, medians of ${ROUNDS} interleaved rounds)`,
    "",
    "| shape | flows | taskmill memory | taskmill redis | bullmq FlowProducer | redis / bullmq | memory / bullmq |",
    "|---|---:|---:|---:|---:|---:|---:|",
  ];
  for (const row of rows)
    lines.push(
      `| ${row.shape} | ${row.flows} | ${row.memory.medianPerSec.toFixed(0)}/s | ${row.redis.medianPerSec.toFixed(0)}/s | ${row.bullmq.medianPerSec.toFixed(0)}/s | ${row.redis.medianRatioToBullmq.toFixed(2)}x | ${row.memory.medianRatioToBullmq.toFixed(1)}x |`,
    );
  if (baselineRows.length > 0)
    lines.push(
      "",
      `A/B against ${baseline}`,
      "",
      "| shape | baseline redis | baseline / bullmq | this build / bullmq |",
      "|---|---:|---:|---:|",
      ...baselineRows,
    );
  mkdirSync(dirname(OUT), { recursive: true });
  const results = {
    date: new Date().toISOString(),
    rounds: ROUNDS,
    quick,
    concurrency: CONCURRENCY,
    inflight: INFLIGHT,
    rows,
  };
  writeFileSync(OUT, `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(`${lines.join("\n")}\n`);
} finally {
  await redis.stop();
}
