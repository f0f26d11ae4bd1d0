// Benchmarks of taskmill's in-memory engine side by side with its peers, in one process and
// one run, so that every ratio compares numbers taken on the same machine at the same time;
// then the durable-mode suite (bench/durable.mjs: taskmill on Redis vs BullMQ and bee-queue)
// then the flows suite (bench/flows.mjs: vs BullMQ's FlowProducer), then the SQLite suite (bench/sqlite.mjs: SQLite mode beside Redis with AOF always and
// everysec) and, last, the Postgres suite (bench/postgres.mjs: vs pg-boss and
// graphile-worker), each in a child process of its own.
//
//   npm run bench                         build, then run everything (~8 min on 2 cores)
//   node --expose-gc bench/run.mjs        run against the existing dist/
//
// Environment:
//   TASKMILL_DIST=path     load taskmill from another build (default: ../dist/index.js)
//   TASKMILL_BASELINE_DIST=path  also run that build's "taskmill" contender, as
//                          "taskmill@baseline", in the same interleaved rounds (and in the
//                          durable suite): a change measured against main side by side
//   BENCH_PEERS_ONLY=1     skip taskmill (e.g. before it builds)
//   BENCH_QUICK=1          1/10 of the batches and 2 rounds: a smoke test, not a measurement
//   BENCH_REPS=n           measured rounds per throughput case (default 5)
//   BENCH_RATE_REPS=n      rounds of the rate-limit suite (default 3)
//   BENCH_MEMORY_TASKS=n   tasks through the manager in the memory suite (default 1,000,000)
//   BENCH_MEMORY_SNAPSHOTS=dir  heap snapshots at the memory suite's first and last samples
//   BENCH_OUT=path         where to write the JSON (default bench/results/latest.json;
//                          quick runs default to bench/results/quick.tmp)
//   BENCH_SKIP_DURABLE=1   skip the durable suite (it is also skipped, with a note, when
//                          redis-server is not on PATH); its own settings: see durable.mjs
//   BENCH_SKIP_FLOWS=1     skip the flows suite (bench/flows.mjs: submitFlow in memory and on
//                          Redis vs BullMQ's FlowProducer); its own settings: see flows.mjs
//   BENCH_SKIP_SQLITE=1    skip the SQLite suite; its own settings: see sqlite.mjs
//   BENCH_SKIP_POSTGRES=1  skip the Postgres suite (bench/postgres.mjs: taskmill vs pg-boss and
//                          graphile-worker; also skipped when no PostgreSQL server binaries are
//                          installed); its own settings: see postgres.mjs
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  peerRateContenders,
  peerThroughputContenders,
  taskmillRateContenders,
  taskmillThroughputContenders,
} from "./lib/contenders.mjs";
import { machineInfo, packageVersions } from "./lib/env.mjs";
import {
  comparisonLines,
  machineLine,
  memoryText,
  RATE_HEADERS,
  rateRows,
  renderText,
  THROUGHPUT_HEADERS,
  throughputRows,
  throughputTitle,
  versionsLine,
} from "./lib/format.mjs";
import { memorySettings, runMemorySuite } from "./lib/memory.mjs";
import { runRateLimitSuite } from "./lib/rate-limit.mjs";
import {
  BASELINE_BUILD,
  baselineSource,
  DEFAULT_DIST,
  loadTaskmill,
  taskmillSource,
} from "./lib/taskmill.mjs";
import { runThroughputSuite } from "./lib/throughput.mjs";

const PEERS = ["p-queue", "p-limit", "bottleneck"];
const benchDir = dirname(fileURLToPath(import.meta.url));

function readSettings(env) {
  const quick = env.BENCH_QUICK === "1";
  const out = env.BENCH_OUT ?? `results/${quick ? "quick.tmp" : "latest.json"}`;
  const scale = quick ? 0.1 : 1;
  return {
    quick,
    scale,
    reps: Number(env.BENCH_REPS ?? (quick ? 2 : 5)),
    rateReps: Number(env.BENCH_RATE_REPS ?? (quick ? 1 : 3)),
    runTimeoutMs: 120_000,
    memory: memorySettings(env, scale),
    out: resolve(benchDir, out),
  };
}

// The durable suites: each starts its own servers (and leaves client connections behind), so
// each runs in a child process; its tables are printed after ours, its results go to
// bench/results/<name>.json (<name>-quick.tmp for quick runs) and into our JSON.
const CHILD_SUITES = [
  {
    name: "durable",
    title: "Durable mode (Redis)",
    script: "durable.mjs",
    skipEnv: "BENCH_SKIP_DURABLE",
    nodeArgs: ["--expose-gc"],
    unavailable: async () => {
      const probe = spawnSync("redis-server", ["--version"], { stdio: "ignore" });
      return probe.error || probe.status !== 0 ? "redis-server is not on PATH" : undefined;
    },
  },
  {
    name: "flows",
    title: "Flows (memory and Redis vs BullMQ FlowProducer)",
    script: "flows.mjs",
    skipEnv: "BENCH_SKIP_FLOWS",
    nodeArgs: [],
    unavailable: async () => {
      const probe = spawnSync("redis-server", ["--version"], { stdio: "ignore" });
      return probe.error || probe.status !== 0 ? "redis-server is not on PATH" : undefined;
    },
  },
  {
    name: "sqlite",
    title: "SQLite mode",
    script: "sqlite.mjs",
    skipEnv: "BENCH_SKIP_SQLITE",
    nodeArgs: [],
  },
  {
    name: "postgres",
    title: "Postgres mode",
    script: "postgres.mjs",
    skipEnv: "BENCH_SKIP_POSTGRES",
    nodeArgs: ["--expose-gc"],
    // No PostgreSQL server binaries on this machine: nothing to measure against.
    unavailable: async () => {
      const { postgresBinDir } = await import("./lib/postgres-server.mjs");
      return postgresBinDir() === null ? "PostgreSQL server binaries not found" : undefined;
    },
  },
];

async function runChildSuite(suite, { settings, log }) {
  if (process.env[suite.skipEnv] === "1") return { skipped: `${suite.skipEnv}=1` };
  const unavailable = await suite.unavailable?.();
  if (unavailable !== undefined) {
    log(`  ${unavailable}: skipping the ${suite.title} suite`);
    return { skipped: unavailable };
  }
  const file = settings.quick ? `${suite.name}-quick.tmp` : `${suite.name}.json`;
  const out = resolve(dirname(settings.out), file);
  const spawnedAt = Date.now();
  const child = spawn(process.execPath, [...suite.nodeArgs, resolve(benchDir, suite.script)], {
    env: { ...process.env, BENCH_OUT: out },
    stdio: ["ignore", "pipe", "inherit"],
  });
  let text = "";
  child.stdout.on("data", (chunk) => {
    text += chunk;
  });
  const code = await new Promise((done) => child.once("exit", (c, signal) => done(c ?? signal)));
  try {
    const results = JSON.parse(readFileSync(out, "utf8"));
    // A file left by an earlier run is not this run's result.
    if (Date.parse(results.date) < spawnedAt - 1_000)
      throw new Error(`${out} is from ${results.date}`);
    return { code, text, results, out };
  } catch (error) {
    return {
      code,
      text,
      error: `the ${suite.title} suite wrote no results (exit ${code}): ${error.message}`,
    };
  }
}

function printResults(results) {
  const print = (text = "") => process.stdout.write(`${text}\n`);
  print(`\nMachine: ${machineLine(results)}`);
  print(`Packages: ${versionsLine(results)}`);
  if (results.taskmill.source && !results.taskmill.isDefaultBuild) {
    print(`NOTE: taskmill loaded from ${results.taskmill.source}, not from dist/`);
  }
  const t = results.throughput;
  print(`\n== Throughput: median of ${t.reps} interleaved runs, ratio = tasks/s ÷ p-queue's ==`);
  for (const testCase of t.cases) {
    print(`\n${throughputTitle(testCase)}`);
    print(renderText(THROUGHPUT_HEADERS, throughputRows(testCase)));
  }
  for (const line of comparisonLines(t)) print(`\n${line}`);
  const r = results.rateLimit;
  print(
    `\n== Rate limit: ${r.perSecond}/s configured, ${r.tasks} no-op tasks, concurrency ${r.concurrency}, ${r.reps} runs ==`,
  );
  print("achieved/s and error: median run; window maxima and burst excess: worst run.");
  print(
    `burst excess = max over windows of starts - (${r.burst} + ${r.perSecond} * t); ` +
      `PASS if <= 0 (timestamp slack ${r.slackMs} ms).`,
  );
  print(renderText(RATE_HEADERS, rateRows(r)));
  for (const result of r.results.filter((x) => x.burstCheck)) {
    const w = result.burstWorstWindow;
    print(
      `${result.library} burst check ${result.burstCheck}: tightest window has ${w.starts} starts ` +
        `in ${w.lengthMs} ms starting ${w.fromMs} ms after the first start ` +
        `(bound ${r.burst} + ${r.perSecond} * t = ${(r.burst + (r.perSecond * w.lengthMs) / 1000).toFixed(2)}).`,
    );
  }
  print(`\nBottleneck: ${results.settings.bottleneckNote}`);
  if (results.memory) print(`\n${memoryText(results.memory)}`);
}

function hasFailures(results) {
  const throughputErrors = results.throughput.cases.flatMap((c) => c.results).some((r) => r.error);
  const rateErrors = results.rateLimit.results.some((r) => r.error || r.burstCheck === "FAIL");
  // RSS and the subscriber throughput ratio move with the machine's load, and drop-oldest
  // subscribers may drop by design: all three are reported but do not fail the run. A growing
  // heap does.
  const memoryErrors = (results.memory?.variants ?? []).some(
    (v) => v.error || v.heap.check === "FAIL",
  );
  return throughputErrors || rateErrors || memoryErrors;
}

async function main() {
  const settings = readSettings(process.env);
  const log = (line) => process.stderr.write(`${line}\n`);
  if (!globalThis.gc)
    log("warning: run with node --expose-gc so that runs do not pay for each other's garbage");
  if (settings.quick)
    log("BENCH_QUICK=1: smoke test with small batches; numbers are not comparable");

  const source = process.env.BENCH_PEERS_ONLY === "1" ? null : taskmillSource(process.env);
  const TaskManager = source && (await loadTaskmill(source));
  const baseline = baselineSource(process.env);
  const Baseline = baseline && (await loadTaskmill(baseline));
  const baselineOf = (forTaskmill) =>
    Baseline
      ? forTaskmill(Baseline)
          .filter((contender) => contender.name === "taskmill")
          .map((contender) => ({ ...contender, name: BASELINE_BUILD }))
      : [];
  const withTaskmill = (forTaskmill, peers) =>
    TaskManager ? [...forTaskmill(TaskManager), ...baselineOf(forTaskmill), ...peers] : peers;

  const machineAtStart = machineInfo();
  const startedAt = Date.now();
  log("Throughput suite...");
  const throughput = await runThroughputSuite({
    contenders: withTaskmill(taskmillThroughputContenders, peerThroughputContenders),
    settings,
    log,
  });
  log("Rate-limit suite...");
  const rateLimit = await runRateLimitSuite({
    contenders: withTaskmill(taskmillRateContenders, peerRateContenders),
    settings,
    log,
  });
  log("Memory suite...");
  const memory = source ? await runMemorySuite({ source, settings, log }) : undefined;
  const childRuns = {};
  for (const suite of CHILD_SUITES) {
    log(`${suite.title} suite (bench/${suite.script}, in a child process)...`);
    childRuns[suite.name] = await runChildSuite(suite, { settings, log });
  }

  const results = {
    schemaVersion: 1,
    date: new Date().toISOString(),
    durationSec: Math.round((Date.now() - startedAt) / 1000),
    machine: { ...machineAtStart, loadAverage1mAtEnd: machineInfo().loadAverage1m },
    packages: packageVersions(PEERS),
    taskmill: {
      source,
      isDefaultBuild: source === DEFAULT_DIST,
    },
    settings: {
      quick: settings.quick,
      scale: settings.scale,
      reps: settings.reps,
      rateReps: settings.rateReps,
      warmup: "one unmeasured run per library per case at 1/10 of the batch",
      order: "round-robin, starting library rotated every round",
      bottleneckNote:
        "smaller batches in both suites (see the tasks columns); its rates are computed from its own batch.",
    },
    throughput,
    rateLimit,
    memory,
    ...Object.fromEntries(
      CHILD_SUITES.map(({ name }) => {
        const run = childRuns[name];
        return [
          name,
          run.results ?? { error: run.skipped ? `skipped: ${run.skipped}` : run.error },
        ];
      }),
    ),
  };
  mkdirSync(dirname(settings.out), { recursive: true });
  writeFileSync(settings.out, `${JSON.stringify(results, null, 2)}\n`);
  printResults(results);
  for (const suite of CHILD_SUITES) {
    const run = childRuns[suite.name];
    if (run.text) process.stdout.write(`\n== ${suite.title} ==${run.text}`);
    if (run.error) log(`\n${suite.title} suite: ${run.error}`);
    if (run.out) log(`Wrote ${run.out}`);
  }
  log(`\nWrote ${settings.out} (${results.durationSec} s)`);
  // A durable suite fails the run when a library errored or lost or duplicated a job (its exit
  // status), not when it was skipped for want of its server.
  const durableFailed = Object.values(childRuns).some((run) => !run.skipped && run.code !== 0);
  // Exit explicitly: a limiter that leaks a timer must not turn the bench into a hang.
  process.exit(hasFailures(results) || durableFailed ? 1 : 0);
}

await main();
