// Durable mode on Redis: taskmill against BullMQ and bee-queue on one redis-server that this
// script starts (127.0.0.1, a free port, no persistence) and stops, in one process and one run.
// `bench/run.mjs` runs it last, in a child process; it also runs alone:
//
//   npm run build && node --expose-gc bench/durable.mjs      (about 3.5 min on 2 cores)
//
// What it measures (details in bench/README.md, "Durable mode"):
//   1. redis-benchmark SET/GET/LPUSH/RPOP, unpipelined and -P 16: the ceiling.
//   2. Throughput: 20,000 no-op jobs at concurrency 1, 16 and 64: enqueue everything, then
//      process; jobs/s, 5 interleaved rounds, medians, ratio to BullMQ; with the Redis-side
//      cost of each job (CPU, commands, bytes) and this process's CPU per job.
//   3. Latency: enqueue-to-start p50/p99 at a paced 2,000 jobs/s offered for 5 s, concurrency 16.
//   4. Bulk submit: 20,000 tasks via taskmill submitMany (one call, and chunks of 1,000) against
//      bee-queue saveAll of 20,000 jobs, interleaved rounds (bench/lib/durable-submit-many.mjs).
//   5. Commands per job: what each library's clients send Redis per job (MONITOR, unmeasured).
//
// Environment:
//   TASKMILL_DIST=path              load taskmill from another build
//   TASKMILL_BASELINE_DIST=path     also run that build, as "taskmill@baseline", in the same rounds
//   BENCH_PEERS_ONLY=1              skip taskmill
//   BENCH_QUICK=1                   2,000 jobs, 1 round, 1 s of latency: a smoke test
//   BENCH_DURABLE_JOBS=n            jobs per throughput run (default 20,000)
//   BENCH_DURABLE_REPS=n            throughput rounds (default 5)
//   BENCH_DURABLE_CONCURRENCY=1,16  concurrencies (default 1,16,64)
//   BENCH_DURABLE_RATE=n            offered jobs/s in the latency test (default 2,000)
//   BENCH_DURABLE_LATENCY_MS=n      length of each latency run (default 5,000)
//   BENCH_DURABLE_LATENCY_REPS=n    latency rounds (default 3)
//   BENCH_DURABLE_LIBS=taskmill,... only these libraries (e.g. to profile one)
//   BENCH_DURABLE_SKIP=latency,...  skip parts: redis-benchmark, throughput, latency,
//                                   submit-many, commands
//   BENCH_DURABLE_LATENCY_ISOLATE=0 latency rounds in this process (default: a fresh child
//                                   process per library and round)
//   BENCH_DURABLE_COMMANDS=0        skip the MONITOR diagnostic
//   BENCH_OUT=path                  where to write the JSON (default bench/results/durable.json;
//                                   quick or partial runs default to bench/results/durable.tmp)
//
// Exit status 1 if a library errors, loses or duplicates a job; the targets (>= 2x BullMQ's
// jobs/s, lower p99) are printed PASS/FAIL but do not fail the run.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { BASELINE, durableContenders } from "./lib/durable-contenders.mjs";
import {
  COMMANDS_HEADERS,
  DURABLE_DETAIL_HEADERS,
  durableCommandsRows,
  durableDetailRows,
  durableLatencyRows,
  durableTargetLines,
  durableThroughputMatrix,
  durableVersionsLine,
  LATENCY_HEADERS,
  redisBenchmarkTable,
} from "./lib/durable-format.mjs";
import { runDurableLatency } from "./lib/durable-latency.mjs";
import { RedisControl, redisBenchmark } from "./lib/durable-redis.mjs";
import { runSubmitMany, submitManyLines } from "./lib/durable-submit-many.mjs";
import {
  durableSettings,
  durableTargets,
  runDurableCommands,
  runDurableThroughput,
} from "./lib/durable-suite.mjs";
import { machineInfo, packageVersions } from "./lib/env.mjs";
import { machineLine, renderText } from "./lib/format.mjs";
import { startRedisServer } from "./lib/redis-server.mjs";
import { baselineSource, DEFAULT_DIST, loadTaskmill, taskmillSource } from "./lib/taskmill.mjs";

const benchDir = dirname(fileURLToPath(import.meta.url));
const log = (line) => process.stderr.write(`${line}\n`);
const print = (text = "") => process.stdout.write(`${text}\n`);

function nestedVersion(path) {
  try {
    return JSON.parse(
      readFileSync(new URL(`../node_modules/${path}/package.json`, import.meta.url), "utf8"),
    ).version;
  } catch {
    return null;
  }
}

function printResults(results) {
  print(`\nMachine: ${machineLine(results)}`);
  print(
    `Redis: ${results.redis.version} (${results.redis.config}); packages: ${durableVersionsLine(results)}`,
  );
  for (const s of results.skipped) print(`Skipped ${s.library}: ${s.reason}`);
  if (results.redisBenchmark) {
    const b = results.redisBenchmark;
    print(`\n== redis-benchmark: ${b.requests} requests, ${b.clients} clients (the ceiling) ==`);
    const { headers, rows } = redisBenchmarkTable(b);
    print(renderText(headers, rows));
    for (const r of b.results.filter((x) => x.error)) print(`${r.mode}: error: ${r.error}`);
  }
  const t = results.throughput;
  if (t) {
    print(
      `\n== Throughput: ${t.jobs} no-op jobs, median of ${t.reps} interleaved rounds, ` +
        `ratio = jobs/s ÷ BullMQ's ==`,
    );
    const { headers, rows } = durableThroughputMatrix(t);
    print(renderText(headers, rows));
    print("\nProcessing phase, medians per job (paired = median of same-round ratios):");
    print(renderText(DURABLE_DETAIL_HEADERS, durableDetailRows(t)));
  }
  const l = results.latency;
  if (l) {
    print(
      `\n== Enqueue-to-start latency: ${l.perSecond} jobs/s offered for ${l.durationMs / 1000} s, ` +
        `concurrency ${l.concurrency}, ${l.reps} round(s) ==`,
    );
    print(renderText(LATENCY_HEADERS, durableLatencyRows(l)));
  }
  const m = results.submitMany;
  if (m) {
    print(
      `\n== Bulk submit: ${m.tasks.toLocaleString("en-US")} tasks per run, median of ${m.reps} ` +
        "interleaved rounds ==",
    );
    for (const line of submitManyLines(m)) print(line);
  }
  const c = results.commands;
  if (c) {
    print(`\n== Commands sent per job (MONITOR, ${c.jobs} jobs, Lua-internal excluded) ==`);
    print(renderText(COMMANDS_HEADERS, durableCommandsRows(c)));
  }
  if (results.targets.length) {
    print("\nTargets:");
    for (const line of durableTargetLines(results.targets)) print(`  ${line}`);
  }
}

function hasErrors(results) {
  const throughput = (results.throughput?.cases ?? []).flatMap((c) => c.results);
  const latency = results.latency?.results ?? [];
  const commands = results.commands?.results ?? [];
  const bench = results.redisBenchmark?.results ?? [];
  return [...throughput, ...latency, ...commands, ...bench].some((r) => r.error);
}

async function main() {
  const settings = durableSettings(process.env);
  if (!globalThis.gc)
    log("warning: run with node --expose-gc so that runs do not pay for each other's garbage");
  if (settings.quick) log("BENCH_QUICK=1: smoke test; numbers are not comparable");
  const partial = settings.only !== undefined || settings.skip.size > 0;
  const out = resolve(
    benchDir,
    process.env.BENCH_OUT ??
      `results/${settings.quick || partial ? "durable.tmp" : "durable.json"}`,
  );

  const source = process.env.BENCH_PEERS_ONLY === "1" ? null : taskmillSource(process.env);
  const TaskManager = source && (await loadTaskmill(source));
  const baseline = baselineSource(process.env);
  const BaselineTaskManager = baseline && (await loadTaskmill(baseline));
  const { contenders, skipped } = await durableContenders({
    TaskManager,
    BaselineTaskManager,
    only: settings.only,
  });
  for (const s of skipped) log(`skipping ${s.library}: ${s.reason}`);
  if (contenders.length === 0) throw new Error("no library to measure");

  const machineAtStart = machineInfo();
  const startedAt = Date.now();
  const server = await startRedisServer();
  log(`redis-server pid ${server.pid} on ${server.url}`);
  const control = new RedisControl(server);
  const results = {
    schemaVersion: 1,
    suite: "durable",
    date: new Date().toISOString(),
    machine: machineAtStart,
    packages: {
      ...packageVersions(["bullmq", "bee-queue", "ioredis"]),
      "redis (bee-queue's client)": nestedVersion("bee-queue/node_modules/redis"),
    },
    taskmill: { source, isDefaultBuild: source === DEFAULT_DIST },
    redis: { version: await control.version(), config: '127.0.0.1, --save "" --appendonly no' },
    skipped,
    settings: {
      quick: settings.quick,
      jobs: settings.jobs,
      reps: settings.reps,
      concurrencies: settings.concurrencies,
      latency: settings.latency,
      warmup: `one unmeasured run of ${settings.warmupJobs} jobs per library at concurrency 16`,
      order: "libraries rotated on every case and round",
      baseline: BASELINE,
    },
  };
  try {
    const suite = { contenders, server, control, settings, log };
    if (!settings.skip.has("redis-benchmark")) {
      log("redis-benchmark (the ceiling)...");
      await control.flush();
      results.redisBenchmark = await redisBenchmark(server, { ...settings.redisBenchmark, log });
    }
    if (!settings.skip.has("throughput")) {
      log("Durable throughput...");
      results.throughput = await runDurableThroughput(suite);
    }
    if (!settings.skip.has("latency")) {
      log("Durable enqueue-to-start latency...");
      results.latency = await runDurableLatency(suite);
    }
    if (!settings.skip.has("submit-many")) {
      log("Bulk submit (taskmill submitMany vs bee-queue saveAll)...");
      results.submitMany = await runSubmitMany({
        server,
        control,
        TaskManager: contenders.some((c) => c.name === "taskmill") ? TaskManager : undefined,
        BaselineTaskManager: BaselineTaskManager ?? undefined,
        tasks: settings.quick ? 2_000 : 20_000,
        reps: settings.quick ? 1 : 5,
        log,
      });
    }
    if (settings.commands.enabled && !settings.skip.has("commands")) {
      log("Commands per job (MONITOR)...");
      results.commands = await runDurableCommands(suite);
    }
  } finally {
    await control.quit().catch(() => {});
    await server.stop();
  }
  results.targets = durableTargets(results.throughput, results.latency, results.submitMany);
  results.durationSec = Math.round((Date.now() - startedAt) / 1000);
  results.machine = { ...machineAtStart, loadAverage1mAtEnd: machineInfo().loadAverage1m };
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
  printResults(results);
  log(`\nWrote ${out} (${results.durationSec} s)`);
  // Exit explicitly: a peer's leftover timer or socket must not turn the bench into a hang.
  process.exit(hasErrors(results) ? 1 : 0);
}

await main();
