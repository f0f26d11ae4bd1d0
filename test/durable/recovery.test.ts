/**
 * Recovery within one lease, with default options: a worker killed with `kill -9` holds a task
 * nobody else may run until its lease (10 s by default) runs out. The reaper of any other
 * worker comes back at that expiry (not up to half a lease later) and puts the task back in the
 * place it had, ahead of the tasks submitted after it.
 */
import { randomUUID } from "node:crypto";
import { TaskManager } from "taskmill";
import { afterEach, describe, expect, it } from "vitest";
import { useRedis } from "../stores/redis/fixture.js";
import { startWorker, stopAll } from "../support/worker-process.js";

const redis = useRedis();
const producers: TaskManager[] = [];

afterEach(async () => {
  await stopAll();
  await Promise.all(producers.splice(0).map((mill) => mill.stopNow()));
});

const DEFAULT_LEASE_MS = 10_000;

describe("a kill -9ed worker's task, default options", () => {
  it("is back in its queue within the lease of the kill, ahead of the tasks submitted after it", async () => {
    const url = redis.server().url;
    const prefix = `recovery-${randomUUID().slice(0, 8)}`;
    const mill = new TaskManager({ backend: { type: "redis", url, prefix } });
    producers.push(mill);

    // A runs the first task and hangs; B is busy with its own, so nothing else is claimed while
    // A's lease runs, but B's reaper watches the leases.
    const a = startWorker({
      url,
      prefix,
      leaseMs: DEFAULT_LEASE_MS,
      behaviour: "hang",
      label: "A",
      concurrency: 1,
    });
    await a.ready();
    const first = await mill.submit("job", { n: 1 });
    await a.waitFor((r) => r.type === "start" && r.id === first.id);
    const b = startWorker({
      url,
      prefix,
      leaseMs: DEFAULT_LEASE_MS,
      behaviour: "hang",
      label: "B",
      concurrency: 1,
    });
    await b.ready();
    const blocker = await mill.submit("job", { n: 0 });
    await b.waitFor((r) => r.type === "start" && r.id === blocker.id);
    const later = [await mill.submit("job", { n: 2 }), await mill.submit("job", { n: 3 })];

    await a.kill();
    const killedAt = Date.now();
    await expect
      .poll(async () => (await mill.get(first.id))?.status, { timeout: 15_000, interval: 25 })
      .toBe("retrying");
    // The lease ran at most 10 s past the kill; the reaper came back at its expiry.
    expect(Date.now() - killedAt).toBeLessThan(DEFAULT_LEASE_MS + 500);

    // A fresh worker takes the reclaimed task first, then the ones submitted after it.
    const c = startWorker({
      url,
      prefix,
      leaseMs: DEFAULT_LEASE_MS,
      behaviour: "fast",
      label: "C",
      concurrency: 1,
    });
    await c.ready();
    await expect.poll(() => c.of("start").length, { timeout: 10_000 }).toBe(3);
    expect(c.of("start").map((r) => r.id)).toEqual([first.id, ...later.map((t) => t.id)]);
  }, 40_000);
});
