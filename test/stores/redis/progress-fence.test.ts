import { describe, expect, it } from "vitest";
import { InvalidArgumentError, StaleLeaseError } from "../../../src/errors.js";
import type { ClaimedTask, StoredTask } from "../../../src/stores/durable-types.js";
import { RedisStore } from "../../../src/stores/redis/redis-store.js";
import { toSnapshot } from "../../../src/stores/snapshots.js";
import { sleep, useRedis } from "./fixture.js";

const redis = useRedis();

async function claimOne(store: RedisStore, leaseMs?: number): Promise<ClaimedTask> {
  const { tasks } = await store.claim(["default"], 1, leaseMs);
  const [task] = tasks;
  if (task === undefined) throw new Error("nothing to claim");
  return task;
}

describe("progress", () => {
  it("stores the value under the lease; get and the snapshot show it, list does not", async () => {
    const store = redis.store();
    const { id } = await store.enqueue({ name: "x" });
    expect((await store.get(id))?.progress).toBeUndefined();
    expect(toSnapshot((await store.get(id)) as StoredTask)).not.toHaveProperty("progress");
    const task = await claimOne(store);
    await store.progress(id, task.token, 0.25);
    expect((await store.get(id))?.progress).toBe(0.25);
    await store.progress(id, task.token, { done: 3, of: 4, step: "upload" });
    const stored = (await store.get(id)) as StoredTask;
    expect(stored.progress).toEqual({ done: 3, of: 4, step: "upload" });
    expect(toSnapshot(stored).progress).toEqual({ done: 3, of: 4, step: "upload" });
    const listed = await store.list({ status: "running" });
    expect(listed.tasks[0]?.id).toBe(id);
    expect(listed.tasks[0]?.progress).toBeUndefined();
    // undefined clears it.
    await store.progress(id, task.token, undefined);
    expect((await store.get(id))?.progress).toBeUndefined();
  });

  it("is visible from another client on the same prefix", async () => {
    const store = redis.store();
    const other = new RedisStore(redis.client(), { prefix: store.keys.prefix });
    const { id } = await store.enqueue({ name: "x" });
    const task = await claimOne(store);
    await store.progress(id, task.token, "half");
    expect((await other.get(id))?.progress).toBe("half");
  });

  it("keeps the last value after the task ends, and refuses later reports", async () => {
    const store = redis.store();
    await store.enqueueMany([{ name: "ok" }, { name: "bad" }]);
    const ok = await claimOne(store);
    await store.progress(ok.id, ok.token, 99);
    await store.ack(ok.id, ok.token, "v");
    expect(await store.get(ok.id)).toMatchObject({ status: "succeeded", progress: 99, value: "v" });
    await expect(store.progress(ok.id, ok.token, 100)).rejects.toMatchObject({
      reason: "not-running",
    });
    expect((await store.get(ok.id))?.progress).toBe(99);

    const bad = await claimOne(store);
    await store.progress(bad.id, bad.token, "step 2");
    await store.fail(bad.id, bad.token, new Error("boom"));
    expect(await store.get(bad.id)).toMatchObject({ status: "failed", progress: "step 2" });
  });

  it("keeps the value across a retry until the next attempt reports its own", async () => {
    const store = redis.store();
    const { id } = await store.enqueue({ name: "x" });
    const first = await claimOne(store);
    await store.progress(id, first.token, 1);
    await store.nack(id, first.token, { delayMs: 0 }, new Error("again"));
    expect(await store.get(id)).toMatchObject({ status: "retrying", progress: 1 });
    const second = await claimOne(store);
    expect((await store.get(id))?.progress).toBe(1);
    await store.progress(id, second.token, 2);
    expect((await store.get(id))?.progress).toBe(2);
  });

  it("is fenced: a superseded, reclaimed, cancelled or unknown lease is refused and changes nothing", async () => {
    const store = redis.store();
    const { id } = await store.enqueue({ name: "x" });
    const stale = await claimOne(store, 80);
    await store.progress(id, stale.token, "mine");
    await sleep(120);
    await store.reclaim();
    // Reclaimed, not yet claimed again.
    const reclaimed = await store.progress(id, stale.token, "late").catch((e: unknown) => e);
    expect(reclaimed).toBeInstanceOf(StaleLeaseError);
    expect(reclaimed).toMatchObject({ code: "ERR_STALE_LEASE", reason: "not-running" });
    const fresh = await claimOne(store, 10_000);
    await expect(store.progress(id, stale.token, "late")).rejects.toMatchObject({
      reason: "superseded",
    });
    expect((await store.get(id))?.progress).toBe("mine");
    await store.progress(id, fresh.token, "theirs");
    await store.cancel(id);
    await expect(store.progress(id, fresh.token, "after cancel")).rejects.toMatchObject({
      reason: "cancelled",
    });
    expect((await store.get(id))?.progress).toBe("theirs");
    await expect(store.progress("nope", fresh.token, 1)).rejects.toMatchObject({
      reason: "missing",
    });
  });

  it("refuses values that are not JSON data before calling Redis", async () => {
    const store = redis.store();
    const { id } = await store.enqueue({ name: "x" });
    const task = await claimOne(store);
    await expect(store.progress(id, task.token, { f: () => 1 })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    await expect(store.progress(id, task.token, Number.NaN)).rejects.toMatchObject({
      argument: "progress",
    });
  });
});

describe("fence", () => {
  it("is the token as a number, increasing over a reclaim and a nack", async () => {
    const store = redis.store();
    const { id } = await store.enqueue({ name: "x" });
    const first = await claimOne(store, 80);
    expect(first.fence).toBe(Number(first.token));
    expect(Number.isSafeInteger(first.fence)).toBe(true);
    await sleep(120);
    expect(await store.reclaim()).toMatchObject({ reclaimed: 1, poisoned: 0 });
    const second = await claimOne(store, 10_000);
    expect(second.id).toBe(id);
    expect(second.fence).toBeGreaterThan(first.fence);
    await store.nack(id, second.token, { delayMs: 0 }, new Error("retry"));
    const third = await claimOne(store, 10_000);
    expect(third.id).toBe(id);
    expect(third.attempts).toBe(3);
    expect(third.fence).toBeGreaterThan(second.fence);
    // The stored token is the last claim's.
    expect((await store.get(id))?.token).toBe(third.token);
  });

  it("increases across stores (processes) sharing a prefix, and in worker steps", async () => {
    const a = redis.store();
    const b = new RedisStore(redis.client(), { prefix: a.keys.prefix });
    await a.enqueueMany(Array.from({ length: 6 }, (_, i) => ({ name: "x", payload: i })));
    const fences: number[] = [];
    fences.push(...(await a.claim(["default"], 2)).tasks.map((t) => t.fence));
    fences.push(...(await b.claim(["default"], 2)).tasks.map((t) => t.fence));
    fences.push(
      ...(await a.step([], ["default"], 2, { requestId: "w:1" })).tasks.map((t) => t.fence),
    );
    expect(fences).toHaveLength(6);
    expect(fences).toEqual([...fences].sort((x, y) => x - y));
    expect(new Set(fences).size).toBe(6);
  });
});
