import {
  ManualClock,
  type ResultSubscription,
  TaskManager,
  type TaskManagerOptions,
  type TaskResult,
} from "taskmill";
import { afterEach, describe, expect, it } from "vitest";

const START = Date.UTC(2026, 0, 1);
const mills: TaskManager[] = [];

function makeMill(options: TaskManagerOptions = {}): { mill: TaskManager; clock: ManualClock } {
  const clock = new ManualClock(START);
  const mill = new TaskManager({ clock, retry: { maxRetries: 0 }, ...options });
  mill.register("echo", async (payload: number) => payload);
  mill.register("boom", async () => {
    throw new Error("boom");
  });
  mills.push(mill);
  return { mill, clock };
}

afterEach(async () => {
  for (const mill of mills.splice(0)) await mill.stopNow();
});

/** Reads exactly `n` results (fails the test if the subscription ends first). */
async function take<R>(sub: ResultSubscription<R>, n: number): Promise<TaskResult<R>[]> {
  const out: TaskResult<R>[] = [];
  while (out.length < n) {
    const next = await sub.next();
    if (next.done) throw new Error(`subscription ended after ${out.length} of ${n} results`);
    out.push(next.value);
  }
  return out;
}

describe("subscribeResults fan-out", () => {
  it("two subscribers each receive all N results, in finish order", async () => {
    const N = 500;
    const { mill, clock } = makeMill({ concurrency: 4 });
    const a = mill.subscribeResults<number>({ buffer: N });
    const b = mill.subscribeResults<number>({ buffer: N });
    expect(mill.stats().subscribers).toBe(2);
    const handles = [];
    for (let i = 0; i < N; i++) handles.push(await mill.submit<number>("echo", i));
    await clock.advance(0);
    expect(mill.stats().succeeded).toBe(N);

    const [fromA, fromB] = await Promise.all([take(a, N), take(b, N)]);
    const ids = new Set(handles.map((h) => h.id));
    for (const results of [fromA, fromB]) {
      expect(results).toHaveLength(N);
      expect(new Set(results.map((r) => r.id))).toEqual(ids);
      expect(results.every((r) => r.status === "succeeded")).toBe(true);
    }
    // Same order for both: each sees the one stream, nobody takes from the other.
    expect(fromA.map((r) => r.id)).toEqual(fromB.map((r) => r.id));
    expect(a.dropped + b.dropped).toBe(0);
    expect(mill.stats().resultsDropped).toBe(0);
  });

  it("a subscriber never steals from another, even while the other is reading concurrently", async () => {
    const N = 500;
    const { mill, clock } = makeMill({ concurrency: 8 });
    const a = mill.subscribeResults<number>({ buffer: 8 });
    const b = mill.subscribeResults<number>({ buffer: N });
    const readingA = (async () => {
      const seen: number[] = [];
      for await (const r of a) {
        seen.push(r.value as number);
        if (seen.length === N) break;
      }
      return seen;
    })();
    for (let i = 0; i < N; i++) await mill.submit("echo", i);
    await clock.advance(0);
    const seenA = await readingA;
    const seenB = (await take(b, N)).map((r) => r.value as number);
    expect([...seenA].sort((x, y) => x - y)).toEqual([...Array(N).keys()]);
    expect([...seenB].sort((x, y) => x - y)).toEqual([...Array(N).keys()]);
  });

  it("`filter` delivers only matching results, and only those count toward the buffer", async () => {
    const { mill, clock } = makeMill();
    const failures = mill.subscribeResults({ buffer: 2, filter: (r) => r.status === "failed" });
    const evens = mill.subscribeResults<number>({
      buffer: 100,
      filter: (r) => r.name === "echo" && (r.value as number) % 2 === 0,
    });
    for (let i = 0; i < 10; i++) await mill.submit("echo", i);
    await mill.submit("boom");
    await mill.submit("boom");
    await clock.advance(0);
    expect(failures.buffered).toBe(2);
    expect(failures.dropped).toBe(0);
    const failed = await take(failures, 2);
    expect(failed.map((r) => r.name)).toEqual(["boom", "boom"]);
    expect(evens.buffered).toBe(5);
    expect((await take(evens, 5)).map((r) => r.value)).toEqual([0, 2, 4, 6, 8]);
  });

  it("a throwing filter skips the result for that subscriber only", async () => {
    const { mill, clock } = makeMill();
    const broken = mill.subscribeResults({
      filter: () => {
        throw new Error("bad filter");
      },
    });
    const fine = mill.subscribeResults();
    const task = await mill.submit("echo", 1);
    await clock.advance(0);
    expect(await task.result()).toBe(1);
    expect(broken.buffered).toBe(0);
    expect(fine.buffered).toBe(1);
  });

  it("sees only results of tasks that finish after subscribing", async () => {
    const { mill, clock } = makeMill();
    await mill.submit("echo", 1);
    await clock.advance(0);
    const sub = mill.subscribeResults();
    await mill.submit("echo", 2);
    await clock.advance(0);
    expect(sub.buffered).toBe(1);
    expect((await take(sub, 1))[0]?.value).toBe(2);
  });
});

describe("removing a subscription", () => {
  it("`break` out of for-await removes it; no further buffering", async () => {
    const { mill, clock } = makeMill();
    const sub = mill.subscribeResults();
    await mill.submit("echo", 1);
    await clock.advance(0);
    for await (const r of sub) {
      expect(r.value).toBe(1);
      break;
    }
    expect(sub.closed).toBe(true);
    expect(mill.stats().subscribers).toBe(0);
    await mill.submit("echo", 2);
    await clock.advance(0);
    expect(sub.buffered).toBe(0);
    expect(await sub.next()).toEqual({ value: undefined, done: true });
  });

  it("`unsubscribe()` removes it, frees its buffer and ends a pending next()", async () => {
    const { mill, clock } = makeMill();
    const sub = mill.subscribeResults();
    const other = mill.subscribeResults();
    await mill.submit("echo", 1);
    await clock.advance(0);
    expect(sub.buffered).toBe(1);
    sub.unsubscribe();
    sub.unsubscribe(); // idempotent
    expect(sub.buffered).toBe(0);
    expect(mill.stats().subscribers).toBe(1);
    await mill.submit("echo", 2);
    await clock.advance(0);
    expect(sub.buffered).toBe(0);
    expect(other.buffered).toBe(2);

    const waiting = mill.subscribeResults();
    const pending = waiting.next();
    waiting.unsubscribe();
    await expect(pending).resolves.toEqual({ value: undefined, done: true });
    expect(mill.stats().subscribers).toBe(1);
  });

  it("aborting `signal` removes it, ending a pending next()", async () => {
    const { mill, clock } = makeMill();
    const controller = new AbortController();
    const sub = mill.subscribeResults({ signal: controller.signal });
    expect(mill.stats().subscribers).toBe(1);
    const pending = sub.next();
    controller.abort();
    await expect(pending).resolves.toEqual({ value: undefined, done: true });
    expect(sub.closed).toBe(true);
    expect(mill.stats().subscribers).toBe(0);
    await mill.submit("echo", 1);
    await clock.advance(0);
    expect(sub.buffered).toBe(0);
  });

  it("an already-aborted signal gives a closed subscription that is never registered", async () => {
    const { mill } = makeMill();
    const sub = mill.subscribeResults({ signal: AbortSignal.abort() });
    expect(sub.closed).toBe(true);
    expect(mill.stats().subscribers).toBe(0);
    expect(await sub.next()).toEqual({ value: undefined, done: true });
  });

  it("stopping the manager ends every subscription after it yields what it holds", async () => {
    const { mill, clock } = makeMill();
    const sub = mill.subscribeResults();
    await mill.submit("echo", 1);
    await mill.submit("echo", 2);
    await clock.advance(0);
    await mill.stopGraceful();
    const values: unknown[] = [];
    for await (const r of sub) values.push(r.value);
    expect(values).toEqual([1, 2]);
    expect(mill.stats().subscribers).toBe(0);
  });

  it("a subscription made after the manager stopped ends at once instead of hanging", async () => {
    const { mill } = makeMill();
    await mill.stopGraceful();
    const sub = mill.subscribeResults();
    expect(sub.closed).toBe(true);
    expect(mill.stats().subscribers).toBe(0);
    expect(await sub.next()).toEqual({ value: undefined, done: true });
    const blocking = mill.subscribeResults({ overflow: "block" });
    expect(await blocking.next()).toEqual({ value: undefined, done: true });
  });

  it("rejects bad options with InvalidArgumentError", () => {
    const { mill } = makeMill();
    expect(() => mill.subscribeResults({ buffer: 0 })).toThrow(
      expect.objectContaining({ code: "ERR_INVALID_ARGUMENT" }),
    );
    expect(() => mill.subscribeResults({ buffer: 1.5 })).toThrow(/buffer/);
    expect(() => mill.subscribeResults({ overflow: "nope" as never })).toThrow(/overflow/);
    expect(mill.stats().subscribers).toBe(0);
  });
});

describe("result shape", () => {
  it("carries id, name, queue, status, value, attempts and timings", async () => {
    const { mill, clock } = makeMill();
    mill.register(
      "slow",
      async (n: number) => {
        await new Promise((resolve) => clock.setTimer(() => resolve(undefined), 250));
        return { doubled: n * 2 };
      },
      { queue: "q1" },
    );
    const sub = mill.subscribeResults<{ doubled: number }>();
    await clock.advance(100);
    const task = await mill.submit("slow", 21);
    await clock.advance(250);
    const [result] = await take(sub, 1);
    expect(result).toEqual({
      id: task.id,
      name: "slow",
      queue: "q1",
      status: "succeeded",
      value: { doubled: 42 },
      error: undefined,
      attempts: 1,
      createdAt: START + 100,
      startedAt: START + 100,
      finishedAt: START + 350,
    });
  });

  it("a failure carries the error as ErrorInfo {name, message, code?} and no value", async () => {
    const { mill, clock } = makeMill();
    class CodedError extends Error {
      override name = "CodedError";
      code = "E_DISK";
    }
    mill.register("coded", async () => {
      throw new CodedError("disk full");
    });
    const sub = mill.subscribeResults();
    const plain = await mill.submit("boom");
    const coded = await mill.submit("coded");
    await clock.advance(0);
    const results = await take(sub, 2);
    const byId = new Map(results.map((r) => [r.id, r]));
    expect(byId.get(plain.id)).toMatchObject({
      status: "failed",
      value: undefined,
      error: { name: "Error", message: "boom" },
      attempts: 1,
    });
    expect(byId.get(plain.id)?.error).not.toHaveProperty("code");
    expect(byId.get(coded.id)?.error).toEqual({
      name: "CodedError",
      message: "disk full",
      code: "E_DISK",
    });
    // Plain data: survives JSON.
    expect(JSON.parse(JSON.stringify(byId.get(coded.id)))).toMatchObject({
      error: { code: "E_DISK" },
    });
  });

  it("a cancelled task that never ran has no startedAt and a CancelledError info", async () => {
    const { mill, clock } = makeMill();
    mill.pauseQueue("default");
    const sub = mill.subscribeResults();
    const task = await mill.submit("echo", 1);
    expect(await mill.cancel(task.id)).toBe(true);
    await clock.advance(0);
    const [result] = await take(sub, 1);
    expect(result).toMatchObject({
      id: task.id,
      status: "cancelled",
      attempts: 0,
      startedAt: undefined,
      error: { name: "CancelledError", code: "ERR_CANCELLED" },
    });
  });
});

describe("getResults() deprecated shim", () => {
  it("works like subscribeResults() and emits a DeprecationWarning once", async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => {
      if ((warning as { code?: string }).code === "TASKMILL_GET_RESULTS") warnings.push(warning);
    };
    process.on("warning", onWarning);
    try {
      const { mill, clock } = makeMill();
      const first = mill.getResults<number>();
      const second = mill.getResults<number>();
      expect(mill.stats().subscribers).toBe(2);
      await mill.submit("echo", 7);
      await clock.advance(0);
      expect((await take(first, 1))[0]?.value).toBe(7);
      expect((await take(second, 1))[0]?.value).toBe(7);
      // Warnings are emitted on the next tick.
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]?.name).toBe("DeprecationWarning");
      expect(warnings[0]?.message).toMatch(/subscribeResults/);
    } finally {
      process.off("warning", onWarning);
    }
  });
});
