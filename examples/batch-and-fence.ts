/**
 * `submitMany` (all or nothing, one round trip in durable mode) and `ctx.fence` (fence your own
 * side effects against a stale attempt). Runs in memory mode, or on Redis with REDIS_URL set:
 *   npx tsx examples/batch-and-fence.ts
 *   REDIS_URL=redis://127.0.0.1:6379 npx tsx examples/batch-and-fence.ts
 */
import { InvalidArgumentError, TaskManager } from "taskmill";

const url = process.env.REDIS_URL;
const mill = new TaskManager({
  concurrency: 4,
  backend:
    url === undefined ? { type: "memory" } : { type: "redis", url, prefix: "taskmill-batch" },
});

// A stand-in for a table row with a fence column: a write lands only if its fence is newer.
const balances = new Map<string, { cents: number; lastFence: number }>();

mill.register("balance.set", (payload: { account: string; cents: number }, ctx) => {
  const row = balances.get(payload.account) ?? { cents: 0, lastFence: 0 };
  // In SQL: UPDATE balances SET cents = $1, last_fence = $2 WHERE id = $3 AND last_fence < $2
  if (ctx.fence <= row.lastFence) return { applied: false, fence: ctx.fence };
  balances.set(payload.account, { cents: payload.cents, lastFence: ctx.fence });
  return { applied: true, fence: ctx.fence };
});

const handles = await mill.submitMany([
  { name: "balance.set", payload: { account: "A", cents: 1_000 } },
  { name: "balance.set", payload: { account: "B", cents: 2_500 }, options: { priority: 5 } },
  {
    name: "balance.set",
    payload: { account: "C", cents: 700 },
    options: { idempotencyKey: "C:700" },
  },
]);
for (const handle of handles) console.log(handle.id, await handle.result());

// One bad item and nothing of the call is stored.
try {
  await mill.submitMany([
    { name: "balance.set", payload: { account: "D", cents: 1 } },
    { name: "balance.set", payload: { account: "E", cents: 2 }, options: { delayMs: -1 } },
  ]);
} catch (error) {
  if (!(error instanceof InvalidArgumentError)) throw error;
  console.log("refused:", error.message);
}
console.log("tasks stored:", (await mill.list({ name: "balance.set" })).tasks.length);
console.log(await mill.stopGraceful());
