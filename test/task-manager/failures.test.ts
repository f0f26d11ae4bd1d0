import { NonErrorThrownError, PermanentError, type TaskContext } from "taskmill";
import { describe, expect, it } from "vitest";
import { deferred, manual, outcome, recordEvents, statusOf } from "../support/harness.js";

describe("whatever a handler throws becomes a failure, never a crash", () => {
  const nonErrors: Array<[string, () => unknown, unknown]> = [
    [
      "throw a string",
      () => {
        throw "str";
      },
      "str",
    ],
    [
      "throw a number",
      () => {
        throw 42;
      },
      42,
    ],
    ["reject(undefined)", () => Promise.reject(undefined), undefined],
    ["reject(null)", () => Promise.reject(null), null],
    ["reject a plain object", () => Promise.reject({ status: 500 }), { status: 500 }],
  ];

  it.each(nonErrors)("%s → NonErrorThrownError with the value as cause", async (_, fn, value) => {
    const { mill, clock } = manual({ retry: { maxRetries: 1, jitter: "none" } });
    let calls = 0;
    mill.register("bad", () => {
      calls++;
      return fn();
    });
    const task = await mill.submit("bad");
    await clock.advance(10_000);
    expect(calls).toBe(2); // a failure like any other: retried per policy
    const result = await outcome(task.result());
    expect(result.ok).toBe(false);
    const error = (result as { error: unknown }).error as NonErrorThrownError;
    expect(error).toBeInstanceOf(NonErrorThrownError);
    expect(error.code).toBe("ERR_HANDLER_THREW_NON_ERROR");
    expect(error.cause).toEqual(value);
    expect(await mill.get(task.id)).toMatchObject({
      status: "failed",
      error: { name: "NonErrorThrownError", code: "ERR_HANDLER_THREW_NON_ERROR" },
    });
  });

  it("a synchronous throw from a non-async handler is a failure, and the manager keeps working", async () => {
    const { mill, clock } = manual({ retry: { maxRetries: 0 } });
    mill.register("sync-throw", () => {
      throw new TypeError("sync boom");
    });
    mill.register("fine", () => "fine");
    const bad = await mill.submit("sync-throw");
    const good = await mill.submit("fine");
    await clock.advance(0);
    const result = await outcome(bad.result());
    expect((result as { error: unknown }).error).toBeInstanceOf(TypeError);
    expect(await mill.get(bad.id)).toMatchObject({
      status: "failed",
      error: { name: "TypeError", message: "sync boom" },
    });
    expect(await good.result()).toBe("fine");
    expect(mill.stats().running).toBe(0);
  });

  it("an error's own code is kept in snapshots", async () => {
    const { mill, clock } = manual({ retry: { maxRetries: 0 } });
    mill.register("io", () => {
      throw Object.assign(new Error("connect failed"), { code: "ECONNREFUSED" });
    });
    const task = await mill.submit("io");
    await clock.advance(0);
    // get() also carries the stack (for code, and operators who opted in: see exposure tests).
    expect((await mill.get(task.id))?.error).toEqual({
      name: "Error",
      message: "connect failed",
      code: "ECONNREFUSED",
      stack: expect.stringMatching(/^Error: connect failed\n/),
    });
  });

  it("sync values, promises and undefined are all successes", async () => {
    const { mill, clock } = manual();
    mill.register("sync", () => 1);
    mill.register("async", async () => ({ a: 1 }));
    mill.register("void", () => undefined);
    const handles = [
      await mill.submit("sync"),
      await mill.submit("async"),
      await mill.submit("void"),
    ];
    await clock.advance(0);
    expect(await Promise.all(handles.map((h) => h.result()))).toEqual([1, { a: 1 }, undefined]);
  });

  it("a failed task's result() rejection never goes unhandled when nobody asks", async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    try {
      const { mill, clock } = manual({ retry: { maxRetries: 0 } });
      mill.register("fail", () => {
        throw new Error("nobody listens");
      });
      await mill.submit("fail");
      await clock.advance(0);
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(unhandled).toEqual([]);
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
  });
});

describe("run(fn)", () => {
  it("runs a closure with the same ctx and returns the same kind of handle", async () => {
    const { mill, clock } = manual();
    let seen: TaskContext | undefined;
    const task = await mill.run(async (ctx) => {
      seen = ctx;
      return ctx.attempt * 10;
    });
    await clock.advance(0);
    expect(await task.result()).toBe(10);
    expect(seen).toMatchObject({ taskId: task.id, name: "run", queue: "default", attempt: 1 });
    expect(seen?.signal).toBeInstanceOf(AbortSignal);
    expect(await mill.get(task.id)).toMatchObject({ status: "succeeded", name: "run" });
  });

  it("shares the concurrency cap with submitted tasks", async () => {
    const { mill, clock } = manual({ concurrency: 1 });
    const gate = deferred();
    const order: string[] = [];
    mill.register("job", () => {
      order.push("job");
      return gate.promise;
    });
    await mill.submit("job");
    await mill.run(() => void order.push("run"), { name: "adhoc" });
    await clock.advance(0);
    expect(order).toEqual(["job"]);
    gate.resolve(undefined);
    await clock.advance(0);
    expect(order).toEqual(["job", "run"]);
  });

  it("gets retries, timeouts, delays and priorities like submit", async () => {
    const { mill, clock } = manual({
      timeoutMs: 100,
      retry: { maxRetries: 2, backoff: "fixed", baseDelayMs: 10, jitter: "none" },
    });
    const starts: number[] = [];
    const task = await mill.run(
      (ctx) => {
        starts.push(clock.now());
        if (ctx.attempt === 1) throw new Error("once");
        if (ctx.attempt === 2)
          return new Promise((_, reject) =>
            ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason)),
          );
        return "third time";
      },
      { delayMs: 1_000, priority: 3 },
    );
    expect(await statusOf(mill, task.id)).toBe("scheduled");
    await clock.advance(5_000);
    expect(starts).toEqual([1_000, 1_010, 1_120]);
    expect(await task.result()).toBe("third time");
  });

  it("a PermanentError from a closure is not retried", async () => {
    const { mill, clock } = manual({ retry: { maxRetries: 4 } });
    let calls = 0;
    const task = await mill.run(() => {
      calls++;
      throw new PermanentError("stop");
    });
    await clock.advance(10_000);
    expect(calls).toBe(1);
    expect(await statusOf(mill, task.id)).toBe("failed");
  });
});

describe("exactly one terminal event per task", () => {
  it("holds across success, failure, permanent failure, timeout, cancel and expiry", async () => {
    const { mill, clock } = manual({
      concurrency: 2,
      timeoutMs: 50,
      retry: { maxRetries: 1, backoff: "fixed", baseDelayMs: 10, jitter: "none" },
    });
    const events = recordEvents(mill, ["succeeded", "failed", "cancelled", "expired"]);
    const never = deferred();
    mill.register("ok", () => "ok");
    mill.register("fail", () => {
      throw new Error("x");
    });
    mill.register("permanent", () => {
      throw new PermanentError("x");
    });
    mill.register("hang", () => never.promise);
    const ids = [
      (await mill.submit("ok")).id,
      (await mill.submit("fail")).id,
      (await mill.submit("permanent")).id,
      (await mill.submit("hang")).id,
      (await mill.submit("ok", undefined, { delayMs: 20 })).id,
      (await mill.submit("ok", undefined, { ttlMs: 5, delayMs: 10 })).id,
    ];
    const cancelMe = await mill.submit("hang");
    ids.push(cancelMe.id);
    await clock.advance(5);
    await mill.cancel(cancelMe.id);
    await mill.cancel(cancelMe.id);
    await clock.advance(1_000);
    never.resolve("late");
    await clock.advance(1_000);
    const counts = new Map<string, number>();
    for (const { id } of events) counts.set(id, (counts.get(id) ?? 0) + 1);
    for (const id of ids) expect({ id, count: counts.get(id) }).toEqual({ id, count: 1 });
    expect(events).toHaveLength(ids.length);
    expect(new Set(events.map((e) => e.event))).toEqual(
      new Set(["succeeded", "failed", "cancelled", "expired"]),
    );
  });
});
