/**
 * Structured log lines for the task lifecycle: `debug` for each transition, `warn` for retries
 * and expiries, `error` for tasks that failed for good. Payloads and results appear only with
 * `logPayloads: true`; error objects are reduced to name, message, code and stack.
 */

import type { TerminalStatus } from "../lifecycle/states.js";
import type { Attempt, TaskRecord } from "../lifecycle/task-record.js";
import { type Instrumentation, noInstrumentation } from "./instrumentation.js";
import { type Logger, safeLog } from "./logger.js";
import { attemptStatus } from "./metric-definitions.js";

type Level = keyof Logger;

/** Logs the lifecycle through the `logger` option. Only installed for a non-silent logger. */
export class LoggingInstrumentation implements Instrumentation {
  readonly invoke = noInstrumentation.invoke;
  readonly #logger: Logger;
  readonly #logPayloads: boolean;

  constructor(logger: Logger, logPayloads: boolean) {
    this.#logger = logger;
    this.#logPayloads = logPayloads;
  }

  queued(record: TaskRecord): void {
    if (!this.#enabled("debug")) return;
    const line: Record<string, unknown> = { ...taskFields(record), status: record.status };
    if (record.runAt !== undefined) line.runAt = record.runAt;
    if (this.#logPayloads) line.payload = record.payload;
    safeLog(this.#logger, "debug", line, "taskmill task queued");
  }

  started(attempt: Attempt): void {
    if (!this.#enabled("debug")) return;
    safeLog(
      this.#logger,
      "debug",
      { ...attemptFields(attempt), status: "running" },
      "taskmill attempt started",
    );
  }

  attemptEnded(attempt: Attempt, error: Error | undefined, now: number): void {
    if (!this.#enabled("debug")) return;
    const line: Record<string, unknown> = {
      ...attemptFields(attempt),
      outcome: attemptStatus(error),
      durationMs: now - attempt.startedAt,
    };
    if (error !== undefined) line.err = errorFields(error);
    safeLog(this.#logger, "debug", line, "taskmill attempt ended");
  }

  retrying(record: TaskRecord, delayMs: number, error: Error): void {
    if (!this.#enabled("warn")) return;
    safeLog(
      this.#logger,
      "warn",
      {
        ...taskFields(record),
        status: "retrying",
        attempt: record.attempts,
        maxRetries: record.retry.maxRetries,
        delayMs,
        err: errorFields(error),
      },
      "taskmill attempt failed; retrying",
    );
  }

  finished(record: TaskRecord, status: TerminalStatus): void {
    const level: Level =
      status === "failed"
        ? "error"
        : status === "expired"
          ? "warn"
          : status === "cancelled"
            ? "info"
            : "debug";
    if (!this.#enabled(level)) return;
    const line: Record<string, unknown> = {
      ...taskFields(record),
      status,
      attempts: record.attempts,
    };
    if (record.finishedAt !== undefined) line.durationMs = record.finishedAt - record.createdAt;
    if (status === "succeeded") {
      if (this.#logPayloads) line.value = record.value;
    } else if (record.error !== undefined) {
      line.err = errorFields(record.error);
      const reason = (record.error as { reason?: unknown }).reason;
      if (status === "cancelled" && typeof reason === "string") line.reason = reason;
    }
    safeLog(this.#logger, level, line, `taskmill task ${status}`);
  }

  /** Skips building a line the logger would drop, when it can tell (pino's `isLevelEnabled`). */
  #enabled(level: Level): boolean {
    const check = (this.#logger as { isLevelEnabled?: unknown }).isLevelEnabled;
    return typeof check !== "function" || check.call(this.#logger, level) === true;
  }
}

function taskFields(record: TaskRecord): Record<string, unknown> {
  return { taskId: record.id, name: record.name, queue: record.queue };
}

function attemptFields(attempt: Attempt): Record<string, unknown> {
  return {
    taskId: attempt.taskId,
    name: attempt.name,
    queue: attempt.queue,
    attempt: attempt.attempt,
  };
}

/**
 * An error as log data. Deliberately not the Error itself: a logger serialises every
 * enumerable property, and handlers sometimes hang request data (payloads) on errors.
 */
function errorFields(error: Error): Record<string, unknown> {
  const fields: Record<string, unknown> = { type: error.name, message: error.message };
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string" || typeof code === "number") fields.code = code;
  if (error.stack !== undefined) fields.stack = error.stack;
  return fields;
}
