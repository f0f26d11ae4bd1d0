import { describe, expect, it } from "vitest";
import { InvalidArgumentError } from "../../../src/errors.js";
import type { RedisStore } from "../../../src/stores/redis/redis-store.js";
import { useRedis } from "./fixture.js";

const redis = useRedis();

/** Enqueues tasks with these names and fails each once (oldest first in the DLQ). */
async function deadLetters(store: RedisStore, names: readonly string[]): Promise<string[]> {
  const ids: string[] = [];
  for (const name of names) {
    const { id } = await store.enqueue({ name, idempotencyKey: `key-${name}-${ids.length}` });
    const [task] = (await store.claim(["default"], 1)).tasks;
    if (task?.id !== id) throw new Error("claimed the wrong task");
    await store.fail(id, task.token, new Error(`${name} broke`));
    ids.push(id);
  }
  return ids;
}

describe("dead-letter queue", () => {
  it("lists oldest first with the last error and attempts, filtered by name, paged", async () => {
    const store = redis.store();
    const ids = await deadLetters(store, ["a", "b", "a", "a", "b"]);
    const all = await store.dlq.list();
    expect(all.tasks.map((t) => t.id)).toEqual(ids);
    expect(all.tasks[0]).toMatchObject({
      status: "failed",
      attempts: 1,
      error: { name: "Error", message: "a broke" },
    });
    const paged: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await store.dlq.list({ name: "a", limit: 2, cursor });
      paged.push(...page.tasks.map((t) => t.id));
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    expect(paged).toEqual([ids[0], ids[2], ids[3]]);
    await expect(store.dlq.list({ limit: 0 })).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it("replays by id under the same id, back into its queue, attempts reset", async () => {
    const store = redis.store();
    const [first, second] = await deadLetters(store, ["a", "b"]);
    const outcome = await store.dlq.replay({ ids: [first as string, "not-dead"] });
    expect(outcome).toEqual({ ids: [first], skipped: [], dryRun: false });
    expect(await store.get(first as string)).toMatchObject({
      status: "queued",
      attempts: 0,
      finishedAt: undefined,
      error: { message: "a broke" },
    });
    expect(await store.dlq.size()).toBe(1);
    const [again] = (await store.claim(["default"], 5)).tasks;
    expect(again?.id).toBe(first);
    expect(again?.attempts).toBe(1);
    await store.ack(first as string, again?.token as string, "fixed");
    expect(await store.get(first as string)).toMatchObject({
      status: "succeeded",
      value: "fixed",
      error: undefined,
    });
    // Keeping attempts when asked.
    await store.dlq.replay({ ids: [second as string] }, { resetAttempts: false });
    expect((await store.get(second as string))?.attempts).toBe(1);
  });

  it("replays by name, and a dry run changes nothing", async () => {
    const store = redis.store();
    const ids = await deadLetters(store, ["a", "b", "a"]);
    const dry = await store.dlq.replay({ name: "a" }, { dryRun: true });
    expect(dry).toEqual({ ids: [ids[0], ids[2]], skipped: [], dryRun: true });
    expect(await store.dlq.size()).toBe(3);
    expect((await store.get(ids[0] as string))?.status).toBe("failed");
    const done = await store.dlq.replay({ name: "a" });
    expect(done.ids).toEqual([ids[0], ids[2]]);
    expect((await store.dlq.list()).tasks.map((t) => t.id)).toEqual([ids[1]]);
    expect((await store.queues())[0]?.depth).toBe(2);
  });

  it("purges by selector or entirely, deleting records and idempotency keys", async () => {
    const store = redis.store();
    const ids = await deadLetters(store, ["a", "b", "c"]);
    expect(await store.dlq.purge({ ids: [ids[0] as string] }, { dryRun: true })).toEqual({
      ids: [ids[0]],
      skipped: [],
      dryRun: true,
    });
    expect(await store.dlq.size()).toBe(3);
    expect((await store.dlq.purge({ name: "b" })).ids).toEqual([ids[1]]);
    expect(await store.get(ids[1] as string)).toBeUndefined();
    // The purged task's idempotency key is free again.
    const reused = await store.enqueue({ name: "b", idempotencyKey: "key-b-1" });
    expect(reused.created).toBe(true);
    expect([...(await store.dlq.purge()).ids].sort()).toEqual([ids[0], ids[2]].sort());
    expect(await store.dlq.size()).toBe(0);
    // A purge never deletes a live task.
    expect((await store.dlq.purge({ ids: [reused.id] })).ids).toEqual([]);
    expect(await store.get(reused.id)).toBeDefined();
  });

  it("is bounded by count and by age", async () => {
    const counted = redis.store({ deadLetters: { maxEntries: 2 } });
    const ids = await deadLetters(counted, ["a", "b", "c", "d"]);
    expect((await counted.dlq.list()).tasks.map((t) => t.id)).toEqual(ids.slice(2));
    expect(await counted.get(ids[0] as string)).toBeUndefined();

    const aged = redis.store({ deadLetters: { ttlMs: 50 } });
    await deadLetters(aged, ["a", "b"]);
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(await aged.trim()).toEqual({ finished: 0, deadLetters: 2 });
    expect(await aged.dlq.size()).toBe(0);
  });
});
