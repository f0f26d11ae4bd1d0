import { toError } from "../errors.js";
import { type Instrumentation, noInstrumentation } from "../observability/instrumentation.js";
import type { Attempt } from "./task-record.js";

/** Told how an attempt's handler settled: `error` set on failure, else `value`. */
export interface AttemptOwner {
  settled(attempt: Attempt, error: Error | undefined, value: unknown): void;
}

/**
 * Calls an attempt's handler with its payload and `ctx`, through the instrumentation when it
 * wraps calls (tracing), and reports how it settled, always asynchronously: a synchronous
 * throw or a thrown non-Error becomes a failure, never a crash. Shared by both modes' runners.
 */
export function invokeHandler(
  attempt: Attempt,
  instrumentation: Instrumentation,
  owner: AttemptOwner,
): void {
  const record = attempt.record;
  let returned: unknown;
  try {
    // Without tracing nothing wraps the call: no closure per attempt on the hot path.
    returned =
      instrumentation.invoke === noInstrumentation.invoke
        ? record.handler(record.payload, attempt)
        : instrumentation.invoke(attempt, () => record.handler(record.payload, attempt));
  } catch (error) {
    returned = Promise.reject(error);
  }
  Promise.resolve(returned).then(
    (value) => owner.settled(attempt, undefined, value),
    (error: unknown) => owner.settled(attempt, toError(error), undefined),
  );
}
