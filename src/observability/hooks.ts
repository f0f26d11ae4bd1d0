/**
 * User hooks for audit trails: called at the same lifecycle points as metrics and tracing,
 * isolated so that a throwing or rejecting hook is logged and never breaks a task.
 */

import type { AuditRecord } from "../audit/types.js";
import type { TerminalStatus } from "../lifecycle/states.js";
import type { Attempt } from "../lifecycle/task-record.js";
import { errorInfo, type TaskRecord } from "../lifecycle/task-record.js";
import type { ErrorInfo, TaskSnapshot } from "../types.js";
import { type Instrumentation, noInstrumentation } from "./instrumentation.js";
import { type Logger, safeLog } from "./logger.js";

/** Given to `onQueued`: the task was accepted (status `queued`, or `scheduled` if delayed). */
export interface QueuedHookEvent {
  readonly task: TaskSnapshot;
}

/** Given to `onStart`: an attempt is about to call the handler. */
export interface StartHookEvent {
  readonly task: TaskSnapshot;
  /** 1 for the first run, 2 for the first retry, and so on. */
  readonly attempt: number;
}

/** Given to `onRetry`: an attempt failed and another runs after `delayMs`. */
export interface RetryHookEvent {
  readonly task: TaskSnapshot;
  /** The attempt that failed. */
  readonly attempt: number;
  readonly delayMs: number;
  readonly error: ErrorInfo;
}

/** Given to `onFinish`: the task reached its terminal state. */
export interface FinishHookEvent {
  readonly task: TaskSnapshot;
  readonly status: TerminalStatus;
  /** Why it did not succeed. */
  readonly error?: ErrorInfo;
}

/**
 * Lifecycle hooks (option `hooks`). Each receives a snapshot taken at that moment and may be
 * async; it is not awaited. A hook that throws or rejects is logged at `error` and the task
 * goes on unaffected. Hooks run inline, so keep synchronous work short.
 *
 * @example
 * ```ts
 * new TaskManager({
 *   hooks: {
 *     onFinish: ({ task, status }) => audit.write({ id: task.id, name: task.name, status }),
 *   },
 * });
 * ```
 */
export interface TaskHooks {
  readonly onQueued?: (event: QueuedHookEvent) => unknown;
  readonly onStart?: (event: StartHookEvent) => unknown;
  readonly onRetry?: (event: RetryHookEvent) => unknown;
  readonly onFinish?: (event: FinishHookEvent) => unknown;
  /**
   * An admin write (API, CLI or dashboard) was recorded in the audit trail: the same sealed
   * record the store keeps, to ship elsewhere (a SIEM, a log pipeline). Called once per record,
   * after the store holds it.
   */
  readonly onAdmin?: (record: AuditRecord) => unknown;
}

/** The hook names `TaskHooks` accepts. */
export const HOOK_NAMES = Object.freeze([
  "onQueued",
  "onStart",
  "onRetry",
  "onFinish",
  "onAdmin",
] as const);

/** Calls the configured hooks from the instrumentation seam. */
export class HooksInstrumentation implements Instrumentation {
  readonly invoke = noInstrumentation.invoke;
  readonly attemptEnded = noInstrumentation.attemptEnded;
  readonly #hooks: TaskHooks;
  readonly #logger: Logger;

  constructor(hooks: TaskHooks, logger: Logger) {
    this.#hooks = hooks;
    this.#logger = logger;
  }

  queued(record: TaskRecord): void {
    const hook = this.#hooks.onQueued;
    if (hook !== undefined)
      this.#call("onQueued", record.id, () => hook({ task: record.snapshot() }));
  }

  started(attempt: Attempt): void {
    const hook = this.#hooks.onStart;
    if (hook !== undefined)
      this.#call("onStart", attempt.taskId, () =>
        hook({ task: attempt.record.snapshot(), attempt: attempt.attempt }),
      );
  }

  retrying(record: TaskRecord, delayMs: number, error: Error): void {
    const hook = this.#hooks.onRetry;
    if (hook !== undefined)
      this.#call("onRetry", record.id, () =>
        hook({
          task: record.snapshot(),
          attempt: record.attempts,
          delayMs,
          error: errorInfo(error),
        }),
      );
  }

  finished(record: TaskRecord, status: TerminalStatus): void {
    const hook = this.#hooks.onFinish;
    if (hook === undefined) return;
    const error = record.error;
    this.#call("onFinish", record.id, () =>
      hook(
        error === undefined || status === "succeeded"
          ? { task: record.snapshot(), status }
          : { task: record.snapshot(), status, error: errorInfo(error) },
      ),
    );
  }

  #call(hook: string, taskId: string, call: () => unknown): void {
    try {
      const returned = call();
      if (isThenable(returned))
        returned.then(undefined, (error: unknown) => this.#report(hook, taskId, error));
    } catch (error) {
      this.#report(hook, taskId, error);
    }
  }

  #report(hook: string, taskId: string, error: unknown): void {
    safeLog(this.#logger, "error", { err: error, hook, taskId }, "taskmill hook threw");
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as { then?: unknown }).then === "function"
  );
}
