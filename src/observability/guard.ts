/**
 * Isolation for instrumentation: whatever a meter, tracer, logger or hook throws is caught and
 * logged once per occurrence, and the task goes on exactly as it would without it.
 */
import type { Attempt } from "../lifecycle/task-record.js";
import { type Instrumentation, noInstrumentation } from "./instrumentation.js";
import { type Logger, safeLog } from "./logger.js";

/** Wraps every method of `part` so that a throw is logged instead of reaching the engine. */
export function guardInstrumentation(
  part: Instrumentation,
  component: string,
  logger: Logger,
): Instrumentation {
  const report = (point: string, error: unknown) =>
    safeLog(
      logger,
      "error",
      { err: error, component, point },
      `taskmill ${component} threw at ${point}; the task is unaffected`,
    );
  return {
    queued(record) {
      try {
        part.queued(record);
      } catch (error) {
        report("queued", error);
      }
    },
    started(attempt) {
      try {
        part.started(attempt);
      } catch (error) {
        report("started", error);
      }
    },
    invoke:
      part.invoke === noInstrumentation.invoke
        ? noInstrumentation.invoke
        : <T>(attempt: Attempt, call: () => T): T => guardedInvoke(part, attempt, call, report),
    attemptEnded(attempt, error, now) {
      try {
        part.attemptEnded(attempt, error, now);
      } catch (thrown) {
        report("attemptEnded", thrown);
      }
    },
    retrying(record, delayMs, error) {
      try {
        part.retrying(record, delayMs, error);
      } catch (thrown) {
        report("retrying", thrown);
      }
    },
    finished(record, status) {
      try {
        part.finished(record, status);
      } catch (error) {
        report("finished", error);
      }
    },
    leaseLost(record) {
      try {
        part.leaseLost?.(record);
      } catch (error) {
        report("leaseLost", error);
      }
    },
  };
}

const NOT_CALLED = 0;
const RETURNED = 1;
const THREW = 2;

/**
 * Runs `part.invoke` so that the handler is called exactly once whatever the part does: a
 * handler's own synchronous throw still reaches the runner (it is the task's failure), while a
 * throw from the part is logged and the handler is called without it (or its value kept).
 */
function guardedInvoke<T>(
  part: Instrumentation,
  attempt: Attempt,
  call: () => T,
  report: (point: string, error: unknown) => void,
): T {
  let state = NOT_CALLED;
  let value: T | undefined;
  let handlerError: unknown;
  const once = (): T => {
    if (state !== NOT_CALLED) throw new Error("taskmill: instrumentation called a handler twice");
    try {
      value = call();
      state = RETURNED;
      return value;
    } catch (error) {
      state = THREW;
      handlerError = error;
      throw error;
    }
  };
  let returned: T;
  try {
    returned = part.invoke(attempt, once);
  } catch (error) {
    if (state === THREW && error === handlerError) throw error;
    report("invoke", error);
    if (state === NOT_CALLED) return call();
    if (state === THREW) throw handlerError;
    return value as T;
  }
  if (state === NOT_CALLED) {
    report("invoke", new Error("instrumentation did not call the handler"));
    return call();
  }
  return returned;
}
