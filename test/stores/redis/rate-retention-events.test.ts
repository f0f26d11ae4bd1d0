import { describe, expect, it } from "vitest";
import type { StoredTask, TaskEvent } from "../../../src/stores/durable-types.js";
import type { RedisStore } from "../../../src/stores/redis/redis-store.js";
import { toSnapshot, toTaskResult } from "../../../src/stores/snapshots.js";
import { eventually, sleep, useRedis } from "./fixture.js";

const redis = useRedis();

async function runOne(store: RedisStore, value: unknown): Promise<string> {
  const { id } = await store.enqueue({ name: "job", idempotencyKey: `k-${String(value)}` });
  const [task] = (await store.claim(["default"], 1)).tasks;
  if (task?.id !== id) throw new Error("claimed the wrong task");
  await store.ack(id, task.token, value);
  return id;
}

describe("global rate limit", () => {
  it("never starts more than burst + perSecond * t in any window, across workers", async () => {
    const perSecond = 40;
    const burst = 5;
    const store = redis.store({ globalRate: { perSecond, burst } });
    await store.enqueueMany(Array.from({ length: 300 }, (_, i) => ({ name: "r", payload: i })));
    // Three "processes" with their own connections share the bucket in Redis.
    const workers = [
      store,
      ...[1, 2].map(() =>
        redis.store({ prefix: store.keys.prefix, globalRate: { perSecond, burst } }),
      ),
    ];
    const starts: number[] = [];
    const until = Date.now() + 700;
    await Promise.all(
      workers.map(async (worker) => {
        while (Date.now() < until) {
          const result = await worker.claim(["default"], 10);
          for (const _ of result.tasks) starts.push(result.now);
          if (result.tasks.length === 0) await sleep(Math.min(50, Math.max(1, result.rateWaitMs)));
        }
      }),
    );
    starts.sort((a, b) => a - b);
    for (let i = 0; i < starts.length; i++)
      for (let j = i; j < starts.length; j++) {
        const windowMs = (starts[j] as number) - (starts[i] as number);
        expect(j - i + 1).toBeLessThanOrEqual(burst + (perSecond * windowMs) / 1000 + 1e-9);
      }
    // It did let work through: at least the burst plus a good part of the refill.
    expect(starts.length).toBeGreaterThanOrEqual(burst + 10);
  });

  it("reports how long until the next token when it runs dry", async () => {
    const store = redis.store({ globalRate: { perSecond: 2, burst: 1 } });
    await store.enqueueMany([{ name: "a" }, { name: "b" }]);
    expect((await store.claim(["default"], 5)).tasks).toHaveLength(1);
    const dry = await store.claim(["default"], 5);
    expect(dry.tasks).toHaveLength(0);
    expect(dry.rateWaitMs).toBeGreaterThan(0);
    expect(dry.rateWaitMs).toBeLessThanOrEqual(500);
    // A claim without the limit ignores the bucket.
    expect((await store.claim(["default"], 5, undefined, { globalRate: null })).tasks).toHaveLength(
      1,
    );
  });
});

describe("retention", () => {
  it("keeps at most maxEntries finished records, evicting hashes and idempotency keys", async () => {
    const store = redis.store({ retention: { maxEntries: 3 } });
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push(await runOne(store, i));
    expect((await store.counts()).finished).toBe(3);
    for (const id of ids.slice(0, 3)) expect(await store.get(id)).toBeUndefined();
    for (const id of ids.slice(3)) expect((await store.get(id))?.status).toBe("succeeded");
    // The evicted task's idempotency key names no task any more.
    expect((await store.enqueue({ name: "job", idempotencyKey: "k-0" })).created).toBe(true);
    expect((await store.enqueue({ name: "job", idempotencyKey: "k-5" })).created).toBe(false);
  });

  it("evicts records older than ttlMs, eagerly on ack and by trim()", async () => {
    const store = redis.store({ retention: { ttlMs: 60 } });
    const old = await runOne(store, "old");
    await sleep(100);
    const fresh = await runOne(store, "fresh");
    expect(await store.get(old)).toBeUndefined();
    expect(await store.get(fresh)).toBeDefined();
    await sleep(100);
    expect(await store.trim()).toEqual({ finished: 1, deadLetters: 0 });
    expect((await store.counts()).finished).toBe(0);
  });
});

describe("events stream", () => {
  it("records every terminal transition and retry with value, error and timings", async () => {
    const store = redis.store();
    await store.enqueueMany([{ name: "ok", payload: 1 }, { name: "retry" }, { name: "bad" }]);
    const cancelled = await store.enqueue({ name: "gone", delayMs: 60_000 });
    const [ok, retry, bad] = (await store.claim(["default"], 3)).tasks;
    await store.ack(ok?.id as string, ok?.token as string, { sent: true });
    await store.nack(
      retry?.id as string,
      retry?.token as string,
      { delayMs: 50 },
      new Error("later"),
    );
    await store.fail(bad?.id as string, bad?.token as string, new Error("never"));
    await store.cancel(cancelled.id);
    const events = await store.readEvents("0");
    expect(events.map((e) => [e.name, e.status])).toEqual([
      ["ok", "succeeded"],
      ["retry", "retrying"],
      ["bad", "failed"],
      ["gone", "cancelled"],
    ]);
    const [succeeded, retrying, failed] = events;
    expect(succeeded).toMatchObject({
      id: ok?.id,
      queue: "default",
      attempts: 1,
      value: { sent: true },
    });
    expect(succeeded?.finishedAt).toBeGreaterThanOrEqual(succeeded?.startedAt as number);
    expect(retrying).toMatchObject({ error: { message: "later" } });
    expect(retrying?.runAt).toBeGreaterThan(retrying?.at as number);
    expect(failed).toMatchObject({ status: "failed", error: { message: "never" } });
    // Reading after the last id returns only what came later.
    expect(await store.readEvents(events.at(-1)?.streamId as string)).toEqual([]);
  });

  it("a blocking reader on its own connection receives a result written later", async () => {
    const store = redis.store();
    const connection = redis.client();
    await store.enqueue({ name: "later" });
    const reading = store.readEvents("$", { blockMs: 5_000, connection });
    await sleep(50);
    const [task] = (await store.claim(["default"], 1)).tasks;
    await store.ack(task?.id as string, task?.token as string, 42);
    const events = await reading;
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ id: task?.id, status: "succeeded", value: 42 });
  });

  it("stays bounded (approximate MAXLEN)", async () => {
    const store = redis.store({ eventsMaxLen: 10 });
    for (let i = 0; i < 300; i++) await runOne(store, i);
    const length = await store.redis.xlen(store.keys.events);
    // MAXLEN ~ trims whole radix-tree nodes (100 entries by default), never below the bound.
    expect(length).toBeGreaterThanOrEqual(10);
    expect(length).toBeLessThan(300);
    await eventually(async () => true);
  });
});

describe("public shapes", () => {
  it("turns stored tasks into snapshots and terminal events into results", async () => {
    const store = redis.store();
    const { id } = await store.enqueue({ name: "s", maxRetries: 4, idempotencyKey: "snap" });
    const queued = toSnapshot((await store.get(id)) as StoredTask, 3);
    expect(queued).toEqual({
      id,
      name: "s",
      queue: "default",
      status: "queued",
      priority: 0,
      attempts: 0,
      maxRetries: 4,
      createdAt: queued.createdAt,
      idempotencyKey: "snap",
    });
    const [task] = (await store.claim(["default"], 1)).tasks;
    await store.nack(id, task?.token as string, { delayMs: 0 }, new Error("once"));
    const [again] = (await store.claim(["default"], 1)).tasks;
    await store.ack(id, again?.token as string, "done");
    const [retrying, succeeded] = await store.readEvents("0");
    expect(toTaskResult(retrying as TaskEvent)).toBeUndefined();
    expect(toTaskResult(succeeded as TaskEvent)).toEqual({
      id,
      name: "s",
      queue: "default",
      status: "succeeded",
      attempts: 2,
      createdAt: queued.createdAt,
      startedAt: task?.startedAt,
      finishedAt: succeeded?.finishedAt,
      value: "done",
    });
  });
});
