/**
 * An operator's first incident, end to end in one process: a charge fails for good, and the
 * operator finds it (newest first), sees its payload (card number masked) and the stack of the
 * error, checks the totals, and would then replay it. Run it with
 *   npx tsx examples/incident.ts
 * In durable mode the same code reads the store's totals (`sharedStats()`), the same from every
 * process, and `result()` rejects with the same error class as here.
 */
import { createAdminServer, PermanentError, TaskManager } from "taskmill";

// payloads: "json": payloads and results go through JSON as a durable store would pass them.
const mill = new TaskManager({ retry: { maxRetries: 0 }, payloads: "json" });
mill.register("invoice.charge", (payload: { invoice: string; card: { pan: string } }) => {
  throw new PermanentError(`card declined for ${payload.invoice}`);
});
mill.register("email.send", (payload: { to: string }) => ({ sent: payload.to }));

const token = "example-token-0123456789abcdef"; // use a long random secret in production
const admin = await createAdminServer(mill, {
  auth: { tokens: [{ token, role: "read", name: "oncall" }] },
  // Payloads and stacks leave the process only with this opt-in, masked by `redact`.
  exposePayloads: true,
  redact: (payload, task) =>
    task.name === "invoice.charge"
      ? { ...(payload as object), card: { pan: "**** **** **** 4242" } }
      : payload,
});

const charge = await mill.submit("invoice.charge", {
  invoice: "INV-1042",
  card: { pan: "4242424242424242" },
  at: new Date(0), // arrives as "1970-01-01T00:00:00.000Z", as from a store
});
await charge.result().catch((error: unknown) => {
  console.log("result() rejected with a PermanentError:", error instanceof PermanentError);
});
for (const to of ["ada@example.com", "grace@example.com"]) await mill.submit("email.send", { to });

// Newest first, as the CLI and the dashboard list.
const page = await mill.list({ order: "newest", limit: 3 });
console.log("newest first:", page.tasks.map((task) => `${task.name} ${task.status}`).join(", "));

// What an operator's `taskmill dlq list` / dashboard sees: redacted payload and the stack.
const reply = await fetch(`${admin.url}/v1/dlq?order=newest`, {
  headers: { authorization: `Bearer ${token}` },
});
const { tasks } = (await reply.json()) as {
  tasks: Array<{ payload: unknown; error: { message: string; stack?: string } }>;
};
console.log("dead letter payload:", JSON.stringify(tasks[0]?.payload));
console.log("its stack:", tasks[0]?.error.stack?.split("\n").slice(0, 2).join(" | "));

// The totals every process would show (the store's, in durable mode).
const stats = await mill.sharedStats();
console.log(
  `succeeded ${stats.succeeded}, failed ${stats.failed}, dead letters ${stats.deadLetters}`,
);

await admin.close();
await mill.stopGraceful();
