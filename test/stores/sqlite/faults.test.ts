/**
 * Fault tests of the SQLite store with real processes sharing one file: a submitter killed
 * with SIGKILL right after its submits resolved, a worker killed mid-task, two workers
 * completing 2,000 tasks, and a worker whose event loop stalls past its lease. Workers are
 * child Node processes running the BUILT package (test/support/durable-worker.mjs with
 * `sqlite:<file>`); `npm test` builds first. Only processes started here are signalled, by pid.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { TaskManager } from "taskmill";
import { afterEach, describe, expect, it } from "vitest";
import type { StoredTask, TaskEvent } from "../../../src/stores/durable-types.js";
import type { SqliteStore } from "../../../src/stores/sqlite/sqlite-store.js";
import { startWorker, stopAll, type WorkerProcess } from "../../support/worker-process.js";
import { useSqlite } from "./fixture.js";

const sqlite = useSqlite();
const producers: TaskManager[] = [];

afterEach(async () => {
  await stopAll();
  await Promise.all(producers.splice(0).map((mill) => mill.stopNow()));
});

/** A manager with no handlers: it only submits (no worker loop, no reaper). */
function producer(path: string, leaseMs: number): TaskManager {
  const mill = new TaskManager({
    retry: { maxRetries: 0 },
    backend: { type: "sqlite", path, leaseMs },
  });
  producers.push(mill);
  return mill;
}

function worker(
  path: string,
  leaseMs: number,
  spec: Partial<Parameters<typeof startWorker>[0]> & { label: string },
): WorkerProcess {
  return startWorker({ url: `sqlite:${path}`, prefix: "-", leaseMs, behaviour: "fast", ...spec });
}

async function tasksOf(store: SqliteStore, ids: readonly string[]): Promise<StoredTask[]> {
  return Promise.all(
    ids.map(async (id) => {
      const task = await store.get(id);
      if (task === undefined) throw new Error(`task ${id} is missing from the file`);
      return task;
    }),
  );
}

async function allEvents(store: SqliteStore): Promise<TaskEvent[]> {
  const events: TaskEvent[] = [];
  for (let after = "0"; ; ) {
    const page = await store.readFeed(after, 5_000);
    if (page.length === 0) return events;
    events.push(...page);
    after = (page.at(-1) as TaskEvent).streamId;
  }
}

function startsOf(w: WorkerProcess): string[] {
  return w.of("start").map((report) => report.id as string);
}

describe("SQLite store under faults (real processes, one file)", () => {
  it("kill -9 right after submits resolved: a new process on the file runs every one of them", async () => {
    const leaseMs = 2_000;
    const path = sqlite.newPath("submit-kill");
    const submitter = worker(path, leaseMs, {
      behaviour: "submit",
      label: "S",
      env: { SUBMIT_COUNT: "100000", SUBMIT_CONCURRENCY: "64" },
    });
    await submitter.ready();
    // Killed while it is still submitting, right after a submit resolved.
    await submitter.waitFor((r) => r.type === "submitted" && (r.n ?? 0) >= 300, 20_000);
    await submitter.kill();
    expect(submitter.exit).toEqual({ code: null, signal: "SIGKILL" });
    const submitted = submitter.of("submitted").map((r) => r.id as string);
    expect(submitted.length).toBeGreaterThanOrEqual(300);

    const store = sqlite.open(path);
    const stored = await tasksOf(store, submitted); // throws if any resolved submit is missing
    expect(stored.every((task) => task.status === "queued")).toBe(true);

    const w = worker(path, leaseMs, { label: "W", concurrency: 16 });
    await w.ready();
    await expect
      .poll(
        async () =>
          (await tasksOf(store, submitted)).filter((t) => t.status === "succeeded").length,
        {
          timeout: 30_000,
          interval: 100,
        },
      )
      .toBe(submitted.length);
    // The worker's "start" lines travel over a pipe: the last ones may still be unread when
    // the file already shows the tasks done (the store read is synchronous, the pipe is not).
    await expect
      .poll(() => {
        const starts = new Set(startsOf(w));
        return submitted.filter((id) => !starts.has(id));
      })
      .toEqual([]);
    console.info(
      `[sqlite faults] kill -9 after submit: ${submitted.length} resolved submits, all run by a new process`,
    );
  }, 60_000);

  it("kill -9 of a worker mid-task: the task runs again within about one lease", async () => {
    const leaseMs = 1_000;
    const path = sqlite.newPath("worker-kill");
    const mill = producer(path, leaseMs);
    const store = sqlite.open(path);
    const a = worker(path, leaseMs, { behaviour: "hang", label: "A", concurrency: 3 });
    await a.ready();
    const ids = (await Promise.all([0, 1, 2].map((n) => mill.submit("job", { n })))).map(
      (h) => h.id,
    );
    await expect.poll(() => new Set(startsOf(a)).size, { timeout: 10_000 }).toBe(3);

    const b = worker(path, leaseMs, { label: "B", concurrency: 3 });
    await b.ready();
    await a.kill();
    const killedAt = Date.now();
    await expect.poll(() => new Set(startsOf(b)).size, { timeout: 10_000, interval: 10 }).toBe(3);
    const restartedMs = Date.now() - killedAt;
    await expect
      .poll(async () => (await tasksOf(store, ids)).map((task) => task.status), { timeout: 10_000 })
      .toEqual(["succeeded", "succeeded", "succeeded"]);
    for (const task of await tasksOf(store, ids)) {
      expect(task.value).toEqual({ pid: b.pid, label: "B", n: expect.any(Number) });
      expect(task.attempts).toBe(2);
    }
    const events = await allEvents(store);
    for (const id of ids) {
      const mine = events.filter((event) => event.id === id);
      expect(mine.map((e) => [e.status, e.reason ?? null])).toEqual([
        ["retrying", "lease-expired"],
        ["succeeded", null],
      ]);
    }
    // Expected: at most one lease (the last renewal was before the kill) plus a claim; the
    // bound is generous for a loaded machine.
    expect(restartedMs).toBeLessThan(leaseMs + 4_000);
    console.info(
      `[sqlite faults] kill -9 mid-task: running again on B ${restartedMs} ms after the kill (lease ${leaseMs} ms)`,
    );
  }, 30_000);

  it("two processes sharing a file complete 2,000 tasks, none completed twice", async () => {
    const leaseMs = 5_000; // no lease lapses here: a second run would be a real double
    const path = sqlite.newPath("shared");
    const mill = producer(path, leaseMs);
    const store = sqlite.open(path);
    const a = worker(path, leaseMs, { label: "A", concurrency: 8 });
    const b = worker(path, leaseMs, { label: "B", concurrency: 8 });
    await Promise.all([a.ready(), b.ready()]);
    const ids: string[] = [];
    for (let start = 0; start < 2_000; start += 500) {
      const batch = Array.from({ length: 500 }, (_, i) => ({
        name: "job",
        payload: { n: start + i },
      }));
      ids.push(...(await mill.submitMany(batch)).map((handle) => handle.id));
    }
    await expect
      .poll(async () => (await store.counts()).finished, { timeout: 60_000, interval: 100 })
      .toBe(2_000);
    const starts = [...startsOf(a), ...startsOf(b)];
    expect(starts).toHaveLength(2_000);
    expect(new Set(starts)).toEqual(new Set(ids));
    const succeeded = (await allEvents(store)).filter((event) => event.status === "succeeded");
    expect(succeeded).toHaveLength(2_000);
    expect(new Set(succeeded.map((event) => event.id)).size).toBe(2_000);
    const tasks = await tasksOf(store, ids);
    expect(tasks.every((task) => task.status === "succeeded" && task.attempts === 1)).toBe(true);
    expect(await store.counts()).toMatchObject({ running: 0, delayed: 0, deadLetters: 0 });
    console.info(
      `[sqlite faults] 2,000 tasks: A ran ${startsOf(a).length}, B ran ${startsOf(b).length}`,
    );
  }, 90_000);

  it("a worker stalled past its lease cannot complete: its late ack is refused, the other's result stands", async () => {
    const leaseMs = 1_000;
    const path = sqlite.newPath("stall");
    const mill = producer(path, leaseMs);
    const store = sqlite.open(path);
    const release = join(sqlite.dir(), "release-stall");
    const a = worker(path, leaseMs, {
      behaviour: "block",
      label: "A",
      concurrency: 1,
      env: { MIN_BLOCK_MS: String(3 * leaseMs), MAX_BLOCK_MS: "20000", RELEASE_FILE: release },
    });
    await a.ready();
    const { id } = await mill.submit("job", { n: 0 });
    await a.waitFor((r) => r.type === "start" && r.id === id);

    const b = worker(path, leaseMs, { label: "B", concurrency: 1 });
    await b.ready();
    await expect
      .poll(async () => (await store.get(id))?.status, { timeout: 10_000, interval: 25 })
      .toBe("succeeded");
    expect(a.of("done")).toEqual([]);
    const byB = await store.get(id);
    expect(byB?.value).toEqual({ pid: b.pid, label: "B", n: 0 });

    await writeFile(release, "go");
    await a.waitFor((r) => r.type === "done" && r.id === id, 25_000);
    const refused = await a.waitFor((r) => r.type === "log" && r.taskId === id, 10_000);
    expect(refused).toMatchObject({
      msg: expect.stringContaining("outcome refused"),
      reason: "superseded",
    });
    const final = await store.get(id);
    expect(final).toMatchObject({ status: "succeeded", attempts: 2, finishedAt: byB?.finishedAt });
    expect(final?.value).toEqual({ pid: b.pid, label: "B", n: 0 });
    const events = (await allEvents(store)).filter((event) => event.id === id);
    expect(events.map((e) => [e.status, e.reason ?? null])).toEqual([
      ["retrying", "lease-expired"],
      ["succeeded", null],
    ]);
  }, 45_000);

  it("a worker paused by SIGSTOP past its lease cannot complete after SIGCONT", async () => {
    const leaseMs = 1_000;
    const path = sqlite.newPath("sigstop");
    const mill = producer(path, leaseMs);
    const store = sqlite.open(path);
    const a = worker(path, leaseMs, {
      behaviour: "work",
      label: "A",
      concurrency: 1,
      env: { WORK_MS: "300" },
    });
    await a.ready();
    const { id } = await mill.submit("job", { n: 7 });
    await a.waitFor((r) => r.type === "start" && r.id === id);
    process.kill(a.pid, "SIGSTOP");
    try {
      const b = worker(path, leaseMs, { label: "B", concurrency: 1 });
      await b.ready();
      await expect
        .poll(async () => (await store.get(id))?.status, { timeout: 10_000, interval: 25 })
        .toBe("succeeded");
      expect((await store.get(id))?.value).toEqual({ pid: b.pid, label: "B", n: 7 });
    } finally {
      process.kill(a.pid, "SIGCONT");
    }
    await a.waitFor((r) => r.type === "done" && r.id === id, 10_000);
    await a.waitFor((r) => r.type === "log" && r.taskId === id, 10_000);
    const final = await store.get(id);
    expect(final).toMatchObject({ status: "succeeded", attempts: 2 });
    expect((final?.value as { pid: number } | undefined)?.pid).not.toBe(a.pid);
    expect(
      (await allEvents(store)).filter((e) => e.id === id && e.status === "succeeded"),
    ).toHaveLength(1);
  }, 45_000);
});
