// The durable suite's latency runs: paced submits at a fixed offered rate, open loop, into a
// running idle worker; enqueue-to-start and enqueue-to-complete per job. Each round runs in a
// fresh child process (durable-latency-child.mjs) so one library's heap does not tax another's
// pauses. Part of the durable suite (durable-suite.mjs, which documents the method).
import { fork } from "node:child_process";
import {
  completionLatch,
  countCheck,
  now,
  prefixFor,
  round,
  serverOptions,
  sleep,
} from "./durable-suite.mjs";
import { collectGarbage, errorMessage, roundRobin, withTimeout } from "./runner.mjs";
import { median } from "./stats.mjs";

// ---- Latency ------------------------------------------------------------------------------

function percentile(sorted, p) {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

function latencyStats(samples) {
  const sorted = Float64Array.from(samples).sort();
  const sum = sorted.reduce((a, b) => a + b, 0);
  return {
    count: sorted.length,
    p50Ms: round(percentile(sorted, 50), 2),
    p90Ms: round(percentile(sorted, 90), 2),
    p99Ms: round(percentile(sorted, 99), 2),
    maxMs: round(sorted[sorted.length - 1], 2),
    meanMs: round(sum / sorted.length, 2),
  };
}

// Open loop: every ~1 ms timer tick submits the jobs due by then, never waiting for a submit.
async function pacedSubmits(queue, perSecond, durationMs) {
  const total = Math.round((perSecond * durationMs) / 1000);
  const pending = [];
  const start = performance.now();
  let sent = 0;
  let last = start;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - start) * perSecond) / 1000) + 1);
    while (sent < due) {
      const t = now();
      pending.push(queue.submit({ t, i: sent }));
      sent += 1;
    }
    last = performance.now();
    if (sent < total) await sleep(1);
  }
  const spanMs = last - start;
  return { pending, sent, offeredPerSec: spanMs > 0 ? round(((sent - 1) / spanMs) * 1000, 0) : 0 };
}

/**
 * One latency round in this process: paced submits into a running, idle worker; per job the
 * time from just before its submit call to its start (handler) and to its reported completion.
 */
export async function latencyRun({ contender, server, control, latency, timeoutMs }) {
  await control.flush();
  const samples = [];
  const completeSamples = [];
  const latch = completionLatch();
  const queue = await contender.open({
    ...serverOptions(server),
    prefix: prefixFor(contender, "latency"),
    concurrency: latency.concurrency,
    handler: (payload) => {
      samples.push(now() - payload.t);
    },
    onCompleted: (payload) => {
      if (payload !== undefined) completeSamples.push(now() - payload.t);
      latch.onCompleted();
    },
  });
  let offered;
  try {
    queue.start();
    await sleep(500); // the worker reaches its idle wait
    collectGarbage();
    offered = await pacedSubmits(queue, latency.perSecond, latency.durationMs);
    latch.expect(offered.sent);
    await withTimeout(Promise.all(offered.pending), timeoutMs, "enqueue");
    await withTimeout(latch.done, timeoutMs, "processing");
  } finally {
    await withTimeout(queue.close(), timeoutMs, "close");
  }
  countCheck("latency", samples.length, latch.completed, offered.sent);
  if (completeSamples.length !== offered.sent)
    throw new Error(`latency: ${completeSamples.length} completions carried their payload`);
  return { samples, completeSamples, offeredPerSec: offered.offeredPerSec };
}

/**
 * One latency round in a fresh child process (durable-latency-child.mjs), which loads the
 * same builds (it inherits the environment) and talks to the same redis-server.
 */
function latencyRunInChild({ contender, server, latency, timeoutMs }) {
  return new Promise((resolve, reject) => {
    const child = fork(new URL("./durable-latency-child.mjs", import.meta.url), [], {
      execArgv: [
        "--expose-gc",
        ...(process.env.BENCH_LATENCY_NODE_ARGS ?? "").split(" ").filter(Boolean),
      ],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    let reply;
    child.on("message", (message) => {
      reply = message;
    });
    child.on("error", reject);
    child.on("exit", (code) => {
      if (reply?.error) reject(new Error(reply.error));
      else if (reply && code === 0) resolve(reply);
      else reject(new Error(`latency child exited with ${code} and no result`));
    });
    child.send({
      library: contender.name,
      server: serverOptions(server),
      latency,
      timeoutMs,
    });
  });
}

export async function runDurableLatency({ contenders, server, control, settings, log }) {
  const { latency, runTimeoutMs } = settings;
  const samples = new Map(contenders.map((c) => [c.name, []]));
  const completeSamples = new Map(contenders.map((c) => [c.name, []]));
  const rounds = new Map(contenders.map((c) => [c.name, []]));
  const errors = new Map();
  for (let round = 0; round < latency.reps; round++) {
    for (const contender of roundRobin(contenders, round)) {
      if (errors.has(contender.name)) continue;
      try {
        const options = { contender, server, control, latency, timeoutMs: runTimeoutMs };
        const run = latency.isolate ? await latencyRunInChild(options) : await latencyRun(options);
        samples.get(contender.name).push(...run.samples);
        completeSamples.get(contender.name).push(...run.completeSamples);
        const stats = latencyStats(run.samples);
        const complete = latencyStats(run.completeSamples);
        rounds.get(contender.name).push({ offeredPerSec: run.offeredPerSec, ...stats, complete });
        log(
          `  round ${round + 1} ${contender.name}: start p50 ${stats.p50Ms} ms, p99 ${stats.p99Ms} ms; ` +
            `complete p50 ${complete.p50Ms} ms, p99 ${complete.p99Ms} ms (offered ${run.offeredPerSec}/s)`,
        );
      } catch (error) {
        errors.set(contender.name, errorMessage(error));
        log(`  ! ${contender.name}: ${errorMessage(error)}`);
      } finally {
        collectGarbage();
      }
    }
  }
  const results = contenders.map((contender) => {
    if (errors.has(contender.name))
      return { library: contender.name, error: errors.get(contender.name) };
    const perRound = rounds.get(contender.name);
    return {
      library: contender.name,
      ...latencyStats(samples.get(contender.name)),
      medianRoundP50Ms: round(median(perRound.map((r) => r.p50Ms)), 2),
      medianRoundP99Ms: round(median(perRound.map((r) => r.p99Ms)), 2),
      complete: {
        ...latencyStats(completeSamples.get(contender.name)),
        medianRoundP50Ms: round(median(perRound.map((r) => r.complete.p50Ms)), 2),
        medianRoundP99Ms: round(median(perRound.map((r) => r.complete.p99Ms)), 2),
      },
      offeredPerSec: median(rounds.get(contender.name).map((r) => r.offeredPerSec)),
      rounds: rounds.get(contender.name),
    };
  });
  return {
    perSecond: latency.perSecond,
    durationMs: latency.durationMs,
    concurrency: latency.concurrency,
    reps: latency.reps,
    isolated: latency.isolate,
    method: `open-loop paced submits (~1 ms timer ticks) into a running, idle worker ${
      latency.isolate
        ? "in a fresh child process per library and round (one library's heap does not lengthen another's GC pauses)"
        : "in the same process"
    }; enqueue time taken just before each submit call; start = the handler's first line, complete = the library's local success report (taskmill onFinish, BullMQ worker 'completed', bee-queue 'succeeded'); p50/p90/p99/max over the samples of all rounds, and the median over rounds of each round's p50 and p99 (robust to one disturbed round; the targets use it)`,
    results,
  };
}
