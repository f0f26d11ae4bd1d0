/**
 * The five-minute tour: register a handler, submit tasks, read their results, stop cleanly.
 * Run it with `npm run example`.
 */
import { PermanentError, TaskManager } from "taskmill";

const mill = new TaskManager({
  concurrency: 4,
  rate: { perSecond: 50 },
  retry: { maxRetries: 2, backoff: "exponential", baseDelayMs: 50 },
  timeoutMs: 5_000,
});

// Ids are UUIDs whose last digits count submissions, so the tail tells tasks apart.
mill.register("email.send", async (payload: { to: string }, ctx) => {
  // Real work would pass ctx.signal to fetch() or the SMTP client so a cancel or timeout stops it.
  await new Promise((resolve) => setTimeout(resolve, 20));
  if (payload.to.endsWith("@invalid")) throw new PermanentError(`cannot deliver to ${payload.to}`);
  return { messageId: `msg-${ctx.taskId.slice(-8)}`, attempt: ctx.attempt };
});

mill.on("failed", ({ task, error }) =>
  console.log(`failed   ${task.id.slice(-8)} ${error.message}`),
);

// Every subscriber sees every result, with its own bounded buffer.
const results = mill.subscribeResults({ buffer: 100 });
const printing = (async () => {
  for await (const result of results)
    console.log(`result   ${result.id.slice(-8)} ${result.status}`);
})();

const recipients = ["ada@example.com", "grace@example.com", "linus@invalid", "barbara@example.com"];
const tasks = await Promise.all(
  recipients.map((to) => mill.submit("email.send", { to }, { idempotencyKey: `welcome:${to}` })),
);

for (const task of tasks) {
  try {
    console.log(`value    ${task.id.slice(-8)}`, await task.result());
  } catch (error) {
    console.log(`rejected ${task.id.slice(-8)} ${(error as Error).name}`);
  }
}

const report = await mill.stopGraceful({ timeoutMs: 10_000 });
await printing; // the subscription ends when the manager stops
console.log(
  `stopped: ${report.finished.length} finished while stopping, ${report.cancelled.length} cancelled`,
);
console.log(mill.stats());
