/**
 * The same service in both modes: with REDIS_URL set, tasks live in Redis (durable mode) and
 * survive restarts; without it, they live in this process. Run it with
 *   REDIS_URL=redis://127.0.0.1:6379 npx tsx examples/durable.ts
 * (after `npm run build`), or without REDIS_URL for memory mode.
 */
import { TaskManager } from "taskmill";

const url = process.env.REDIS_URL;
const mill = new TaskManager({
  concurrency: 4,
  retry: { maxRetries: 2, baseDelayMs: 50 },
  backend:
    url === undefined ? { type: "memory" } : { type: "redis", url, prefix: "taskmill-example" },
});

mill.register("invoice.render", async (payload: { invoice: string }, ctx) => {
  await new Promise((resolve) => setTimeout(resolve, 20));
  return { invoice: payload.invoice, pages: 2, attempt: ctx.attempt };
});

console.log(`mode: ${url === undefined ? "memory" : `redis (${url})`}`, mill.health());
const tasks = await Promise.all(
  ["INV-1", "INV-2", "INV-3"].map((invoice) =>
    // The idempotency key makes a re-run of this script reuse the same tasks.
    mill.submit("invoice.render", { invoice }, { idempotencyKey: `render:${invoice}` }),
  ),
);
for (const task of tasks) console.log(task.id, await task.result());
console.log(await mill.queues());
console.log(await mill.stopGraceful({ timeoutMs: 5_000 }));
