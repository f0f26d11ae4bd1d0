// What metrics and tracing cost: taskmill's throughput with the real OpenTelemetry SDK
// installed and enabled, against the same engine with both turned off, in one process and one
// run, interleaved round-robin.
//
//   npm run build && node --expose-gc bench/observability.mjs
//
// Workload: 100,000 no-op tasks at concurrency 16, one completion promise each
// (`submit(...).then((t) => t.result())`), the batch awaited with Promise.all. A no-op task is
// the worst case for relative overhead: real handlers do I/O that dwarfs it.
//
// Configurations (each gets a fresh TaskManager per run):
//   off       `metrics: false, tracing: false`, no context manager installed: the baseline.
//   api-only  the defaults with no SDK installed: the global no-op providers.
//   ctx       as off, but with an AsyncLocalStorageContextManager installed and in use, as in
//             any service running the OpenTelemetry SDK: what the service pays for context
//             propagation whether or not taskmill traces anything.
//   prom      metrics through `taskmill/prometheus` (prom-client), tracing off.
//   sdk       MeterProvider with a PeriodicExportingMetricReader (1 s interval, in-memory
//             exporter); TracerProvider with a BatchSpanProcessor feeding a no-op exporter and
//             the sampler ParentBased(root: TraceIdRatioBased(0.1)) (10 % of root traces
//             recorded, children follow their parent: a common production setting);
//             AsyncLocalStorageContextManager enabled. This is the configuration held to the
//             <= 10 % target.
//   sdk-metrics / sdk-tracing   the two halves of sdk alone (sdk-tracing with the context
//             manager), to show where the cost goes.
//   sdk-all   as sdk, but with AlwaysOnSampler: every attempt recorded and exported. Reported
//             for transparency, not held to the target.
//
// Each configuration reports wall-clock throughput (tasks/s, the median run) and CPU time per
// task (user + system, the median run). On a shared or busy machine CPU time is the steadier
// of the two; both ratios are printed.
//
// Environment: TASKMILL_DIST=path (another build), BENCH_OBS_TASKS (default 100000),
// BENCH_OBS_REPS (measured rounds, default 9), BENCH_OUT (default
// bench/results/observability.json).
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { context } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from "@opentelemetry/sdk-metrics";
import {
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from "@opentelemetry/sdk-trace";
import { machineInfo, packageVersions } from "./lib/env.mjs";
import { collectGarbage, roundRobin } from "./lib/runner.mjs";
import { median, spreadPct } from "./lib/stats.mjs";

const benchDir = dirname(fileURLToPath(import.meta.url));
const TASKS = Number(process.env.BENCH_OBS_TASKS ?? 100_000);
const REPS = Number(process.env.BENCH_OBS_REPS ?? 9);
const CONCURRENCY = 16;
const TARGET_PCT = 10;
const OUT = resolve(benchDir, process.env.BENCH_OUT ?? "results/observability.json");

const dist = process.env.TASKMILL_DIST
  ? pathToFileURL(resolve(process.env.TASKMILL_DIST)).href
  : new URL("../dist/index.js", import.meta.url).href;
const { TaskManager } = await import(dist);
const { createPrometheusMetrics } = await import(new URL("observability/prometheus.js", dist).href);
const { Registry } = await import("prom-client");

// Exports nothing, as fast as possible: the cost measured is taskmill's and the SDK's, not a
// network exporter's.
const noopSpanExporter = {
  export: (_spans, done) => done({ code: 0 }),
  shutdown: async () => {},
  forceFlush: async () => {},
};

function sdkProviders(sampler) {
  const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({
    exporter: metricExporter,
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
  return { meterProvider, tracerProvider, metricExporter };
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

const ratioSdk = sdkProviders(new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(0.1) }));
const alwaysSdk = sdkProviders(new AlwaysOnSampler());

const CONFIGS = [
  { name: "off", contextManager: false, options: { metrics: false, tracing: false } },
  { name: "api-only", contextManager: false, options: {} },
  { name: "ctx", contextManager: true, options: { metrics: false, tracing: false } },
  {
    name: "prom",
    contextManager: false,
    options: { metrics: createPrometheusMetrics({ registry: new Registry() }), tracing: false },
  },
  {
    name: "sdk",
    contextManager: true,
    sdk: ratioSdk,
    options: {
      metrics: { meterProvider: ratioSdk.meterProvider },
      tracing: { tracerProvider: ratioSdk.tracerProvider },
    },
  },
  {
    name: "sdk-metrics",
    contextManager: false,
    options: { metrics: { meterProvider: ratioSdk.meterProvider }, tracing: false },
  },
  {
    name: "sdk-tracing",
    contextManager: true,
    options: { metrics: false, tracing: { tracerProvider: ratioSdk.tracerProvider } },
  },
  {
    name: "sdk-all",
    contextManager: true,
    sdk: alwaysSdk,
    options: {
      metrics: { meterProvider: alwaysSdk.meterProvider },
      tracing: { tracerProvider: alwaysSdk.tracerProvider },
    },
  },
];

async function runOnce(config, tasks) {
  useContextManager(config.contextManager);
  config.sdk?.metricExporter.reset();
  const mill = new TaskManager({
    concurrency: CONCURRENCY,
    retention: { maxEntries: 1_000 },
    ...config.options,
  });
  let done = 0;
  mill.register("noop", async () => {
    done++;
  });
  collectGarbage();
  const cpuBefore = process.cpuUsage();
  const startedAt = performance.now();
  const pending = new Array(tasks);
  for (let i = 0; i < tasks; i++) pending[i] = mill.submit("noop").then((task) => task.result());
  await Promise.all(pending);
  const elapsedMs = performance.now() - startedAt;
  const cpu = process.cpuUsage(cpuBefore);
  await mill.stopGraceful();
  if (done !== tasks) throw new Error(`${config.name}: ${done} of ${tasks} tasks ran`);
  return { elapsedMs, cpuUsPerTask: (cpu.user + cpu.system) / tasks };
}

const runs = new Map(CONFIGS.map((config) => [config.name, []]));
const cpu = new Map(CONFIGS.map((config) => [config.name, []]));
console.log(
  `taskmill observability overhead: ${TASKS.toLocaleString("en")} no-op tasks, concurrency ${CONCURRENCY}, ${REPS} rounds`,
);
for (const config of CONFIGS) await runOnce(config, Math.round(TASKS / 10)); // warm-up
for (let round = 0; round < REPS; round++) {
  for (const config of roundRobin(CONFIGS, round)) {
    const { elapsedMs, cpuUsPerTask } = await runOnce(config, TASKS);
    runs.get(config.name).push(elapsedMs);
    cpu.get(config.name).push(cpuUsPerTask);
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

const results = CONFIGS.map((config) => {
  const runsMs = runs.get(config.name);
  const medianMs = median(runsMs);
  return {
    config: config.name,
    tasksPerSecond: Math.round((TASKS / medianMs) * 1_000),
    medianMs: Math.round(medianMs * 10) / 10,
    spreadPct: Math.round(spreadPct(runsMs) * 10) / 10,
    runsMs: runsMs.map((ms) => Math.round(ms * 10) / 10),
    cpuUsPerTask: Math.round(median(cpu.get(config.name)) * 100) / 100,
  };
});
const round3 = (x) => Math.round(x * 1_000) / 1_000;
const byConfig = Object.fromEntries(results.map((r) => [r.config, r]));
for (const result of results) {
  // Throughput ratio (higher is better) and CPU-per-task ratio (lower is better) to `off`.
  result.throughputRatioToOff = round3(result.tasksPerSecond / byConfig.off.tasksPerSecond);
  result.costPct = Math.round((1 - result.throughputRatioToOff) * 1_000) / 10;
  result.cpuRatioToOff = round3(result.cpuUsPerTask / byConfig.off.cpuUsPerTask);
  result.cpuCostPct = Math.round((result.cpuRatioToOff - 1) * 1_000) / 10;
}
const sdk = byConfig.sdk;
const verdict = sdk.costPct <= TARGET_PCT ? "PASS" : "OVER TARGET";
// What taskmill's instrumentation adds on top of a service that already runs the SDK.
const attributable = {
  throughputRatio: round3(sdk.tasksPerSecond / byConfig.ctx.tasksPerSecond),
  cpuRatio: round3(sdk.cpuUsPerTask / byConfig.ctx.cpuUsPerTask),
};

console.log("");
console.log("config      tasks/s   spread   vs off   cost   | CPU us/task   vs off    cost");
for (const r of results)
  console.log(
    `${r.config.padEnd(9)} ${String(r.tasksPerSecond).padStart(9)}   ${`±${r.spreadPct}%`.padStart(6)}   ${r.throughputRatioToOff.toFixed(3)}  ${`${r.costPct}%`.padStart(6)} | ${r.cpuUsPerTask.toFixed(2).padStart(11)}   ${r.cpuRatioToOff.toFixed(3)}  ${`${r.cpuCostPct}%`.padStart(6)}`,
  );
console.log("");
console.log(
  `sdk (metrics + tracing, 10 % sampled) vs off: throughput ratio ${sdk.throughputRatioToOff.toFixed(3)}, cost ${sdk.costPct}% (target <= ${TARGET_PCT}%): ${verdict}`,
);
console.log(
  `sdk vs ctx (context manager already in use, taskmill instrumentation off): throughput ratio ${attributable.throughputRatio}, CPU ratio ${attributable.cpuRatio}`,
);

const report = {
  suite: "observability-overhead",
  date: new Date().toISOString(),
  workload: { tasks: TASKS, concurrency: CONCURRENCY, handler: "async () => {}", rounds: REPS },
  configs: {
    off: "metrics: false, tracing: false; no context manager",
    "api-only": "defaults, no SDK installed (global no-op providers)",
    ctx: "as off, with AsyncLocalStorageContextManager installed and in use",
    prom: "metrics through taskmill/prometheus (prom-client registry), tracing off",
    sdk: "sdk-metrics PeriodicExportingMetricReader 1s + in-memory exporter; sdk-trace BatchSpanProcessor + no-op exporter, ParentBased(TraceIdRatioBased(0.1)); AsyncLocalStorageContextManager",
    "sdk-metrics": "sdk's metrics only (tracing off, no context manager)",
    "sdk-tracing": "sdk's tracing only (metrics off), with the context manager",
    "sdk-all": "as sdk with AlwaysOnSampler",
  },
  target: { config: "sdk", maxCostPct: TARGET_PCT, verdict },
  sdkVsCtx: attributable,
  results,
  machine: machineInfo(),
  versions: packageVersions([
    "@opentelemetry/api",
    "@opentelemetry/sdk-metrics",
    "@opentelemetry/sdk-trace",
    "@opentelemetry/context-async-hooks",
    "prom-client",
  ]),
  gcExposed: typeof globalThis.gc === "function",
};
mkdirSync(dirname(OUT), { recursive: true });
writeFileSync(OUT, `${JSON.stringify(report, null, 2)}\n`);
console.log(`wrote ${OUT}`);
