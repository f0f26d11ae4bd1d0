// What metrics and tracing cost: taskmill's throughput with the real OpenTelemetry SDK
// installed and enabled, against the same engine with both turned off, in one process and one
// run, interleaved round-robin.
//
//   npm run build && node bench/observability.mjs
//
// Workloads (each task is `submit(...).then((t) => t.result())`, the batch awaited with
// Promise.all):
//   noop             100,000 `async () => {}` tasks at concurrency 16, submitted outside any
//                    span (every attempt span is a root: the sampler decides). The worst case
//                    for relative overhead: the engine's own work per task is a few µs.
//   noop-in-request  the same, each submitted inside a request's span context (1,024 of them,
//                    1 in 10 sampled, as a ParentBased(TraceIdRatioBased(0.1)) service would
//                    have): the usual production shape, where most tasks are children of an
//                    unsampled request.
//   immediate        100,000 tasks whose handler awaits one event-loop turn (setImmediate).
//   cpu-50us         20,000 tasks whose handler computes for about 50 µs (a calibrated loop).
//   timer-1ms        20,000 tasks whose handler awaits a 1 ms timer, at concurrency 64.
//   cpu-200us        5,000 tasks computing for about 200 µs each (off, ctx and sdk only).
//   timer-10ms       5,000 tasks awaiting a 10 ms timer, at concurrency 64 (off, ctx, sdk).
//
// Configurations (each gets a fresh TaskManager per run):
//   off          `metrics: false, tracing: false`, no context manager installed: the baseline.
//   api-only     the defaults with no SDK installed: the global no-op providers.
//   ctx          as off, but with an AsyncLocalStorageContextManager installed and in use, as in
//                any service running the OpenTelemetry SDK: what the service pays for context
//                propagation whether or not taskmill traces anything.
//   prom         metrics through `taskmill/prometheus` (prom-client), tracing off.
//   sdk          MeterProvider with a PeriodicExportingMetricReader (1 s interval, no-op
//                exporter); TracerProvider with a BatchSpanProcessor feeding a no-op exporter and
//                the sampler ParentBased(root: TraceIdRatioBased(0.1)) (10 % of root traces
//                recorded, children follow their parent: a common production setting);
//                AsyncLocalStorageContextManager enabled. Held to the <= 10 % target.
//   sdk-noskip   as sdk with `tracing.skipUnsampledChildren: false` (noop-in-request only).
//   sdk-metrics / sdk-tracing   the two halves of sdk alone (sdk-tracing with the context
//                manager), to show where the cost goes (noop only).
//   sdk-all      as sdk, but with AlwaysOnSampler: every attempt recorded and exported
//                (noop only). Reported for transparency, not held to the target.
//
// Each round runs every (workload, configuration) pair once, configurations rotated per round.
// Reported per pair: wall-clock throughput (tasks/s of the median run) and CPU time per task
// (user + system, median run). On a shared or busy machine CPU time is the steadier of the two.
//
// Environment: TASKMILL_DIST=path (another build), BENCH_OBS_TASKS (tasks of the 100,000-task
// workloads; the others scale with it), BENCH_OBS_REPS (measured rounds, default 9),
// BENCH_OBS_WORKLOADS (comma-separated subset), BENCH_OUT (default
// bench/results/observability.json).
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { context, ROOT_CONTEXT, TraceFlags, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { MeterProvider, PeriodicExportingMetricReader } from "@opentelemetry/sdk-metrics";
import {
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from "@opentelemetry/sdk-trace";
import { machineInfo, packageVersions } from "./lib/env.mjs";
import { roundRobin } from "./lib/runner.mjs";
import { median, spreadPct } from "./lib/stats.mjs";

const benchDir = dirname(fileURLToPath(import.meta.url));
const TASKS = Number(process.env.BENCH_OBS_TASKS ?? 100_000);
const REPS = Number(process.env.BENCH_OBS_REPS ?? 9);
const TARGET_PCT = 10;
const OUT = resolve(benchDir, process.env.BENCH_OUT ?? "results/observability.json");

const dist = process.env.TASKMILL_DIST
  ? pathToFileURL(resolve(process.env.TASKMILL_DIST)).href
  : new URL("../dist/index.js", import.meta.url).href;
const { TaskManager } = await import(dist);
const { createPrometheusMetrics } = await import(new URL("observability/prometheus.js", dist).href);
const { Registry } = await import("prom-client");

// Export nothing, as fast as possible: the cost measured is taskmill's and the SDK's (the
// metrics are still collected every second), not a network exporter's. Nothing is kept either:
// an exporter that accumulated what it received would grow the heap over the whole run and make
// every later garbage collection, and so every later configuration, slower.
const noopSpanExporter = {
  export: (_spans, done) => done({ code: 0 }),
  shutdown: async () => {},
  forceFlush: async () => {},
};
const noopMetricExporter = {
  export: (_metrics, done) => done({ code: 0 }),
  shutdown: async () => {},
  forceFlush: async () => {},
};

function sdkProviders(sampler) {
  const reader = new PeriodicExportingMetricReader({
    exporter: noopMetricExporter,
    exportIntervalMillis: 1_000,
  });
  const meterProvider = new MeterProvider({ readers: [reader] });
  const tracerProvider = new TracerProvider({
    sampler,
    spanProcessors: [
      new BatchSpanProcessor({
        exporter: noopSpanExporter,
        maxQueueSize: 8_192,
        maxExportBatchSize: 2_048,
        scheduledDelayMillis: 200,
      }),
    ],
  });
  return { meterProvider, tracerProvider };
}

const contextManager = new AsyncLocalStorageContextManager();
let contextOn = false;
function useContextManager(on) {
  if (on === contextOn) return;
  contextOn = on;
  if (on) {
    context.setGlobalContextManager(contextManager.enable());
    // In a traced service the context manager is in use (every request runs in a context),
    // which is what turns on AsyncLocalStorage's propagation for all promises.
    context.with(context.active(), () => {});
  } else {
    context.disable();
    contextManager.disable();
  }
}

const SAMPLER = "ParentBased(root: TraceIdRatioBased(0.1))";
const ratioSdk = sdkProviders(new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(0.1) }));
const alwaysSdk = sdkProviders(new AlwaysOnSampler());

const CONFIGS = {
  off: { contextManager: false, options: { metrics: false, tracing: false } },
  "api-only": { contextManager: false, options: {} },
  ctx: { contextManager: true, options: { metrics: false, tracing: false } },
  prom: {
    contextManager: false,
    options: () => ({
      metrics: createPrometheusMetrics({ registry: new Registry() }),
      tracing: false,
    }),
  },
  sdk: {
    contextManager: true,
    sdk: ratioSdk,
    options: {
      metrics: { meterProvider: ratioSdk.meterProvider },
      tracing: { tracerProvider: ratioSdk.tracerProvider },
    },
  },
  "sdk-noskip": {
    contextManager: true,
    sdk: ratioSdk,
    options: {
      metrics: { meterProvider: ratioSdk.meterProvider },
      tracing: { tracerProvider: ratioSdk.tracerProvider, skipUnsampledChildren: false },
    },
  },
  "sdk-metrics": {
    contextManager: false,
    options: { metrics: { meterProvider: ratioSdk.meterProvider }, tracing: false },
  },
  "sdk-tracing": {
    contextManager: true,
    options: { metrics: false, tracing: { tracerProvider: ratioSdk.tracerProvider } },
  },
  "sdk-all": {
    contextManager: true,
    sdk: alwaysSdk,
    options: {
      metrics: { meterProvider: alwaysSdk.meterProvider },
      tracing: { tracerProvider: alwaysSdk.tracerProvider },
    },
  },
};

const CONFIG_DESCRIPTIONS = {
  off: "metrics: false, tracing: false; no context manager",
  "api-only": "defaults, no SDK installed (global no-op providers)",
  ctx: "as off, with AsyncLocalStorageContextManager installed and in use",
  prom: "metrics through taskmill/prometheus (prom-client registry), tracing off",
  sdk: `sdk-metrics PeriodicExportingMetricReader 1s + no-op exporter; sdk-trace BatchSpanProcessor + no-op exporter, ${SAMPLER}; AsyncLocalStorageContextManager`,
  "sdk-noskip": "as sdk with tracing.skipUnsampledChildren: false",
  "sdk-metrics": "sdk's metrics only (tracing off, no context manager)",
  "sdk-tracing": "sdk's tracing only (metrics off), with the context manager",
  "sdk-all": "as sdk with AlwaysOnSampler",
};

// About 50 µs of computation, calibrated on this machine before the runs.
function spin(iterations) {
  let x = 1;
  for (let i = 0; i < iterations; i++) x = (Math.imul(x, 1_103_515_245) + 12_345) | 0;
  return x;
}
function calibrateSpin(targetUs) {
  let best = Number.POSITIVE_INFINITY;
  const probe = 200_000;
  for (let i = 0; i < 15; i++) {
    const t = performance.now();
    spin(probe);
    best = Math.min(best, performance.now() - t);
  }
  const iterations = Math.round((probe * targetUs) / (best * 1_000));
  const times = [];
  for (let i = 0; i < 2_000; i++) {
    const t = performance.now();
    spin(iterations);
    times.push(performance.now() - t);
  }
  return { iterations, measuredUs: Math.round(median(times) * 10_000) / 10 };
}
const SPIN = calibrateSpin(50);
let sink = 0;

// Request contexts for noop-in-request: 1 in 10 sampled, as the sdk's sampler would decide for
// the requests themselves. Built before the runs; only their use is timed.
const hex = (bytes) =>
  Array.from({ length: bytes }, () => ((Math.random() * 256) | 0).toString(16).padStart(2, "0"))
    .join("")
    .replace(/^0+$/, "1");
const PARENTS = Array.from({ length: 1_024 }, (_, i) =>
  trace.setSpanContext(ROOT_CONTEXT, {
    traceId: hex(16),
    spanId: hex(8),
    traceFlags: i % 10 === 0 ? TraceFlags.SAMPLED : TraceFlags.NONE,
  }),
);

const COMMON = ["off", "api-only", "ctx", "prom", "sdk"];
const WORKLOADS = [
  {
    name: "noop",
    handler: "async () => {}",
    tasks: TASKS,
    concurrency: 16,
    handle: (count) => async () => {
      count();
    },
    configs: ["off", "api-only", "ctx", "prom", "sdk", "sdk-metrics", "sdk-tracing", "sdk-all"],
  },
  {
    name: "noop-in-request",
    handler: "async () => {}, each submitted inside a request span context (1 in 10 sampled)",
    tasks: TASKS,
    concurrency: 16,
    parents: true,
    handle: (count) => async () => {
      count();
    },
    configs: ["off", "ctx", "sdk", "sdk-noskip"],
  },
  {
    name: "immediate",
    handler: "async () => { await new Promise((r) => setImmediate(r)); }",
    tasks: TASKS,
    concurrency: 16,
    handle: (count) => async () => {
      await new Promise((resolve) => setImmediate(resolve));
      count();
    },
    configs: COMMON,
  },
  {
    name: "cpu-50us",
    handler: `async () => { spin(${SPIN.iterations}); } (about ${SPIN.measuredUs} µs of CPU)`,
    tasks: Math.round(TASKS / 5),
    concurrency: 16,
    handle: (count) => async () => {
      sink ^= spin(SPIN.iterations);
      count();
    },
    configs: COMMON,
  },
  {
    name: "timer-1ms",
    handler: "async () => { await new Promise((r) => setTimeout(r, 1)); }",
    tasks: Math.round(TASKS / 5),
    concurrency: 64,
    handle: (count) => async () => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      count();
    },
    configs: COMMON,
  },
  // Where the target is met: enough work per task to dwarf the SDK's few µs.
  {
    name: "cpu-200us",
    handler: `async () => { spin(${SPIN.iterations * 4}); } (about ${Math.round(SPIN.measuredUs * 4)} µs of CPU)`,
    tasks: Math.round(TASKS / 20),
    concurrency: 16,
    handle: (count) => async () => {
      sink ^= spin(SPIN.iterations * 4);
      count();
    },
    configs: ["off", "ctx", "sdk"],
  },
  {
    name: "timer-10ms",
    handler: "async () => { await new Promise((r) => setTimeout(r, 10)); }",
    tasks: Math.round(TASKS / 20),
    concurrency: 64,
    handle: (count) => async () => {
      await new Promise((resolve) => setTimeout(resolve, 10));
      count();
    },
    configs: ["off", "ctx", "sdk"],
  },
].filter(
  (w) =>
    !process.env.BENCH_OBS_WORKLOADS || process.env.BENCH_OBS_WORKLOADS.split(",").includes(w.name),
);

async function runOnce(workload, configName, tasks) {
  const config = CONFIGS[configName];
  useContextManager(config.contextManager);
  const options = typeof config.options === "function" ? config.options() : config.options;
  const mill = new TaskManager({
    concurrency: workload.concurrency,
    retention: { maxEntries: 1_000 },
    ...options,
  });
  let done = 0;
  mill.register(
    "job",
    workload.handle(() => {
      done++;
    }),
  );
  const submitOne = () => mill.submit("job").then((task) => task.result());
  // No forced collection between runs (unlike the other suites): after a full `gc()` the next
  // few thousand tasks cost several times their steady CPU (the young generation shrinks back,
  // code is re-optimised), which swamps the short runs of the slow workloads. The previous run's
  // garbage lands in the next one instead; the rotation spreads it over every configuration.
  const cpuBefore = process.cpuUsage();
  const startedAt = performance.now();
  const pending = new Array(tasks);
  if (workload.parents)
    for (let i = 0; i < tasks; i++) pending[i] = context.with(PARENTS[i & 1_023], submitOne);
  else for (let i = 0; i < tasks; i++) pending[i] = submitOne();
  await Promise.all(pending);
  const elapsedMs = performance.now() - startedAt;
  const cpu = process.cpuUsage(cpuBefore);
  await mill.stopGraceful();
  if (done !== tasks) throw new Error(`${workload.name}/${configName}: ${done} of ${tasks} ran`);
  return { elapsedMs, cpuUsPerTask: (cpu.user + cpu.system) / tasks };
}

console.log(
  `taskmill observability overhead: ${WORKLOADS.map((w) => `${w.name} (${w.tasks.toLocaleString("en")} tasks, concurrency ${w.concurrency})`).join(", ")}; ${REPS} rounds; cpu-50us spins ${SPIN.iterations} iterations = ${SPIN.measuredUs} µs`,
);
const samples = new Map();
for (const w of WORKLOADS)
  for (const c of w.configs) samples.set(`${w.name}/${c}`, { elapsedMs: [], cpuUsPerTask: [] });
for (const w of WORKLOADS) for (const c of w.configs) await runOnce(w, c, Math.round(w.tasks / 10)); // warm-up
for (let round = 0; round < REPS; round++) {
  for (const w of WORKLOADS) {
    for (const c of roundRobin(w.configs, round)) {
      const { elapsedMs, cpuUsPerTask } = await runOnce(w, c, w.tasks);
      const s = samples.get(`${w.name}/${c}`);
      s.elapsedMs.push(elapsedMs);
      s.cpuUsPerTask.push(cpuUsPerTask);
    }
  }
  process.stdout.write(`  round ${round + 1}/${REPS} done\n`);
}
useContextManager(false);
await Promise.all(
  [ratioSdk, alwaysSdk].flatMap((sdk) => [
    sdk.meterProvider.shutdown(),
    sdk.tracerProvider.shutdown(),
  ]),
);

const round1 = (x) => Math.round(x * 10) / 10;
const round2 = (x) => Math.round(x * 100) / 100;
const round3 = (x) => Math.round(x * 1_000) / 1_000;
const report = {
  suite: "observability-overhead",
  date: new Date().toISOString(),
  rounds: REPS,
  sampler: SAMPLER,
  contextManager: "AsyncLocalStorageContextManager (@opentelemetry/context-async-hooks)",
  configs: CONFIG_DESCRIPTIONS,
  target: { config: "sdk", maxCostPct: TARGET_PCT },
  workloads: [],
  machine: machineInfo(),
  versions: packageVersions([
    "@opentelemetry/api",
    "@opentelemetry/sdk-metrics",
    "@opentelemetry/sdk-trace",
    "@opentelemetry/context-async-hooks",
    "prom-client",
  ]),
  forcedGcBetweenRuns: false,
};

for (const w of WORKLOADS) {
  const results = w.configs.map((config) => {
    const s = samples.get(`${w.name}/${config}`);
    const medianMs = median(s.elapsedMs);
    return {
      config,
      tasksPerSecond: Math.round((w.tasks / medianMs) * 1_000),
      medianMs: round1(medianMs),
      spreadPct: round1(spreadPct(s.elapsedMs)),
      runsMs: s.elapsedMs.map(round1),
      cpuUsPerTask: round2(median(s.cpuUsPerTask)),
    };
  });
  const by = Object.fromEntries(results.map((r) => [r.config, r]));
  for (const r of results) {
    // Throughput ratio (higher is better) and CPU-per-task ratio (lower is better) to `off`.
    r.throughputRatioToOff = round3(r.tasksPerSecond / by.off.tasksPerSecond);
    r.costPct = round1((1 - r.throughputRatioToOff) * 100);
    r.cpuRatioToOff = round3(r.cpuUsPerTask / by.off.cpuUsPerTask);
    r.cpuCostPct = round1((r.cpuRatioToOff - 1) * 100);
  }
  const sdk = by.sdk;
  report.workloads.push({
    name: w.name,
    handler: w.handler,
    tasks: w.tasks,
    concurrency: w.concurrency,
    submittedInRequestContext: w.parents === true,
    verdict: sdk.costPct <= TARGET_PCT ? "PASS" : "OVER TARGET",
    sdkCostPct: sdk.costPct,
    // CPU per task: the engine alone, and what metrics + tracing through the SDK add to it.
    offCpuUsPerTask: by.off.cpuUsPerTask,
    sdkAddedCpuUsPerTask: round2(sdk.cpuUsPerTask - by.off.cpuUsPerTask),
    // What taskmill's instrumentation adds on top of a service that already runs the SDK.
    sdkVsCtx: by.ctx
      ? {
          throughputRatio: round3(sdk.tasksPerSecond / by.ctx.tasksPerSecond),
          cpuRatio: round3(sdk.cpuUsPerTask / by.ctx.cpuUsPerTask),
        }
      : undefined,
    results,
  });
}

for (const w of report.workloads) {
  console.log("");
  console.log(`${w.name}: ${w.handler}; ${w.tasks} tasks, concurrency ${w.concurrency}`);
  console.log("config        tasks/s   spread   vs off    cost | CPU us/task   vs off    cost");
  for (const r of w.results)
    console.log(
      `${r.config.padEnd(11)} ${String(r.tasksPerSecond).padStart(9)}   ${`±${r.spreadPct}%`.padStart(6)}   ${r.throughputRatioToOff.toFixed(3)}  ${`${r.costPct}%`.padStart(6)} | ${r.cpuUsPerTask.toFixed(2).padStart(11)}   ${r.cpuRatioToOff.toFixed(3)}  ${`${r.cpuCostPct}%`.padStart(6)}`,
    );
  console.log(
    `sdk vs off: cost ${w.sdkCostPct}% (target <= ${TARGET_PCT}%): ${w.verdict}; CPU per task ${w.offCpuUsPerTask} µs off, +${w.sdkAddedCpuUsPerTask} µs with the SDK${w.sdkVsCtx ? `; sdk vs ctx: throughput ${w.sdkVsCtx.throughputRatio}, CPU ${w.sdkVsCtx.cpuRatio}` : ""}`,
  );
}
if (sink === 42) console.log(""); // keeps the spin loop's result alive

mkdirSync(dirname(OUT), { recursive: true });
writeFileSync(OUT, `${JSON.stringify(report, null, 2)}\n`);
console.log(`wrote ${OUT}`);
