/**
 * Typed tasks: one `defineTask` per task ties its name to its payload and result types, so
 * `register`, `submit` and `result()` agree at compile time.
 *
 * Run: npx tsx examples/typed-tasks.ts
 */
import { defineTask, TaskManager } from "taskmill";

const sendReceipt = defineTask<{ orderId: string; email: string }, { messageId: string }>(
  "receipt.send",
);

const mill = new TaskManager({ concurrency: 4 });

mill.register(sendReceipt, async ({ orderId, email }) => {
  // A real service would call its mail provider here.
  return { messageId: `receipt-${orderId}-for-${email}` };
});

const task = await mill.submit(sendReceipt, { orderId: "o-42", email: "ada@example.com" });
// mill.submit(sendReceipt, { orderId: 42 }) would not compile: orderId is a string, email missing.
const { messageId } = await task.result();
console.log(`sent ${messageId}`);

await mill.stopGraceful();
