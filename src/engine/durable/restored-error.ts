/**
 * The error `result()` rejects with for a task that failed in a worker: the error travelled
 * as data (`name`, `message`, `code`, `stack`). When it was one of taskmill's own classes, that
 * class is rebuilt, so `instanceof PermanentError` (or `TimeoutError`, ...) holds as in memory
 * mode; anything else (the handler's own classes cannot be rebuilt) is a `TaskFailedError`.
 */
import {
  CancelledError,
  ExpiredError,
  markRestored,
  NonErrorThrownError,
  PermanentError,
  TaskFailedError,
  type TaskmillError,
  TimeoutError,
} from "../../errors.js";
import type { ErrorInfo } from "../../types.js";

/** Rebuilders by code; the stored `name` must match too (a user error may reuse a code). */
const CLASSES: Readonly<Record<string, { name: string; build: () => TaskmillError }>> = {
  ERR_PERMANENT: { name: "PermanentError", build: () => new PermanentError("") },
  ERR_TIMEOUT: { name: "TimeoutError", build: () => new TimeoutError(0) },
  ERR_CANCELLED: { name: "CancelledError", build: () => new CancelledError("cancel") },
  ERR_EXPIRED: { name: "ExpiredError", build: () => new ExpiredError() },
  ERR_HANDLER_THREW_NON_ERROR: {
    name: "NonErrorThrownError",
    build: () => new NonErrorThrownError(undefined),
  },
};

/** The rejection for a stored failure `info`. */
export function restoreError(info: ErrorInfo): Error {
  const known = info.code === undefined ? undefined : CLASSES[info.code];
  if (known === undefined || known.name !== info.name) {
    const failed = new TaskFailedError(info);
    if (info.stack !== undefined) failed.stack = info.stack;
    return failed;
  }
  const error = known.build();
  // The worker's own message and stack, not the ones of this rebuild.
  Object.defineProperty(error, "message", { value: info.message, writable: true });
  if (info.stack !== undefined) error.stack = info.stack;
  if (error instanceof TimeoutError) {
    const ms = /after (\d+) ms/.exec(info.message)?.[1];
    Object.defineProperty(error, "timeoutMs", {
      value: ms === undefined ? Number.NaN : Number(ms),
    });
  }
  markRestored(error, info.name, info.code);
  return error;
}
