import { ManualClock, TaskManager, type TaskManagerOptions } from "taskmill";
import { afterEach, describe, expect, it } from "vitest";

const mills: TaskManager[] = [];

function makeMill(options: TaskManagerOptions = {}): { mill: TaskManager; clock: ManualClock } {
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const mill = new TaskManager({ clock, retry: { maxRetries: 0 }, ...options });
  mill.register("echo", async (payload: unknown) => payload);
  mills.push(mill);
  return { mill, clock };
}

afterEach(async () => {
  for (const mill of mills.splice(0)) await mill.stopNow();
});

/** A handler whose tasks finish only when the test says so. */
function gate() {
  const open = new Map<string, () => void>();
  return {
    handler: (key: string) =>
      new Promise<string>((resolve) => {
        open.set(key, () => resolve(key));
      }),
    release(key: string) {
      open.get(key)?.();
      open.delete(key);
    },
  };
}

describe("retention by maxEntries", () => {
  it("evicts the oldest finished records first", async () => {
    const { mill, clock } = makeMill({ retention: { maxEntries: 3 } });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push((await mill.submit("echo", i)).id);
      await clock.advance(1);
    }
    expect(mill.stats().retained).toBe(3);
    expect(await mill.get(ids[0] as string)).toBeUndefined();
    expect(await mill.get(ids[1] as string)).toBeUndefined();
    for (const id of ids.slice(2)) expect((await mill.get(id))?.status).toBe("succeeded");
    expect((await mill.list()).tasks.map((t) => t.id)).toEqual(ids.slice(2));
  });

  it("orders eviction by finish time, not submission time", async () => {
    const { mill, clock } = makeMill({ retention: { maxEntries: 2 } });
    const g = gate();
    mill.register("gated", g.handler);
    const a = await mill.submit("gated", "a");
    const b = await mill.submit("gated", "b");
    const c = await mill.submit("gated", "c");
    await clock.advance(0);
    g.release("b");
    await clock.advance(1);
    g.release("a");
    await clock.advance(1);
    g.release("c");
    await clock.advance(1);
    // b finished first, so b goes first even though a was submitted earlier.
    expect(await mill.get(b.id)).toBeUndefined();
    expect((await mill.get(a.id))?.status).toBe("succeeded");
    expect((await mill.get(c.id))?.status).toBe("succeeded");
  });

  it("never evicts live tasks, even when more are live than maxEntries", async () => {
    const { mill, clock } = makeMill({ retention: { maxEntries: 2 }, concurrency: 4 });
    const g = gate();
    mill.register("gated", g.handler);
    mill.pauseQueue("held");
    const running = [];
    for (let i = 0; i < 3; i++) running.push(await mill.submit("gated", `r${i}`));
    const waiting = [];
    for (let i = 0; i < 4; i++) waiting.push(await mill.submit("echo", i, { queue: "held" }));
    const delayed = await mill.submit("echo", "later", { delayMs: 60_000 });
    for (let i = 0; i < 5; i++) await mill.submit("echo", `done${i}`);
    await clock.advance(0);
    expect(mill.stats().live).toBe(8);
    expect(mill.stats().retained).toBe(2);
    for (const task of [...running, ...waiting, delayed])
      expect(await mill.get(task.id)).toBeDefined();
    const statuses = (await mill.list({ limit: 100 })).tasks.map((t) => t.status);
    expect(statuses.filter((s) => s === "succeeded")).toHaveLength(2);
    expect(statuses).toHaveLength(10);

    // Once they finish they become evictable like any other record.
    for (let i = 0; i < 3; i++) g.release(`r${i}`);
    mill.resumeQueue("held");
    await clock.advance(60_000);
    expect(mill.stats().live).toBe(0);
    expect(mill.stats().retained).toBe(2);
    expect(await mill.get(delayed.id)).toBeDefined(); // finished last
  });
});

describe("retention by ttlMs", () => {
  it("get() answers until ttl after finishing, then undefined", async () => {
    const { mill, clock } = makeMill({ retention: { ttlMs: 1_000 } });
    const task = await mill.submit("echo", 1);
    await clock.advance(0);
    expect((await mill.get(task.id))?.status).toBe("succeeded");
    await clock.advance(999);
    expect((await mill.get(task.id))?.status).toBe("succeeded");
    await clock.advance(1);
    expect(await mill.get(task.id)).toBeUndefined();
    expect(mill.stats().retained).toBe(0);
    // result() on a handle still answers: the handle holds its own outcome.
    await expect(task.result()).resolves.toBe(1);
  });

  it("each record expires ttl after its own finish, oldest first", async () => {
    const { mill, clock } = makeMill({ retention: { ttlMs: 1_000 } });
    const first = await mill.submit("echo", 1);
    await clock.advance(400);
    const second = await mill.submit("echo", 2);
    await clock.advance(0);
    await clock.advance(600);
    expect(await mill.get(first.id)).toBeUndefined();
    expect(await mill.get(second.id)).toBeDefined();
    await clock.advance(399);
    expect(await mill.get(second.id)).toBeDefined();
    await clock.advance(1);
    expect(await mill.get(second.id)).toBeUndefined();
  });

  it("ttl counts from finishing, so a long-running task is not evicted early", async () => {
    const { mill, clock } = makeMill({ retention: { ttlMs: 1_000 } });
    const g = gate();
    mill.register("gated", g.handler);
    const task = await mill.submit("gated", "x");
    await clock.advance(5_000);
    expect((await mill.get(task.id))?.status).toBe("running");
    g.release("x");
    await clock.advance(999);
    expect((await mill.get(task.id))?.status).toBe("succeeded");
    await clock.advance(1);
    expect(await mill.get(task.id)).toBeUndefined();
  });

  it("the retention timer is cleared on stop", async () => {
    const { mill, clock } = makeMill({ retention: { ttlMs: 1_000 } });
    await mill.submit("echo", 1);
    await clock.advance(0);
    expect(clock.pendingTimers).toBe(1);
    await mill.stopGraceful();
    expect(clock.pendingTimers).toBe(0);
  });
});

describe("default retention", () => {
  it("is bounded: 12,000 quick tasks leave at most 10,000 retained records", async () => {
    const mill = new TaskManager();
    mills.push(mill);
    mill.register("quick", (n: number) => n);
    const handles = [];
    for (let i = 0; i < 12_000; i++) handles.push(await mill.submit("quick", i));
    await Promise.all(handles.map((h) => h.result()));
    const stats = mill.stats();
    expect(stats.succeeded).toBe(12_000);
    expect(stats.live).toBe(0);
    expect(stats.retained).toBeLessThanOrEqual(10_000);
    expect(stats.retained).toBe(10_000);
    expect(await mill.get(handles[0]?.id as string)).toBeUndefined();
    expect(await mill.get(handles[11_999]?.id as string)).toBeDefined();
  });
});
