import {
  ManualClock,
  ResultBufferOverflowError,
  type ResultSubscription,
  type TaskEvents,
  type TaskHandle,
  TaskManager,
  type TaskManagerOptions,
  type TaskResult,
} from "taskmill";
import { afterEach, describe, expect, it } from "vitest";

const mills: TaskManager[] = [];

function makeMill(options: TaskManagerOptions = {}): { mill: TaskManager; clock: ManualClock } {
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  // concurrency 1: results arrive in submission order, which the assertions below rely on.
  const mill = new TaskManager({ clock, concurrency: 1, retry: { maxRetries: 0 }, ...options });
  mill.register("echo", async (payload: number) => payload);
  mills.push(mill);
  return { mill, clock };
}

afterEach(async () => {
  for (const mill of mills.splice(0)) await mill.stopNow();
});

async function submitAll(mill: TaskManager, n: number): Promise<TaskHandle<number>[]> {
  const handles: TaskHandle<number>[] = [];
  for (let i = 0; i < n; i++) handles.push(await mill.submit<number>("echo", i));
  return handles;
}

/** Everything the subscription yields until it ends (or throws). */
async function readAll<R>(
  sub: ResultSubscription<R>,
): Promise<{ values: R[]; error: unknown | undefined }> {
  const values: R[] = [];
  try {
    for await (const r of sub) values.push(r.value as R);
    return { values, error: undefined };
  } catch (error) {
    return { values, error };
  }
}

async function take<R>(sub: ResultSubscription<R>, n: number): Promise<TaskResult<R>[]> {
  const out: TaskResult<R>[] = [];
  while (out.length < n) {
    const next = await sub.next();
    if (next.done) throw new Error(`subscription ended after ${out.length} of ${n} results`);
    out.push(next.value);
  }
  return out;
}

describe("overflow policies (buffer 4, slow subscriber)", () => {
  it("drop-oldest keeps the newest 4 and counts the drops", async () => {
    const { mill, clock } = makeMill();
    const dropped: TaskEvents["dropped"][] = [];
    mill.on("dropped", (event) => dropped.push(event));
    const slow = mill.subscribeResults<number>({ buffer: 4, overflow: "drop-oldest" });
    await submitAll(mill, 10);
    await clock.advance(0);
    expect(slow.buffered).toBe(4);
    expect(slow.dropped).toBe(6);
    expect(mill.stats().resultsDropped).toBe(6);
    expect(dropped).toHaveLength(6);
    expect(dropped.map((e) => e.result.value)).toEqual([0, 1, 2, 3, 4, 5]);
    for (const event of dropped) {
      expect(event.subscription).toBe(slow.id);
      expect(event.policy).toBe("drop-oldest");
    }
    expect((await take(slow, 4)).map((r) => r.value)).toEqual([6, 7, 8, 9]);
    // Reading made room: nothing more is dropped.
    await submitAll(mill, 2);
    await clock.advance(0);
    expect(slow.dropped).toBe(6);
    expect((await take(slow, 2)).map((r) => r.value)).toEqual([0, 1]);
  });

  it("drop-newest keeps the first 4 and counts the drops", async () => {
    const { mill, clock } = makeMill();
    const dropped: TaskEvents["dropped"][] = [];
    mill.on("dropped", (event) => dropped.push(event));
    const slow = mill.subscribeResults<number>({ buffer: 4, overflow: "drop-newest" });
    await submitAll(mill, 10);
    await clock.advance(0);
    expect(slow.buffered).toBe(4);
    expect(slow.dropped).toBe(6);
    expect(mill.stats().resultsDropped).toBe(6);
    expect(dropped.map((e) => [e.subscription, e.policy, e.result.value])).toEqual(
      [4, 5, 6, 7, 8, 9].map((v) => [slow.id, "drop-newest", v]),
    );
    expect((await take(slow, 4)).map((r) => r.value)).toEqual([0, 1, 2, 3]);
  });

  it("error ends the iterator with ResultBufferOverflowError after yielding what it held", async () => {
    const { mill, clock } = makeMill();
    const dropped: TaskEvents["dropped"][] = [];
    mill.on("dropped", (event) => dropped.push(event));
    const slow = mill.subscribeResults<number>({ buffer: 4, overflow: "error" });
    expect(mill.stats().subscribers).toBe(1);
    await submitAll(mill, 10);
    await clock.advance(0);
    expect(slow.closed).toBe(true);
    expect(mill.stats().subscribers).toBe(0);
    // The result that overflowed is dropped and counted; later ones are not offered at all.
    expect(slow.dropped).toBe(1);
    expect(mill.stats().resultsDropped).toBe(1);
    expect(dropped).toEqual([
      expect.objectContaining({
        subscription: slow.id,
        policy: "error",
        result: expect.anything(),
      }),
    ]);
    const { values, error } = await readAll(slow);
    expect(values).toEqual([0, 1, 2, 3]);
    expect(error).toBeInstanceOf(ResultBufferOverflowError);
    expect((error as ResultBufferOverflowError).buffer).toBe(4);
    expect((error as ResultBufferOverflowError).code).toBe("ERR_RESULT_BUFFER_OVERFLOW");
    // After the error the iterator is simply done.
    expect(await slow.next()).toEqual({ value: undefined, done: true });
  });

  it("error: a subscriber that keeps up never overflows", async () => {
    const { mill, clock } = makeMill();
    const sub = mill.subscribeResults<number>({ buffer: 1, overflow: "error" });
    const reading = readAll(sub);
    for (let i = 0; i < 20; i++) {
      await mill.submit("echo", i);
      await clock.advance(0);
    }
    await mill.stopGraceful();
    const { values, error } = await reading;
    expect(error).toBeUndefined();
    expect(values).toHaveLength(20);
  });

  it("block never drops and holds dispatch until the subscriber reads", async () => {
    const { mill, clock } = makeMill();
    const dropped: unknown[] = [];
    mill.on("dropped", (event) => dropped.push(event));
    const blocker = mill.subscribeResults<number>({ buffer: 2, overflow: "block" });
    await submitAll(mill, 10);
    await clock.advance(0);
    await clock.advance(1_000);
    // concurrency 1, buffer 2: two tasks complete, then dispatch waits for the reader.
    expect(mill.stats().succeeded).toBe(2);
    expect(mill.stats().started).toBe(2);
    expect(mill.stats().queued).toBe(8);
    expect(blocker.buffered).toBe(2);

    // Reading one result frees one slot in the buffer: exactly one more task runs.
    await take(blocker, 1);
    await clock.advance(0);
    expect(mill.stats().succeeded).toBe(3);
    expect(mill.stats().started).toBe(3);

    // Reading the rest lets everything proceed; nothing was ever dropped.
    const values = (await take(blocker, 9)).map((r) => r.value);
    await clock.advance(0);
    expect(values).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(mill.stats().succeeded).toBe(10);
    expect(blocker.dropped).toBe(0);
    expect(mill.stats().resultsDropped).toBe(0);
    expect(dropped).toHaveLength(0);
  });

  it("block: running tasks still complete into the buffer (it may exceed `buffer` by those)", async () => {
    const { mill, clock } = makeMill({ concurrency: 3 });
    mill.register("tick", async (n: number) => {
      await new Promise((resolve) => clock.setTimer(() => resolve(undefined), 10));
      return n;
    });
    const blocker = mill.subscribeResults<number>({ buffer: 2, overflow: "block" });
    for (let i = 0; i < 10; i++) await mill.submit("tick", i);
    await clock.advance(100);
    // t=10: tasks 0-2 finish; task 3 takes the slot freed before the buffer filled, then
    // dispatch holds. Task 3 still completes into the (over-full) buffer; none is dropped.
    expect(mill.stats().succeeded).toBe(4);
    expect(mill.stats().started).toBe(4);
    expect(blocker.buffered).toBe(4);
    expect(blocker.buffered).toBeLessThanOrEqual(blocker.capacity + 3);
    expect(blocker.dropped).toBe(0);
    await clock.advance(1_000);
    expect(mill.stats().started).toBe(4);
  });

  it("block: unsubscribing a full blocking subscriber releases dispatch", async () => {
    const { mill, clock } = makeMill();
    const blocker = mill.subscribeResults<number>({ buffer: 2, overflow: "block" });
    const handles = await submitAll(mill, 6);
    await clock.advance(0);
    expect(mill.stats().succeeded).toBe(2);
    blocker.unsubscribe();
    await clock.advance(0);
    expect(mill.stats().succeeded).toBe(6);
    expect(await handles[5]?.result()).toBe(5);
  });

  it("a slow drop-* subscriber never blocks a fast one", async () => {
    for (const overflow of ["drop-oldest", "drop-newest", "error"] as const) {
      const { mill, clock } = makeMill({ concurrency: 4 });
      const slow = mill.subscribeResults<number>({ buffer: 4, overflow });
      const fast = mill.subscribeResults<number>({ buffer: 4, overflow: "error" });
      const fastReading = readAll(fast);
      const handles = await submitAll(mill, 200);
      await clock.advance(0);
      expect(mill.stats().succeeded).toBe(200);
      await mill.stopGraceful();
      const { values, error } = await fastReading;
      expect(error).toBeUndefined();
      expect(values).toHaveLength(200);
      expect(new Set(values)).toEqual(new Set([...Array(200).keys()]));
      expect(handles).toHaveLength(200);
      if (overflow === "error") expect(slow.dropped).toBe(1);
      else expect(slow.dropped).toBe(196);
    }
  });

  it("counts drops per subscription and in total", async () => {
    const { mill, clock } = makeMill();
    const events: number[] = [];
    mill.on("dropped", (event) => events.push(event.subscription));
    const a = mill.subscribeResults({ buffer: 2, overflow: "drop-oldest" });
    const b = mill.subscribeResults({ buffer: 5, overflow: "drop-newest" });
    const c = mill.subscribeResults({ buffer: 100 });
    await submitAll(mill, 8);
    await clock.advance(0);
    expect(a.dropped).toBe(6);
    expect(b.dropped).toBe(3);
    expect(c.dropped).toBe(0);
    expect(mill.stats().resultsDropped).toBe(9);
    expect(events.filter((id) => id === a.id)).toHaveLength(6);
    expect(events.filter((id) => id === b.id)).toHaveLength(3);
    expect(new Set([a.id, b.id, c.id]).size).toBe(3);
    // Totals survive unsubscribing.
    a.unsubscribe();
    expect(mill.stats().resultsDropped).toBe(9);
  });
});
