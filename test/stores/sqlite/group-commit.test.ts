/**
 * Group commit: writes started in the same turn of the event loop share one transaction (one
 * fsync), each still resolving only after that transaction committed; a refused write in the
 * group rejects alone.
 */
import { IdempotencyConflictError, TaskManager } from "taskmill";
import { afterEach, describe, expect, it, vi } from "vitest";
import { Sql } from "../../../src/stores/sqlite/committer.js";
import { useSqlite } from "./fixture.js";

const sqlite = useSqlite();

afterEach(() => {
  vi.restoreAllMocks();
});

describe("SQLite store: group commit", () => {
  it("64 concurrent submits share one transaction, and each is stored when it resolves", async () => {
    const store = sqlite.open();
    const before = store.committer.commits;
    const ids = await Promise.all(
      Array.from({ length: 64 }, (_, n) => store.enqueue({ name: "job", payload: { n } })),
    );
    expect(store.committer.commits - before).toBe(1);
    expect(new Set(ids.map((result) => result.id)).size).toBe(64);
    // Read back through a second connection: committed, not only visible to the writer.
    const other = sqlite.open(store.options.path);
    expect((await other.counts()).finished).toBe(0);
    expect((await other.queues()).find((queue) => queue.name === "default")?.depth).toBe(64);
  });

  it("writes of separate turns are separate transactions", async () => {
    const store = sqlite.open();
    const before = store.committer.commits;
    for (let n = 0; n < 3; n++) await store.enqueue({ name: "job", payload: { n } });
    expect(store.committer.commits - before).toBe(3);
  });

  it("a refused write rejects alone; the others of its group commit", async () => {
    const store = sqlite.open();
    await store.enqueue({ name: "job", payload: 1, idempotencyKey: "k" });
    const before = store.committer.commits;
    const outcomes = await Promise.allSettled([
      store.enqueue({ name: "job", payload: "a" }),
      store.enqueue({ name: "job", payload: 2, idempotencyKey: "k" }),
      store.enqueueMany([
        { name: "job", payload: "b", id: "b" },
        { name: "job", payload: 3, idempotencyKey: "k" },
      ]),
      store.enqueue({ name: "job", payload: "c", id: "c" }),
    ]);
    expect(store.committer.commits - before).toBe(1);
    expect(outcomes.map((outcome) => outcome.status)).toEqual([
      "fulfilled",
      "rejected",
      "rejected",
      "fulfilled",
    ]);
    expect((outcomes[1] as PromiseRejectedResult).reason).toBeInstanceOf(IdempotencyConflictError);
    // enqueueMany is all or nothing: "b" was written inside its savepoint, then undone.
    expect(await store.get("b")).toBeUndefined();
    expect(await store.get("c")).toMatchObject({ status: "queued" });
  });

  it("a step, acks and submits of one turn share a transaction too", async () => {
    const store = sqlite.open();
    await store.enqueue({ name: "job", id: "t1" });
    const claimed = await store.step([], ["default"], 1);
    const task = claimed.tasks[0];
    if (task === undefined) throw new Error("nothing claimed");
    const before = store.committer.commits;
    const [, acked] = await Promise.all([
      store.enqueue({ name: "job", id: "t2" }),
      store.step([{ id: task.id, token: task.token, value: 42 }], ["default"], 1),
    ]);
    expect(store.committer.commits - before).toBe(1);
    expect(acked.acks).toEqual([expect.any(Number)]);
    expect(acked.tasks.map((t) => t.id)).toEqual(["t2"]);
    expect(await store.get("t1")).toMatchObject({ status: "succeeded", value: 42 });
  });

  it("through a manager: 64 concurrent submitters cost a few commits, not 64", async () => {
    const mill = new TaskManager({ backend: { type: "sqlite", path: sqlite.newPath("manager") } });
    try {
      await mill.queues(); // the file is open
      // Counts the COMMITs the store runs (each one an fsync of the WAL).
      const q = Sql.prototype.q;
      let commits = 0;
      vi.spyOn(Sql.prototype, "q").mockImplementation(function (this: Sql, text: string) {
        if (text === "COMMIT") commits++;
        return q.call(this, text);
      });
      const handles = await Promise.all(
        Array.from({ length: 64 }, (_, n) => mill.submit("job", { n })),
      );
      expect(handles).toHaveLength(64);
      expect(commits).toBeGreaterThan(0);
      expect(commits).toBeLessThanOrEqual(2);
      const stored = await mill.list({ status: "queued", limit: 100 });
      expect(stored.tasks).toHaveLength(64);
    } finally {
      await mill.stopNow();
    }
  });
});
