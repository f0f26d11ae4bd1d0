/**
 * A durable worker never holds more leases than it has slots, even with claims in flight while
 * its handlers run: counted from Redis's own command stream (MONITOR shows every command the
 * scripts run, in execution order), not from the worker's bookkeeping.
 */
import { randomUUID } from "node:crypto";
import { TaskManager } from "taskmill";
import { afterEach, describe, expect, it } from "vitest";
import { useRedis } from "../stores/redis/fixture.js";
import { monitorRedis } from "../support/redis-monitor.js";

const redis = useRedis();
const cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Replays ZADD/ZREM on `key` from MONITOR and keeps the largest size the set reached. */
async function watchSet(key: string) {
  const members = new Set<string>();
  const seen = { max: 0, adds: 0 };
  const monitor = await monitorRedis(redis.server().port, (args) => {
    const [command, target, ...rest] = args;
    if (target !== key) return;
    const name = command?.toLowerCase();
    if (name === "zadd")
      for (let i = 1; i < rest.length; i += 2) {
        members.add(rest[i] as string);
        seen.adds++;
      }
    else if (name === "zrem") for (const member of rest) members.delete(member);
    seen.max = Math.max(seen.max, members.size);
  });
  cleanups.push(() => monitor.close());
  return { seen, members };
}

describe("slots", () => {
  it.each([1, 4, 16])(
    "concurrency %i: the leases the worker holds in Redis never exceed its slots",
    async (concurrency) => {
      const prefix = `slots-${randomUUID().slice(0, 8)}`;
      const { seen, members } = await watchSet(`{${prefix}}:leases`);
      const mill = new TaskManager({
        concurrency,
        retry: { maxRetries: 1, backoff: "fixed", baseDelayMs: 1, jitter: "none" },
        backend: { type: "redis", url: redis.server().url, prefix },
      });
      cleanups.push(() => mill.stopNow().then(() => undefined));
      let running = 0;
      let mostRunning = 0;
      const failedOnce = new Set<number>();
      mill.register("job", async (payload: { n: number }) => {
        running++;
        mostRunning = Math.max(mostRunning, running);
        try {
          // A mix of handlers that finish at once, after a turn, and after a short timer.
          if (payload.n % 3 === 1) await new Promise((resolve) => setImmediate(resolve));
          if (payload.n % 3 === 2) await new Promise((resolve) => setTimeout(resolve, 1));
          // Every 10th task fails once (a nack frees its slot outside the fused step).
          if (payload.n % 10 === 0 && !failedOnce.has(payload.n)) {
            failedOnce.add(payload.n);
            throw new Error("once");
          }
          return payload.n;
        } finally {
          running--;
        }
      });
      const total = 300;
      const handles = await Promise.all(
        Array.from({ length: total }, (_, n) => mill.submit("job", { n })),
      );
      const results = await Promise.all(handles.map((handle) => handle.result()));
      expect(results).toEqual(Array.from({ length: total }, (_, n) => n));
      await expect.poll(() => members.size).toBe(0);

      expect(seen.adds).toBeGreaterThanOrEqual(total + failedOnce.size);
      expect(mostRunning).toBeLessThanOrEqual(concurrency);
      expect(seen.max).toBeLessThanOrEqual(concurrency);
      // The bound is reached, not just respected: the worker keeps its slots busy.
      if (concurrency > 1) expect(seen.max).toBeGreaterThan(1);
    },
    30_000,
  );
});
