/** Builds bare TaskRecords for unit tests of internal modules. Not a test file itself. */
import { TaskRecord } from "../../src/lifecycle/task-record.js";
import type { RetryPolicy } from "../../src/retry/backoff.js";

const POLICY: RetryPolicy = {
  maxRetries: 2,
  backoff: "fixed",
  baseDelayMs: 100,
  maxDelayMs: 1_000,
  jitter: "none",
};

let next = 0;

export function record(
  options: { priority?: number; runAt?: number; retry?: Partial<RetryPolicy>; queue?: string } = {},
): TaskRecord {
  next++;
  return new TaskRecord(
    `r${next}`,
    next,
    "job",
    options.queue ?? "default",
    undefined,
    options.priority ?? 0,
    () => undefined,
    { ...POLICY, ...options.retry },
    0,
    0,
    options.runAt,
    undefined,
    undefined,
  );
}
