// The durable suite: taskmill's Redis backend against BullMQ and bee-queue on one
// redis-server, in one process and one run (see bench/README.md, "Durable mode").
//
//   throughput   N no-op jobs per run. Method "enqueue, then process": the whole batch is
//                submitted first (every submit issued at once, Promise.all; timed as the
//                enqueue rate), then the worker starts and the clock runs until the last job's
//                success is reported (see durable-contenders.mjs). jobs/s = N / that time.
//                Interleaved rounds (library order rotated each round), medians.
//   latency      paced submits at a fixed offered rate, open loop (a submit never waits for the
//                previous one), with the worker already running and idle. The payload carries
//                performance.timeOrigin + performance.now() taken just before the submit call;
//                the job computes start - enqueue.
//   commands     unmeasured diagnostic runs under MONITOR: the commands each library's clients
//                send per job (Lua-internal commands excluded), enqueue and processing apart.
import { readFileSync } from "node:fs";
import { BASELINE } from "./durable-contenders.mjs";
import { RedisControl } from "./durable-redis.mjs";
import { collectGarbage, errorMessage, roundRobin, withTimeout } from "./runner.mjs";
import { median, spreadPct } from "./stats.mjs";

export const now = () => performance.timeOrigin + performance.now();

// Read and write system calls of a process so far (Linux /proc/<pid>/io; undefined elsewhere):
// with small commands each socket read or write is one round-trip leg, so per job they show
// how well a library batches.
function syscalls(pid = "self") {
  try {
    const text = readFileSync(`/proc/${pid}/io`, "utf8");
    return {
      reads: Number(/syscr: (\d+)/.exec(text)[1]),
      writes: Number(/syscw: (\d+)/.exec(text)[1]),
    };
  } catch {
    return undefined;
  }
}

function syscallsPerJob(before, after, jobs) {
  if (!before || !after) return undefined;
  return {
    reads: round((after.reads - before.reads) / jobs, 2),
    writes: round((after.writes - before.writes) / jobs, 2),
  };
}
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export function durableSettings(env) {
  const quick = env.BENCH_QUICK === "1";
  const list = (value) =>
    value
      ?.split(",")
      .map((s) => s.trim())
      .filter(Boolean);
  return {
    quick,
    jobs: Number(env.BENCH_DURABLE_JOBS ?? (quick ? 2_000 : 20_000)),
    reps: Number(env.BENCH_DURABLE_REPS ?? (quick ? 1 : 5)),
    concurrencies: (list(env.BENCH_DURABLE_CONCURRENCY) ?? ["1", "16", "64"]).map(Number),
    warmupJobs: quick ? 200 : 2_000,
    latency: {
      perSecond: Number(env.BENCH_DURABLE_RATE ?? 2_000),
      durationMs: Number(env.BENCH_DURABLE_LATENCY_MS ?? (quick ? 1_000 : 5_000)),
      concurrency: 16,
      reps: Number(env.BENCH_DURABLE_LATENCY_REPS ?? (quick ? 1 : 3)),
      // Each round in a fresh child process (default), so that no library's heap (nor the
      // throughput runs' garbage) lengthens another's collector pauses.
      isolate: env.BENCH_DURABLE_LATENCY_ISOLATE !== "0",
    },
    commands: {
      enabled: env.BENCH_DURABLE_COMMANDS !== "0",
      jobs: quick ? 500 : 2_000,
      concurrencies: [1, 64],
    },
    redisBenchmark: { requests: quick ? 20_000 : 100_000, pipeline: 16 },
    only: list(env.BENCH_DURABLE_LIBS),
    skip: new Set(list(env.BENCH_DURABLE_SKIP) ?? []),
    runTimeoutMs: 180_000,
  };
}

let runCounter = 0;
export function prefixFor(contender, what) {
  runCounter += 1;
  return `bench-${contender.name}-${what}-${runCounter}`;
}

export function serverOptions(server) {
  return { host: server.host, port: server.port, url: server.url };
}

/** A completion latch: resolves once `onCompleted` has been called `target` times. */
export function completionLatch(target = Number.POSITIVE_INFINITY) {
  let resolve;
  const latch = {
    completed: 0,
    target,
    done: new Promise((r) => {
      resolve = r;
    }),
    onCompleted() {
      latch.completed += 1;
      if (latch.completed >= latch.target) resolve();
    },
    expect(n) {
      latch.target = n;
      if (latch.completed >= n) resolve();
    },
  };
  return latch;
}

export function countCheck(what, handled, completed, jobs) {
  if (handled !== jobs || completed !== jobs)
    throw new Error(
      `${what}: ${handled} handler calls and ${completed} completions for ${jobs} jobs`,
    );
}

async function submitAll(queue, jobs, makePayload) {
  const pending = new Array(jobs);
  for (let i = 0; i < jobs; i++) pending[i] = queue.submit(makePayload(i));
  await Promise.all(pending);
}

// ---- Throughput ---------------------------------------------------------------------------

async function throughputRun({ contender, server, control, concurrency, jobs, timeoutMs }) {
  await control.flush();
  let handled = 0;
  const latch = completionLatch(jobs);
  const queue = await contender.open({
    ...serverOptions(server),
    prefix: prefixFor(contender, `c${concurrency}`),
    concurrency,
    handler: () => {
      handled += 1;
    },
    onCompleted: latch.onCompleted,
  });
  let run;
  try {
    collectGarbage();
    const s0 = await control.snapshot();
    const enqueueStart = performance.now();
    await withTimeout(
      submitAll(queue, jobs, (i) => ({ i })),
      timeoutMs,
      "enqueue",
    );
    const enqueueMs = performance.now() - enqueueStart;
    const s1 = await control.snapshot();
    const cpuBefore = process.cpuUsage();
    const nodeIo = syscalls();
    const redisIo = syscalls(server.pid);
    const processStart = performance.now();
    queue.start();
    await withTimeout(latch.done, timeoutMs, "processing");
    const processMs = performance.now() - processStart;
    const cpu = process.cpuUsage(cpuBefore);
    const nodeSyscalls = syscallsPerJob(nodeIo, syscalls(), jobs);
    const redisSyscalls = syscallsPerJob(redisIo, syscalls(server.pid), jobs);
    const s2 = await control.snapshot();
    run = {
      enqueueMs: round(enqueueMs, 1),
      processMs: round(processMs, 1),
      jobsPerSec: round((jobs / processMs) * 1000, 0),
      enqueuePerSec: round((jobs / enqueueMs) * 1000, 0),
      nodeCpuUsPerJob: round((cpu.user + cpu.system) / jobs, 1),
      // Share of one core each process kept busy: low on both sides means they wait on each
      // other (round trips in lock step) rather than run in parallel.
      nodeBusyPct: round(((cpu.user + cpu.system) / 1000 / processMs) * 100, 0),
      redisBusyPct: round((((s2.cpuSec - s1.cpuSec) * 1000) / processMs) * 100, 0),
      nodeSyscallsPerJob: nodeSyscalls,
      redisSyscallsPerJob: redisSyscalls,
      enqueueRedis: RedisControl.perJob(s0, s1, jobs),
      processRedis: RedisControl.perJob(s1, s2, jobs),
      processRedisCommands: RedisControl.byCommand(s1, s2, jobs, 8),
    };
  } finally {
    await withTimeout(queue.close(), timeoutMs, "close");
  }
  // After close: a duplicate delivery would show up as an extra handler call.
  countCheck("throughput", handled, latch.completed, jobs);
  return run;
}

function summarizeRuns(runs) {
  const med = (f, digits) => round(median(runs.map(f)), digits);
  const io = runs[0].nodeSyscallsPerJob && runs[0].redisSyscallsPerJob;
  return {
    jobsPerSec: med((r) => r.jobsPerSec, 0),
    spreadPct: round(spreadPct(runs.map((r) => r.jobsPerSec)), 1),
    enqueuePerSec: med((r) => r.enqueuePerSec, 0),
    nodeCpuUsPerJob: med((r) => r.nodeCpuUsPerJob, 1),
    redisCpuUsPerJob: med((r) => r.processRedis.redisCpuUsPerJob, 1),
    nodeBusyPct: med((r) => r.nodeBusyPct, 0),
    redisBusyPct: med((r) => r.redisBusyPct, 0),
    commandsPerJob: med((r) => r.processRedis.commandsPerJob, 2),
    scriptsPerJob: med((r) => r.processRedis.scriptsPerJob, 2),
    netBytesPerJob: med((r) => r.processRedis.netBytesPerJob, 0),
    enqueueRedisCpuUsPerJob: med((r) => r.enqueueRedis.redisCpuUsPerJob, 1),
    ...(io
      ? {
          nodeSyscallsPerJob: med(
            (r) => r.nodeSyscallsPerJob.reads + r.nodeSyscallsPerJob.writes,
            2,
          ),
          redisSyscallsPerJob: med(
            (r) => r.redisSyscallsPerJob.reads + r.redisSyscallsPerJob.writes,
            2,
          ),
        }
      : {}),
  };
}

export async function runDurableThroughput({ contenders, server, control, settings, log }) {
  const { jobs, reps, concurrencies, runTimeoutMs } = settings;
  const runs = new Map();
  const errors = new Map();
  const key = (name, c) => `${name}@${c}`;
  const attempt = async (contender, concurrency, n, label) => {
    if (errors.has(contender.name)) return undefined;
    try {
      const run = await throughputRun({
        contender,
        server,
        control,
        concurrency,
        jobs: n,
        timeoutMs: runTimeoutMs,
      });
      log(
        `  ${label} ${contender.name} c=${concurrency}: ${run.jobsPerSec} jobs/s ` +
          `(enqueue ${run.enqueuePerSec}/s)`,
      );
      return run;
    } catch (error) {
      // A library that failed may have work in flight: keep it out of the rest of the suite.
      errors.set(contender.name, errorMessage(error));
      log(`  ! ${contender.name} c=${concurrency}: ${errorMessage(error)}`);
      return undefined;
    } finally {
      collectGarbage();
    }
  };
  // Warm-up: one unmeasured run each, so that JIT compilation and script loading are not timed.
  for (const contender of contenders) await attempt(contender, 16, settings.warmupJobs, "warm-up");
  for (let round = 0; round < reps; round++) {
    for (const [i, concurrency] of concurrencies.entries()) {
      // Rotate the starting library on every case, so none always runs first (or last).
      for (const contender of roundRobin(contenders, round * concurrencies.length + i)) {
        const run = await attempt(contender, concurrency, jobs, `round ${round + 1}`);
        if (run === undefined) continue;
        const k = key(contender.name, concurrency);
        runs.set(k, [...(runs.get(k) ?? []), run]);
      }
    }
  }
  const cases = concurrencies.map((concurrency) => {
    const results = contenders.map((contender) => {
      const list = runs.get(key(contender.name, concurrency)) ?? [];
      if (list.length === 0 || errors.has(contender.name))
        return { library: contender.name, jobs, error: errors.get(contender.name) ?? "no runs" };
      return { library: contender.name, jobs, ...summarizeRuns(list), runs: list };
    });
    const base = results.find((r) => r.library === BASELINE && !r.error);
    for (const r of results) {
      if (r.error || !base) continue;
      r.ratioToBaseline = round(r.jobsPerSec / base.jobsPerSec, 2);
      // Same-round pairs: robust to a slow phase of the machine hitting one round.
      const paired = r.runs
        .map((run, i) => base.runs[i] && run.jobsPerSec / base.runs[i].jobsPerSec)
        .filter((x) => x !== undefined);
      r.pairedRatioToBaseline = round(median(paired), 2);
    }
    return { concurrency, results };
  });
  return {
    jobs,
    reps,
    method:
      "enqueue, then process: all jobs submitted at once (Promise.all over one submit per job) and timed as the enqueue rate; then the worker starts and the clock runs until the last job's completion is reported",
    producer:
      "same process; taskmill and bee-queue submit through the working manager/queue, BullMQ through a Queue next to its Worker",
    baseline: BASELINE,
    cases,
  };
}

// ---- Commands per job (diagnostic, under MONITOR) -------------------------------------------

async function commandsRun({ contender, server, control, concurrency, jobs, timeoutMs }) {
  await control.flush();
  const tap = await control.tap();
  const latch = completionLatch(jobs);
  let handled = 0;
  const queue = await contender.open({
    ...serverOptions(server),
    prefix: prefixFor(contender, `cmd${concurrency}`),
    concurrency,
    handler: () => {
      handled += 1;
    },
    onCompleted: latch.onCompleted,
  });
  try {
    await sleep(50);
    tap.phase = "enqueue";
    await withTimeout(
      submitAll(queue, jobs, (i) => ({ i })),
      timeoutMs,
      "enqueue",
    );
    await sleep(50);
    tap.phase = "process";
    queue.start();
    await withTimeout(latch.done, timeoutMs, "processing");
    await sleep(50);
    tap.phase = "close";
  } finally {
    await withTimeout(queue.close(), timeoutMs, "close");
    await tap.stop();
  }
  countCheck("commands", handled, latch.completed, jobs);
  const perJob = (phase) => {
    const counts = tap.counts[phase] ?? {};
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    const byCommand = Object.fromEntries(
      Object.entries(counts)
        .sort((a, b) => b[1] - a[1])
        .map(([name, n]) => [name, round(n / jobs, 3)]),
    );
    return { total: round(total / jobs, 2), byCommand };
  };
  return { concurrency, jobs, enqueue: perJob("enqueue"), process: perJob("process") };
}

export async function runDurableCommands({ contenders, server, control, settings, log }) {
  const { commands, runTimeoutMs } = settings;
  const results = [];
  for (const contender of contenders) {
    for (const concurrency of commands.concurrencies) {
      try {
        const run = await commandsRun({
          contender,
          server,
          control,
          concurrency,
          jobs: commands.jobs,
          timeoutMs: runTimeoutMs,
        });
        results.push({ library: contender.name, ...run });
        log(
          `  ${contender.name} c=${concurrency}: ${run.enqueue.total} commands/job to enqueue, ` +
            `${run.process.total} to process`,
        );
      } catch (error) {
        results.push({ library: contender.name, concurrency, error: errorMessage(error) });
        log(`  ! ${contender.name} c=${concurrency}: ${errorMessage(error)}`);
      } finally {
        collectGarbage();
      }
    }
  }
  return {
    jobs: commands.jobs,
    method:
      "MONITOR during unmeasured runs; commands sent by the libraries' clients (commands run inside Lua scripts excluded), per job",
    results,
  };
}

// ---- Targets --------------------------------------------------------------------------------

/** The targets: >= 2x BullMQ's jobs/s at each concurrency, and a lower p99. */
export function durableTargets(throughput, latency, submitMany) {
  const checks = [];
  for (const testCase of throughput?.cases ?? []) {
    const ours = testCase.results.find((r) => r.library === "taskmill");
    const base = testCase.results.find((r) => r.library === BASELINE);
    const ok = ours && base && !ours.error && !base.error;
    checks.push({
      target: `jobs/s at concurrency ${testCase.concurrency} >= 2x BullMQ`,
      value: ok ? ours.ratioToBaseline : null,
      check: ok ? (ours.ratioToBaseline >= 2 ? "PASS" : "FAIL") : "n/a",
    });
  }
  if (latency) {
    const ours = latency.results.find((r) => r.library === "taskmill");
    const base = latency.results.find((r) => r.library === BASELINE);
    const ok = ours && base && !ours.error && !base.error;
    checks.push({
      target: `p99 enqueue-to-start at ${latency.perSecond}/s, concurrency ${latency.concurrency} (median of rounds) < BullMQ's`,
      value: ok ? { taskmill: ours.medianRoundP99Ms, bullmq: base.medianRoundP99Ms } : null,
      check: ok ? (ours.medianRoundP99Ms < base.medianRoundP99Ms ? "PASS" : "FAIL") : "n/a",
    });
    // Issue 17: no higher than bee-queue's, to start and to complete.
    const bee = latency.results.find((r) => r.library === "bee-queue");
    const withBee = ours && bee && !ours.error && !bee.error;
    for (const [what, pick] of [
      ["start", (r) => r.medianRoundP99Ms],
      ["complete", (r) => r.complete?.medianRoundP99Ms],
    ])
      checks.push({
        target: `p99 enqueue-to-${what} at ${latency.perSecond}/s, concurrency ${latency.concurrency} (median of rounds) <= bee-queue's`,
        value: withBee ? { taskmill: pick(ours), "bee-queue": pick(bee) } : null,
        check: withBee ? (pick(ours) <= pick(bee) ? "PASS" : "FAIL") : "n/a",
      });
  }
  if (submitMany) {
    // Issue 17: submitMany of 20,000 tasks at least as fast as bee-queue's saveAll.
    const ours = submitMany.results.find((r) => r.way.startsWith("taskmill submitMany (1 call"));
    checks.push({
      target: `submitMany of ${submitMany.tasks} tasks in one call >= bee-queue saveAll (tasks/s)`,
      value: ours?.vsBeeQueue ?? null,
      check: ours?.vsBeeQueue == null ? "n/a" : ours.vsBeeQueue >= 1 ? "PASS" : "FAIL",
    });
  }
  return checks;
}

export function round(value, digits) {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
