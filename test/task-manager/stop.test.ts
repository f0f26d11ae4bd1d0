import {
  CancelledError,
  ShuttingDownError,
  type StopGracefulOptions,
  type StopReport,
  type TaskContext,
} from "taskmill";
import { describe, expect, it } from "vitest";
import { deferred, flush, manual, outcome, sleep, statusOf } from "../support/harness.js";

function untilAborted(ctx: TaskContext): Promise<never> {
  return new Promise((_, reject) => {
    ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason), { once: true });
  });
}

/** Tracks whether a stop promise settled, without awaiting it. */
function watch(promise: Promise<StopReport>) {
  const state: { report?: StopReport; error?: unknown } = {};
  promise.then(
    (report) => {
      state.report = report;
    },
    (error: unknown) => {
      state.error = error;
    },
  );
  return state;
}

const sorted = (ids: readonly string[]) => [...ids].sort();

describe("stopGraceful", () => {
  it("refuses new submissions with ShuttingDownError from the moment it is called", async () => {
    const { mill } = manual();
    mill.register("job", () => 1);
    const stopping = mill.stopGraceful();
    const submit = await outcome(mill.submit("job"));
    const run = await outcome(mill.run(() => 1));
    for (const attempt of [submit, run]) {
      expect(attempt.ok).toBe(false);
      const error = (attempt as { error: unknown }).error as ShuttingDownError;
      expect(error).toBeInstanceOf(ShuttingDownError);
      expect(error.code).toBe("ERR_SHUTTING_DOWN");
    }
    expect(() => mill.schedule("s", "* * * * *", "job")).toThrow(ShuttingDownError);
    await stopping;
    expect((await outcome(mill.submit("job"))).ok).toBe(false);
  });

  it("lets running, queued, delayed and retrying work finish, then reports it", async () => {
    const { mill, clock } = manual({
      concurrency: 1,
      retry: { maxRetries: 1, backoff: "fixed", baseDelayMs: 100, jitter: "none" },
    });
    const done: string[] = [];
    mill.register("work", async (label: string, ctx) => {
      await sleep(clock, 100);
      if (label === "flaky" && ctx.attempt === 1) throw new Error("retry me");
      done.push(label);
    });
    const ids = [
      (await mill.submit("work", "running")).id,
      (await mill.submit("work", "queued")).id,
      (await mill.submit("work", "flaky")).id,
      (await mill.submit("work", "delayed", { delayMs: 250 })).id,
    ];
    await clock.advance(0);
    const stop = watch(mill.stopGraceful({ timeoutMs: 10_000 }));
    await clock.advance(399);
    expect(stop.report).toBeUndefined();
    await clock.advance(1_000);
    expect(stop.report).toEqual({
      finished: expect.any(Array),
      cancelled: [],
      abandoned: [],
      requeued: [],
      unwritten: [],
      escalated: false,
    });
    expect(sorted(stop.report?.finished ?? [])).toEqual(sorted(ids));
    expect(done.sort()).toEqual(["delayed", "flaky", "queued", "running"]);
    for (const id of ids) expect(await statusOf(mill, id)).toBe("succeeded");
    expect(clock.pendingTimers).toBe(0);
  });

  it("does not wait for a delayed task or a retry due after its deadline: they are cancelled and reported at once", async () => {
    const { mill, clock } = manual({
      retry: { maxRetries: 1, backoff: "fixed", baseDelayMs: 60_000, jitter: "none" },
    });
    mill.register("work", async (label: string, ctx) => {
      if (label === "flaky" && ctx.attempt === 1) throw new Error("retry me in a minute");
      return label;
    });
    const tomorrow = await mill.submit("work", "tomorrow", { delayMs: 86_400_000 });
    const soon = await mill.submit("work", "soon", { delayMs: 500 });
    const flaky = await mill.submit("work", "flaky");
    await clock.advance(0);
    expect(await statusOf(mill, flaky.id)).toBe("retrying");
    const stop = watch(mill.stopGraceful({ timeoutMs: 10_000 }));
    await clock.advance(0);
    expect(await statusOf(mill, tomorrow.id)).toBe("cancelled");
    expect(await statusOf(mill, flaky.id)).toBe("cancelled");
    // The task due before the deadline is still waited for, and runs.
    expect(stop.report).toBeUndefined();
    await clock.advance(500);
    await flush();
    expect(sorted(stop.report?.cancelled ?? [])).toEqual(sorted([tomorrow.id, flaky.id]));
    expect(stop.report).toEqual({
      finished: [soon.id],
      cancelled: expect.any(Array),
      abandoned: [],
      requeued: [],
      unwritten: [],
      escalated: false,
    });
    await expect(tomorrow.result()).rejects.toBeInstanceOf(CancelledError);
  });

  it("does not call a handler abandoned that is still unwinding from its timeout abort", async () => {
    const { mill, clock } = manual({ timeoutMs: 100, retry: { maxRetries: 0 } });
    mill.register("slow", async (_: unknown, ctx) => {
      try {
        await untilAborted(ctx);
      } finally {
        // Cleanup that takes a few promise turns, as real handlers' does.
        for (let i = 0; i < 5; i++) await Promise.resolve();
      }
    });
    const task = await mill.submit("slow");
    await clock.advance(0);
    const stop = watch(mill.stopGraceful({ timeoutMs: 10_000 }));
    await clock.advance(100);
    await flush();
    expect(await statusOf(mill, task.id)).toBe("failed");
    expect(stop.report).toEqual({
      finished: [task.id],
      cancelled: [],
      abandoned: [],
      requeued: [],
      unwritten: [],
      escalated: false,
    });
  });

  it("resolves at once with an empty report when idle", async () => {
    const { mill, clock } = manual();
    mill.register("job", () => 1);
    await mill.submit("job");
    await clock.advance(0);
    expect(await mill.stopGraceful()).toEqual({
      finished: [],
      cancelled: [],
      abandoned: [],
      requeued: [],
      unwritten: [],
      escalated: false,
    });
    expect(clock.pendingTimers).toBe(0);
  });

  it("at the deadline escalates: running aborted, waiting cancelled, ignorers abandoned", async () => {
    const { mill, clock } = manual({ concurrency: 3 });
    const ignoreGate = deferred();
    const reasons: unknown[] = [];
    let queuedCalls = 0;
    mill.register("quick", async () => sleep(clock, 100));
    mill.register("honours", (_: unknown, ctx) => {
      ctx.signal.addEventListener("abort", () => reasons.push(ctx.signal.reason));
      return untilAborted(ctx);
    });
    mill.register("ignores", () => ignoreGate.promise);
    mill.register("queued", () => void queuedCalls++);
    const quick = await mill.submit("quick");
    const ignores = await mill.submit("ignores");
    const early = await mill.submit("honours");
    // Takes quick's slot at t=100 and is still running at the deadline.
    const late = await mill.submit("honours");
    const queued = await mill.submit("queued");
    const delayed = await mill.submit("queued", undefined, { delayMs: 5_000 });
    await clock.advance(0);
    const stop = watch(mill.stopGraceful({ timeoutMs: 1_000 }));
    await clock.advance(999);
    expect(stop.report).toBeUndefined();
    await clock.advance(1);
    await flush();
    const report = stop.report as StopReport;
    expect(report.escalated).toBe(true);
    expect(report.finished).toEqual([quick.id]);
    expect(sorted(report.cancelled)).toEqual(
      sorted([early.id, late.id, ignores.id, queued.id, delayed.id]),
    );
    expect(report.abandoned).toEqual([ignores.id]);
    expect(reasons).toHaveLength(2);
    for (const reason of reasons) expect((reason as CancelledError).reason).toBe("stop");
    expect(queuedCalls).toBe(0);
    for (const id of [early.id, late.id, ignores.id, queued.id, delayed.id])
      expect(await statusOf(mill, id)).toBe("cancelled");
    expect(clock.pendingTimers).toBe(0);
    expect(mill.stats().live).toBe(0);

    // The abandoned handler settling later changes nothing.
    ignoreGate.resolve("too late");
    await clock.advance(10_000);
    expect(await statusOf(mill, ignores.id)).toBe("cancelled");
    expect((await outcome(ignores.result())).ok).toBe(false);
    expect(queuedCalls).toBe(0);
  });

  it("escalates when its signal aborts, before the deadline", async () => {
    const { mill, clock } = manual();
    mill.register("hang", (_: unknown, ctx) => untilAborted(ctx));
    const task = await mill.submit("hang");
    await clock.advance(0);
    const controller = new AbortController();
    const stop = watch(mill.stopGraceful({ timeoutMs: 60_000, signal: controller.signal }));
    await clock.advance(100);
    expect(stop.report).toBeUndefined();
    controller.abort();
    await flush();
    await flush();
    expect(stop.report).toEqual({
      finished: [],
      cancelled: [task.id],
      abandoned: [],
      requeued: [],
      unwritten: [],
      escalated: true,
    });
    expect(clock.now()).toBe(100);
    expect(clock.pendingTimers).toBe(0);
  });

  it("an already-aborted signal escalates at once", async () => {
    const { mill, clock } = manual();
    mill.register("hang", (_: unknown, ctx) => untilAborted(ctx));
    const task = await mill.submit("hang");
    await clock.advance(0);
    const report = await mill.stopGraceful({ signal: AbortSignal.abort() });
    expect(report).toMatchObject({ cancelled: [task.id], escalated: true });
  });

  it("never throws, even with nonsense options", async () => {
    for (const options of [
      { timeoutMs: -1 },
      { timeoutMs: Number.NaN },
      { timeoutMs: "soon" },
      null,
      { signal: "not a signal" },
    ]) {
      const { mill } = manual();
      const result = await outcome(
        Promise.resolve().then(() => mill.stopGraceful(options as unknown as StopGracefulOptions)),
      );
      expect({ options, ok: result.ok }).toEqual({ options, ok: true });
    }
  });
});

describe("stopNow", () => {
  it("cancels everything waiting and aborts everything running, at once", async () => {
    const { mill, clock } = manual({
      concurrency: 1,
      timeoutMs: 5_000,
      rate: { perSecond: 1, burst: 1 },
      retry: { maxRetries: 3, backoff: "fixed", baseDelayMs: 10_000, jitter: "none" },
    });
    let calls = 0;
    const reasons: unknown[] = [];
    mill.register("fail", () => {
      calls++;
      throw new Error("retry later");
    });
    mill.register("hang", (_: unknown, ctx) => {
      calls++;
      ctx.signal.addEventListener("abort", () => reasons.push(ctx.signal.reason));
      return untilAborted(ctx);
    });
    const retrying = await mill.submit("fail");
    await clock.advance(1_000);
    const running = await mill.submit("hang");
    await clock.advance(1_000);
    const queued = await mill.submit("hang");
    const delayed = await mill.submit("hang", undefined, { delayMs: 60_000 });
    expect(await statusOf(mill, retrying.id)).toBe("retrying");
    expect(await statusOf(mill, running.id)).toBe("running");
    expect(calls).toBe(2);

    const report = await mill.stopNow();
    expect(report.escalated).toBe(false);
    expect(report.finished).toEqual([]);
    expect(report.abandoned).toEqual([]);
    expect(sorted(report.cancelled)).toEqual(
      sorted([retrying.id, running.id, queued.id, delayed.id]),
    );
    expect((reasons[0] as CancelledError).reason).toBe("stop");
    for (const task of [retrying, running, queued, delayed]) {
      const error = (await outcome(task.result())) as { error: unknown };
      expect(error.error).toBeInstanceOf(CancelledError);
    }
    expect(clock.pendingTimers).toBe(0);
    await clock.advance(1_000_000);
    expect(calls).toBe(2);
  });

  it("reports handlers that ignore their signal as abandoned", async () => {
    const { mill, clock } = manual();
    const gate = deferred();
    mill.register("ignores", () => gate.promise);
    const task = await mill.submit("ignores");
    await clock.advance(0);
    const report = await mill.stopNow();
    expect(report).toEqual({
      finished: [],
      cancelled: [task.id],
      abandoned: [task.id],
      requeued: [],
      unwritten: [],
      escalated: false,
    });
    gate.resolve(undefined);
  });

  it("ends result subscriptions so consumers finish", async () => {
    const { mill, clock } = manual();
    mill.register("job", () => "v");
    const sub = mill.subscribeResults();
    await mill.submit("job");
    await clock.advance(0);
    await mill.stopNow();
    const seen: string[] = [];
    for await (const result of sub) seen.push(result.status);
    expect(seen).toEqual(["succeeded"]);
  });
});

describe("both stops together", () => {
  it("repeated calls share one promise", async () => {
    const { mill } = manual();
    const graceful = mill.stopGraceful();
    expect(mill.stopGraceful()).toBe(graceful);
    const now = mill.stopNow();
    expect(mill.stopNow()).toBe(now);
    expect(mill.stopGraceful()).toBe(now);
    expect(await graceful).toBe(await now);
  });

  it("a stop called after another has finished returns the same report", async () => {
    const { mill, clock } = manual();
    const lines: string[] = [];
    const log = (_: object, msg?: string) => void lines.push(msg ?? "");
    mill.register("job", () => 1);
    const task = await mill.submit("job", undefined, { delayMs: 10 });
    const stopping = mill.stopGraceful();
    await clock.advance(10);
    const graceful = await stopping;
    expect(graceful.finished).toEqual([task.id]);
    expect(await mill.stopNow()).toBe(graceful);
    expect(await mill.stopGraceful()).toBe(graceful);

    const other = manual({ logger: { debug: log, info: log, warn: log, error: log } });
    const now = await other.mill.stopNow();
    expect(await other.mill.stopGraceful()).toBe(now);
    expect(await other.mill.stopNow()).toBe(now);
    expect(lines.filter((line) => line === "taskmill stopped")).toHaveLength(1);
  });

  it("stopNow during a graceful stop resolves both with the same report", async () => {
    const { mill, clock } = manual();
    mill.register("hang", (_: unknown, ctx) => untilAborted(ctx));
    const task = await mill.submit("hang");
    await clock.advance(0);
    const graceful = mill.stopGraceful({ timeoutMs: 60_000 });
    await clock.advance(10);
    const now = mill.stopNow();
    const [a, b] = await Promise.all([graceful, now]);
    expect(a).toBe(b);
    expect(a).toMatchObject({ cancelled: [task.id], escalated: false });
    expect(clock.pendingTimers).toBe(0);
  });

  it("many concurrent calls of both never throw and agree", async () => {
    const { mill, clock } = manual({ concurrency: 2 });
    mill.register("work", async () => sleep(clock, 50));
    for (let i = 0; i < 5; i++) await mill.submit("work");
    await clock.advance(0);
    const stops = [
      mill.stopGraceful({ timeoutMs: 20 }),
      mill.stopNow(),
      mill.stopGraceful(),
      mill.stopNow(),
    ];
    await clock.advance(100);
    const reports = await Promise.all(stops);
    for (const report of reports) expect(report).toBe(reports[0]);
    expect(mill.stats().live).toBe(0);
  });

  it("after a stop the manual clock holds no timers of ours", async () => {
    for (const stop of ["graceful", "escalated", "now"] as const) {
      const { mill, clock } = manual({
        rate: { perSecond: 1, burst: 1 },
        timeoutMs: 30_000,
        retention: { ttlMs: 60_000 },
        retry: { maxRetries: 2, backoff: "fixed", baseDelayMs: 500, jitter: "none" },
      });
      mill.register("ok", () => "ok");
      mill.register("flaky", (_: unknown, ctx) => {
        if (ctx.attempt === 1) throw new Error("again");
      });
      mill.register("hang", (_: unknown, ctx) => untilAborted(ctx));
      await mill.submit("ok"); // finishes: arms the retention timer
      await mill.submit("flaky"); // waits for a token, then a retry
      await mill.submit("ok", undefined, { delayMs: 2_000, ttlMs: 10_000 });
      if (stop !== "graceful") await mill.submit("hang");
      await clock.advance(1_500);
      expect(clock.pendingTimers).toBeGreaterThan(0);
      const stopping = stop === "now" ? mill.stopNow() : mill.stopGraceful({ timeoutMs: 5_000 });
      await clock.advance(10_000);
      const report = await stopping;
      expect({ stop, escalated: report.escalated }).toEqual({
        stop,
        escalated: stop === "escalated",
      });
      expect({ stop, pending: clock.pendingTimers }).toEqual({ stop, pending: 0 });
      expect(mill.stats().live).toBe(0);
    }
  });
});
