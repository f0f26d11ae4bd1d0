/**
 * The outbox on Postgres: an order row and the task that emails its receipt commit together
 * or not at all, and the receipt is recorded with its own business write in one transaction,
 * fenced by the attempt's lease (a worker that lost its lease can never commit).
 *
 *   DATABASE_URL=postgres://app@127.0.0.1:5432/app npx tsx examples/postgres.ts
 *
 * (after `npm run build`; needs `npm install pg`). taskmill creates its schema `taskmill`
 * (tables, functions) at start; the example creates its own two tables in `public`.
 */
import pg from "pg";
import { TaskManager, type TransactionClient } from "taskmill";

const url = process.env.DATABASE_URL;
if (url === undefined) {
  console.error("set DATABASE_URL=postgres://user@host:5432/db");
  process.exit(2);
}
const pool = new pg.Pool({ connectionString: url });
await pool.query(`CREATE TABLE IF NOT EXISTS orders (id text PRIMARY KEY, cents integer NOT NULL)`);
await pool.query(`CREATE TABLE IF NOT EXISTS receipts (
  order_id text PRIMARY KEY, sent_by_fence bigint NOT NULL)`);

const mill = new TaskManager({
  concurrency: 4,
  backend: { type: "postgres", pool, schema: "taskmill", leaseMs: 10_000 },
});

/** `work` inside BEGIN / COMMIT (ROLLBACK if it throws), on one client of the pool. */
async function transaction<T>(work: (tx: TransactionClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
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

mill.register("receipt.send", async (order: { id: string }, ctx) => {
  // ... send the e-mail (idempotent on the provider's side with the order id) ...
  // Then record it and the task's success together: a stale attempt's completeWithin throws
  // StaleLeaseError, the transaction rolls back, and no second receipt row is ever written.
  await transaction(async (tx) => {
    await tx.query("INSERT INTO receipts (order_id, sent_by_fence) VALUES ($1, $2)", [
      order.id,
      ctx.fence,
    ]);
    await ctx.completeWithin(tx, { receipt: order.id });
  });
});

async function placeOrder(id: string, cents: number, fail: boolean) {
  return transaction(async (tx) => {
    await tx.query("INSERT INTO orders (id, cents) VALUES ($1, $2) ON CONFLICT DO NOTHING", [
      id,
      cents,
    ]);
    const task = await mill.submit("receipt.send", { id }, { tx, idempotencyKey: `receipt:${id}` });
    if (fail) throw new Error(`payment for ${id} declined`);
    return task;
  });
}

const suffix = Date.now().toString(36);
const kept = await placeOrder(`A-${suffix}`, 1200, false);
const dropped = await placeOrder(`B-${suffix}`, 900, true).catch((error: Error) => {
  console.log("rolled back:", error.message);
  return undefined;
});
console.log("committed order's task:", kept.id, await kept.result());
console.log("rolled-back order left no task:", dropped === undefined);
console.log(
  "receipts:",
  (await pool.query("SELECT * FROM receipts WHERE order_id LIKE $1", [`%-${suffix}`])).rows,
);
console.log(await mill.stopGraceful({ timeoutMs: 5_000 }));
await pool.end();
