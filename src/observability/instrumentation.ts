import type { TerminalStatus } from "../lifecycle/states.js";
import type { Attempt, TaskRecord } from "../lifecycle/task-record.js";

/**
 * The engine's one seam for observability: metrics, tracing and user hooks each implement it,
 * and the runner calls it at every lifecycle point. Each call happens exactly once per event,
 * so implementations count without de-duplicating.
 */
export interface Instrumentation {
  /** A task was accepted (status `queued` or `scheduled`). */
  queued(record: TaskRecord): void;
  /** An attempt took its slot and is about to call the handler. */
  started(attempt: Attempt): void;
  /**
   * Calls the handler. Tracing runs `call` inside the attempt's span context so that work the
   * handler starts is parented to it; others just call it.
   */
  invoke<T>(attempt: Attempt, call: () => T): T;
  /** The handler settled: `error` is set when the attempt failed (including timeouts). */
  attemptEnded(attempt: Attempt, error: Error | undefined, now: number): void;
  /** A failed attempt will be retried after `delayMs`. */
  retrying(record: TaskRecord, delayMs: number, error: Error): void;
  /** The task reached its one terminal state. */
  finished(record: TaskRecord, status: TerminalStatus): void;
  /**
   * Durable mode: this process lost the lease of a task it ran (renewal refused or expired,
   * or its outcome refused by the fence): another process may run it again.
   */
  leaseLost?(record: TaskRecord): void;
}

/** Does nothing; the default when no metrics, tracing or hooks are configured. */
export const noInstrumentation: Instrumentation = {
  queued() {},
  started() {},
  invoke: (_attempt, call) => call(),
  attemptEnded() {},
  retrying() {},
  finished() {},
};

/** Fans each call out to several instrumentations (metrics + tracing + hooks). */
export function combineInstrumentation(parts: readonly Instrumentation[]): Instrumentation {
  if (parts.length === 0) return noInstrumentation;
  if (parts.length === 1) return parts[0] as Instrumentation;
  return {
    queued: (record) => {
      for (const part of parts) part.queued(record);
    },
    started: (attempt) => {
      for (const part of parts) part.started(attempt);
    },
    // Only parts that wrap the call take part in the chain (most pass it through untouched).
    invoke: combineInvoke(parts.filter((part) => part.invoke !== noInstrumentation.invoke)),
    attemptEnded: (attempt, error, now) => {
      for (const part of parts) part.attemptEnded(attempt, error, now);
    },
    retrying: (record, delayMs, error) => {
      for (const part of parts) part.retrying(record, delayMs, error);
    },
    finished: (record, status) => {
      for (const part of parts) part.finished(record, status);
    },
    leaseLost: (record) => {
      for (const part of parts) part.leaseLost?.(record);
    },
  };
}

function combineInvoke(wrappers: readonly Instrumentation[]): Instrumentation["invoke"] {
  if (wrappers.length === 0) return noInstrumentation.invoke;
  if (wrappers.length === 1) {
    const only = wrappers[0] as Instrumentation;
    return (attempt, call) => only.invoke(attempt, call);
  }
  return (attempt, call) =>
    wrappers.reduceRight<() => ReturnType<typeof call>>(
      (next, part) => () => part.invoke(attempt, next),
      call,
    )();
}
