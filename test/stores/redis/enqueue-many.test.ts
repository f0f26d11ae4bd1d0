import { describe, expect, it } from "vitest";
import { IdempotencyConflictError, InvalidArgumentError } from "../../../src/errors.js";
import type { RedisClient } from "../../../src/stores/redis/client.js";
import { RedisStore } from "../../../src/stores/redis/redis-store.js";
import { useRedis } from "./fixture.js";

const redis = useRedis();

/** Every key of the store's prefix with its type, sorted: a picture of what is written. */
async function keysOf(store: RedisStore): Promise<string[]> {
  const client: RedisClient = store.redis;
  const keys = await client.keys(`${store.keys.base}*`);
  const typed = await Promise.all(keys.map(async (key) => `${key} ${await client.type(key)}`));
  return typed.sort();
}

/** Counts script calls by name, through Redis' own command statistics. */
async function evalCalls(client: RedisClient): Promise<number> {
  const info = await client.info("commandstats");
  let calls = 0;
  for (const match of info.matchAll(/^cmdstat_(evalsha|eval):calls=(\d+)/gm))
    calls += Number(match[2]);
  return calls;
}

describe("enqueueMany", () => {
  it("stores every task in one script call and returns one result per input, in order", async () => {
    const store = redis.store();
    const before = await evalCalls(store.redis);
    const results = await store.enqueueMany([
      { name: "a", payload: 1, priority: 1 },
      { name: "b", queue: "other", payload: { x: [1, 2] } },
      { name: "c", delayMs: 60_000 },
      { id: "fixed", name: "d", payload: "p", idempotencyKey: "k-d", maxRetries: 2 },
    ]);
    expect(await evalCalls(store.redis)).toBe(before + 1);
    expect(results.map((r) => [r.created, r.status])).toEqual([
      [true, "queued"],
      [true, "queued"],
      [true, "scheduled"],
      [true, "queued"],
    ]);
    expect(results[3]?.id).toBe("fixed");
    expect(new Set(results.map((r) => r.id)).size).toBe(4);
    expect(await store.get(results[1]?.id as string)).toMatchObject({
      name: "b",
      queue: "other",
      payload: { x: [1, 2] },
      status: "queued",
      attempts: 0,
    });
    expect(await store.get("fixed")).toMatchObject({
      idempotencyKey: "k-d",
      maxRetries: 2,
      payload: "p",
    });
    expect((await store.get(results[2]?.id as string))?.runAt).toBeGreaterThan(Date.now());
    expect(await store.queues()).toEqual([
      { name: "default", depth: 2 },
      { name: "other", depth: 1 },
    ]);
    expect((await store.counts()).delayed).toBe(1);
    // The same key again (one call later) names the stored task.
    const again = await store.enqueue({ name: "d", payload: "p", idempotencyKey: "k-d" });
    expect(again).toEqual({ id: "fixed", created: false, status: "queued" });
  });

  it("keeps argument order as FIFO order within a priority, and priority across", async () => {
    const store = redis.store();
    await store.enqueue({ name: "first" });
    await store.enqueueMany([
      { name: "m1" },
      { name: "late", delayMs: 60_000 },
      { name: "m2" },
      { name: "urgent", priority: 9 },
      { name: "m3" },
    ]);
    await store.enqueue({ name: "last" });
    const { tasks } = await store.claim(["default"], 10);
    expect(tasks.map((t) => t.name)).toEqual(["urgent", "first", "m1", "m2", "m3", "last"]);
  });

  it("claims and acks tasks stored by enqueueMany like any other", async () => {
    const store = redis.store();
    const [a] = await store.enqueueMany([{ name: "x", payload: { n: 1 }, meta: { t: "1" } }]);
    const { tasks } = await store.claim(["default"], 1);
    expect(tasks[0]).toMatchObject({ id: a?.id, name: "x", payload: { n: 1 }, meta: { t: "1" } });
    const task = tasks[0];
    if (task === undefined) throw new Error("nothing claimed");
    await store.ack(task.id, task.token, "done");
    expect(await store.get(task.id)).toMatchObject({ status: "succeeded", value: "done" });
  });

  it("returns the existing task for a key (or id) already stored with the same payload", async () => {
    const store = redis.store();
    const held = await store.enqueue({ name: "pay", payload: { a: 1, b: 2 }, idempotencyKey: "k" });
    const byId = await store.enqueue({ id: "tick-1", name: "cron", payload: 1 });
    const results = await store.enqueueMany([
      { name: "new", payload: 0 },
      { name: "pay", payload: { b: 2, a: 1 }, idempotencyKey: "k" },
      { id: "tick-1", name: "cron", payload: 1 },
    ]);
    expect(results[0]?.created).toBe(true);
    expect(results[1]).toEqual({ id: held.id, created: false, status: "queued" });
    expect(results[2]).toEqual({ id: byId.id, created: false, status: "queued" });
    expect((await store.queues())[0]?.depth).toBe(3);
  });

  it("a key (or id) repeated inside the call with the same payload returns the first task", async () => {
    const store = redis.store();
    const results = await store.enqueueMany([
      { name: "pay", payload: { a: 1 }, idempotencyKey: "dup", delayMs: 60_000 },
      { name: "other" },
      { name: "pay", payload: { a: 1 }, idempotencyKey: "dup" },
      { id: "same-id", name: "n", payload: [1] },
      { id: "same-id", name: "n", payload: [1] },
    ]);
    expect(results[0]).toMatchObject({ created: true, status: "scheduled" });
    expect(results[2]).toEqual({ id: results[0]?.id, created: false, status: "scheduled" });
    expect(results[3]).toEqual({ id: "same-id", created: true, status: "queued" });
    expect(results[4]).toEqual({ id: "same-id", created: false, status: "queued" });
    expect(await store.queues()).toEqual([{ name: "default", depth: 2 }]);
    expect((await store.counts()).delayed).toBe(1);
  });

  it("refuses the whole call on a conflict with a stored task, writing nothing", async () => {
    const store = redis.store();
    const held = await store.enqueue({ name: "pay", payload: { a: 1 }, idempotencyKey: "k" });
    await store.enqueue({ id: "taken", name: "x", payload: 1 });
    const picture = await keysOf(store);
    const seq = await store.redis.get(store.keys.seq);

    const conflict = store.enqueueMany([
      { name: "fine", payload: 1, idempotencyKey: "fresh-key" },
      { name: "fine", delayMs: 60_000 },
      { name: "pay", payload: { a: 2 }, idempotencyKey: "k" },
      { name: "fine", queue: "new-queue" },
    ]);
    await expect(conflict).rejects.toBeInstanceOf(IdempotencyConflictError);
    await expect(conflict).rejects.toMatchObject({
      idempotencyKey: "k",
      existingTaskId: held.id,
    });
    const reusedId = store.enqueueMany([{ name: "fine" }, { id: "taken", name: "x", payload: 2 }]);
    await expect(reusedId).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(reusedId).rejects.toMatchObject({ argument: "id", value: "taken" });

    expect(await keysOf(store)).toEqual(picture);
    expect(await store.redis.get(store.keys.seq)).toBe(seq);
    expect(await store.queues()).toEqual([{ name: "default", depth: 2 }]);
  });

  it("refuses the whole call when a key repeats inside it with another payload", async () => {
    const store = redis.store();
    const picture = await keysOf(store);
    const conflict = store.enqueueMany([
      { name: "pay", payload: { a: 1 }, idempotencyKey: "twice" },
      { name: "pay", payload: { a: 2 }, idempotencyKey: "twice" },
    ]);
    await expect(conflict).rejects.toBeInstanceOf(IdempotencyConflictError);
    await expect(conflict).rejects.toMatchObject({ idempotencyKey: "twice" });
    await expect(
      store.enqueueMany([
        { id: "one", name: "x", payload: 1 },
        { id: "one", name: "y", payload: 1 },
      ]),
    ).rejects.toMatchObject({ argument: "id" });
    expect(await keysOf(store)).toEqual(picture);
  });

  it("a key whose holder was evicted is free again, for the first input repeating it", async () => {
    const store = redis.store();
    const old = await store.enqueue({ name: "pay", payload: 1, idempotencyKey: "k" });
    // Simulate eviction of the holder's record, leaving the key behind.
    await store.redis.del(store.keys.task(old.id));
    const results = await store.enqueueMany([
      { name: "pay", payload: 2, idempotencyKey: "k" },
      { name: "pay", payload: 2, idempotencyKey: "k" },
    ]);
    expect(results[0]?.created).toBe(true);
    expect(results[0]?.id).not.toBe(old.id);
    expect(results[1]).toEqual({ id: results[0]?.id, created: false, status: "queued" });
    expect(await store.redis.get(store.keys.idempotency("k"))).toBe(results[0]?.id);
  });

  it("validates every input before sending anything, naming the bad one", async () => {
    const store = redis.store();
    const before = await evalCalls(store.redis);
    const picture = await keysOf(store);
    const bad = [
      [{ name: "ok" }, { name: "x", payload: () => 1 }],
      [{ name: "ok" }, { name: "" }],
      [{ name: "ok" }, { name: "x", priority: Number.NaN }],
      [{ name: "ok" }, { name: "x", delayMs: -1 }],
      [{ name: "ok" }, { name: "x", maxRetries: 1.5 }],
      [{ name: "ok" }, { name: "x", meta: { f: Symbol("s") } }],
      [{ name: "ok" }, null],
    ] as const;
    for (const inputs of bad) {
      const error = await store.enqueueMany(inputs as never).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect((error as InvalidArgumentError).argument).toMatch(/^inputs\[1\]/);
    }
    await expect(store.enqueueMany("nope" as never)).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(await evalCalls(store.redis)).toBe(before);
    expect(await keysOf(store)).toEqual(picture);
    expect(await store.enqueueMany([])).toEqual([]);
  });

  it("stores a large batch in one call", async () => {
    const store = redis.store();
    const inputs = Array.from({ length: 2_500 }, (_, i) => ({
      name: "bulk",
      queue: `q${i % 3}`,
      payload: i,
      ...(i % 10 === 0 ? { idempotencyKey: `key-${i}` } : {}),
    }));
    const results = await store.enqueueMany(inputs);
    expect(results).toHaveLength(2_500);
    expect(results.every((r) => r.created && r.status === "queued")).toBe(true);
    expect((await store.queues()).map((q) => q.depth)).toEqual([834, 833, 833]);
    // Replaying the batch creates nothing: the keyed tasks name themselves, the others are new.
    const replay = await store.enqueueMany(inputs.filter((input) => "idempotencyKey" in input));
    expect(replay.every((r) => !r.created)).toBe(true);
  });

  it("stores 20,000 tasks in one script call (320,000 arguments), atomically", async () => {
    const store = redis.store();
    const inputs = Array.from({ length: 20_000 }, (_, i) => ({
      name: "bulk",
      payload: { i },
      ...(i === 19_999 ? { delayMs: 60_000 } : {}),
    }));
    const before = await evalCalls(store.redis);
    const results = await store.enqueueMany(inputs);
    expect(await evalCalls(store.redis)).toBe(before + 1);
    expect(results).toHaveLength(20_000);
    expect(results.slice(0, -1).every((r) => r.created && r.status === "queued")).toBe(true);
    expect(results[19_999]).toMatchObject({ created: true, status: "scheduled" });
    expect(new Set(results.map((r) => r.id)).size).toBe(20_000);
    expect(await store.queues()).toEqual([{ name: "default", depth: 19_999 }]);
    expect(await store.get(results[12_345]?.id as string)).toMatchObject({
      payload: { i: 12_345 },
    });
  });

  it("answers created and existing tasks of one call in order, each with its own id", async () => {
    const store = redis.store();
    const [stored] = await store.enqueueMany([{ name: "x", payload: 1, idempotencyKey: "k1" }]);
    const results = await store.enqueueMany([
      { name: "x", payload: 2 },
      { name: "x", payload: 1, idempotencyKey: "k1" },
      { name: "x", payload: 3, delayMs: 60_000 },
      { name: "x", payload: 4, idempotencyKey: "k2" },
      { name: "x", payload: 4, idempotencyKey: "k2" },
    ]);
    expect(results.map((r) => [r.created, r.status])).toEqual([
      [true, "queued"],
      [false, "queued"],
      [true, "scheduled"],
      [true, "queued"],
      [false, "queued"],
    ]);
    expect(results[1]?.id).toBe(stored?.id);
    expect(results[4]?.id).toBe(results[3]?.id);
    expect(new Set([results[0]?.id, results[2]?.id, results[3]?.id, stored?.id]).size).toBe(4);
  });
});

describe("enqueueMany from two processes at once", () => {
  it("agrees on one task per key: each call sees the other's as a whole or not at all", async () => {
    const a = redis.store();
    const b = new RedisStore(redis.client(), { prefix: a.keys.prefix });
    const batch = (from: number) =>
      Array.from({ length: 200 }, (_, i) => ({
        name: "t",
        payload: from + i,
        idempotencyKey: `k${from + i}`,
      }));
    // Keys 100..199 are in both batches.
    const [first, second] = await Promise.all([a.enqueueMany(batch(0)), b.enqueueMany(batch(100))]);
    const ids = new Map<string, string>();
    for (const [i, r] of first.entries()) ids.set(`k${i}`, r.id);
    for (const [i, r] of second.entries()) {
      const key = `k${100 + i}`;
      if (ids.has(key)) expect(r.id).toBe(ids.get(key));
      else ids.set(key, r.id);
    }
    expect(ids.size).toBe(300);
    const overlap = [...first.slice(100), ...second.slice(0, 100)];
    // The call that ran second found all 100 shared keys taken; the first created them all.
    expect(overlap.filter((r) => r.created)).toHaveLength(100);
    expect(
      first.slice(100).every((r) => r.created) || second.slice(0, 100).every((r) => r.created),
    ).toBe(true);
    expect((await a.queues())[0]?.depth).toBe(300);
  });
});
