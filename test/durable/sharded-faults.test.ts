/**
 * The sharded Redis layout under faults, with real worker processes (the built package) on a
 * real redis-server: a worker killed with `kill -9` mid-task on a queue split over partitions
 * loses nothing, and every task succeeds exactly once on the survivor.
 */
import { randomUUID } from "node:crypto";
import { TaskManager } from "taskmill";
import { afterEach, describe, expect, it } from "vitest";
import type { TaskEvent } from "../../src/stores/durable-types.js";
import { ShardedRedisStore } from "../../src/stores/redis/sharded/sharded-store.js";
import { useRedis } from "../stores/redis/fixture.js";
import { startWorker, stopAll } from "../support/worker-process.js";

const redis = useRedis();
const managers: TaskManager[] = [];

afterEach(async () => {
  await stopAll();
  await Promise.all(managers.splice(0).map((mill) => mill.stopNow()));
});

const SHARDED = { REDIS_LAYOUT: "sharded", PARTITIONS: "3" };

describe("sharded layout under faults (real processes)", () => {
  it("kill -9 of a worker holding tasks of three partitions: each runs to success once on another", async () => {
    const leaseMs = 1_000;
    const url = redis.server().url;
    const prefix = `sh-faults-${randomUUID().slice(0, 8)}`;
    const producer = new TaskManager({
      retry: { maxRetries: 0 },
      queues: { default: { partitions: 3 } },
      backend: { type: "redis", url, prefix, leaseMs, layout: "sharded" },
    });
    managers.push(producer);
    const a = startWorker({
      url,
      prefix,
      leaseMs,
      behaviour: "hang",
      label: "A",
      concurrency: 6,
      env: SHARDED,
    });
    await a.ready();
    const ids = (
      await Promise.all(Array.from({ length: 6 }, (_, n) => producer.submit("job", { n })))
    ).map((task) => task.id);
    await expect
      .poll(() => new Set(a.reports.filter((r) => r.type === "start").map((r) => r.id)).size, {
        timeout: 10_000,
      })
      .toBe(6);
    const b = startWorker({
      url,
      prefix,
      leaseMs,
      behaviour: "fast",
      label: "B",
      concurrency: 6,
      env: SHARDED,
    });
    await b.ready();
    await a.kill();
    expect(a.exit).toEqual({ code: null, signal: "SIGKILL" });

    const store = new ShardedRedisStore(redis.client(), { prefix });
    // The six tasks went to all three partitions.
    const shards = new Set(
      await Promise.all(ids.map(async (id) => (await store.shards.locate(id))?.keys.prefix)),
    );
    expect(shards.size).toBe(3);
    await expect
      .poll(async () => (await Promise.all(ids.map((id) => store.get(id)))).map((t) => t?.status), {
        timeout: 10_000,
        interval: 25,
      })
      .toEqual(ids.map(() => "succeeded"));
    for (const id of ids)
      expect((await store.get(id))?.value).toEqual({
        pid: b.pid,
        label: "B",
        n: expect.any(Number),
      });
    const events: TaskEvent[] = await store.readFeed("0", 1_000);
    for (const id of ids) {
      const mine = events.filter((event) => event.id === id);
      expect(mine.filter((event) => event.status === "succeeded")).toHaveLength(1);
      expect(
        mine.some((event) => event.status === "retrying" && event.reason === "lease-expired"),
      ).toBe(true);
    }
    expect(await store.counts()).toMatchObject({ running: 0, deadLetters: 0 });
  }, 30_000);
});
