// The deployment-pack test's handlers, loaded by examples/deploy/worker.mjs through
// TASKMILL_HANDLERS: outcomes decided by the payload, so the workload drives every metric the
// dashboard and the alerts read.
import { PermanentError } from "taskmill";

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export const handlers = {
  "email.send": {
    options: { queue: "email" },
    async handler(payload) {
      await sleep(10);
      return { delivered: payload?.to };
    },
  },
  // Declined cards fail for good (into the DLQ); flaky ones fail their first attempt.
  "invoice.charge": {
    options: { queue: "payments", retry: { maxRetries: 2, baseDelayMs: 50, jitter: "none" } },
    async handler(payload, ctx) {
      await sleep(10);
      if (payload?.decline) throw new PermanentError("card declined");
      if (payload?.flaky && ctx.attempt === 1) throw new Error("gateway timeout");
      return { charged: payload?.amount };
    },
  },
  // One second each: a burst of them waits for slots (the p99 wait).
  "report.build": {
    options: { queue: "reports" },
    async handler() {
      await sleep(1_000);
      return "built";
    },
  },
  // Runs until aborted: the test takes its lease away from under it.
  "slow.job": {
    options: { queue: "slow" },
    handler: (_payload, ctx) =>
      new Promise((_resolve, reject) =>
        ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason), { once: true }),
      ),
  },
};
