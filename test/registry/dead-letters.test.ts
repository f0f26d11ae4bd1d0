import {
  InvalidArgumentError,
  ManualClock,
  type TaskEventName,
  TaskManager,
  type TaskManagerOptions,
} from "taskmill";
import { afterEach, describe, expect, it } from "vitest";

const mills: TaskManager[] = [];

/** "flaky" fails while `failing` is true. */
function makeMill(options: TaskManagerOptions = {}) {
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const mill = new TaskManager({
    clock,
    retry: { maxRetries: 2, backoff: "fixed", baseDelayMs: 100, jitter: "none" },
    ...options,
  });
  const state = { failing: true, calls: [] as { id: string; attempt: number }[] };
  mill.register("flaky", async (payload: unknown, ctx) => {
    state.calls.push({ id: ctx.taskId, attempt: ctx.attempt });
    if (state.failing)
      throw Object.assign(new Error(`down: ${String(payload)}`), { code: "EDOWN" });
    return payload;
  });
  mill.register("other", async () => {
    throw new Error("other failed");
  });
  mill.register("ok", async (payload: unknown) => payload);
  mills.push(mill);
  return { mill, clock, state };
}

afterEach(async () => {
  for (const mill of mills.splice(0)) await mill.stopNow();
});

describe("dead-letter queue (memory mode)", () => {
  it("a task whose last attempt fails appears with its error and attempts", async () => {
    const { mill, clock } = makeMill();
    const task = await mill.submit("flaky", "p1");
    await clock.advance(0);
    expect((await mill.dlq.list()).tasks).toHaveLength(0); // retrying, not dead yet
    await clock.advance(1_000);
    const { tasks, nextCursor } = await mill.dlq.list();
    expect(nextCursor).toBeUndefined();
    expect(tasks).toHaveLength(1);
    expect(tasks[0]).toMatchObject({
      id: task.id,
      name: "flaky",
      status: "failed",
      attempts: 3,
      error: { name: "Error", message: "down: p1", code: "EDOWN" },
    });
    expect(mill.stats().deadLetters).toBe(1);
    // Successes, cancels and expiries never go there.
    await mill.submit("ok", 1);
    const cancelled = await mill.submit("ok", 2, { delayMs: 100 });
    await mill.cancel(cancelled.id);
    mill.pauseQueue("p");
    await mill.submit("ok", 3, { queue: "p", ttlMs: 1 });
    await clock.advance(10);
    expect(mill.stats().deadLetters).toBe(1);
  });

  it("a PermanentError goes to the DLQ after one attempt", async () => {
    const { mill, clock } = makeMill();
    const { PermanentError } = await import("taskmill");
    mill.register("perm", async () => {
      throw new PermanentError("no such account");
    });
    const task = await mill.submit("perm");
    await clock.advance(0);
    expect((await mill.dlq.list()).tasks).toEqual([
      expect.objectContaining({
        id: task.id,
        attempts: 1,
        error: expect.objectContaining({ code: "ERR_PERMANENT" }),
      }),
    ]);
  });

  it("pages with a cursor and filters by name", async () => {
    const { mill, clock } = makeMill({ retry: { maxRetries: 0 } });
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      ids.push((await mill.submit(i % 2 === 0 ? "flaky" : "other", i)).id);
      await clock.advance(1);
    }
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await mill.dlq.list({ limit: 3, cursor });
      expect(page.tasks.length).toBeLessThanOrEqual(3);
      seen.push(...page.tasks.map((t) => t.id));
      cursor = page.nextCursor;
      pages++;
    } while (cursor !== undefined);
    expect(pages).toBe(3);
    expect(seen).toEqual(ids);

    const flaky = await mill.dlq.list({ name: "flaky", limit: 2 });
    expect(flaky.tasks.map((t) => t.id)).toEqual([ids[0], ids[2]]);
    const flakyRest = await mill.dlq.list({ name: "flaky", limit: 2, cursor: flaky.nextCursor });
    expect(flakyRest.tasks.map((t) => t.id)).toEqual([ids[4], ids[6]]);
    expect(flakyRest.nextCursor).toBeUndefined();

    await expect(mill.dlq.list({ cursor: "garbage" })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(mill.dlq.list({ limit: 0 })).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it("replay with dryRun changes nothing and reports the ids", async () => {
    const { mill, clock, state } = makeMill({ retry: { maxRetries: 0 } });
    const a = await mill.submit("flaky", "a");
    const b = await mill.submit("flaky", "b");
    await clock.advance(0);
    const before = await mill.dlq.list();
    const outcome = await mill.dlq.replay({ ids: [a.id, "unknown", b.id] }, { dryRun: true });
    expect(outcome).toEqual({ ids: [a.id, b.id], skipped: [], dryRun: true });
    await clock.advance(1_000);
    expect(await mill.dlq.list()).toEqual(before);
    expect((await mill.get(a.id))?.status).toBe("failed");
    expect(state.calls).toHaveLength(2);
    expect(await mill.dlq.replay({ name: "flaky" }, { dryRun: true })).toEqual({
      ids: [a.id, b.id],
      skipped: [],
      dryRun: true,
    });
  });

  it("replay re-opens the failed task under the same id: queued, runs again, attempts reset", async () => {
    const { mill, clock, state } = makeMill();
    const events: [TaskEventName, string][] = [];
    for (const name of ["queued", "started", "succeeded", "failed"] as const)
      mill.on(name, ({ task }) => events.push([name, task.status]));
    const task = await mill.submit("flaky", "x");
    await clock.advance(1_000);
    expect((await mill.get(task.id))?.attempts).toBe(3);
    await expect(task.result()).rejects.toThrow("down: x");
    events.length = 0;

    state.failing = false;
    const outcome = await mill.dlq.replay({ ids: [task.id] });
    expect(outcome).toEqual({ ids: [task.id], skipped: [], dryRun: false });
    expect((await mill.dlq.list()).tasks).toHaveLength(0);
    await clock.advance(0);
    const snapshot = await mill.get(task.id);
    expect(snapshot).toMatchObject({ id: task.id, status: "succeeded", attempts: 1, value: "x" });
    expect(snapshot?.error).toBeUndefined();
    expect(events).toEqual([
      ["queued", "queued"],
      ["started", "running"],
      ["succeeded", "succeeded"],
    ]);
    expect(state.calls.at(-1)).toEqual({ id: task.id, attempt: 1 });
    // A handle taken now sees the new outcome.
    await expect(task.result()).resolves.toBe("x");
  });

  it("replay with resetAttempts: false keeps the attempt count (no retries left)", async () => {
    const { mill, clock, state } = makeMill();
    const task = await mill.submit("flaky", "x");
    await clock.advance(1_000);
    const callsBefore = state.calls.length;
    await mill.dlq.replay({ ids: [task.id] }, { resetAttempts: false });
    await clock.advance(1_000);
    expect(state.calls.length).toBe(callsBefore + 1);
    expect(state.calls.at(-1)?.attempt).toBe(4);
    expect((await mill.get(task.id))?.status).toBe("failed");
    expect((await mill.dlq.list()).tasks.map((t) => t.id)).toEqual([task.id]);
  });

  it("a replayed task that fails again goes back to the DLQ", async () => {
    const { mill, clock } = makeMill({ retry: { maxRetries: 0 } });
    const task = await mill.submit("flaky", "x");
    await clock.advance(0);
    await mill.dlq.replay({ ids: [task.id] });
    await clock.advance(0);
    expect((await mill.dlq.list()).tasks.map((t) => t.id)).toEqual([task.id]);
    expect(mill.stats().deadLetters).toBe(1);
  });

  it("replay by { name } replays only that name", async () => {
    const { mill, clock, state } = makeMill({ retry: { maxRetries: 0 } });
    const f1 = await mill.submit("flaky", 1);
    const o1 = await mill.submit("other", 2);
    const f2 = await mill.submit("flaky", 3);
    await clock.advance(0);
    state.failing = false;
    expect(await mill.dlq.replay({ name: "flaky" })).toEqual({
      ids: [f1.id, f2.id],
      skipped: [],
      dryRun: false,
    });
    await clock.advance(0);
    expect((await mill.get(f1.id))?.status).toBe("succeeded");
    expect((await mill.get(f2.id))?.status).toBe("succeeded");
    expect((await mill.dlq.list()).tasks.map((t) => t.id)).toEqual([o1.id]);
  });

  it("replays a task even after the registry evicted its record", async () => {
    const { mill, clock, state } = makeMill({
      retry: { maxRetries: 0 },
      retention: { ttlMs: 1_000 },
    });
    const task = await mill.submit("flaky", "x");
    await clock.advance(2_000);
    expect(await mill.get(task.id)).toBeUndefined();
    state.failing = false;
    await mill.dlq.replay({ ids: [task.id] });
    await clock.advance(0);
    expect((await mill.get(task.id))?.status).toBe("succeeded");
  });

  it("replaying an evicted task never takes its idempotency key from a newer task", async () => {
    const { mill, clock, state } = makeMill({
      retry: { maxRetries: 0 },
      retention: { ttlMs: 1_000 },
    });
    const old = await mill.submit("flaky", "old", { idempotencyKey: "k" });
    await clock.advance(2_000);
    expect(await mill.get(old.id)).toBeUndefined(); // evicted: key "k" is free again
    state.failing = false;
    mill.pauseQueue("default");
    const fresh = await mill.submit("flaky", "new", { idempotencyKey: "k" });
    expect(fresh.id).not.toBe(old.id);
    await mill.dlq.replay({ ids: [old.id] });
    expect((await mill.submit("flaky", "new", { idempotencyKey: "k" })).id).toBe(fresh.id);
    mill.resumeQueue("default");
    await clock.advance(0);
    // The old record is evicted again; the newer task still holds its key.
    await clock.advance(999);
    expect(await mill.get(old.id)).toBeDefined();
    await expect(mill.submit("flaky", "other", { idempotencyKey: "k" })).rejects.toMatchObject({
      code: "ERR_IDEMPOTENCY_CONFLICT",
      existingTaskId: fresh.id,
    });
  });

  it("a replayed task with a TTL runs again instead of expiring (TTL only guards the first start)", async () => {
    const { mill, clock, state } = makeMill({ retry: { maxRetries: 0 } });
    const task = await mill.submit("flaky", "x", { ttlMs: 1_000 });
    await clock.advance(5_000);
    expect((await mill.get(task.id))?.status).toBe("failed");
    state.failing = false;
    await mill.dlq.replay({ ids: [task.id] });
    await clock.advance(0);
    expect((await mill.get(task.id))?.status).toBe("succeeded");
    expect(mill.stats().expired).toBe(0);
  });

  it("purge removes entries by ids or name and reports them", async () => {
    const { mill, clock } = makeMill({ retry: { maxRetries: 0 } });
    const f1 = await mill.submit("flaky", 1);
    const o1 = await mill.submit("other", 2);
    const f2 = await mill.submit("flaky", 3);
    await clock.advance(0);
    expect(await mill.dlq.purge({ ids: [o1.id, "unknown"] })).toEqual({
      ids: [o1.id],
      skipped: [],
      dryRun: false,
    });
    expect((await mill.dlq.list()).tasks.map((t) => t.id)).toEqual([f1.id, f2.id]);
    expect(await mill.dlq.purge({ name: "flaky" })).toEqual({
      ids: [f1.id, f2.id],
      skipped: [],
      dryRun: false,
    });
    expect(mill.stats().deadLetters).toBe(0);
    // The records themselves stay in the registry until retention evicts them.
    expect((await mill.get(f1.id))?.status).toBe("failed");
    // A purged task can no longer be replayed.
    expect(await mill.dlq.replay({ ids: [f1.id] })).toEqual({
      ids: [],
      skipped: [],
      dryRun: false,
    });
  });

  it("replay skips a failed task whose timed-out handler is still running, so attempts never overlap", async () => {
    const clock = new ManualClock(0);
    const mill = new TaskManager({ clock, retry: { maxRetries: 0 }, timeoutMs: 100 });
    let inFlight = 0;
    let maxInFlight = 0;
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    mill.register("stubborn", async () => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await released; // ignores ctx.signal
      inFlight--;
    });
    const task = await mill.submit("stubborn");
    await clock.advance(100);
    expect((await mill.get(task.id))?.status).toBe("failed");
    expect(await mill.dlq.replay({ ids: [task.id] })).toEqual({
      ids: [],
      skipped: [task.id],
      dryRun: false,
    });
    expect(inFlight).toBe(1);
    release();
    await clock.advance(0);
    expect(await mill.dlq.replay({ ids: [task.id] })).toEqual({
      ids: [task.id],
      skipped: [],
      dryRun: false,
    });
    await clock.advance(0);
    expect(maxInFlight).toBe(1);
    await mill.stopNow();
  });

  it("a bad selector is an InvalidArgumentError", async () => {
    const { mill } = makeMill();
    await expect(mill.dlq.replay({} as never)).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(mill.dlq.purge({ ids: "x" } as never)).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
  });
});
