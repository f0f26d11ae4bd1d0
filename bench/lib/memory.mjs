// Suite 3: memory of one long-lived TaskManager. A service creates one manager and pushes
// tasks through it for weeks; with the default retention (finished records kept 1 h, at most
// 10,000) its heap must stop growing once the registry is full, with or without result
// subscribers. We push 1,000,000 no-op tasks through one manager and sample the heap and RSS,
// after forcing garbage collection, at 10%, 50% and 100% of them; flat = the last sample within
// 10% of the first.
//
// Each variant (0 and 3 subscribers) runs once, in a fresh child process: RSS never shrinks
// back after a peak (the allocator keeps its pages), so in the bench's own process the
// throughput suite's high-water mark would hide any growth, and one variant would be billed
// for the other.
import { fork } from "node:child_process";
import { writeHeapSnapshot } from "node:v8";
import { withTimeout } from "./runner.mjs";
import { attachSubscribers, detachSubscribers, SUBSCRIBER_OPTIONS } from "./subscribers.mjs";

export const MEMORY = {
  tasks: 1_000_000,
  checkpoints: [0.1, 0.5, 1], // fractions of `tasks`
  // Submit this many, then await their results: the submitter's own arrays of promises stay
  // small and are garbage by the time we sample, so the samples show the manager's memory.
  batch: 10_000,
  concurrency: 16,
  subscriberVariants: [0, 3],
  maxChangePct: 10,
};

const CHILD = new URL("./memory-child.mjs", import.meta.url);
const CHILD_TIMEOUT_MS = 600_000;
const STOP_TIMEOUT_MS = 30_000;

// BENCH_MEMORY_TASKS overrides the count; quick runs use 1/10 like the other suites.
// BENCH_MEMORY_SNAPSHOTS=dir writes a heap snapshot at the first and the last checkpoint of
// each variant (slow, and the files are large): load both in Chrome DevTools and compare.
export function memorySettings(env, scale) {
  return {
    tasks: Number(env.BENCH_MEMORY_TASKS ?? Math.round(MEMORY.tasks * scale)),
    snapshotDir: env.BENCH_MEMORY_SNAPSHOTS,
  };
}

// ---- In the child process -------------------------------------------------------------------

// Two collections: the first may only finish what the last allocations left half-dead
// (finalizers, weak references), the second then reclaims it.
function sampleMemory(tasks) {
  if (!globalThis.gc) throw new Error("the memory suite needs node --expose-gc");
  globalThis.gc();
  globalThis.gc();
  const { heapUsed, heapTotal, rss, external, arrayBuffers } = process.memoryUsage();
  return { tasks, heapUsed, heapTotal, rss, external, arrayBuffers };
}

// A function of its own, so that its array of promises is garbage once it returns.
async function runBatch(mill, from, n) {
  const pending = new Array(n);
  for (let i = 0; i < n; i++) pending[i] = mill.submit("bench", from + i).then((t) => t.result());
  await Promise.all(pending);
}

export async function runMemoryPass(TaskManager, config) {
  const { tasks, checkpoints, batch, concurrency, subscribers, snapshotDir } = config;
  const before = sampleMemory(0);
  // The options the issue names; retention is left at its default on purpose.
  const mill = new TaskManager({ concurrency, retry: { maxRetries: 0 } });
  const counter = { ran: 0 };
  mill.register("bench", async () => {
    counter.ran++;
  });
  const consumers = attachSubscribers(mill, subscribers);
  const samples = [];
  let done = 0;
  let busyMs = 0; // time spent running tasks, without the sampling
  for (const [index, checkpoint] of checkpoints.entries()) {
    const startedAt = performance.now();
    while (done < checkpoint) {
      const n = Math.min(batch, checkpoint - done);
      await runBatch(mill, done, n);
      done += n;
    }
    busyMs += performance.now() - startedAt;
    samples.push(sampleMemory(done));
    if (snapshotDir && (index === 0 || index === checkpoints.length - 1)) {
      writeHeapSnapshot(`${snapshotDir}/memory-${subscribers}subs-${done}.heapsnapshot`);
    }
  }
  const stats = mill.stats();
  await withTimeout(mill.stopGraceful({ timeoutMs: STOP_TIMEOUT_MS }), CHILD_TIMEOUT_MS, "stop");
  const subscriberResults = await detachSubscribers(consumers, STOP_TIMEOUT_MS);
  if (counter.ran !== tasks) throw new Error(`${counter.ran} of ${tasks} tasks ran`);
  return {
    before,
    samples,
    tasksPerSec: Math.round((tasks / busyMs) * 1000),
    retained: stats.retained,
    resultsDropped: stats.resultsDropped,
    subscriberResults,
  };
}

// ---- In the bench's process -----------------------------------------------------------------

function runInChild(config) {
  return new Promise((resolve, reject) => {
    const child = fork(CHILD, [JSON.stringify(config)], {
      execArgv: ["--expose-gc"],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    let reply;
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`no result within ${CHILD_TIMEOUT_MS} ms`));
    }, CHILD_TIMEOUT_MS);
    child.on("message", (message) => {
      reply = message;
    });
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      if (reply?.error) reject(new Error(reply.error));
      else if (reply) resolve(reply.result);
      else reject(new Error(`child process exited (${signal ?? code}) without a result`));
    });
  });
}

// Within `maxChangePct` of the first sample, either way.
function flatness(samples, key) {
  const first = samples[0][key];
  const last = samples[samples.length - 1][key];
  const changePct = ((last - first) / first) * 100;
  return {
    first,
    last,
    changePct: Math.round(changePct * 100) / 100,
    check: Math.abs(changePct) <= MEMORY.maxChangePct ? "PASS" : "FAIL",
  };
}

function summarize(subscribers, tasks, pass) {
  const missed = pass.subscriberResults.filter((s) => s.seen !== tasks);
  return {
    subscribers,
    tasks,
    ...pass,
    heap: flatness(pass.samples, "heapUsed"),
    rss: flatness(pass.samples, "rss"),
    everySubscriberSawAll: missed.length === 0,
  };
}

export async function runMemorySuite({ source, settings, log }) {
  const { tasks, snapshotDir } = settings.memory;
  const checkpoints = MEMORY.checkpoints.map((fraction) => Math.round(tasks * fraction));
  const variants = [];
  for (const subscribers of MEMORY.subscriberVariants) {
    const startedAt = performance.now();
    const config = {
      source,
      tasks,
      checkpoints,
      batch: MEMORY.batch,
      concurrency: MEMORY.concurrency,
      subscribers,
      snapshotDir,
    };
    try {
      variants.push(summarize(subscribers, tasks, await runInChild(config)));
    } catch (error) {
      variants.push({ subscribers, tasks, error: error.message });
      log(`  ! memory, ${subscribers} subscribers: ${error.message}`);
    }
    const seconds = ((performance.now() - startedAt) / 1000).toFixed(1);
    log(`  memory, ${subscribers} subscribers: ${seconds} s`);
  }
  return {
    tasks,
    checkpoints,
    batch: MEMORY.batch,
    concurrency: MEMORY.concurrency,
    retention: "default (ttlMs 3,600,000, maxEntries 10,000)",
    subscriberOptions: SUBSCRIBER_OPTIONS,
    maxChangePct: MEMORY.maxChangePct,
    isolation: "one child process per variant, sampled after two forced GCs",
    variants,
  };
}
