import { describe, expect, it } from "vitest";
import { IdempotencyConflictError, InvalidArgumentError } from "../../../src/errors.js";
import { eventually, sleep, useRedis } from "./fixture.js";

const redis = useRedis();

describe("enqueue", () => {
  it("stores the task before resolving, with Redis timestamps", async () => {
    const store = redis.store();
    const before = await store.time();
    const { id, created, status } = await store.enqueue({
      name: "email.send",
      queue: "email",
      payload: { to: "a@b.c", n: [1, 2] },
      priority: 3,
      maxRetries: 2,
      timeoutMs: 1_000,
      retry: { backoff: "fixed", baseDelayMs: 10 },
      meta: { traceparent: "00-abc-def-01" },
    });
    expect(created).toBe(true);
    expect(status).toBe("queued");
    const task = await store.get(id);
    expect(task).toMatchObject({
      id,
      name: "email.send",
      queue: "email",
      status: "queued",
      priority: 3,
      payload: { to: "a@b.c", n: [1, 2] },
      attempts: 0,
      maxRetries: 2,
      timeoutMs: 1_000,
      retry: { backoff: "fixed", baseDelayMs: 10 },
      meta: { traceparent: "00-abc-def-01" },
    });
    expect(task?.createdAt).toBeGreaterThanOrEqual(before);
    expect(await store.queues()).toEqual([{ name: "email", depth: 1 }]);
  });

  it("refuses payloads that are not JSON data before calling Redis", async () => {
    const store = redis.store();
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const bad: unknown[] = [
      () => 1,
      { f: () => 1 },
      10n,
      { n: Number.NaN },
      Number.POSITIVE_INFINITY,
      cyclic,
      new Map([[1, 2]]),
      [1, undefined],
      Symbol("s"),
    ];
    for (const payload of bad)
      await expect(store.enqueue({ name: "x", payload })).rejects.toBeInstanceOf(
        InvalidArgumentError,
      );
    expect(await store.queues()).toEqual([]);
    // toJSON is honoured, undefined properties are dropped: what JSON itself does.
    const { id } = await store.enqueue({
      name: "x",
      payload: { at: new Date(0), gone: undefined, nested: Object.create(null) },
    });
    expect((await store.get(id))?.payload).toEqual({ at: "1970-01-01T00:00:00.000Z", nested: {} });
    const none = await store.enqueue({ name: "x" });
    expect((await store.get(none.id))?.payload).toBeUndefined();
  });

  it("validates its other arguments", async () => {
    const store = redis.store();
    await expect(store.enqueue({ name: "" })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(store.enqueue({ name: "x", priority: Number.NaN })).rejects.toThrow(/priority/);
    await expect(store.enqueue({ name: "x", delayMs: -1 })).rejects.toThrow(/delayMs/);
    await expect(store.enqueue({ name: "x", queue: "" })).rejects.toThrow(/queue/);
    await expect(store.enqueue({ name: "x", maxRetries: 1.5 })).rejects.toThrow(/maxRetries/);
  });

  it("returns the existing task for a reused idempotency key and refuses a different payload", async () => {
    const store = redis.store();
    const first = await store.enqueue({
      name: "pay",
      payload: { a: 1, b: 2 },
      idempotencyKey: "k1",
    });
    // Same data in another key order is the same payload.
    const again = await store.enqueue({
      name: "pay",
      payload: { b: 2, a: 1 },
      idempotencyKey: "k1",
    });
    expect(again).toEqual({ id: first.id, created: false, status: "queued" });
    const conflict = store.enqueue({ name: "pay", payload: { a: 2 }, idempotencyKey: "k1" });
    await expect(conflict).rejects.toBeInstanceOf(IdempotencyConflictError);
    await expect(conflict).rejects.toMatchObject({
      code: "ERR_IDEMPOTENCY_CONFLICT",
      idempotencyKey: "k1",
      existingTaskId: first.id,
    });
    const otherName = store.enqueue({
      name: "refund",
      payload: { a: 1, b: 2 },
      idempotencyKey: "k1",
    });
    await expect(otherName).rejects.toBeInstanceOf(IdempotencyConflictError);
    expect((await store.queues())[0]?.depth).toBe(1);
  });

  it("treats an explicit id like an idempotency key (deterministic ids, e.g. cron ticks)", async () => {
    const store = redis.store();
    const first = await store.enqueue({ id: "tick-1", name: "cron", payload: 1 });
    expect(first.created).toBe(true);
    expect(await store.enqueue({ id: "tick-1", name: "cron", payload: 1 })).toMatchObject({
      created: false,
    });
    await expect(store.enqueue({ id: "tick-1", name: "cron", payload: 2 })).rejects.toThrow(
      /already used/,
    );
  });

  it("enqueues many in one round trip", async () => {
    const store = redis.store();
    const results = await store.enqueueMany(
      Array.from({ length: 50 }, (_, i) => ({ name: "bulk", payload: i })),
    );
    expect(results.every((r) => r.created)).toBe(true);
    expect(await store.queues()).toEqual([{ name: "default", depth: 50 }]);
  });
});

describe("claim", () => {
  it("orders by priority, then FIFO, across queues", async () => {
    const store = redis.store();
    const order = [
      { name: "a1", queue: "q1", priority: 0 },
      { name: "b1", queue: "q2", priority: 0 },
      { name: "a2", queue: "q1", priority: 5 },
      { name: "b2", queue: "q2", priority: 5 },
      { name: "a3", queue: "q1", priority: 0 },
      { name: "b3", queue: "q2", priority: -1 },
      { name: "a4", queue: "q1", priority: 5 },
    ];
    for (const task of order) await store.enqueue(task);
    const names: string[] = [];
    for (;;) {
      const { tasks } = await store.claim(["q1", "q2"], 1);
      if (tasks.length === 0) break;
      names.push(...tasks.map((t) => t.name));
    }
    expect(names).toEqual(["a2", "b2", "a4", "a1", "b1", "a3", "b3"]);

    // The same order when one claim takes several.
    const batch = redis.store();
    for (const task of order) await batch.enqueue(task);
    const { tasks } = await batch.claim(["q2", "q1"], 10);
    expect(tasks.map((t) => t.name)).toEqual(["a2", "b2", "a4", "a1", "b1", "a3", "b3"]);
  });

  it("claims only from the queues asked for, and at most max", async () => {
    const store = redis.store();
    await store.enqueueMany([
      { name: "x", queue: "mine" },
      { name: "x", queue: "mine" },
      { name: "x", queue: "mine" },
      { name: "y", queue: "other" },
    ]);
    const first = await store.claim(["mine"], 2);
    expect(first.tasks).toHaveLength(2);
    expect(first.tasks.every((t) => t.queue === "mine")).toBe(true);
    expect((await store.claim(["mine"], 5)).tasks).toHaveLength(1);
    expect((await store.claim(["mine"], 5)).tasks).toHaveLength(0);
    expect(await store.queues()).toEqual([
      { name: "mine", depth: 0 },
      { name: "other", depth: 1 },
    ]);
  });

  it("leases each task with a fresh fencing token and counts attempts", async () => {
    const store = redis.store({ leaseMs: 5_000 });
    const { id } = await store.enqueue({ name: "x", payload: { big: "data" } });
    const { tasks, now } = await store.claim(["default"], 1);
    const [task] = tasks;
    expect(task).toMatchObject({ id, status: "running", attempts: 1, deliveries: 1 });
    expect(task?.payload).toEqual({ big: "data" });
    expect(task?.startedAt).toBe(now);
    expect(task?.leaseUntil).toBe(now + 5_000);
    await store.nack(id, task?.token as string, { delayMs: 0 }, new Error("again"));
    const second = (await store.claim(["default"], 1)).tasks[0];
    expect(second?.attempts).toBe(2);
    expect(Number(second?.token)).toBeGreaterThan(Number(task?.token));
    expect(second?.startedAt).toBe(task?.startedAt);
    expect((await store.counts()).running).toBe(1);
  });

  it("promotes delayed tasks when Redis time reaches them, in due order", async () => {
    const store = redis.store();
    const late = await store.enqueue({ name: "late", delayMs: 200 });
    const early = await store.enqueue({ name: "early", delayMs: 60 });
    await store.enqueue({ name: "now" });
    expect(late.status).toBe("scheduled");
    const first = await store.claim(["default"], 10);
    expect(first.tasks.map((t) => t.name)).toEqual(["now"]);
    expect(first.nextDueAt).toBeGreaterThan(first.now);
    expect((await store.get(early.id))?.status).toBe("scheduled");
    const seen: string[] = [];
    await eventually(async () => {
      const { tasks } = await store.claim(["default"], 10);
      seen.push(...tasks.map((t) => t.name));
      return seen.length === 2 ? true : undefined;
    });
    expect(seen).toEqual(["early", "late"]);
  });

  it("honours an absolute runAt and a delayed task's priority once promoted", async () => {
    const store = redis.store();
    const now = await store.time();
    await store.enqueue({ name: "low", runAt: now + 50, priority: 0 });
    await store.enqueue({ name: "high", runAt: now + 50, priority: 9 });
    await sleep(80);
    const { tasks } = await store.claim(["default"], 10);
    expect(tasks.map((t) => t.name)).toEqual(["high", "low"]);
  });

  it("expires tasks whose TTL passed before their first start", async () => {
    const store = redis.store();
    const doomed = await store.enqueue({ name: "x", ttlMs: 30 });
    const fine = await store.enqueue({ name: "y", ttlMs: 60_000 });
    await sleep(60);
    const result = await store.claim(["default"], 10);
    expect(result.expired).toBe(1);
    expect(result.tasks.map((t) => t.id)).toEqual([fine.id]);
    const expired = await store.get(doomed.id);
    expect(expired?.status).toBe("expired");
    expect(expired?.error?.code).toBe("ERR_EXPIRED");
  });

  it("validates its arguments", async () => {
    const store = redis.store();
    await expect(store.claim([], 1)).rejects.toThrow(/queues/);
    await expect(store.claim(["q"], 0)).rejects.toThrow(/max/);
    await expect(store.claim(["q"], 1, 0)).rejects.toThrow(/leaseMs/);
  });
});

describe("get and list", () => {
  it("lists by status, queue and name with cursors, without payloads", async () => {
    const store = redis.store();
    for (let i = 0; i < 7; i++)
      await store.enqueue({ name: i % 2 ? "odd" : "even", queue: "q", payload: i });
    await store.enqueue({ name: "later", queue: "q", delayMs: 60_000 });
    await store.enqueue({ name: "even", queue: "other" });
    const claimed = (await store.claim(["q"], 2)).tasks;
    expect(claimed).toHaveLength(2);

    const all = await store.list({ limit: 100 });
    expect(all.tasks).toHaveLength(9);
    expect(all.nextCursor).toBeUndefined();
    expect(all.tasks.every((t) => t.payload === undefined)).toBe(true);

    expect((await store.list({ status: "running" })).tasks.map((t) => t.id).sort()).toEqual(
      claimed.map((t) => t.id).sort(),
    );
    expect((await store.list({ status: "scheduled" })).tasks.map((t) => t.name)).toEqual(["later"]);
    expect((await store.list({ status: "queued", queue: "other" })).tasks).toHaveLength(1);
    const evenQueued = await store.list({ status: "queued", name: "even", queue: "q" });
    expect(evenQueued.tasks.every((t) => t.name === "even" && t.queue === "q")).toBe(true);

    // Paging: three pages of 2 over the 5 queued tasks of queue q, in claim order.
    const ids: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await store.list({ status: ["queued"], queue: "q", limit: 2, cursor });
      ids.push(...page.tasks.map((t) => t.id));
      cursor = page.nextCursor;
      pages++;
    } while (cursor !== undefined);
    expect(ids).toHaveLength(5);
    expect(new Set(ids).size).toBe(5);
    expect(pages).toBeGreaterThanOrEqual(3);

    await expect(store.list({ cursor: "nonsense" })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(store.list({ status: "bogus" as "queued" })).rejects.toThrow(/status/);
    expect(await store.get("no-such-id")).toBeUndefined();
  });
});

describe("claim under a backlog of expired tasks", () => {
  it("bounds the work of one call and leaves a wake-up token when cut short", async () => {
    const store = redis.store();
    await store.enqueueMany(Array.from({ length: 150 }, () => ({ name: "stale", ttlMs: 1 })));
    const { id } = await store.enqueue({ name: "live" });
    await sleep(20);
    const first = await store.claim(["default"], 1);
    expect(first.tasks).toEqual([]);
    expect(first.expired).toBe(100);
    // The token tells a blocked worker to claim again at once.
    const waiter = store.createWaiter();
    try {
      await store.redis.del(store.keys.marker("default"));
      const second = await store.claim(["default"], 1);
      expect(second.expired).toBe(50);
      expect(second.tasks.map((t) => t.id)).toEqual([id]);
      expect(await store.redis.llen(store.keys.marker("default"))).toBe(0);
      await store.enqueueMany(Array.from({ length: 120 }, () => ({ name: "stale", ttlMs: 1 })));
      await store.enqueue({ name: "live" });
      await sleep(20);
      await store.redis.del(store.keys.marker("default"));
      expect((await store.claim(["default"], 1)).tasks).toEqual([]);
      expect(await waiter.wait(["default"], 5_000)).toBe("woken");
      expect((await store.claim(["default"], 1)).tasks).toHaveLength(1);
    } finally {
      await waiter.close();
    }
  });
});
