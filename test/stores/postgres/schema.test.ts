/**
 * What only the Postgres store has: its migrations (safe when many processes start at once),
 * its SQL (the claim's plan, every status it writes an allowed edge), and its events feed's
 * ordering under concurrent commits.
 */
import pg from "pg";
import { describe, expect, it } from "vitest";
import { ALLOWED_TRANSITIONS, type TaskStatus } from "../../../src/lifecycle/states.js";
import type { TaskRecord } from "../../../src/lifecycle/task-record.js";
import { reopenFailed } from "../../../src/lifecycle/transitions.js";
import { readFeed } from "../../../src/stores/postgres/feed.js";
import {
  currentVersion,
  migrate,
  SCHEMA_VERSION,
} from "../../../src/stores/postgres/migrations.js";
import { schemaNames } from "../../../src/stores/postgres/sql/names.js";
import { usePostgres } from "./fixture.js";

const pgf = usePostgres();

describe("migrations", () => {
  it("many processes migrating one schema at once: one applies, all end at the current version", async () => {
    const names = schemaNames(pgf.schema());
    const clients = await Promise.all(
      Array.from({ length: 8 }, async () => {
        const client = new pg.Client(pgf.server().url);
        await client.connect();
        return client;
      }),
    );
    try {
      const results = await Promise.all(clients.map((client) => migrate(client, names)));
      expect(results.filter((r) => r.applied.length > 0)).toHaveLength(1);
      expect(results.every((r) => r.to === SCHEMA_VERSION)).toBe(true);
      expect(await currentVersion(clients[0] as pg.Client, names)).toBe(SCHEMA_VERSION);
    } finally {
      await Promise.all(clients.map((client) => client.end()));
    }
  });

  it("backend.migrate false: an unmigrated schema is refused (calls time out), the log names the command", async () => {
    const logged: string[] = [];
    const record = (obj: unknown) => {
      const err = (obj as { err?: unknown } | undefined)?.err;
      if (err instanceof Error) logged.push(err.message);
    };
    const mill = pgf.manager({
      logger: { debug: record, info: record, warn: record, error: record },
      backend: { ...pgf.backend(pgf.schema()), migrate: false, callTimeoutMs: 500 },
    });
    await expect(mill.submit("x")).rejects.toMatchObject({ code: "ERR_BACKEND_UNAVAILABLE" });
    expect(logged.some((message) => message.includes("taskmill migrate"))).toBe(true);
  });
});

describe("the claim", () => {
  it("reads the partial ready index, whatever the finished rows", async () => {
    const store = await pgf.store();
    const { s } = store.names;
    // 20,000 finished rows, 50 ready ones.
    await pgf.pool().query(
      `INSERT INTO ${s}.tasks (id, name, queue, status, seq, created_at, finished_at)
       SELECT 'f' || i, 'n', 'default', 'succeeded', i, 0, i FROM generate_series(1, 20000) i`,
    );
    for (let i = 0; i < 50; i++) await store.enqueue({ name: "n" });
    await pgf.pool().query(`ANALYZE ${s}.tasks`);
    const { rows } = await pgf.pool().query(
      `EXPLAIN SELECT id FROM ${s}.tasks WHERE queue = 'default'
         AND status IN ('queued','retrying') AND run_at IS NULL
       ORDER BY priority DESC, seq LIMIT 10 FOR UPDATE SKIP LOCKED`,
    );
    expect(rows.map((row) => String(row["QUERY PLAN"])).join("\n")).toContain("tasks_ready");
  });

  it("fencing tokens increase across claims, in priority then FIFO order", async () => {
    const store = await pgf.store();
    for (const [n, priority] of [
      [1, 0],
      [2, 5],
      [3, 0],
      [4, 5],
    ] as const)
      await store.enqueue({ name: "t", payload: n, priority });
    const first = await store.step([], ["default"], 2);
    const second = await store.step([], ["default"], 2);
    const claimed = [...first.tasks, ...second.tasks];
    expect(claimed.map((task) => task.payload)).toEqual([2, 4, 1, 3]);
    const fences = claimed.map((task) => task.fence);
    expect([...fences].sort((a, b) => a - b)).toEqual(fences);
    expect(new Set(fences).size).toBe(4);
  });
});

describe("every status the store writes is an edge of the transition table", () => {
  it("records each status change of a workload through a trigger and checks it", async () => {
    const store = await pgf.store({ leaseMs: 50, maxDeliveries: 5 });
    // A second process on the schema that tolerates fewer deliveries: it poisons at its claim.
    const strict = await pgf.store({ schema: store.names.schema, leaseMs: 50, maxDeliveries: 1 });
    const { s } = store.names;
    const pool = pgf.pool();
    await pool.query(`CREATE TABLE ${s}.edges (old text, new text)`);
    await pool.query(`CREATE FUNCTION ${s}.record_edge() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF OLD.status IS DISTINCT FROM NEW.status THEN
          INSERT INTO ${s}.edges VALUES (OLD.status, NEW.status);
        END IF;
        RETURN NEW;
      END $$`);
    await pool.query(`CREATE TRIGGER edges AFTER UPDATE ON ${s}.tasks
      FOR EACH ROW EXECUTE FUNCTION ${s}.record_edge()`);

    // succeeded, retrying -> running, failed, cancelled (waiting and running), expired,
    // scheduled -> queued, reclaim (running -> retrying), poison, replay.
    const ids = [];
    for (let i = 0; i < 6; i++) ids.push((await store.enqueue({ name: "t", payload: i })).id);
    await store.enqueue({ name: "t", ttlMs: 0, priority: 9 });
    const later = await store.enqueue({ name: "t", delayMs: 1, priority: -9 });
    await store.cancel(ids[5] as string);
    await new Promise((resolve) => setTimeout(resolve, 5));
    const claimed = (await store.step([], ["default"], 10)).tasks;
    const [a, b, c, d, e] = claimed;
    if (a === undefined || b === undefined || c === undefined || d === undefined || e === undefined)
      throw new Error(`claimed ${claimed.length}`);
    await store.ack(a.id, a.token, 1);
    await store.nack(b.id, b.token, { delayMs: 0 }, new Error("again"));
    await store.fail(c.id, c.token, new Error("bad"));
    await store.cancel(d.id);
    // e's lease lapses: reclaimed, then poisoned at the strict process's claim.
    while ((await store.time()) <= e.leaseUntil) await new Promise((r) => setTimeout(r, 10));
    await store.reclaim();
    const again = (await strict.step([], ["default"], 10)).tasks;
    for (const task of again) await store.ack(task.id, task.token);
    expect(later.status).toBe("scheduled");

    const { rows } = await pool.query(`SELECT DISTINCT old, new FROM ${s}.edges`);
    const edges = rows.map((row) => `${row.old} -> ${row.new}`).sort();
    for (const row of rows)
      expect(ALLOWED_TRANSITIONS[row.old as TaskStatus], `${row.old} -> ${row.new}`).toContain(
        row.new,
      );
    // The workload really went through the interesting edges.
    for (const edge of [
      "queued -> running",
      "running -> succeeded",
      "running -> retrying",
      "retrying -> running",
      "running -> failed",
      "running -> cancelled",
      "queued -> cancelled",
      "queued -> expired",
      "scheduled -> queued",
      "retrying -> failed",
    ])
      expect(edges).toContain(edge);

    // The operator's DLQ replay, the one way out of a terminal state, as transitions.ts has it.
    await pool.query(`TRUNCATE ${s}.edges`);
    await store.dlq.replay({ ids: [c.id] });
    const replayed = await pool.query(`SELECT old, new FROM ${s}.edges`);
    expect(replayed.rows).toEqual([{ old: "failed", new: "queued" }]);
    const record = { status: "failed" } as TaskRecord;
    expect(reopenFailed(record) && record.status).toBe("queued");
  });
});

describe("the events feed", () => {
  it("never skips an event whose transaction commits after a later-numbered one", async () => {
    const store = await pgf.store();
    const names = store.names;
    const { s } = names;
    const query = (text: string, values?: unknown[]) => pgf.pool().query(text, values);
    const insert = `INSERT INTO ${s}.events (task_id, name, queue, status, attempts, at)
      VALUES ($1, 'n', 'q', 'succeeded', 1, 0)`;
    const early = new pg.Client(pgf.server().url);
    const late = new pg.Client(pgf.server().url);
    await early.connect();
    await late.connect();
    try {
      // `early` takes the older transaction id but inserts last; `late` commits first.
      await early.query("BEGIN");
      await early.query("SELECT pg_current_xact_id()");
      await late.query("BEGIN");
      await late.query(insert, ["b"]);
      await late.query("COMMIT");
      await early.query(insert, ["a"]);
      // While `early` runs, `late`'s event is held back: a reader cannot pass over `a`.
      expect(await readFeed(query, names, "0", 10)).toEqual([]);
      await early.query("COMMIT");
      const events = await readFeed(query, names, "0", 10);
      expect(events.map((event) => event.id)).toEqual(["a", "b"]);
      expect(await readFeed(query, names, events[0]?.streamId as string, 10)).toHaveLength(1);
    } finally {
      await early.end();
      await late.end();
    }
  });
});
