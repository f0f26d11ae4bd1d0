/**
 * Fault tests of the Postgres store with real processes against a real PostgreSQL server
 * (loopback only): a worker killed with SIGKILL mid-task, the server restarted (fast shutdown,
 * and a crash) mid-run, and 1,000 tasks completed with `completeWithin` while workers stall
 * past their lease and are killed at random. Workers are child Node processes running the
 * BUILT package (dist/, see test/support/durable-worker.mjs); `npm test` builds first. Only
 * processes started here are signalled, by pid.
 */
import { randomUUID } from "node:crypto";
import { TaskManager } from "taskmill";
import { afterEach, describe, expect, it } from "vitest";
import type { StoredTask, TaskEvent } from "../../../src/stores/durable-types.js";
import type { PostgresStore } from "../../../src/stores/postgres/store.js";
import { startTcpProxy, type TcpProxy } from "../../support/tcp-proxy.js";
import { startWorker, stopAll, type WorkerProcess } from "../../support/worker-process.js";
import { usePostgres } from "./fixture.js";

const pgf = usePostgres();
const producers: TaskManager[] = [];

afterEach(async () => {
  await stopAll();
  await Promise.all(producers.splice(0).map((mill) => mill.stopNow()));
});

/** A manager with no handlers: it only submits. */
function producer(schema: string, leaseMs: number): TaskManager {
  const mill = new TaskManager({ retry: { maxRetries: 0 }, backend: pgf.backend(schema, leaseMs) });
  producers.push(mill);
  return mill;
}

async function submitJobs(mill: TaskManager, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let start = 0; start < count; start += 500) {
    const items = Array.from({ length: Math.min(500, count - start) }, (_, i) => ({
      name: "job",
      payload: { n: start + i },
    }));
    ids.push(...(await mill.submitMany(items)).map((handle) => handle.id));
  }
  return ids;
}

async function tasksOf(store: PostgresStore, ids: readonly string[]): Promise<StoredTask[]> {
  const { s } = store.names;
  const { rows } = await pgf.pool().query(`SELECT id FROM ${s}.tasks WHERE id = ANY($1)`, [ids]);
  if (rows.length !== ids.length) throw new Error(`${ids.length - rows.length} tasks missing`);
  return Promise.all(ids.map(async (id) => (await store.get(id)) as StoredTask));
}

async function statusCounts(store: PostgresStore): Promise<Record<string, number>> {
  const { rows } = await pgf
    .pool()
    .query(`SELECT status, count(*)::int AS n FROM ${store.names.s}.tasks GROUP BY status`);
  return Object.fromEntries(rows.map((row) => [String(row.status), Number(row.n)]));
}

async function allEvents(store: PostgresStore): Promise<TaskEvent[]> {
  const events: TaskEvent[] = [];
  for (let after = "0"; ; ) {
    const page = await store.readFeed(after, 5_000);
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

function startsOf(worker: WorkerProcess): string[] {
  return worker.of("start").map((report) => report.id as string);
}

describe("the Postgres store under faults (real processes)", () => {
  it("kill -9 of a worker mid-task: its tasks complete on another worker within about a lease", async () => {
    const leaseMs = 1_000;
    const url = pgf.server().url;
    const store = await pgf.store({ leaseMs });
    const schema = store.names.schema;
    const mill = producer(schema, leaseMs);

    const a = startWorker({
      url,
      prefix: schema,
      leaseMs,
      behaviour: "hang",
      label: "A",
      concurrency: 3,
    });
    await a.ready();
    const ids = await submitJobs(mill, 3);
    await expect.poll(() => new Set(startsOf(a)).size, { timeout: 10_000 }).toBe(3);

    const b = startWorker({
      url,
      prefix: schema,
      leaseMs,
      behaviour: "fast",
      label: "B",
      concurrency: 3,
    });
    await b.ready();
    await a.kill();
    expect(a.exit).toEqual({ code: null, signal: "SIGKILL" });
    const killedAt = Date.now();
    await expect
      .poll(async () => (await tasksOf(store, ids)).map((task) => task.status), {
        timeout: 10_000,
        interval: 25,
      })
      .toEqual(["succeeded", "succeeded", "succeeded"]);
    const recoveredMs = Date.now() - killedAt;

    for (const task of await tasksOf(store, ids)) {
      expect(task.value).toEqual({ pid: b.pid, label: "B", n: expect.any(Number) });
      expect(task.attempts).toBeGreaterThanOrEqual(2);
    }
    const events = await allEvents(store);
    for (const id of ids) {
      const mine = events.filter((event) => event.id === id);
      expect(mine.filter((e) => e.status === "retrying").map((e) => e.reason)).toContain(
        "lease-expired",
      );
      expect(mine.filter((e) => e.status === "succeeded")).toHaveLength(1);
    }
    // Expected: lease (1 s) + a claim; the bound is for a slow, shared machine.
    expect(recoveredMs).toBeLessThan(10_000);
    console.info(`[pg faults] kill -9: 3 tasks recovered on B ${recoveredMs} ms after the kill`);
  }, 30_000);

  for (const how of ["restart", "crash"] as const)
    it(`postgres ${how === "restart" ? "restarted (fast shutdown)" : "killed (SIGKILL) and started"} mid-run of 400 tasks: nothing lost, nothing completed twice`, async () => {
      const total = 400;
      const leaseMs = 2_000;
      const server = pgf.server();
      const store = await pgf.store({ leaseMs });
      const schema = store.names.schema;
      const ids = await submitJobs(producer(schema, leaseMs), total);
      const workers = ["W1", "W2"].map((label) =>
        startWorker({
          url: server.url,
          prefix: schema,
          leaseMs,
          behaviour: "work",
          label,
          concurrency: 8,
          maxDeliveries: 1_000,
          env: { WORK_MS: "40" },
        }),
      );
      await Promise.all(workers.map((worker) => worker.ready()));
      await expect
        .poll(async () => (await statusCounts(store)).succeeded ?? 0, {
          timeout: 30_000,
          interval: 20,
        })
        .toBeGreaterThanOrEqual(100);
      const before = (await statusCounts(store)).succeeded ?? 0;
      if (how === "restart") await server.restart();
      else {
        await server.kill();
        await server.start();
      }
      await expect
        .poll(async () => (await statusCounts(store).catch(() => ({}))) as Record<string, number>, {
          timeout: 45_000,
          interval: 100,
        })
        .toEqual({ succeeded: total });

      const tasks = await tasksOf(store, ids);
      expect(tasks.map((task) => (task.value as { n: number }).n)).toEqual(ids.map((_, i) => i));
      const events = await allEvents(store);
      const succeeded = countBy(
        events.filter((e) => e.status === "succeeded"),
        (e) => e.id,
      );
      expect(succeeded.size).toBe(total);
      expect([...succeeded.values()].every((count) => count === 1)).toBe(true);
      // At-least-once: a task runs again only after its lease expired and it was reclaimed.
      const reclaimed = countBy(
        events.filter((e) => e.status === "retrying" && e.reason === "lease-expired"),
        (e) => e.id,
      );
      const executions = countBy(
        workers.flatMap((worker) => startsOf(worker)),
        (id) => id,
      );
      for (const [id, count] of executions)
        expect(reclaimed.get(id) ?? 0).toBeGreaterThanOrEqual(count - 1);
      console.info(
        `[pg faults] ${how}: ${before} of ${total} done before it; executions ${[...executions.values()].reduce((a, b) => a + b, 0)}; reclaims ${reclaimed.size}`,
      );
    }, 90_000);

  it("connections cut 3 times during a run of 600 tasks on 2 worker processes: every task succeeds, its result written once", async () => {
    const total = 600;
    const leaseMs = 2_000;
    const store = await pgf.store({ leaseMs });
    const schema = store.names.schema;
    const proxy: TcpProxy = await startTcpProxy(pgf.server().port);
    const proxied = `postgres://postgres@127.0.0.1:${proxy.port}/postgres`;
    try {
      const ids = await submitJobs(producer(schema, leaseMs), total);
      const workers = ["W1", "W2"].map((label) =>
        startWorker({
          url: proxied,
          prefix: schema,
          leaseMs,
          behaviour: "work",
          label,
          concurrency: 16,
          maxDeliveries: 1_000,
          env: { WORK_MS: "50" },
        }),
      );
      await Promise.all(workers.map((worker) => worker.ready()));
      const cuts: number[] = [];
      for (const threshold of [100, 250, 400]) {
        await expect
          .poll(async () => (await statusCounts(store)).succeeded ?? 0, {
            timeout: 30_000,
            interval: 10,
          })
          .toBeGreaterThanOrEqual(threshold);
        cuts.push(proxy.cutAll());
      }
      await expect
        .poll(async () => statusCounts(store), { timeout: 60_000, interval: 50 })
        .toEqual({ succeeded: total });
      expect(cuts.every((connections) => connections > 0)).toBe(true);
      const tasks = await tasksOf(store, ids);
      expect(tasks.map((task) => (task.value as { n: number }).n)).toEqual(ids.map((_, i) => i));
      const events = await allEvents(store);
      const succeeded = countBy(
        events.filter((e) => e.status === "succeeded"),
        (e) => e.id,
      );
      expect(succeeded.size).toBe(total);
      expect([...succeeded.values()].every((count) => count === 1)).toBe(true);
      console.info(`[pg faults] cut: connections dropped per cut ${cuts.join(", ")}`);
    } finally {
      await stopAll();
      await proxy.close();
    }
  }, 120_000);

  it("1,000 tasks written with completeWithin while workers stall past their lease and are killed at random: every row exactly once, no stale commit", async () => {
    const total = 1_000;
    const leaseMs = 1_000;
    const url = pgf.server().url;
    const store = await pgf.store({ leaseMs });
    const schema = store.names.schema;
    const out = `out_${randomUUID().replaceAll("-", "").slice(0, 10)}`;
    // No unique key on purpose: a stale commit would show as a second row.
    await pgf
      .pool()
      .query(
        `CREATE TABLE ${out} (task_id text NOT NULL, fence bigint NOT NULL, pid integer NOT NULL)`,
      );
    const ids = await submitJobs(producer(schema, leaseMs), total);
    const spec = (label: string) => ({
      url,
      prefix: schema,
      leaseMs,
      behaviour: "within" as const,
      label,
      concurrency: 8,
      maxDeliveries: 1_000,
      env: { OUT_TABLE: out, WORK_MS: "30", STALL_PCT: "2", STALL_MS: String(leaseMs * 2) },
    });
    const workers: WorkerProcess[] = ["W1", "W2", "W3"].map((label) => startWorker(spec(label)));
    await Promise.all(workers.map((worker) => worker.ready()));

    // Kill a random live worker every time another 200 tasks are done, and start a new one.
    let kills = 0;
    for (const threshold of [200, 400, 600]) {
      await expect
        .poll(async () => (await statusCounts(store)).succeeded ?? 0, {
          timeout: 60_000,
          interval: 20,
        })
        .toBeGreaterThanOrEqual(threshold);
      const live = workers.filter((worker) => worker.alive);
      const victim = live[Math.floor(Math.random() * live.length)] as WorkerProcess;
      await victim.kill();
      kills++;
      const fresh = startWorker(spec(`R${kills}`));
      workers.push(fresh);
      await fresh.ready();
    }
    await expect
      .poll(async () => (await statusCounts(store)).succeeded ?? 0, {
        timeout: 90_000,
        interval: 50,
      })
      .toBe(total);

    // Every task's row exactly once, written by the attempt whose fence the task ended with.
    const { rows } = await pgf.pool().query(`SELECT task_id, fence, pid FROM ${out}`);
    const perTask = countBy(rows, (row) => String(row.task_id));
    expect(perTask.size).toBe(total);
    expect([...perTask.values()].filter((count) => count !== 1)).toEqual([]);
    const tasks = await tasksOf(store, ids);
    const rowOf = new Map(rows.map((row) => [String(row.task_id), row]));
    for (const task of tasks) {
      expect(task.status).toBe("succeeded");
      const row = rowOf.get(task.id);
      expect(String(row?.fence)).toBe(task.token);
      expect((task.value as { pid: number }).pid).toBe(Number(row?.pid));
    }
    const refused = workers.flatMap((worker) => worker.of("rolledback"));
    const stalls = workers.flatMap((worker) => worker.of("stall"));
    // A stalled attempt that lost its lease was refused, never committed.
    for (const report of refused.filter((r) => r.error === "StaleLeaseError"))
      expect(rowOf.get(report.id as string)?.fence).not.toBe(String(report.fence));
    console.info(
      `[pg faults] completeWithin chaos: ${total} tasks, ${kills} kills, ${stalls.length} stalls, ` +
        `${refused.length} refused (${refused.filter((r) => r.error === "StaleLeaseError").length} stale)`,
    );
  }, 180_000);
});
