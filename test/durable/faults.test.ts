/**
 * Fault tests of durable mode with real processes against a real redis-server (loopback only):
 * a worker killed with SIGKILL mid-task, a worker whose event loop blocks past its lease, a
 * Redis restart (AOF) with tasks waiting, client connections cut by a TCP proxy during a
 * run of 1,000 tasks, and a connection cut between a claim and its reply. Workers are child Node processes running the BUILT package (dist/, see
 * test/support/durable-worker.mjs); `npm test` builds first. Only processes started here are
 * signalled, by pid.
 */
import { randomUUID } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { TaskManager } from "taskmill";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { StoredTask, TaskEvent } from "../../src/stores/durable-types.js";
import { RedisStore } from "../../src/stores/redis/redis-store.js";
import { useRedis } from "../stores/redis/fixture.js";
import { type RedisServer, startRedisServer } from "../support/redis-server.js";
import { startTcpProxy, type TcpProxy } from "../support/tcp-proxy.js";
import { startWorker, stopAll, type WorkerProcess } from "../support/worker-process.js";

const redis = useRedis();

/** What every `job` handler in durable-worker.mjs returns. */
interface JobValue {
  readonly pid: number;
  readonly label: string;
  readonly n: number | null;
}

const producers: TaskManager[] = [];
const cleanups: Array<() => Promise<void>> = [];
let scratch: string;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "taskmill-faults-"));
});

afterEach(async () => {
  await stopAll();
  await Promise.all(producers.splice(0).map((mill) => mill.stopNow()));
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

function newPrefix(name: string): string {
  return `faults-${name}-${randomUUID().slice(0, 8)}`;
}

/** A manager with no handlers: it only submits (no worker loop, no reaper). */
function producer(url: string, prefix: string, leaseMs: number): TaskManager {
  const mill = new TaskManager({
    retry: { maxRetries: 0 },
    backend: { type: "redis", url, prefix, leaseMs },
  });
  producers.push(mill);
  return mill;
}

/** A store on `prefix` over its own direct client (closed after the test), to inspect Redis. */
function inspect(prefix: string, server: RedisServer = redis.server()): RedisStore {
  const client = new Redis(server.port, "127.0.0.1", {
    maxRetriesPerRequest: 50,
    retryStrategy: (times) => Math.min(times * 20, 200),
  });
  client.on("error", () => {});
  cleanups.push(async () => client.disconnect());
  return new RedisStore(client, { prefix });
}

async function tasksOf(store: RedisStore, ids: readonly string[]): Promise<StoredTask[]> {
  const tasks = await Promise.all(ids.map((id) => store.get(id)));
  return tasks.map((task, i) => {
    if (task === undefined) throw new Error(`task ${ids[i]} is missing from Redis`);
    return task;
  });
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

async function submitJobs(mill: TaskManager, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let start = 0; start < count; start += 100) {
    const batch = Array.from({ length: Math.min(100, count - start) }, (_, i) =>
      mill.submit("job", { n: start + i }),
    );
    ids.push(...(await Promise.all(batch)).map((handle) => handle.id));
  }
  return ids;
}

function startsOf(worker: WorkerProcess): string[] {
  return worker.of("start").map((report) => report.id as string);
}

describe("durable mode under faults (real processes)", () => {
  it("kill -9 of a worker mid-task: its tasks complete on another worker within about a lease", async () => {
    const leaseMs = 1_000;
    const url = redis.server().url;
    const prefix = newPrefix("kill");
    const store = inspect(prefix);
    const mill = producer(url, prefix, leaseMs);

    const a = startWorker({ url, prefix, leaseMs, behaviour: "hang", label: "A", concurrency: 3 });
    await a.ready();
    const ids = await submitJobs(mill, 3);
    // A holds all three: each handler has started and will never finish.
    await expect.poll(() => new Set(startsOf(a)).size, { timeout: 10_000 }).toBe(3);
    expect(new Set(startsOf(a))).toEqual(new Set(ids));

    const b = startWorker({ url, prefix, leaseMs, behaviour: "fast", label: "B", concurrency: 3 });
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
    expect(new Set(startsOf(b))).toEqual(new Set(ids));
    const events = await allEvents(store);
    for (const id of ids) {
      const mine = events.filter((event) => event.id === id);
      expect(mine.filter((e) => e.status === "retrying").map((e) => e.reason)).toContain(
        "lease-expired",
      );
      expect(mine.filter((e) => e.status === "succeeded")).toHaveLength(1);
    }
    expect(await store.counts()).toMatchObject({ running: 0, deadLetters: 0 });
    // Expected: lease (1 s) + reaper interval (0.5 s) + a claim; the bound is for slow CI.
    expect(recoveredMs).toBeLessThan(10_000);
    console.info(`[faults] kill -9: 3 tasks recovered on B ${recoveredMs} ms after the kill`);
  }, 30_000);

  it("a worker that blocks its event loop past its lease: its late ack is refused, the other worker's result stands", async () => {
    const leaseMs = 1_000;
    const url = redis.server().url;
    const prefix = newPrefix("block");
    const store = inspect(prefix);
    const mill = producer(url, prefix, leaseMs);
    const release = join(scratch, `release-${prefix}`);

    // A blocks synchronously for at least 3 leases, and until the test has seen B finish.
    const a = startWorker({
      url,
      prefix,
      leaseMs,
      behaviour: "block",
      label: "A",
      concurrency: 1,
      env: { MIN_BLOCK_MS: String(3 * leaseMs), MAX_BLOCK_MS: "20000", RELEASE_FILE: release },
    });
    await a.ready();
    const [id] = await submitJobs(mill, 1);
    await a.waitFor((r) => r.type === "start" && r.id === id);

    const b = startWorker({ url, prefix, leaseMs, behaviour: "fast", label: "B", concurrency: 1 });
    await b.ready();
    await expect
      .poll(async () => (await store.get(id as string))?.status, { timeout: 10_000, interval: 25 })
      .toBe("succeeded");
    expect(a.of("done")).toEqual([]); // A is still blocked: B completed while A held nothing
    const byB = await store.get(id as string);
    expect(byB?.value).toEqual({ pid: b.pid, label: "B", n: 0 });

    await writeFile(release, "go");
    const done = await a.waitFor((r) => r.type === "done" && r.id === id, 25_000);
    expect(done.blockedMs).toBeGreaterThanOrEqual(3 * leaseMs);
    // The handler in A ran to the end (its side effect happened) and A tried to ack: refused.
    const refused = await a.waitFor((r) => r.type === "log" && r.taskId === id, 10_000);
    expect(refused).toMatchObject({
      level: "info",
      msg: expect.stringContaining("outcome refused"),
      reason: "superseded",
    });

    const final = await store.get(id as string);
    expect(final).toMatchObject({ status: "succeeded", attempts: 2 });
    expect(final?.value).toEqual({ pid: b.pid, label: "B", n: 0 });
    expect((final?.value as JobValue | undefined)?.pid).not.toBe(a.pid);
    expect(final?.finishedAt).toBe(byB?.finishedAt);
    // Both handlers ran (two side effects), exactly one completion was recorded.
    expect([...startsOf(a), ...startsOf(b)]).toEqual([id, id]);
    const events = (await allEvents(store)).filter((event) => event.id === id);
    expect(events.map((e) => [e.status, e.reason ?? null])).toEqual([
      ["retrying", "lease-expired"],
      ["succeeded", null],
    ]);
    expect((await mill.get(id as string))?.value).toEqual({ pid: b.pid, label: "B", n: 0 });
  }, 45_000);

  it.each([
    ["graceful restart", "restart"],
    ["kill -9 and start", "crash"],
  ] as const)(
    "Redis with AOF, %s, with 200 tasks waiting: every task runs exactly once afterwards",
    async (_title, how) => {
      const server = await startRedisServer({ aof: true });
      cleanups.push(() => server.dispose());
      // Long enough that no lease lapses on a slow machine: a second run would be a real loss
      // of exactly-once here, where nothing ever fails.
      const leaseMs = 5_000;
      const prefix = newPrefix(`aof-${how}`);
      const mill = producer(server.url, prefix, leaseMs);
      const ids = await submitJobs(mill, 200);
      await mill.stopNow();

      const pidBefore = server.pid;
      if (how === "restart") await server.restart();
      else {
        await server.kill();
        await server.start();
      }
      expect(server.pid).not.toBe(pidBefore);

      const store = inspect(prefix, server);
      const before = await tasksOf(store, ids);
      expect(before.every((task) => task.status === "queued")).toBe(true);

      const worker = startWorker({
        url: server.url,
        prefix,
        leaseMs,
        behaviour: "fast",
        label: "W",
        concurrency: 16,
      });
      await worker.ready();
      await expect
        .poll(async () => (await store.counts()).finished, { timeout: 20_000, interval: 50 })
        .toBe(200);
      const starts = startsOf(worker);
      expect(starts).toHaveLength(200);
      expect(new Set(starts)).toEqual(new Set(ids));
      const after = await tasksOf(store, ids);
      expect(after.every((task) => task.status === "succeeded" && task.attempts === 1)).toBe(true);
      expect(after.map((task) => (task.value as JobValue).n)).toEqual(ids.map((_, i) => i));
      expect(await store.counts()).toMatchObject({ running: 0, delayed: 0, deadLetters: 0 });
    },
    45_000,
  );

  it("a claim whose reply is lost (cut after Redis ran it): the task runs once, its delivery counted once, never dead-lettered", async () => {
    const leaseMs = 1_000;
    const server = redis.server();
    const prefix = newPrefix("lost-reply");
    const store = inspect(prefix);
    const proxy: TcpProxy = await startTcpProxy(server.port);
    cleanups.push(() => proxy.close());
    const marker = `lose-this-reply-${randomUUID()}`;
    const [id] = (
      await Promise.all([producer(server.url, prefix, leaseMs).submit("job", { marker })])
    ).map((handle) => handle.id);
    // The claim's reply carries the payload: the proxy drops it and cuts every connection.
    const trapped = proxy.cutOnReply(marker);

    // maxDeliveries 1: a delivery counted without a run would dead-letter the task unrun.
    const worker = new TaskManager({
      retry: { maxRetries: 0 },
      backend: { type: "redis", url: proxy.url, prefix, leaseMs, maxDeliveries: 1 },
    });
    producers.push(worker);
    const runs: Array<{ id: string; attempt: number }> = [];
    worker.register("job", async (_payload: unknown, ctx) => {
      runs.push({ id: ctx.taskId, attempt: ctx.attempt });
      return "ran";
    });
    await trapped;
    expect(proxy.cut).toBeGreaterThan(0);
    const claimedWhenCut = await store.get(id as string);
    expect(claimedWhenCut).toMatchObject({ status: "running", deliveries: 1, attempts: 1 });

    await expect
      .poll(async () => (await store.get(id as string))?.status, { timeout: 10_000, interval: 25 })
      .toBe("succeeded");
    expect(runs).toEqual([{ id, attempt: 1 }]);
    expect(await store.get(id as string)).toMatchObject({
      status: "succeeded",
      value: "ran",
      attempts: 1,
      deliveries: 1,
      token: claimedWhenCut?.token,
    });
    // Past a whole lease later nothing changed: no reclaim, no second run, no dead letter.
    await new Promise((resolve) => setTimeout(resolve, leaseMs + 600));
    expect(runs).toHaveLength(1);
    const events = (await allEvents(store)).filter((event) => event.id === id);
    expect(events.map((event) => event.status)).toEqual(["succeeded"]);
    expect(await store.counts()).toMatchObject({ running: 0, deadLetters: 0, finished: 1 });
  }, 30_000);

  it("connections cut 3 times during a run of 1,000 tasks on 2 worker processes: every task succeeds, its result written once", async () => {
    const total = 1_000;
    const leaseMs = 2_000;
    const server = redis.server();
    const prefix = newPrefix("cut");
    const store = inspect(prefix);
    const proxy: TcpProxy = await startTcpProxy(server.port);
    cleanups.push(() => proxy.close());

    // Submitted straight to Redis before the run; the workers reach Redis only through the proxy.
    const mill = producer(server.url, prefix, leaseMs);
    const ids = await submitJobs(mill, total);
    const workers = ["W1", "W2"].map((label) =>
      startWorker({
        url: proxy.url,
        prefix,
        leaseMs,
        behaviour: "work",
        label,
        concurrency: 16,
        maxDeliveries: 1_000,
        env: { WORK_MS: "100" },
      }),
    );
    await Promise.all(workers.map((worker) => worker.ready()));

    const cuts: Array<{ atFinished: number; connections: number }> = [];
    const startedAt = Date.now();
    for (const threshold of [150, 450, 750]) {
      await expect
        .poll(async () => (await store.counts()).finished, { timeout: 30_000, interval: 10 })
        .toBeGreaterThanOrEqual(threshold);
      const atFinished = (await store.counts()).finished;
      cuts.push({ atFinished, connections: proxy.cutAll() });
    }
    await expect
      .poll(async () => (await store.counts()).finished, { timeout: 30_000, interval: 50 })
      .toBe(total);
    const runMs = Date.now() - startedAt;

    // Each cut happened mid-run and dropped live connections (3 per worker: commands,
    // blocking wait, results stream).
    for (const cut of cuts) {
      expect(cut.atFinished).toBeLessThan(total);
      expect(cut.connections).toBeGreaterThan(0);
    }

    const tasks = await tasksOf(store, ids);
    expect(tasks.filter((task) => task.status !== "succeeded")).toEqual([]);
    expect(tasks.map((task) => (task.value as JobValue).n)).toEqual(ids.map((_, i) => i));
    expect(await store.counts()).toMatchObject({ running: 0, delayed: 0, deadLetters: 0 });

    // Exactly one completion per task: one "succeeded" event each (an ack retried after a
    // lost reply is recognised by its token and changes nothing the second time).
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
    expect(events.filter((e) => e.status === "retrying" && e.reason !== "lease-expired")).toEqual(
      [],
    );

    // At-least-once: a task may run more than once, but only after its lease expired and it
    // was reclaimed. A duplicate without a reclaim would be a fencing bug.
    const executions = countBy(
      workers.flatMap((worker) => startsOf(worker)),
      (id) => id,
    );
    expect(new Set(executions.keys())).toEqual(new Set(ids));
    const duplicated = [...executions].filter(([, count]) => count > 1);
    for (const [id, count] of duplicated)
      expect(reclaimed.get(id) ?? 0).toBeGreaterThanOrEqual(count - 1);
    const extra = duplicated.reduce((sum, [, count]) => sum + count - 1, 0);
    const refusals = workers.flatMap((worker) =>
      worker.of("log").filter((r) => r.msg?.includes("outcome refused")),
    );
    const leaseLosses = workers.flatMap((worker) =>
      worker.of("log").filter((r) => r.msg?.includes("lost the lease")),
    );
    console.info(
      `[faults] cut: ${total} tasks in ${runMs} ms; cuts ${JSON.stringify(cuts)}; ` +
        `executions ${total + extra} (duplicates ${extra} on ${duplicated.length} tasks); ` +
        `reclaims ${[...reclaimed.values()].reduce((a, b) => a + b, 0)} on ${reclaimed.size} tasks; ` +
        `refused acks ${refusals.length}; lost leases ${leaseLosses.length}; ` +
        `per worker ${workers.map((w) => `${w.label}=${startsOf(w).length}`).join(" ")}`,
    );
  }, 60_000);
});
