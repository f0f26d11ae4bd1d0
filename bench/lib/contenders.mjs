// Adapters that give every library the same shape, so the suites stay library-agnostic:
//
//   open({ concurrency, task, perSecond, burst }) -> runner
//   runner.runBatch(n)  submits n tasks, resolves once every one of them has completed
//   runner.close()      releases timers etc.; not timed
//
// `task` is an async function with no arguments. Every adapter submits the whole batch
// before waiting (a producer with a backlog) and waits on one completion promise per task,
// so all of them pay for the same bookkeeping.
import Bottleneck from "bottleneck";
import pLimit from "p-limit";
import PQueue from "p-queue";
import { Semaphore } from "./semaphore.mjs";
import { attachSubscribers, detachSubscribers } from "./subscribers.mjs";

const BLOCKING_SUBSCRIBERS = { buffer: 1024, overflow: "block" };

// Bottleneck starts every job through its own timers, which caps it at a few hundred tasks/s
// whatever the concurrency; full batches would take minutes, so it gets smaller ones and its
// rates are computed from those.
export const BOTTLENECK_MAX_BATCH = { throughput: 500, rate: 2_000 };

const GRACEFUL_TIMEOUT_MS = 30_000;

// The target for fan-out: 3 consuming subscribers cost at most 15% of throughput.
export const SUBSCRIBERS_ATTACHED = 3;
export const SUBSCRIBERS_MIN_RATIO = 0.85;

async function submitAllThenWait(n, submitOne) {
  const pending = new Array(n);
  for (let i = 0; i < n; i++) pending[i] = submitOne(i);
  await Promise.all(pending);
}

const noClose = async () => {};

function pQueue(options) {
  return ({ task }) => {
    const queue = new PQueue(options);
    return { runBatch: (n) => submitAllThenWait(n, () => queue.add(task)), close: noClose };
  };
}

function bottleneck(options) {
  return ({ task }) => {
    const limiter = new Bottleneck(options);
    return {
      runBatch: (n) => submitAllThenWait(n, () => limiter.schedule(task)),
      // Stops the reservoir heartbeat interval, which would otherwise keep running.
      close: () => limiter.disconnect(),
    };
  };
}

// ---- Throughput: concurrency cap only, no rate limit ----------------------------------------

export const peerThroughputContenders = [
  {
    name: "p-queue",
    open: ({ concurrency, task }) => pQueue({ concurrency })({ task }),
  },
  {
    name: "p-limit",
    open: ({ concurrency, task }) => {
      const limit = pLimit(concurrency);
      return { runBatch: (n) => submitAllThenWait(n, () => limit(task)), close: noClose };
    },
  },
  {
    name: "bottleneck",
    maxBatch: BOTTLENECK_MAX_BATCH.throughput,
    open: ({ concurrency, task }) => bottleneck({ maxConcurrent: concurrency })({ task }),
  },
  {
    name: "semaphore",
    note: "bare counter + FIFO, written in bench/lib/semaphore.mjs",
    open: ({ concurrency, task }) => {
      const semaphore = new Semaphore(concurrency);
      return {
        runBatch: (n) => submitAllThenWait(n, () => semaphore.run(task)),
        close: noClose,
      };
    },
  },
];

// The calls below are the whole surface of taskmill the bench relies on (see SPEC.md).
function openTaskManager(TaskManager, options, task) {
  const mill = new TaskManager({ ...options, retry: { maxRetries: 0 } });
  mill.register("bench", task);
  return mill;
}

export function taskmillThroughputContenders(TaskManager) {
  return [
    {
      name: "taskmill",
      note: "submit(...).then(t => t.result()) per task, then Promise.all",
      open: ({ concurrency, task }) => {
        const mill = openTaskManager(TaskManager, { concurrency }, task);
        return {
          runBatch: (n) =>
            submitAllThenWait(n, (i) => mill.submit("bench", i).then((t) => t.result())),
          close: () => mill.stopGraceful({ timeoutMs: GRACEFUL_TIMEOUT_MS }),
        };
      },
    },
    {
      // What a fire-and-forget producer pays: no result() promise per task; completion is
      // observed only through stopGraceful(), which is therefore inside the timed part.
      name: "taskmill (no result())",
      note: "submit per task, await the handles, then stopGraceful() (timed)",
      onlyIn: { workload: "noop", concurrency: 16 },
      open: ({ concurrency, task }) => {
        const mill = openTaskManager(TaskManager, { concurrency }, task);
        return {
          runBatch: async (n) => {
            await submitAllThenWait(n, (i) => mill.submit("bench", i));
            await mill.stopGraceful({ timeoutMs: GRACEFUL_TIMEOUT_MS });
          },
          close: noClose,
        };
      },
    },
    {
      // The same runs as "taskmill" plus result fan-out. It takes part in the same rounds as
      // "taskmill", so `compareTo` divides two numbers taken side by side. The consumers run on
      // the same event loop, so their cost is inside the timed batch.
      name: "taskmill+3subs",
      note:
        `as taskmill, with ${SUBSCRIBERS_ATTACHED} subscribeResults({ buffer: 1024, ` +
        'overflow: "block" }) each drained by a for await loop, so every subscriber sees ' +
        "every result (counts recorded per run)",
      onlyIn: { workload: "noop", concurrency: 16 },
      compareTo: { library: "taskmill", minRatio: SUBSCRIBERS_MIN_RATIO },
      open: ({ concurrency, task }) => {
        const mill = openTaskManager(TaskManager, { concurrency }, task);
        // "block": a no-op burst finishes tasks faster than a for-await loop takes results
        // (several per microtask turn against one), so a drop policy would measure consumers
        // that skipped most of the work. Blocking makes the fan-out cost honest.
        const consumers = attachSubscribers(mill, SUBSCRIBERS_ATTACHED, BLOCKING_SUBSCRIBERS);
        let submitted = 0;
        return {
          runBatch: (n) => {
            submitted += n;
            return submitAllThenWait(n, (i) => mill.submit("bench", i).then((t) => t.result()));
          },
          // Reported next to the timing: subscribers that dropped most results did less work,
          // and the ratio must be read with that in mind.
          close: async () => {
            await mill.stopGraceful({ timeoutMs: GRACEFUL_TIMEOUT_MS });
            const subscribers = await detachSubscribers(consumers, GRACEFUL_TIMEOUT_MS);
            return { results: submitted, subscribers };
          },
        };
      },
    },
  ];
}

// ---- Rate limit: 1,000 starts/s, concurrency 16 --------------------------------------------
// Each peer is configured the way its documentation suggests for "N per second".

export const peerRateContenders = [
  {
    name: "p-queue",
    config: "intervalCap: 1000, interval: 1000",
    open: ({ concurrency, task }) =>
      pQueue({ concurrency, intervalCap: 1000, interval: 1000 })({ task }),
  },
  {
    name: "p-queue",
    config: "intervalCap: 1000, interval: 1000, strict: true",
    open: ({ concurrency, task }) =>
      pQueue({ concurrency, intervalCap: 1000, interval: 1000, strict: true })({ task }),
  },
  {
    name: "p-queue",
    config: "intervalCap: 1, interval: 1",
    open: ({ concurrency, task }) => pQueue({ concurrency, intervalCap: 1, interval: 1 })({ task }),
  },
  {
    // README: "minTime and maxConcurrent are enough for the majority of use cases".
    name: "bottleneck",
    config: "maxConcurrent: 16, minTime: 1",
    maxBatch: BOTTLENECK_MAX_BATCH.rate,
    open: ({ concurrency, task }) =>
      bottleneck({ maxConcurrent: concurrency, minTime: 1 })({ task }),
  },
  {
    // README "Reservoir Intervals": the quota-reset style (refresh interval a multiple of 250).
    name: "bottleneck",
    config: "maxConcurrent: 16, reservoir: 1000 refreshed every 1000 ms",
    maxBatch: BOTTLENECK_MAX_BATCH.rate,
    open: ({ concurrency, task }) =>
      bottleneck({
        maxConcurrent: concurrency,
        reservoir: 1000,
        reservoirRefreshAmount: 1000,
        reservoirRefreshInterval: 1000,
      })({ task }),
  },
];

export function taskmillRateContenders(TaskManager) {
  return [
    {
      name: "taskmill",
      config: "rate: { perSecond: 1000, burst: 16 }",
      open: ({ concurrency, perSecond, burst, task }) => {
        const mill = openTaskManager(
          TaskManager,
          { concurrency, rate: { perSecond, burst } },
          task,
        );
        return {
          runBatch: (n) =>
            submitAllThenWait(n, (i) => mill.submit("bench", i).then((t) => t.result())),
          close: () => mill.stopGraceful({ timeoutMs: GRACEFUL_TIMEOUT_MS }),
        };
      },
    },
  ];
}
