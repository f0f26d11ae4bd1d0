/**
 * Flows and batches: a graph of tasks where each starts once its dependencies ended, and a set
 * of independent tasks with a task that runs once all of them ended. Runs in memory mode, or on
 * Redis with REDIS_URL set:
 *   npx tsx examples/flow.ts
 *   REDIS_URL=redis://127.0.0.1:6379 npx tsx examples/flow.ts
 */
import { TaskManager } from "taskmill";

const url = process.env.REDIS_URL;
const mill = new TaskManager({
  concurrency: 4,
  retry: { maxRetries: 0 },
  backend: url === undefined ? { type: "memory" } : { type: "redis", url, prefix: "taskmill-flow" },
});

mill.register("fetch", async (payload: { url: string }) => ({ bytes: payload.url.length * 100 }));
mill.register("resize", async (payload: { w: number }, ctx) => {
  const fetched = ctx.dependencies.fetch; // { status: "succeeded", value: { bytes } }
  if (payload.w > 512) throw new Error(`too large: ${payload.w}px`);
  return { w: payload.w, from: (fetched?.value as { bytes: number } | undefined)?.bytes };
});
mill.register("notify", async (_payload, ctx) =>
  // onDependencyFailure "run": it runs even though "large" failed, and sees why.
  Object.entries(ctx.dependencies).map(([ref, outcome]) => `${ref}: ${outcome.status}`),
);

const flow = await mill.submitFlow([
  { ref: "fetch", name: "fetch", payload: { url: "https://example.com/cat.jpg" } },
  { ref: "thumb", name: "resize", payload: { w: 64 }, dependsOn: ["fetch"] },
  { ref: "large", name: "resize", payload: { w: 1024 }, dependsOn: ["fetch"] },
  {
    ref: "notify",
    name: "notify",
    payload: {},
    dependsOn: ["thumb", "large"],
    onDependencyFailure: "run",
  },
]);
console.log("flow", flow.id, "notify is task", flow.tasks.notify?.id);
console.log(await flow.result()); // every node's outcome, by ref; never rejects

mill.register("charge", async (payload: { cents: number }) => {
  if (payload.cents < 0) throw new Error("negative amount");
  return { charged: payload.cents };
});
mill.register("report.send", async (_payload, ctx) => {
  const outcomes = Object.values(ctx.dependencies);
  return { ok: outcomes.filter((o) => o.status === "succeeded").length, of: outcomes.length };
});

const batch = await mill.submitBatch(
  [100, 250, -5, 990].map((cents) => ({ name: "charge", payload: { cents } })),
  // biome-ignore lint/suspicious/noThenProperty: the option's name in the API
  { then: { name: "report.send", payload: {} } },
);
const result = await batch.result(); // per-item outcomes; a failed item does not reject it
console.log(
  result.items.map((item) => item.status),
  result.then?.value,
);
console.log(await batch.progress());
await mill.stopGraceful();
