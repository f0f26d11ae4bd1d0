/**
 * Every error taskmill throws or rejects with is a {@link TaskmillError}: callers branch on the
 * stable `code`, never on the message.
 *
 * @packageDocumentation
 */

/** Stable machine-readable codes, one per error class. */
export type TaskmillErrorCode =
  | "ERR_INVALID_OPTION"
  | "ERR_INVALID_ARGUMENT"
  | "ERR_HANDLER_NOT_FOUND"
  | "ERR_DUPLICATE_HANDLER"
  | "ERR_NOT_FOUND"
  | "ERR_SHUTTING_DOWN"
  | "ERR_TIMEOUT"
  | "ERR_CANCELLED"
  | "ERR_EXPIRED"
  | "ERR_PERMANENT"
  | "ERR_HANDLER_THREW_NON_ERROR"
  | "ERR_IDEMPOTENCY_CONFLICT"
  | "ERR_RESULT_BUFFER_OVERFLOW"
  | "ERR_UNSUPPORTED"
  | "ERR_STALE_LEASE"
  | "ERR_BACKEND_UNAVAILABLE"
  | "ERR_INCOMPATIBLE_STORE"
  | "ERR_TASK_FAILED"
  | "ERR_MISSING_PEER";

/** Base class of every taskmill error. `code` is stable across releases. */
export class TaskmillError extends Error {
  readonly code: TaskmillErrorCode;

  constructor(code: TaskmillErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** An option passed to the constructor (or to `register`) is invalid. `option` is its path. */
export class InvalidOptionError extends TaskmillError {
  readonly option: string;
  /** What the option must be, e.g. "must be an integer >= 1". */
  readonly requirement: string;
  readonly value: unknown;

  constructor(option: string, requirement: string, value: unknown) {
    super("ERR_INVALID_OPTION", `Option "${option}" ${requirement} (got ${describe(value)})`);
    this.option = option;
    this.requirement = requirement;
    this.value = value;
  }
}

/** An argument to a method call (submit options, ids, cron patterns...) is invalid. */
export class InvalidArgumentError extends TaskmillError {
  readonly argument: string;
  /** What the argument must be, e.g. "must be a finite number". */
  readonly requirement: string;
  readonly value: unknown;

  constructor(argument: string, requirement: string, value: unknown) {
    super("ERR_INVALID_ARGUMENT", `Argument "${argument}" ${requirement} (got ${describe(value)})`);
    this.argument = argument;
    this.requirement = requirement;
    this.value = value;
  }
}

/** `submit` named a task with no registered handler (memory mode). */
export class HandlerNotFoundError extends TaskmillError {
  readonly taskName: string;

  constructor(taskName: string) {
    super(
      "ERR_HANDLER_NOT_FOUND",
      `No handler is registered for task "${taskName}"; call register("${taskName}", handler) first`,
    );
    this.taskName = taskName;
  }
}

/** `register` was called twice for the same task name. */
export class DuplicateHandlerError extends TaskmillError {
  readonly taskName: string;

  constructor(taskName: string) {
    super("ERR_DUPLICATE_HANDLER", `A handler for task "${taskName}" is already registered`);
    this.taskName = taskName;
  }
}

/** No task (or schedule) with this id is known. */
export class NotFoundError extends TaskmillError {
  readonly id: string;

  constructor(kind: string, id: string) {
    super("ERR_NOT_FOUND", `No ${kind} with id "${id}"`);
    this.id = id;
  }
}

/** The manager is stopping or stopped and refuses new work. */
export class ShuttingDownError extends TaskmillError {
  constructor() {
    super("ERR_SHUTTING_DOWN", "The task manager is shutting down and accepts no new tasks");
  }
}

/** An attempt ran longer than its `timeoutMs`. Retried per the retry policy. */
export class TimeoutError extends TaskmillError {
  readonly timeoutMs: number;

  constructor(timeoutMs: number) {
    super("ERR_TIMEOUT", `The attempt timed out after ${timeoutMs} ms`);
    this.timeoutMs = timeoutMs;
  }
}

/** Why a task was cancelled. */
export type CancelReason = "cancel" | "stop" | "signal" | "lease" | "dependency";

/** The task was cancelled (by `cancel()`, a submit `signal`, or a stop). Never retried. */
export class CancelledError extends TaskmillError {
  readonly reason: CancelReason;
  /** For reason "dependency": the ref of the flow node whose failure cancelled this one. */
  readonly dependency: string | undefined;

  constructor(reason: CancelReason, dependency?: string) {
    const why =
      reason === "dependency"
        ? `its dependency "${dependency}" did not succeed (onDependencyFailure: "cancel")`
        : reason === "stop"
          ? "the task manager stopped"
          : reason === "signal"
            ? "its submit signal was aborted"
            : reason === "lease"
              ? "this worker lost its lease on it (another worker may run it)"
              : "cancel() was called";
    super("ERR_CANCELLED", `The task was cancelled because ${why}`);
    this.reason = reason;
    this.dependency = dependency;
  }
}

/** The task's TTL passed before it started. */
export class ExpiredError extends TaskmillError {
  constructor() {
    super("ERR_EXPIRED", "The task expired before it could start");
  }
}

/**
 * Throw this from a handler to fail the task at once, without retries.
 *
 * @example
 * ```ts
 * if (!account) throw new PermanentError("account does not exist");
 * ```
 */
export class PermanentError extends TaskmillError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("ERR_PERMANENT", message, options);
  }
}

/** A handler threw (or rejected with) something that is not an `Error`; the value is `cause`. */
export class NonErrorThrownError extends TaskmillError {
  constructor(value: unknown) {
    super(
      "ERR_HANDLER_THREW_NON_ERROR",
      `The handler threw a non-Error value: ${describe(value)}`,
      {
        cause: value,
      },
    );
  }
}

/** The idempotency key is already held by a task with a different payload or name. */
export class IdempotencyConflictError extends TaskmillError {
  readonly idempotencyKey: string;
  readonly existingTaskId: string;

  constructor(idempotencyKey: string, existingTaskId: string) {
    super(
      "ERR_IDEMPOTENCY_CONFLICT",
      `Idempotency key "${idempotencyKey}" is held by task ${existingTaskId} with a different name or payload`,
    );
    this.idempotencyKey = idempotencyKey;
    this.existingTaskId = existingTaskId;
  }
}

/** A result subscription with `overflow: "error"` fell `buffer` results behind. */
export class ResultBufferOverflowError extends TaskmillError {
  readonly buffer: number;

  constructor(buffer: number) {
    super(
      "ERR_RESULT_BUFFER_OVERFLOW",
      `The result subscription fell more than ${buffer} results behind and was closed`,
    );
    this.buffer = buffer;
  }
}

/** The operation is not available in this mode (for example `run()` in durable mode). */
export class UnsupportedError extends TaskmillError {
  constructor(message: string) {
    super("ERR_UNSUPPORTED", message);
  }
}

/** Durable mode: the store cannot be reached right now (the submit did not happen). */
export class BackendUnavailableError extends TaskmillError {
  constructor(detail: string, options?: { cause?: unknown }) {
    super("ERR_BACKEND_UNAVAILABLE", `The durable store is unavailable: ${detail}`, options);
  }
}

/**
 * Durable mode: the store's client library, an optional peer dependency of taskmill, is not
 * installed. `install` is the command that fixes it.
 */
export class MissingPeerError extends TaskmillError {
  /** The missing package, e.g. "ioredis". */
  readonly packageName: string;
  /** What to run, e.g. "npm install ioredis". */
  readonly install: string;

  constructor(
    packageName: string,
    backend: string,
    options?: { readonly cause?: unknown; readonly spec?: string },
  ) {
    const install = `npm install ${options?.spec ?? packageName}`;
    super(
      "ERR_MISSING_PEER",
      `backend { type: "${backend}" } needs the package "${packageName}", which is not installed: run \`${install}\``,
      options,
    );
    this.packageName = packageName;
    this.install = install;
  }
}

/**
 * Durable mode: the store holds something this version of taskmill must not touch: a file that
 * is not a taskmill database, or one written by a newer schema version. Nothing was changed.
 */
export class IncompatibleStoreError extends TaskmillError {
  /** Where the store is (e.g. the database file). */
  readonly location: string;
  /** `other-layout`: Redis data written with the other `backend.layout` ("single" or "sharded"). */
  readonly reason: "not-taskmill" | "newer-schema" | "other-layout";

  constructor(
    location: string,
    reason: "not-taskmill" | "newer-schema" | "other-layout",
    detail: string,
    options?: { cause?: unknown },
  ) {
    super("ERR_INCOMPATIBLE_STORE", `${location}: ${detail}`, options);
    this.location = location;
    this.reason = reason;
  }
}

/**
 * Durable mode: the task failed in a worker, possibly in another process; `result()` rejects
 * with this. The handler's error travels as data: its `name`, `message` and `code`.
 *
 * When the stored error is one of taskmill's own (`PermanentError`, `TimeoutError`,
 * `CancelledError`, `ExpiredError`, `NonErrorThrownError`), `result()` rejects with that class
 * instead, as in memory mode, and the error is still `instanceof TaskFailedError` with
 * `errorName` and `errorCode` set, so code written for either keeps working.
 */
export class TaskFailedError extends TaskmillError {
  /** The `name` of the error the handler threw. */
  readonly errorName: string;
  /** The thrown error's own `code`, if it had one. */
  readonly errorCode: string | undefined;

  constructor(info: { readonly name: string; readonly message: string; readonly code?: string }) {
    super("ERR_TASK_FAILED", info.message);
    this.errorName = info.name;
    this.errorCode = info.code;
  }

  /** True for its instances and for the errors durable mode restored by code. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return (
      // biome-ignore lint/complexity/noThisInStatic: `this` is the class asked about (a subclass too)
      Function.prototype[Symbol.hasInstance].call(this, value) ||
      // biome-ignore lint/complexity/noThisInStatic: restored errors answer TaskFailedError only
      (this === TaskFailedError &&
        typeof value === "object" &&
        value !== null &&
        RESTORED.has(value))
    );
  }
}

const RESTORED = new WeakSet<object>();

/**
 * @internal Marks `error`, rebuilt from a stored failure, as a `TaskFailedError` too, with its
 * `errorName` and `errorCode`.
 */
export function markRestored(error: TaskmillError, name: string, code: string | undefined): void {
  Object.defineProperties(error, {
    errorName: { value: name, enumerable: true },
    errorCode: { value: code, enumerable: true },
  });
  RESTORED.add(error);
}

/** Turns whatever a handler threw into an `Error`, keeping Errors as they are. */
export function toError(thrown: unknown): Error {
  return thrown instanceof Error ? thrown : new NonErrorThrownError(thrown);
}

function describe(value: unknown): string {
  const text = describeFully(value);
  // A message names the value, it does not dump it (a database client, a large payload).
  return text.length <= DESCRIBE_MAX ? text : `${text.slice(0, DESCRIBE_MAX)}…`;
}

const DESCRIBE_MAX = 200;

function describeFully(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "function") return "a function";
  if (typeof value === "object" && value !== null) {
    try {
      return JSON.stringify(value) ?? Object.prototype.toString.call(value);
    } catch {
      return Object.prototype.toString.call(value);
    }
  }
  return String(value);
}

/** Why a worker no longer holds a task's lease. */
export type LeaseLossReason = "missing" | "superseded" | "cancelled" | "not-running" | "expired";

/**
 * An ack, nack, fail or renew carried a fencing token that no longer holds the task's lease,
 * so the store refused it and changed nothing. The handler's outcome is discarded: another worker
 * holds the task, it was cancelled, or its expired lease was reclaimed.
 *
 * Every durable store raises it (the port's rule), so it lives with the other errors.
 */
export class StaleLeaseError extends TaskmillError {
  readonly taskId: string;
  readonly token: string;
  readonly reason: LeaseLossReason;

  constructor(taskId: string, token: string, reason: LeaseLossReason) {
    super(
      "ERR_STALE_LEASE",
      `The lease on task ${taskId} (token ${token}) is no longer held: ${EXPLAIN[reason]}`,
    );
    this.taskId = taskId;
    this.token = token;
    this.reason = reason;
  }
}

const EXPLAIN: Record<LeaseLossReason, string> = {
  missing: "the task no longer exists",
  superseded: "another worker claimed the task after this lease expired",
  cancelled: "the task was cancelled",
  "not-running": "the lease expired and the task was reclaimed, or it already finished",
  expired: "the lease ran out before it could be renewed (the store was unreachable)",
};
