import { describe, expect, it } from "vitest";
import { manual, recordEvents, statusOf } from "../support/harness.js";

describe("delayed tasks", () => {
  it("delayMs: scheduled until due, then starts exactly at the due time", async () => {
    const { mill, clock } = manual();
    const starts: number[] = [];
    mill.register("job", () => void starts.push(clock.now()));
    const task = await mill.submit("job", undefined, { delayMs: 500 });
    const snapshot = await mill.get(task.id);
    expect(snapshot).toMatchObject({ status: "scheduled", runAt: 500, attempts: 0 });
    await clock.advance(499);
    expect(starts).toEqual([]);
    expect(await statusOf(mill, task.id)).toBe("scheduled");
    await clock.advance(1);
    expect(starts).toEqual([500]);
    expect(await statusOf(mill, task.id)).toBe("succeeded");
  });

  it("runAt as epoch ms or Date starts at that time", async () => {
    const { mill, clock } = manual();
    await clock.advance(10_000);
    const starts: Array<[string, number]> = [];
    mill.register("job", (label: string) => void starts.push([label, clock.now()]));
    await mill.submit("job", "date", { runAt: new Date(12_500) });
    await mill.submit("job", "number", { runAt: 11_000 });
    await clock.advance(5_000);
    expect(starts).toEqual([
      ["number", 11_000],
      ["date", 12_500],
    ]);
  });

  it("runAt in the past and delayMs 0 start at once with status queued, not scheduled", async () => {
    const { mill, clock } = manual({ concurrency: 1 });
    await clock.advance(1_000);
    const events = recordEvents(mill, ["queued"]);
    const statuses: string[] = [];
    mill.on("queued", ({ task }) => statuses.push(task.status));
    const starts: number[] = [];
    mill.register("job", () => void starts.push(clock.now()));
    await mill.submit("job", undefined, { runAt: 10 });
    await mill.submit("job", undefined, { delayMs: 0 });
    await clock.advance(0);
    expect(starts).toEqual([1_000, 1_000]);
    expect(events).toHaveLength(2);
    expect(statuses).toEqual(["queued", "queued"]);
  });

  it("the queued event of a delayed task carries status scheduled", async () => {
    const { mill } = manual();
    const statuses: string[] = [];
    mill.on("queued", ({ task }) => statuses.push(task.status));
    mill.register("job", () => undefined);
    await mill.submit("job", undefined, { delayMs: 10 });
    expect(statuses).toEqual(["scheduled"]);
  });

  it("tasks due at the same time start by priority, then in submission order", async () => {
    const { mill, clock } = manual({ concurrency: 1 });
    const order: string[] = [];
    mill.register("job", (label: string) => void order.push(label));
    await mill.submit("job", "a", { delayMs: 100 });
    await mill.submit("job", "b", { delayMs: 100, priority: 2 });
    await mill.submit("job", "c", { delayMs: 100 });
    await mill.submit("job", "d", { delayMs: 50 });
    await clock.advance(100);
    expect(order).toEqual(["d", "b", "a", "c"]);
  });

  it("uses one timer for many delayed tasks, and each starts at its own time", async () => {
    const { mill, clock } = manual({ concurrency: 1_000 });
    const startedAt = new Map<number, number>();
    mill.register("job", (i: number) => void startedAt.set(i, clock.now()));
    const due = new Map<number, number>();
    // Descending-then-scrambled delays: many submissions become the new earliest.
    for (let i = 0; i < 1_000; i++) {
      const delay = i < 500 ? 10_000 - i * 10 : ((i * 7_919) % 9_973) + 1;
      due.set(i, delay);
      await mill.submit("job", i, { delayMs: delay });
      expect(clock.pendingTimers).toBeLessThanOrEqual(3);
    }
    expect(clock.pendingTimers).toBe(1);
    expect((await mill.queues())[0]?.waiting).toBe(1_000);
    await clock.advance(5_000);
    expect(clock.pendingTimers).toBeLessThanOrEqual(3);
    await clock.advance(5_000);
    expect(startedAt.size).toBe(1_000);
    for (const [i, at] of startedAt) expect(at).toBe(due.get(i));
    expect(mill.stats().succeeded).toBe(1_000);
  });

  it("cancelling the earliest delayed task leaves later ones on time", async () => {
    const { mill, clock } = manual();
    const starts: Array<[string, number]> = [];
    mill.register("job", (label: string) => void starts.push([label, clock.now()]));
    const early = await mill.submit("job", "early", { delayMs: 100 });
    await mill.submit("job", "late", { delayMs: 300 });
    expect(await mill.cancel(early.id)).toBe(true);
    expect((await mill.queues())[0]?.waiting).toBe(1);
    await clock.advance(1_000);
    expect(starts).toEqual([["late", 300]]);
  });

  it("a delayed task in a paused queue waits for resume after becoming due", async () => {
    const { mill, clock } = manual();
    const starts: number[] = [];
    mill.register("job", () => void starts.push(clock.now()));
    mill.pauseQueue("default");
    const task = await mill.submit("job", undefined, { delayMs: 100 });
    await clock.advance(200);
    expect(await statusOf(mill, task.id)).toBe("queued");
    mill.resumeQueue("default");
    await clock.advance(0);
    expect(starts).toEqual([200]);
  });
});
