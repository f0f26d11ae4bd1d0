/**
 * The sharded Redis layout: each queue under its own hash tag, and the hot queue "events" split
 * over four partitions, so a Redis Cluster spreads them over its masters (a single node works
 * the same). Run it with
 *   REDIS_URL=redis://127.0.0.1:6379 npx tsx examples/sharded.ts
 * (after `npm run build`). Every process on the prefix must use the same layout.
 */
import { TaskManager } from "taskmill";

const url = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const mill = new TaskManager({
  concurrency: 8,
  // FIFO within a priority then holds per partition only.
  queues: { events: { partitions: 4 } },
  backend: { type: "redis", url, prefix: "taskmill-sharded-example", layout: "sharded" },
});

mill.register("event.ingest", (payload: { n: number }) => payload.n * 2, { queue: "events" });
mill.register("invoice.render", (payload: { invoice: string }) => `${payload.invoice}.pdf`, {
  queue: "invoices",
});

const events = await mill.submitMany(
  Array.from({ length: 20 }, (_, n) => ({ name: "event.ingest", payload: { n } })),
);
// An idempotency key picks the partition, so a duplicate meets the first submit.
const invoice = await mill.submit(
  "invoice.render",
  { invoice: "INV-1" },
  { idempotencyKey: "render:INV-1" },
);
console.log(await Promise.all(events.map((task) => task.result())));
console.log(await invoice.result());
console.log(await mill.queues());
console.log(await mill.stopGraceful({ timeoutMs: 5_000 }));
