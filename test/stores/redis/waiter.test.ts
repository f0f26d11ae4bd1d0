import { afterEach, describe, expect, it } from "vitest";
import type { WorkWaiter } from "../../../src/stores/redis/waiter.js";
import { sleep, useRedis } from "./fixture.js";

const redis = useRedis();
const waiters: WorkWaiter[] = [];

afterEach(async () => {
  for (const waiter of waiters.splice(0)) await waiter.close();
});

function track(waiter: WorkWaiter): WorkWaiter {
  waiters.push(waiter);
  return waiter;
}

describe("WorkWaiter", () => {
  it("wakes up on enqueue instead of waiting out its timeout", async () => {
    const store = redis.store();
    const waiter = track(store.createWaiter());
    expect((await store.claim(["q"], 1)).tasks).toEqual([]);
    const started = Date.now();
    const waiting = waiter.wait(["q"], 10_000);
    await sleep(50);
    await store.enqueue({ name: "x", queue: "q" });
    expect(await waiting).toBe("woken");
    expect(Date.now() - started).toBeLessThan(5_000);
    expect((await store.claim(["q"], 1)).tasks).toHaveLength(1);
  });

  it("does not lose a wake-up that arrives between an empty claim and the wait", async () => {
    const store = redis.store();
    const waiter = track(store.createWaiter());
    expect((await store.claim(["q"], 1)).tasks).toEqual([]);
    await store.enqueue({ name: "x", queue: "q" });
    expect(await waiter.wait(["q"], 10_000)).toBe("woken");
  });

  it("times out, aborts and closes", async () => {
    const store = redis.store();
    const waiter = track(store.createWaiter());
    expect(await waiter.wait(["q"], 50)).toBe("timeout");
    const controller = new AbortController();
    const started = Date.now();
    const waiting = waiter.wait(["q"], 10_000, controller.signal);
    setTimeout(() => controller.abort(), 30);
    expect(await waiting).toBe("aborted");
    expect(Date.now() - started).toBeLessThan(5_000);
    // The connection is usable again after an abort.
    expect(await waiter.wait(["q"], 20)).toBe("timeout");
    const closing = waiter.wait(["q"], 10_000);
    await sleep(30);
    await waiter.close();
    expect(await closing).toBe("closed");
    expect(await waiter.wait(["q"], 10)).toBe("closed");
  });

  it("wakes a worker of another queue set when work arrives on one of its queues", async () => {
    const store = redis.store();
    const waiter = track(store.createWaiter());
    const waiting = waiter.wait(["a", "b"], 10_000);
    await sleep(30);
    await store.enqueue({ name: "x", queue: "b" });
    expect(await waiting).toBe("woken");
  });

  it("passes the wake-up on when a worker fills up with work left over", async () => {
    const store = redis.store();
    const first = track(store.createWaiter());
    const second = track(store.createWaiter());
    const waitingFirst = first.wait(["q"], 10_000);
    const waitingSecond = second.wait(["q"], 10_000);
    await sleep(50);
    // Two tasks, but only one wake-up token is left by the enqueues.
    await store.enqueueMany([
      { name: "x", queue: "q" },
      { name: "y", queue: "q" },
    ]);
    const winner = await Promise.race([waitingFirst, waitingSecond]);
    expect(winner).toBe("woken");
    expect((await store.claim(["q"], 1)).tasks).toHaveLength(1);
    // That claim filled its max with work left: the other waiter is woken too.
    expect(await Promise.all([waitingFirst, waitingSecond])).toEqual(["woken", "woken"]);
    expect((await store.claim(["q"], 1)).tasks).toHaveLength(1);
  });

  it("a new earliest delayed task wakes waiters so they can shorten their sleep", async () => {
    const store = redis.store();
    const waiter = track(store.createWaiter());
    const waiting = waiter.wait(["q"], 10_000);
    await sleep(30);
    await store.enqueue({ name: "soon", queue: "q", delayMs: 80 });
    expect(await waiting).toBe("woken");
    const result = await store.claim(["q"], 1);
    expect(result.tasks).toEqual([]);
    const untilDue = (result.nextDueAt as number) - result.now;
    expect(untilDue).toBeGreaterThan(0);
    expect(untilDue).toBeLessThanOrEqual(80);
    expect(await waiter.wait(["q"], Math.max(1, untilDue))).toBe("timeout");
    await sleep(20);
    expect((await store.claim(["q"], 1)).tasks.map((t) => t.name)).toEqual(["soon"]);
  });
});
