import { describe, expect, it } from "vitest";
import type { RedisStore } from "../../../src/stores/redis/redis-store.js";
import { useRedis } from "./fixture.js";

// AOF with appendfsync always: every acknowledged write is on disk before the reply.
const redis = useRedis({ aof: true });

async function drain(store: RedisStore): Promise<string[]> {
  const ids: string[] = [];
  for (;;) {
    const { tasks } = await store.claim(["default"], 100);
    if (tasks.length === 0) return ids;
    for (const task of tasks) {
      ids.push(task.id);
      await store.ack(task.id, task.token);
    }
  }
}

describe("persistence (AOF)", () => {
  it("keeps every enqueued task across a graceful restart", async () => {
    const store = redis.store();
    const ids = (
      await store.enqueueMany(Array.from({ length: 200 }, (_, i) => ({ name: "keep", payload: i })))
    ).map((r) => r.id);
    const pid = redis.server().pid;
    await redis.server().restart();
    expect(redis.server().pid).not.toBe(pid);
    const claimed = await drain(store);
    expect(claimed.sort()).toEqual([...ids].sort());
  });

  it("keeps every acknowledged enqueue across kill -9 of redis-server", async () => {
    const store = redis.store();
    const ids: string[] = [];
    for (let i = 0; i < 100; i++) ids.push((await store.enqueue({ name: "crash", payload: i })).id);
    await store.enqueue({ name: "later", delayMs: 1 });
    await redis.server().kill();
    await redis.server().start();
    const claimed = await drain(store);
    // All 100 in FIFO order, then the delayed one (promoted after them).
    expect(claimed).toHaveLength(101);
    expect(claimed.slice(0, 100)).toEqual(ids);
  });
});
