/**
 * The recommended durable layout on one real Redis: an API process without handlers beside a
 * worker. Both show the same store figures (`sharedStats()`, `GET /v1/stats`): the worker's
 * outcomes, the failed count and the dead letters, though the API process ran nothing.
 */
import { randomUUID } from "node:crypto";
import { TaskManager } from "taskmill";
import { describe, expect, it, vi } from "vitest";
import { onCleanup, start } from "../admin/support.js";
import { useRedis } from "../stores/redis/fixture.js";

const redis = useRedis();

describe("shared stats across processes", () => {
  it("a manager with handlers and one without show equal store figures", async () => {
    const backend = {
      type: "redis" as const,
      url: redis.server().url,
      prefix: `ss-${randomUUID().slice(0, 8)}`,
    };
    const worker = new TaskManager({ retry: { maxRetries: 0 }, backend });
    worker.register("ok", (n: number) => n);
    worker.register("bad", () => {
      throw new Error("bad");
    });
    const api = new TaskManager({ retry: { maxRetries: 0 }, backend });
    onCleanup(() => worker.stopNow());
    const { call } = await start({}, {}, api);

    const tasks = [];
    for (let i = 0; i < 4; i++) tasks.push(await api.submit("ok", i));
    for (let i = 0; i < 2; i++) tasks.push(await api.submit("bad", i));
    await Promise.allSettled(tasks.map((task) => task.result()));
    await vi.waitFor(async () => expect((await api.sharedStats()).succeeded).toBe(4), {
      timeout: 5_000,
    });

    const [fromWorker, fromApi] = [await worker.sharedStats(), await api.sharedStats()];
    const shared = {
      succeeded: 4,
      failed: 2,
      deadLetters: 2,
      cancelled: 0,
      expired: 0,
      retried: 0,
      running: 0,
      queued: 0,
      waiting: 0,
    };
    expect(fromWorker).toMatchObject(shared);
    expect(fromApi).toMatchObject(shared);
    // The process's own counters differ: the API process ran nothing.
    expect(api.stats()).toMatchObject({ succeeded: 0, failed: 0, deadLetters: 0 });
    expect(worker.stats().succeeded).toBe(4);

    const reply = await call("GET", "/v1/stats");
    expect(reply.status).toBe(200);
    expect(reply.json.stats).toMatchObject(shared);
  });
});
