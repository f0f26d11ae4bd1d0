/**
 * Random mixes of submit / cancel / success / failure / timeout / PermanentError / ignored
 * signals / stopGraceful / stopNow on a ManualClock, checking the engine's invariants.
 */
import fc from "fast-check";
import {
  ManualClock,
  PermanentError,
  ShuttingDownError,
  type StopReport,
  type TaskContext,
  type TaskHandle,
  TaskManager,
  type TaskStatus,
} from "taskmill";
import { describe, expect, it } from "vitest";

type Kind = "ok" | "fail" | "flaky" | "permanent" | "hang" | "ignore" | "nonError";

interface Job {
  readonly kind: Kind;
  readonly durationMs: number;
}

type Op =
  | {
      readonly op: "submit";
      readonly job: Job;
      readonly delayMs: number;
      readonly priority: number;
      readonly queue: "default" | "q";
      readonly ttlMs: number | undefined;
    }
  | { readonly op: "cancel"; readonly pick: number }
  | { readonly op: "advance"; readonly ms: number }
  | { readonly op: "stopGraceful"; readonly timeoutMs: number }
  | { readonly op: "stopNow" };

interface Config {
  readonly concurrency: number;
  readonly queueCap: number;
  readonly rate: { perSecond: number; burst?: number } | undefined;
  readonly maxRetries: number;
  readonly baseDelayMs: number;
  readonly jitter: "none" | "full" | "equal";
  readonly timeoutMs: number;
}

const configArb: fc.Arbitrary<Config> = fc.record({
  concurrency: fc.integer({ min: 1, max: 4 }),
  queueCap: fc.integer({ min: 1, max: 2 }),
  rate: fc.option(
    fc.record(
      { perSecond: fc.integer({ min: 1, max: 30 }), burst: fc.integer({ min: 1, max: 4 }) },
      { requiredKeys: ["perSecond"] },
    ),
    { nil: undefined },
  ),
  maxRetries: fc.integer({ min: 0, max: 3 }),
  baseDelayMs: fc.integer({ min: 0, max: 120 }),
  jitter: fc.constantFrom("none" as const, "full" as const, "equal" as const),
  timeoutMs: fc.oneof(fc.constant(0), fc.integer({ min: 20, max: 150 })),
});

const jobArb: fc.Arbitrary<Job> = fc.record({
  kind: fc.constantFrom<Kind>("ok", "fail", "flaky", "permanent", "hang", "ignore", "nonError"),
  durationMs: fc.integer({ min: 0, max: 100 }),
});

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      op: fc.constant("submit" as const),
      job: jobArb,
      delayMs: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 300 })),
      priority: fc.integer({ min: -1, max: 1 }),
      queue: fc.constantFrom("default" as const, "q" as const),
      ttlMs: fc.option(fc.integer({ min: 0, max: 400 }), { nil: undefined }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("cancel" as const), pick: fc.nat() }) },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant("advance" as const),
      ms: fc.integer({ min: 0, max: 300 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant("stopGraceful" as const),
      timeoutMs: fc.integer({ min: 0, max: 1_000 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("stopNow" as const) }) },
);

const TERMINAL = new Set<TaskStatus>(["succeeded", "failed", "cancelled", "expired"]);

interface Tracked {
  readonly kind: Kind;
  calls: number;
  inFlight: number;
}

async function scenario(config: Config, ops: readonly Op[]): Promise<void> {
  const clock = new ManualClock(0);
  let nextId = 0;
  let randomState = 7;
  const mill = new TaskManager({
    clock,
    createId: () => `t${++nextId}`,
    // A deterministic pseudo-random source in [0, 1).
    random: () => {
      randomState = (randomState * 48_271) % 2_147_483_647;
      return randomState / 2_147_483_647;
    },
    concurrency: config.concurrency,
    queues: { q: { concurrency: config.queueCap } },
    rate: config.rate,
    timeoutMs: config.timeoutMs,
    retry: {
      maxRetries: config.maxRetries,
      backoff: "fixed",
      baseDelayMs: config.baseDelayMs,
      jitter: config.jitter,
    },
  });

  const violations: string[] = [];
  const tracked = new Map<string, Tracked>();
  const handlerTimers = new Set<unknown>();
  const starts: number[] = [];
  let running = 0;
  let runningQ = 0;

  /** A handler-side sleep; honouring the signal clears the timer and rejects at once. */
  const sleep = (ms: number, signal?: AbortSignal) =>
    new Promise<void>((resolve, reject) => {
      const handle = clock.setTimer(() => {
        handlerTimers.delete(handle);
        resolve();
      }, ms);
      handlerTimers.add(handle);
      signal?.addEventListener(
        "abort",
        () => {
          clock.clearTimer(handle);
          handlerTimers.delete(handle);
          reject(signal.reason);
        },
        { once: true },
      );
    });

  const body = async (job: Job, ctx: TaskContext): Promise<string> => {
    switch (job.kind) {
      case "ok":
        await sleep(job.durationMs, ctx.signal);
        return "ok";
      case "fail":
        await sleep(job.durationMs, ctx.signal);
        throw new Error("fail");
      case "flaky":
        await sleep(job.durationMs, ctx.signal);
        if (ctx.attempt < 2) throw new Error("flaky");
        return "recovered";
      case "permanent":
        await sleep(job.durationMs, ctx.signal);
        throw new PermanentError("permanent");
      case "hang":
        await new Promise((_, reject) =>
          ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason), { once: true }),
        );
        return "unreachable";
      case "ignore":
        await sleep(job.durationMs);
        return "ignored the signal";
      case "nonError":
        throw "a string";
    }
  };

  mill.register("job", (job: Job, ctx) => {
    const task = tracked.get(ctx.taskId);
    if (task === undefined) {
      violations.push(`handler called for unknown task ${ctx.taskId}`);
      return undefined;
    }
    task.calls++;
    if (task.calls > config.maxRetries + 1) violations.push(`${ctx.taskId} called ${task.calls}x`);
    if (ctx.attempt !== task.calls) violations.push(`${ctx.taskId} attempt ${ctx.attempt}`);
    if (task.inFlight > 0) violations.push(`${ctx.taskId} started while still running`);
    task.inFlight++;
    running++;
    if (ctx.queue === "q") runningQ++;
    if (running > config.concurrency) violations.push(`${running} running > cap`);
    if (runningQ > config.queueCap) violations.push(`${runningQ} running in q > its cap`);
    starts.push(clock.now());
    const settle = () => {
      task.inFlight--;
      running--;
      if (ctx.queue === "q") runningQ--;
    };
    return body(job, ctx).finally(settle);
  });

  const terminalEvents = new Map<string, number>();
  for (const event of ["succeeded", "failed", "cancelled", "expired"] as const)
    mill.on(event, ({ task }) =>
      terminalEvents.set(task.id, (terminalEvents.get(task.id) ?? 0) + 1),
    );

  const ids: string[] = [];
  const handles = new Map<string, TaskHandle>();
  const stops: Array<Promise<StopReport>> = [];
  let liveAtFirstStop: Set<string> | undefined;
  const statusOf = async (id: string) => (await mill.get(id))?.status;
  /** Taken synchronously right before the first stop call, from the terminal events seen. */
  const markStop = () => {
    liveAtFirstStop ??= new Set(ids.filter((id) => !terminalEvents.has(id)));
  };

  for (const step of ops) {
    switch (step.op) {
      case "submit": {
        const options = {
          delayMs: step.delayMs,
          priority: step.priority,
          queue: step.queue,
          ...(step.ttlMs === undefined ? {} : { ttlMs: step.ttlMs }),
        };
        // Registered before submit: an immediate start must find it.
        const id = `t${nextId + 1}`;
        tracked.set(id, { kind: step.job.kind, calls: 0, inFlight: 0 });
        try {
          const handle = await mill.submit("job", step.job, options);
          expect(handle.id).toBe(id);
          handles.set(id, handle);
          expect(stops).toHaveLength(0);
          ids.push(id);
        } catch (error) {
          tracked.delete(id);
          expect(error).toBeInstanceOf(ShuttingDownError);
          expect(stops.length).toBeGreaterThan(0);
        }
        break;
      }
      case "cancel": {
        const id = ids.length === 0 ? "unknown" : (ids[step.pick % ids.length] as string);
        const before = await statusOf(id);
        const cancelled = await mill.cancel(id);
        const after = await statusOf(id);
        // The task may end on its own between the two reads; cancel() itself is atomic.
        if (cancelled) {
          expect(before === undefined || TERMINAL.has(before)).toBe(false);
          expect(after).toBe("cancelled");
        } else if (before === undefined || TERMINAL.has(before)) {
          expect(after).toBe(before);
        } else {
          expect(TERMINAL.has(after as TaskStatus)).toBe(true);
        }
        break;
      }
      case "advance":
        await clock.advance(step.ms);
        break;
      case "stopGraceful":
        markStop();
        stops.push(mill.stopGraceful({ timeoutMs: step.timeoutMs }));
        break;
      case "stopNow":
        markStop();
        stops.push(mill.stopNow());
        break;
    }
  }
  if (stops.length === 0) {
    markStop();
    stops.push(mill.stopGraceful({ timeoutMs: 500 }));
  }

  // Drive the clock until every stop has resolved (a stop never throws and always ends).
  let settled = false;
  const all = Promise.all(stops).then((reports) => {
    settled = true;
    return reports;
  });
  for (let i = 0; i < 100 && !settled; i++) await clock.advance(50);
  expect(settled).toBe(true);
  const reports = await all;

  // Every task ended, exactly once; the counters agree.
  const statuses = new Map<string, TaskStatus | undefined>();
  for (const id of ids) statuses.set(id, await statusOf(id));
  for (const [id, status] of statuses) {
    expect({ id, terminal: TERMINAL.has(status as TaskStatus) }).toEqual({ id, terminal: true });
    expect({ id, events: terminalEvents.get(id) }).toEqual({ id, events: 1 });
  }
  expect(terminalEvents.size).toBe(ids.length);
  expect(mill.stats().live).toBe(0);

  // The stop report accounts for every task that was live when stopping began, once.
  const first = reports[0] as StopReport;
  const reported = [...first.finished, ...first.cancelled];
  expect(new Set(reported).size).toBe(reported.length);
  expect(new Set(reported)).toEqual(liveAtFirstStop);
  for (const id of first.cancelled) expect(statuses.get(id)).toBe("cancelled");
  for (const id of first.finished) expect(statuses.get(id)).not.toBe("cancelled");
  // Handlers that honour their signal settle at once: only ignoring ones can be abandoned.
  for (const report of reports)
    for (const id of report.abandoned) expect(tracked.get(id)?.kind).toBe("ignore");
  for (const report of reports) {
    expect(new Set(report.finished)).toEqual(new Set(first.finished));
    expect(new Set(report.cancelled)).toEqual(new Set(first.cancelled));
  }

  // Late settlements of ignoring handlers change nothing; nothing of ours keeps a timer.
  await clock.advance(1_000);
  for (const [id, status] of statuses)
    expect({ id, status: await statusOf(id) }).toEqual({ id, status });
  expect(handlerTimers.size).toBe(0);
  expect(clock.pendingTimers).toBe(0);
  expect(running).toBe(0);

  // result() agrees with the terminal state.
  for (const id of ids) {
    const snapshot = await mill.get(id);
    expect(snapshot?.attempts).toBe(tracked.get(id)?.calls);
    const settledResult = await handles
      .get(id)
      ?.result()
      .then(
        () => "succeeded",
        () => "rejected",
      );
    expect(settledResult).toBe(statuses.get(id) === "succeeded" ? "succeeded" : "rejected");
  }

  expect(violations).toEqual([]);

  // The bucket never lets more than burst + perSecond * t / 1000 start in a window of length t.
  if (config.rate !== undefined) {
    const { perSecond } = config.rate;
    const burst =
      config.rate.burst ?? Math.max(1, Math.floor(Math.min(config.concurrency, perSecond)));
    for (let i = 0; i < starts.length; i++)
      for (let j = i; j < starts.length; j++) {
        const window = (starts[j] as number) - (starts[i] as number);
        const allowed = burst + (perSecond * window) / 1_000 + 1e-9;
        if (j - i + 1 > allowed)
          expect.fail(`${j - i + 1} starts in ${window} ms; the bucket allows ${allowed}`);
      }
  }
}

describe("engine invariants under random workloads", () => {
  it("cap, call counts, one terminal event per task, clean stops and the rate bound hold", async () => {
    await fc.assert(
      fc.asyncProperty(configArb, fc.array(opArb, { minLength: 1, maxLength: 40 }), scenario),
      { numRuns: 200 },
    );
  });

  it("holds under heavier submit-only bursts with a tight rate", async () => {
    const submitsThenStop = fc.array(
      fc.oneof(
        { weight: 4, arbitrary: opArb.filter((op) => op.op === "submit") },
        {
          weight: 1,
          arbitrary: fc.record({
            op: fc.constant("advance" as const),
            ms: fc.integer({ min: 0, max: 200 }),
          }),
        },
      ),
      { minLength: 10, maxLength: 40 },
    );
    await fc.assert(
      fc.asyncProperty(
        configArb.map((config) => ({ ...config, rate: { perSecond: 5, burst: 2 } })),
        submitsThenStop,
        scenario,
      ),
      { numRuns: 60 },
    );
  });
});
