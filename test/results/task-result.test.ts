import {
  CancelledError,
  ManualClock,
  TaskManager,
  type TaskManagerOptions,
  TimeoutError,
} from "taskmill";
import { afterEach, describe, expect, it } from "vitest";

const mills: TaskManager[] = [];

function makeMill(options: TaskManagerOptions = {}): { mill: TaskManager; clock: ManualClock } {
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const mill = new TaskManager({ clock, retry: { maxRetries: 0 }, ...options });
  mill.register("echo", async (payload: unknown) => payload);
  mill.register("boom", async () => {
    throw new Error("boom");
  });
  mills.push(mill);
  return { mill, clock };
}

afterEach(async () => {
  for (const mill of mills.splice(0)) await mill.stopNow();
});

/** Collects unhandled rejections while `body` runs, plus a few macrotasks after. */
async function collectUnhandled(body: () => Promise<void>): Promise<unknown[]> {
  const seen: unknown[] = [];
  const onUnhandled = (reason: unknown) => seen.push(reason);
  process.on("unhandledRejection", onUnhandled);
  try {
    await body();
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
    // The rejection tracker runs after microtasks drain; give it a real timer turn too.
    await new Promise((resolve) => setTimeout(resolve, 20));
  } finally {
    process.off("unhandledRejection", onUnhandled);
  }
  return seen;
}

describe("task.result()", () => {
  it("resolves with the value without any subscription", async () => {
    const { mill, clock } = makeMill();
    expect(mill.stats().subscribers).toBe(0);
    const task = await mill.submit("echo", { a: 1 });
    await clock.advance(0);
    await expect(task.result()).resolves.toEqual({ a: 1 });
    // Repeated calls give the same outcome.
    await expect(task.result()).resolves.toEqual({ a: 1 });
  });

  it("is independent of subscriptions: a dropping or erroring subscriber changes nothing", async () => {
    const { mill, clock } = makeMill({ concurrency: 1 });
    const errorSub = mill.subscribeResults({ buffer: 1, overflow: "error" });
    const dropSub = mill.subscribeResults({ buffer: 1, overflow: "drop-newest" });
    const handles = [];
    for (let i = 0; i < 5; i++) handles.push(await mill.submit("echo", i));
    await clock.advance(0);
    expect(errorSub.closed).toBe(true);
    expect(dropSub.dropped).toBe(4);
    expect(await Promise.all(handles.map((h) => h.result()))).toEqual([0, 1, 2, 3, 4]);
  });

  it("a subscriber reading results does not consume the submitter's promise", async () => {
    const { mill, clock } = makeMill();
    const sub = mill.subscribeResults();
    const task = await mill.submit("echo", "x");
    const pending = task.result();
    await clock.advance(0);
    const next = await sub.next();
    expect(next.done).toBe(false);
    await expect(pending).resolves.toBe("x");
  });

  it("rejects with the handler's error, TimeoutError or CancelledError", async () => {
    const { mill, clock } = makeMill();
    mill.register("hang", (_payload, ctx) => {
      return new Promise((_resolve, reject) => {
        ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason));
      });
    });
    const failed = await mill.submit("boom");
    const timedOut = await mill.submit("hang", undefined, { timeoutMs: 50 });
    const cancelled = await mill.submit("hang");
    const results = [failed.result(), timedOut.result(), cancelled.result()];
    for (const r of results) r.catch(() => {});
    await clock.advance(0);
    await mill.cancel(cancelled.id);
    await clock.advance(50);
    await expect(results[0]).rejects.toThrow("boom");
    await expect(results[1]).rejects.toBeInstanceOf(TimeoutError);
    await expect(results[2]).rejects.toBeInstanceOf(CancelledError);
  });

  it("a failed task whose result() is never called causes no unhandledRejection", async () => {
    const unhandled = await collectUnhandled(async () => {
      const { mill, clock } = makeMill();
      mill.register("hang", (_payload, ctx) => {
        return new Promise((_resolve, reject) => {
          ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason));
        });
      });
      const sub = mill.subscribeResults();
      await mill.submit("boom");
      await mill.submit("boom", undefined, { retry: { maxRetries: 2, jitter: "none" } });
      await mill.submit("hang", undefined, { timeoutMs: 10 });
      const cancelMe = await mill.submit("hang");
      mill.pauseQueue("paused");
      await mill.submit("echo", 1, { queue: "paused", ttlMs: 5 });
      await clock.advance(0);
      await mill.cancel(cancelMe.id);
      await clock.advance(10_000);
      expect(mill.stats()).toMatchObject({ failed: 3, cancelled: 1, expired: 1 });
      expect(sub.buffered).toBe(5);
      await mill.stopNow();
    });
    expect(unhandled).toEqual([]);
  });

  it("a result() promise taken before the failure and then awaited rejects normally", async () => {
    const unhandled = await collectUnhandled(async () => {
      const { mill, clock } = makeMill();
      const task = await mill.submit("boom");
      const outcome = task.result().then(
        () => "resolved",
        (error: Error) => error.message,
      );
      await clock.advance(0);
      expect(await outcome).toBe("boom");
    });
    expect(unhandled).toEqual([]);
  });
});
