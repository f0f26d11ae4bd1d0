import {
  ExpiredError,
  InvalidArgumentError,
  ManualClock,
  TaskManager,
  type TaskManagerOptions,
} from "taskmill";
import { afterEach, describe, expect, it } from "vitest";

const START = Date.UTC(2026, 0, 1);
const mills: TaskManager[] = [];

function makeMill(options: TaskManagerOptions = {}): { mill: TaskManager; clock: ManualClock } {
  const clock = new ManualClock(START);
  const mill = new TaskManager({
    clock,
    retry: { maxRetries: 0, backoff: "fixed", baseDelayMs: 100, jitter: "none" },
    ...options,
  });
  mill.register("echo", async (payload: unknown) => payload);
  mill.register("sleep", async (ms: number) => {
    await new Promise((resolve) => clock.setTimer(() => resolve(undefined), ms));
    return ms;
  });
  mills.push(mill);
  return { mill, clock };
}

afterEach(async () => {
  for (const mill of mills.splice(0)) await mill.stopNow();
});

describe("task TTL (ttlMs / expiresAt)", () => {
  it("a task in a paused queue ends expired at its ttl; result() rejects with ExpiredError", async () => {
    const { mill, clock } = makeMill();
    mill.pauseQueue("held");
    const task = await mill.submit("echo", 1, { queue: "held", ttlMs: 1_000 });
    const result = task.result();
    result.catch(() => {});
    expect((await mill.get(task.id))?.expiresAt).toBe(START + 1_000);
    await clock.advance(999);
    expect((await mill.get(task.id))?.status).toBe("queued");
    await clock.advance(1);
    const snapshot = await mill.get(task.id);
    expect(snapshot).toMatchObject({
      status: "expired",
      attempts: 0,
      finishedAt: START + 1_000,
      error: { name: "ExpiredError", code: "ERR_EXPIRED" },
    });
    expect(snapshot?.startedAt).toBeUndefined();
    await expect(result).rejects.toBeInstanceOf(ExpiredError);
    await expect(task.result()).rejects.toBeInstanceOf(ExpiredError);
    // It left the queue: resuming does not run it.
    mill.resumeQueue("held");
    await clock.advance(0);
    expect(mill.stats()).toMatchObject({ started: 0, expired: 1, live: 0 });
    expect((await mill.queues()).find((q) => q.name === "held")?.depth).toBe(0);
  });

  it("expiresAt (Date or epoch ms) works the same", async () => {
    const { mill, clock } = makeMill();
    mill.pauseQueue("held");
    const byDate = await mill.submit("echo", 1, {
      queue: "held",
      expiresAt: new Date(START + 500),
    });
    const byMs = await mill.submit("echo", 2, { queue: "held", expiresAt: START + 700 });
    await clock.advance(600);
    expect((await mill.get(byDate.id))?.status).toBe("expired");
    expect((await mill.get(byMs.id))?.status).toBe("queued");
    await clock.advance(100);
    expect((await mill.get(byMs.id))?.status).toBe("expired");
  });

  it("a task stuck behind a busy concurrency-1 queue expires", async () => {
    const { mill, clock } = makeMill({ concurrency: 1 });
    const busy = await mill.submit("sleep", 5_000);
    const late = await mill.submit("echo", "late", { ttlMs: 1_000 });
    const patient = await mill.submit("echo", "patient", { ttlMs: 10_000 });
    const lateResult = late.result();
    lateResult.catch(() => {});
    await clock.advance(1_000);
    expect((await mill.get(late.id))?.status).toBe("expired");
    await expect(lateResult).rejects.toBeInstanceOf(ExpiredError);
    await clock.advance(4_000);
    await expect(busy.result()).resolves.toBe(5_000);
    await expect(patient.result()).resolves.toBe("patient");
    expect(mill.stats()).toMatchObject({ started: 2, expired: 1, succeeded: 2 });
  });

  it("a task that started before its TTL is not expired, however long it runs", async () => {
    const { mill, clock } = makeMill();
    const task = await mill.submit("sleep", 10_000, { ttlMs: 100 });
    await clock.advance(10_000);
    await expect(task.result()).resolves.toBe(10_000);
    expect((await mill.get(task.id))?.status).toBe("succeeded");
    expect(mill.stats().expired).toBe(0);
  });

  it("a retry waiting for its backoff past the TTL is not expired (TTL guards the first start)", async () => {
    const { mill, clock } = makeMill();
    let calls = 0;
    mill.register("flaky", async () => {
      calls++;
      if (calls === 1) throw new Error("first");
      return "second";
    });
    const task = await mill.submit("flaky", undefined, {
      ttlMs: 50,
      retry: { maxRetries: 1, baseDelayMs: 1_000 },
    });
    await clock.advance(2_000);
    await expect(task.result()).resolves.toBe("second");
    expect(mill.stats().expired).toBe(0);
  });

  it("a delayed task whose TTL passes before its start time expires", async () => {
    const { mill, clock } = makeMill();
    const task = await mill.submit("echo", 1, { delayMs: 5_000, ttlMs: 1_000 });
    await clock.advance(1_000);
    expect((await mill.get(task.id))?.status).toBe("expired");
    await clock.advance(5_000);
    expect(mill.stats()).toMatchObject({ started: 0, expired: 1 });
  });

  it("an expiresAt already in the past expires at once without running", async () => {
    const { mill, clock } = makeMill();
    const task = await mill.submit("echo", 1, { expiresAt: START - 1 });
    await clock.advance(0);
    await expect(task.result()).rejects.toBeInstanceOf(ExpiredError);
    expect(mill.stats().started).toBe(0);
  });

  it("a cancelled task with a TTL leaves no expiry behind", async () => {
    const { mill, clock } = makeMill();
    mill.pauseQueue("held");
    const task = await mill.submit("echo", 1, { queue: "held", ttlMs: 1_000 });
    await mill.cancel(task.id);
    await clock.advance(2_000);
    expect((await mill.get(task.id))?.status).toBe("cancelled");
    expect(mill.stats()).toMatchObject({ cancelled: 1, expired: 0 });
  });

  it("expiry timers are cleared on stop", async () => {
    const { mill, clock } = makeMill();
    mill.pauseQueue("held");
    await mill.submit("echo", 1, { queue: "held", ttlMs: 60_000 });
    await mill.stopNow();
    expect(clock.pendingTimers).toBe(0);
  });

  it("invalid ttlMs / expiresAt are InvalidArgumentErrors", async () => {
    const { mill } = makeMill();
    for (const options of [
      { ttlMs: -1 },
      { ttlMs: Number.NaN },
      { expiresAt: new Date(Number.NaN) },
      { expiresAt: "tomorrow" as unknown as number },
    ])
      await expect(mill.submit("echo", 1, options)).rejects.toBeInstanceOf(InvalidArgumentError);
  });
});
