/**
 * Fault tests of durable mode on a real 3-master Redis Cluster (loopback), with real worker
 * processes (the BUILT package, test/support/durable-worker.mjs, given the cluster's seed
 * URLs): workers SIGKILLed mid-run, by pid, while others carry on. Nothing may be lost and
 * nothing completed twice. The single-node versions are in faults.test.ts.
 */
import { randomUUID } from "node:crypto";
import { TaskManager } from "taskmill";
import { afterEach, describe, expect, it } from "vitest";
import type { StoredTask, TaskEvent } from "../../src/stores/durable-types.js";
import type { RedisStore } from "../../src/stores/redis/redis-store.js";
import { useRedisCluster } from "../stores/redis/cluster-fixture.js";
import { startWorker, stopAll, type WorkerProcess } from "../support/worker-process.js";

const cluster = useRedisCluster();
const producers: TaskManager[] = [];

afterEach(async () => {
  await stopAll();
  await Promise.all(producers.splice(0).map((mill) => mill.stopNow()));
});

function startsOf(worker: WorkerProcess): string[] {
  return worker.of("start").map((report) => report.id as string);
}

async function allEvents(store: RedisStore): Promise<TaskEvent[]> {
  const events: TaskEvent[] = [];
  for (let after = "0"; ; ) {
    const page = await store.readEvents(after, { count: 5_000 });
    if (page.length === 0) return events;
    events.push(...page);
    after = (page[page.length - 1] as TaskEvent).streamId;
  }
}

function countBy<T>(items: readonly T[], key: (item: T) => string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return counts;
}

describe("durable mode on a Redis Cluster under faults (real processes)", () => {
  it("workers kill -9ed mid-run, twice: every task succeeds once, nothing lost, nothing completed twice", async () => {
    const total = 400;
    const leaseMs = 1_000;
    const prefix = `cfaults-${randomUUID().slice(0, 8)}`;
    // The workers get the seeds as a comma-separated list; the producer as backend.url's list.
    const seeds = cluster.cluster().urls;
    const url = seeds.join(",");
    const store = cluster.store({ prefix });
    const producer = new TaskManager({
      retry: { maxRetries: 0 },
      backend: { type: "redis", url: seeds, prefix, leaseMs },
    });
    producers.push(producer);
    const ids: string[] = [];
    for (let start = 0; start < total; start += 100) {
      const batch = await producer.submitMany(
        Array.from({ length: 100 }, (_, i) => ({ name: "job", payload: { n: start + i } })),
      );
      ids.push(...batch.map((handle) => handle.id));
    }

    const spec = (label: string) =>
      startWorker({
        url,
        prefix,
        leaseMs,
        behaviour: "work" as const,
        label,
        concurrency: 8,
        maxDeliveries: 1_000,
        env: { WORK_MS: "100" },
      });
    const workers = [spec("W1"), spec("W2"), spec("W3")];
    await Promise.all(workers.map((worker) => worker.ready()));

    // Two kills mid-run, each with tasks in the victim's hands; a fresh worker joins after each.
    const kills: Array<{ label: string; atFinished: number; inHand: number }> = [];
    for (const [threshold, victim] of [
      [80, 0],
      [200, 1],
    ] as const) {
      await expect
        .poll(async () => (await store.counts()).finished, { timeout: 30_000, interval: 10 })
        .toBeGreaterThanOrEqual(threshold);
      const worker = workers[victim] as WorkerProcess;
      const inHand = startsOf(worker).length - worker.of("done").length;
      await worker.kill();
      expect(worker.exit).toEqual({ code: null, signal: "SIGKILL" });
      kills.push({ label: worker.label, atFinished: (await store.counts()).finished, inHand });
      const fresh = spec(`W${workers.length + 1}`);
      workers.push(fresh);
      await fresh.ready();
    }
    await expect
      .poll(async () => (await store.counts()).finished, { timeout: 30_000, interval: 50 })
      .toBe(total);

    for (const kill of kills) {
      expect(kill.atFinished).toBeLessThan(total);
      expect(kill.inHand).toBeGreaterThan(0);
    }
    const tasks = (await Promise.all(ids.map((id) => store.get(id)))) as StoredTask[];
    expect(tasks.filter((task) => task?.status !== "succeeded")).toEqual([]);
    expect(await store.counts()).toMatchObject({ running: 0, delayed: 0, deadLetters: 0 });

    // Exactly one completion per task, and a task ran again only after its lease was reclaimed.
    const events = await allEvents(store);
    const succeeded = countBy(
      events.filter((e) => e.status === "succeeded"),
      (e) => e.id,
    );
    expect(succeeded.size).toBe(total);
    expect([...succeeded.values()].every((count) => count === 1)).toBe(true);
    const reclaimed = countBy(
      events.filter((e) => e.status === "retrying" && e.reason === "lease-expired"),
      (e) => e.id,
    );
    const executions = countBy(
      workers.flatMap((worker) => startsOf(worker)),
      (id) => id,
    );
    expect(new Set(executions.keys())).toEqual(new Set(ids));
    for (const [id, count] of executions)
      if (count > 1) expect(reclaimed.get(id) ?? 0).toBeGreaterThanOrEqual(count - 1);
    console.info(
      `[cluster-faults] ${total} tasks; kills ${JSON.stringify(kills)}; ` +
        `reclaims ${[...reclaimed.values()].reduce((a, b) => a + b, 0)}; ` +
        `per worker ${workers.map((w) => `${w.label}=${startsOf(w).length}`).join(" ")}`,
    );
  }, 90_000);
});
