import { CancelledError, type TaskContext, TimeoutError } from "taskmill";
import { describe, expect, it } from "vitest";
import { deferred, manual, outcome, recordEvents, statusOf } from "../support/harness.js";

/** A handler that honours its signal: rejects with the abort reason as soon as it fires. */
function untilAborted(ctx: TaskContext): Promise<never> {
  return new Promise((_, reject) => {
    if (ctx.signal.aborted) reject(ctx.signal.reason);
    ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason), { once: true });
  });
}

async function errorOf(promise: Promise<unknown>): Promise<unknown> {
  const result = await outcome(promise);
  expect(result.ok).toBe(false);
  return (result as { error: unknown }).error;
}

describe("timeouts", () => {
  it("aborts ctx.signal with a TimeoutError; the attempt is a failure, retried, then failed", async () => {
    const { mill, clock } = manual({
      timeoutMs: 100,
      retry: { maxRetries: 2, backoff: "fixed", baseDelayMs: 50, jitter: "none" },
    });
    const starts: number[] = [];
    const reasons: unknown[] = [];
    mill.register("slow", (_: unknown, ctx) => {
      starts.push(clock.now());
      ctx.signal.addEventListener("abort", () => reasons.push(ctx.signal.reason));
      return untilAborted(ctx);
    });
    const events = recordEvents(mill, ["retrying", "failed"]);
    const task = await mill.submit("slow");
    await clock.advance(99);
    expect(reasons).toEqual([]);
    await clock.advance(1_000);
    expect(starts).toEqual([0, 150, 300]);
    expect(reasons).toHaveLength(3);
    for (const reason of reasons) expect(reason).toBeInstanceOf(TimeoutError);
    expect(events.map((e) => e.event)).toEqual(["retrying", "retrying", "failed"]);
    const error = await errorOf(task.result());
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as TimeoutError).timeoutMs).toBe(100);
    expect(await mill.get(task.id)).toMatchObject({
      status: "failed",
      finishedAt: 400,
      error: { code: "ERR_TIMEOUT" },
    });
  });

  it("the last attempt fails at its deadline even if the handler ignores the signal", async () => {
    const { mill, clock } = manual({ concurrency: 1, timeoutMs: 100, retry: { maxRetries: 0 } });
    const gate = deferred();
    const started: string[] = [];
    mill.register("stuck", () => {
      started.push("stuck");
      return gate.promise;
    });
    mill.register("next", () => void started.push("next"));
    const stuck = await mill.submit("stuck");
    await mill.submit("next");
    await clock.advance(100);
    expect(await statusOf(mill, stuck.id)).toBe("failed");
    expect(await errorOf(stuck.result())).toBeInstanceOf(TimeoutError);
    // The ignoring handler still holds the only slot: the cap stays honest.
    await clock.advance(10_000);
    expect(started).toEqual(["stuck"]);
    gate.resolve("late value");
    await clock.advance(0);
    expect(started).toEqual(["stuck", "next"]);
    expect(await mill.get(stuck.id)).toMatchObject({ status: "failed", value: undefined });
  });

  it("a handler's timeout and a task's timeout override the manager's", async () => {
    const { mill, clock } = manual({ timeoutMs: 10_000, retry: { maxRetries: 0 } });
    mill.register("h", (_: unknown, ctx) => untilAborted(ctx), { timeoutMs: 200 });
    const byHandler = await mill.submit("h");
    const byTask = await mill.submit("h", undefined, { timeoutMs: 50 });
    await clock.advance(49);
    expect(await statusOf(mill, byTask.id)).toBe("running");
    await clock.advance(1);
    expect(await statusOf(mill, byTask.id)).toBe("failed");
    expect(await statusOf(mill, byHandler.id)).toBe("running");
    await clock.advance(150);
    expect(await statusOf(mill, byHandler.id)).toBe("failed");
  });

  it("timeoutMs 0 means no timeout", async () => {
    const { mill, clock } = manual({ timeoutMs: 0 });
    mill.register("h", (_: unknown, ctx) => untilAborted(ctx));
    const task = await mill.submit("h");
    await clock.advance(10_000_000);
    expect(await statusOf(mill, task.id)).toBe("running");
    expect(clock.pendingTimers).toBe(0);
  });
});

describe("cancel()", () => {
  it("cancels a queued task at once; its handler is never called", async () => {
    const { mill, clock } = manual({ concurrency: 1 });
    const gate = deferred();
    const calls: string[] = [];
    mill.register("job", (label: string) => {
      calls.push(label);
      return label === "block" ? gate.promise : undefined;
    });
    await mill.submit("job", "block");
    const queued = await mill.submit("job", "queued");
    expect(await mill.cancel(queued.id)).toBe(true);
    expect(await statusOf(mill, queued.id)).toBe("cancelled");
    const error = await errorOf(queued.result());
    expect(error).toBeInstanceOf(CancelledError);
    expect((error as CancelledError).reason).toBe("cancel");
    gate.resolve(undefined);
    await clock.advance(1_000);
    expect(calls).toEqual(["block"]);
    expect((await mill.queues())[0]?.depth).toBe(0);
  });

  it("cancels a delayed task at once; it never runs when due", async () => {
    const { mill, clock } = manual();
    let calls = 0;
    mill.register("job", () => void calls++);
    const task = await mill.submit("job", undefined, { delayMs: 500 });
    expect(await mill.cancel(task.id)).toBe(true);
    expect(await mill.get(task.id)).toMatchObject({ status: "cancelled", finishedAt: 0 });
    await clock.advance(1_000);
    expect(calls).toBe(0);
  });

  it("cancels a task waiting for its retry; no further attempt runs", async () => {
    const { mill, clock } = manual({
      retry: { maxRetries: 3, backoff: "fixed", baseDelayMs: 1_000, jitter: "none" },
    });
    let calls = 0;
    mill.register("job", () => {
      calls++;
      throw new Error("fail");
    });
    const task = await mill.submit("job");
    await clock.advance(10);
    expect(await statusOf(mill, task.id)).toBe("retrying");
    expect(await mill.cancel(task.id)).toBe(true);
    expect(await statusOf(mill, task.id)).toBe("cancelled");
    await clock.advance(10_000);
    expect(calls).toBe(1);
    expect(await errorOf(task.result())).toBeInstanceOf(CancelledError);
  });

  it("aborts a running task's signal with CancelledError and does not retry it", async () => {
    const { mill, clock } = manual({ retry: { maxRetries: 3, baseDelayMs: 0 } });
    let calls = 0;
    let reason: unknown;
    mill.register("job", (_: unknown, ctx) => {
      calls++;
      ctx.signal.addEventListener("abort", () => {
        reason = ctx.signal.reason;
      });
      return untilAborted(ctx);
    });
    const events = recordEvents(mill, ["retrying", "failed", "cancelled"]);
    const task = await mill.submit("job");
    await clock.advance(10);
    expect(await mill.cancel(task.id)).toBe(true);
    expect(reason).toBeInstanceOf(CancelledError);
    expect(await statusOf(mill, task.id)).toBe("cancelled");
    await clock.advance(10_000);
    expect(calls).toBe(1);
    expect(events).toEqual([{ event: "cancelled", id: task.id }]);
    expect(mill.stats().running).toBe(0);
  });

  it("resolves false for unknown ids and for tasks that already ended", async () => {
    const { mill, clock } = manual();
    mill.register("job", () => "done");
    expect(await mill.cancel("no-such-id")).toBe(false);
    const task = await mill.submit("job");
    await clock.advance(0);
    expect(await mill.cancel(task.id)).toBe(false);
    expect(await statusOf(mill, task.id)).toBe("succeeded");
    const other = await mill.submit("job", undefined, { delayMs: 10 });
    expect(await mill.cancel(other.id)).toBe(true);
    expect(await mill.cancel(other.id)).toBe(false);
  });

  it("a handler that ignores its signal keeps its slot; its late result changes nothing", async () => {
    const { mill, clock } = manual({ concurrency: 1 });
    const gate = deferred<string>();
    const started: string[] = [];
    mill.register("ignorer", () => {
      started.push("ignorer");
      return gate.promise;
    });
    mill.register("next", () => void started.push("next"));
    const events = recordEvents(mill, ["succeeded", "failed", "cancelled"]);
    const ignorer = await mill.submit("ignorer");
    const next = await mill.submit("next");
    await clock.advance(0);
    expect(await mill.cancel(ignorer.id)).toBe(true);
    expect(await statusOf(mill, ignorer.id)).toBe("cancelled");
    await clock.advance(60_000);
    expect(started).toEqual(["ignorer"]);
    expect(mill.stats().running).toBe(1);

    gate.resolve("late success");
    await clock.advance(0);
    expect(started).toEqual(["ignorer", "next"]);
    expect(await mill.get(ignorer.id)).toMatchObject({ status: "cancelled", value: undefined });
    expect(await errorOf(ignorer.result())).toBeInstanceOf(CancelledError);
    expect(await statusOf(mill, next.id)).toBe("succeeded");
    expect(events.filter((e) => e.id === ignorer.id)).toEqual([
      { event: "cancelled", id: ignorer.id },
    ]);
    expect(mill.stats().lateSettlements).toBe(1);
  });

  it("a late failure of a cancelled handler does not fail or retry the task", async () => {
    const { mill, clock } = manual({ retry: { maxRetries: 3, baseDelayMs: 0 } });
    const gate = deferred();
    let calls = 0;
    mill.register("ignorer", () => {
      calls++;
      return gate.promise;
    });
    const task = await mill.submit("ignorer");
    await clock.advance(0);
    await mill.cancel(task.id);
    gate.reject(new Error("late failure"));
    await clock.advance(10_000);
    expect(calls).toBe(1);
    expect(await statusOf(mill, task.id)).toBe("cancelled");
    expect(mill.stats()).toMatchObject({ failed: 0, cancelled: 1, retried: 0 });
  });
});

describe("submit { signal }", () => {
  it("aborting the signal cancels a waiting task with reason signal", async () => {
    const { mill, clock } = manual();
    let calls = 0;
    mill.register("job", () => void calls++);
    const controller = new AbortController();
    const reasons: string[] = [];
    mill.on("cancelled", ({ reason }) => reasons.push(reason));
    const task = await mill.submit("job", undefined, { delayMs: 100, signal: controller.signal });
    controller.abort();
    expect(await statusOf(mill, task.id)).toBe("cancelled");
    const error = await errorOf(task.result());
    expect((error as CancelledError).reason).toBe("signal");
    expect(reasons).toEqual(["signal"]);
    await clock.advance(1_000);
    expect(calls).toBe(0);
  });

  it("aborting the signal aborts a running handler's ctx.signal", async () => {
    const { mill, clock } = manual();
    let seen: unknown;
    mill.register("job", (_: unknown, ctx) => {
      ctx.signal.addEventListener("abort", () => {
        seen = ctx.signal.reason;
      });
      return untilAborted(ctx);
    });
    const controller = new AbortController();
    const task = await mill.submit("job", undefined, { signal: controller.signal });
    await clock.advance(0);
    controller.abort();
    expect(seen).toBeInstanceOf(CancelledError);
    await clock.advance(0);
    expect(await statusOf(mill, task.id)).toBe("cancelled");
    expect(mill.stats().running).toBe(0);
  });

  it("an already-aborted signal rejects the submit and accepts nothing", async () => {
    const { mill, clock } = manual();
    let calls = 0;
    mill.register("job", () => void calls++);
    const error = await errorOf(mill.submit("job", undefined, { signal: AbortSignal.abort() }));
    expect(error).toBeInstanceOf(CancelledError);
    expect((error as CancelledError).reason).toBe("signal");
    await clock.advance(100);
    expect(calls).toBe(0);
    expect(mill.stats().submitted).toBe(0);
    expect((await mill.list()).tasks).toEqual([]);
  });

  it("aborting after the task finished changes nothing", async () => {
    const { mill, clock } = manual();
    mill.register("job", () => "done");
    const controller = new AbortController();
    const events = recordEvents(mill, ["cancelled"]);
    const task = await mill.submit("job", undefined, { signal: controller.signal });
    await clock.advance(0);
    controller.abort();
    expect(await statusOf(mill, task.id)).toBe("succeeded");
    expect(await task.result()).toBe("done");
    expect(events).toEqual([]);
  });
});
