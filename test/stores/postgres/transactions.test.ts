/**
 * What only a database store has: tasks enqueued in the caller's transaction (the outbox) and
 * successes recorded in it, fenced by the attempt's token. Against a real PostgreSQL server.
 */
import { randomUUID } from "node:crypto";
import {
  StaleLeaseError,
  type TaskContext,
  TaskManager,
  type TransactionClient,
  UnsupportedError,
} from "taskmill";
import { describe, expect, it } from "vitest";
import { deferred } from "../../support/harness.js";
import { usePostgres } from "./fixture.js";

const pgf = usePostgres();

/** A business table of this test (in `public`). */
async function table(columns: string): Promise<string> {
  const name = `biz_${randomUUID().replaceAll("-", "").slice(0, 10)}`;
  await pgf.pool().query(`CREATE TABLE ${name} (${columns})`);
  return name;
}

async function rows(name: string): Promise<Array<Record<string, unknown>>> {
  return (await pgf.pool().query(`SELECT * FROM ${name} ORDER BY 1`)).rows;
}

/** `work` inside BEGIN/COMMIT on a client of the shared pool (ROLLBACK if it throws). */
async function inTransaction<T>(work: (tx: TransactionClient) => Promise<T>): Promise<T> {
  const client = await pgf.pool().connect();
  try {
    await client.query("BEGIN");
    const value = await work(client);
    await client.query("COMMIT");
    return value;
  } catch (error) {
    await client.query("ROLLBACK");
    throw error;
  } finally {
    client.release();
  }
}

describe("transactional enqueue: submit(name, payload, { tx })", () => {
  it("the outbox: an order row and its task commit together; a rollback leaves neither; the task runs once", async () => {
    const orders = await table("id integer PRIMARY KEY");
    const mill = pgf.manager();
    const ran: number[] = [];
    mill.register("receipt", (order: { id: number }) => {
      ran.push(order.id);
      return `receipt ${order.id}`;
    });

    const rolledBack = await inTransaction(async (tx) => {
      await tx.query(`INSERT INTO ${orders} (id) VALUES (1)`);
      const task = await mill.submit("receipt", { id: 1 }, { tx });
      throw Object.assign(new Error("payment declined"), { task });
    }).catch((error: { task: { id: string } }) => error.task);

    const committed = await inTransaction(async (tx) => {
      await tx.query(`INSERT INTO ${orders} (id) VALUES (2)`);
      const task = await mill.submit("receipt", { id: 2 }, { tx });
      // Not there for anyone else until the commit.
      expect(await mill.get(task.id)).toBeUndefined();
      return task;
    });

    expect(await committed.result()).toBe("receipt 2");
    expect(await rows(orders)).toEqual([{ id: 2 }]);
    expect(await mill.get(rolledBack.id)).toBeUndefined();
    const listed = (await mill.list()).tasks.map((task) => task.id);
    expect(listed).toContain(committed.id);
    expect(listed).not.toContain(rolledBack.id);
    expect(ran).toEqual([2]);
  });

  it("submitMany(items, { tx }): all or none with the transaction", async () => {
    const mill = pgf.manager();
    const ran: number[] = [];
    mill.register("n", (n: number) => {
      ran.push(n);
      return n;
    });
    const items = [1, 2, 3].map((n) => ({ name: "n", payload: n }));
    const dropped = await inTransaction(async (tx) => {
      const handles = await mill.submitMany(items, { tx });
      throw Object.assign(new Error("rollback"), { handles });
    }).catch((error: { handles: Array<{ id: string }> }) => error.handles);
    const kept = await inTransaction((tx) => mill.submitMany(items.slice(0, 2), { tx }));
    expect(await Promise.all(kept.map((task) => task.result()))).toEqual([1, 2]);
    for (const task of dropped) expect(await mill.get(task.id)).toBeUndefined();
    expect(ran.sort()).toEqual([1, 2]);
  });

  it("an idempotency key inside the transaction returns the same task", async () => {
    const mill = pgf.manager();
    const [a, b] = await inTransaction(async (tx) => [
      await mill.submit("later", { x: 1 }, { tx, idempotencyKey: "k1", delayMs: 60_000 }),
      await mill.submit("later", { x: 1 }, { tx, idempotencyKey: "k1", delayMs: 60_000 }),
    ]);
    expect(b?.id).toBe(a?.id);
    expect((await mill.get(a?.id as string))?.status).toBe("scheduled");
  });

  it("a tx that is not a client is refused with InvalidArgumentError before anything is stored", async () => {
    const mill = pgf.manager();
    await expect(
      mill.submit("x", 1, { tx: {} as unknown as TransactionClient }),
    ).rejects.toMatchObject({ code: "ERR_INVALID_ARGUMENT", argument: "tx" });
  });

  it("memory mode refuses { tx } and ctx.completeWithin with UnsupportedError", async () => {
    const mill = new TaskManager({ retry: { maxRetries: 0 } });
    try {
      const fake: TransactionClient = { query: async () => ({ rows: [] }) };
      await expect(mill.submit("x", 1, { tx: fake })).rejects.toBeInstanceOf(UnsupportedError);
      await expect(mill.submitMany([{ name: "x" }], { tx: fake })).rejects.toBeInstanceOf(
        UnsupportedError,
      );
      mill.register("within", (_: unknown, ctx: TaskContext) => ctx.completeWithin(fake, 1));
      const task = await mill.submit("within");
      await expect(task.result()).rejects.toBeInstanceOf(UnsupportedError);
    } finally {
      await mill.stopNow();
    }
  });
});

describe("backend.pool", () => {
  it("runs on the caller's pool (its LISTEN clients destroyed, never returned) and leaves it open", async () => {
    const pool = pgf.pool();
    const mill = pgf.manager({
      backend: { type: "postgres", pool, schema: pgf.schema(), leaseMs: 2_000 },
    });
    mill.register("echo", (value: string) => value);
    const task = await mill.submit("echo", "via pool");
    expect(await task.result()).toBe("via pool");
    await mill.stopGraceful();
    expect((await pool.query("SELECT 1 AS one")).rows).toEqual([{ one: 1 }]);
  });
});

describe("fenced completion: ctx.completeWithin(tx, value)", () => {
  it("records the success with the business writes in one commit; the handler's return changes nothing", async () => {
    const ledger = await table("task_id text PRIMARY KEY, fence bigint NOT NULL");
    const mill = pgf.manager();
    mill.register("pay", async (_: unknown, ctx: TaskContext) => {
      await inTransaction(async (tx) => {
        await tx.query(`INSERT INTO ${ledger} (task_id, fence) VALUES ($1, $2)`, [
          ctx.taskId,
          ctx.fence,
        ]);
        await ctx.completeWithin(tx, "paid");
      });
      return "ignored";
    });
    const task = await mill.submit("pay");
    expect(await task.result()).toBe("paid");
    const snapshot = await mill.get(task.id);
    expect(snapshot?.status).toBe("succeeded");
    const written = await rows(ledger);
    expect(written).toHaveLength(1);
    expect(written[0]?.task_id).toBe(task.id);
    expect(Number(written[0]?.fence)).toBeGreaterThan(0);
  });

  it("a lease lost meanwhile (here: cancelled) refuses it with StaleLeaseError: the business write rolls back, the return changes nothing", async () => {
    const ledger = await table("task_id text PRIMARY KEY");
    const mill = pgf.manager();
    const started = deferred<string>();
    const proceed = deferred();
    const refused = deferred<unknown>();
    mill.register("pay", async (_: unknown, ctx: TaskContext) => {
      started.resolve(ctx.taskId);
      await proceed.promise;
      try {
        await inTransaction(async (tx) => {
          await tx.query(`INSERT INTO ${ledger} (task_id) VALUES ($1)`, [ctx.taskId]);
          await ctx.completeWithin(tx, "paid");
        });
      } catch (error) {
        refused.resolve(error);
      }
      return "late";
    });
    const task = await mill.submit("pay");
    await started.promise;
    expect(await mill.cancel(task.id)).toBe(true);
    proceed.resolve(undefined);
    const error = await refused.promise;
    expect(error).toBeInstanceOf(StaleLeaseError);
    expect((error as StaleLeaseError).reason).toBe("cancelled");
    await expect(task.result()).rejects.toMatchObject({ name: "CancelledError" });
    expect(await rows(ledger)).toEqual([]);
    expect((await mill.get(task.id))?.status).toBe("cancelled");
  });

  it("a token whose lease expired and was claimed again is refused (store level); the new token's commit counts", async () => {
    const store = await pgf.store({ leaseMs: 50 });
    const ledger = await table("task_id text, token text");
    const { id } = await store.enqueue({ name: "pay" });
    const first = (await store.step([], ["default"], 1)).tasks[0];
    if (first === undefined) throw new Error("nothing claimed");
    // Wait (on the store's clock) until the lease has run out, then reclaim and claim again.
    while ((await store.time()) <= first.leaseUntil) await new Promise((r) => setTimeout(r, 10));
    expect((await store.reclaim()).reclaimed).toBe(1);
    const second = (await store.step([], ["default"], 1)).tasks[0];
    if (second === undefined) throw new Error("nothing claimed again");
    expect(second.fence).toBeGreaterThan(first.fence);

    const stale = await inTransaction(async (tx) => {
      await tx.query(`INSERT INTO ${ledger} VALUES ($1, $2)`, [id, first.token]);
      await store.completeIn(tx, id, first.token, "stale");
    }).catch((error: unknown) => error);
    expect(stale).toBeInstanceOf(StaleLeaseError);
    expect((stale as StaleLeaseError).reason).toBe("superseded");
    expect(await rows(ledger)).toEqual([]);
    expect((await store.get(id))?.status).toBe("running");

    await inTransaction(async (tx) => {
      await tx.query(`INSERT INTO ${ledger} VALUES ($1, $2)`, [id, second.token]);
      await store.completeIn(tx, id, second.token, "fresh");
    });
    expect(await rows(ledger)).toEqual([{ task_id: id, token: second.token }]);
    const done = await store.get(id);
    expect(done?.status).toBe("succeeded");
    expect(done?.value).toBe("fresh");
    // The worker's own ack afterwards answers the same finish (idempotent per token).
    expect(await store.ack(id, second.token, "ignored")).toBe(done?.finishedAt);
    expect((await store.get(id))?.value).toBe("fresh");
  });
});
