/**
 * How every store's leader lock reports a change of leadership: one log line (a loss is a
 * warning unless the lock was stopped on purpose) and the `onChange` listener, whose throw is
 * logged and never breaks the lock.
 */
import { type Logger, safeLog } from "../observability/logger.js";
import type { LeadershipChange } from "./durable-store.js";

/** Logs the change of leadership of lock `lock` and tells `onChange`. */
export function announceLeadership(
  logger: Logger,
  lock: string,
  leading: boolean,
  reason: LeadershipChange,
  error: unknown,
  onChange: (leading: boolean, reason: LeadershipChange) => void,
): void {
  const quiet = leading || reason === "stopped";
  safeLog(
    logger,
    quiet ? "info" : "warn",
    { lock, reason, ...(error === undefined ? {} : { err: error }) },
    leading ? "taskmill became leader" : "taskmill stopped being leader",
  );
  try {
    onChange(leading, reason);
  } catch (listenerError) {
    safeLog(
      logger,
      "error",
      { err: listenerError, lock },
      "taskmill leader lock: onChange listener threw",
    );
  }
}
