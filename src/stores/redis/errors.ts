/**
 * The one place where the negative return codes of the Lua scripts become typed errors.
 * Scripts share their codes (see `lua/includes/lease.lua` and each script's header).
 */
import {
  IdempotencyConflictError,
  InvalidArgumentError,
  NotFoundError,
  StaleLeaseError,
} from "../../errors.js";

/** Return codes shared by the scripts. */
export const ScriptCode = {
  /** The task does not exist. */
  missing: -1,
  /** The fencing token is not the task's current one: another claim holds it. */
  superseded: -2,
  /** The task was cancelled. */
  cancelled: -3,
  /** The task is not running any more (lease reclaimed, or finished). */
  notRunning: -4,
  /** The queue the caller read is not the task's queue (cancel only). */
  queueMismatch: -5,
  /** The idempotency key is held by a task with another name or payload. */
  idempotencyConflict: -6,
  /** The id is taken by a task with another name or payload. */
  idConflict: -7,
} as const;

/** A script answered with something its header does not allow: a bug, never user error. */
export class UnexpectedReplyError extends Error {
  constructor(script: string, reply: unknown) {
    super(`Unexpected reply from Redis script "${script}": ${safeText(reply)}`);
    this.name = "UnexpectedReplyError";
  }
}

/** What a failed script call was about, to word the error. */
export interface ScriptErrorContext {
  readonly script: string;
  readonly id?: string;
  readonly token?: string;
  readonly idempotencyKey?: string;
  /** The task holding a conflicting idempotency key. */
  readonly holderId?: string;
}

/** Turns a negative script return code into the error callers see. */
export function scriptError(code: number, context: ScriptErrorContext): Error {
  const id = context.id ?? "";
  switch (code) {
    case ScriptCode.missing:
      return context.token === undefined
        ? new NotFoundError("task", id)
        : new StaleLeaseError(id, context.token, "missing");
    case ScriptCode.superseded:
      return new StaleLeaseError(id, context.token ?? "", "superseded");
    case ScriptCode.cancelled:
      return new StaleLeaseError(id, context.token ?? "", "cancelled");
    case ScriptCode.notRunning:
      return new StaleLeaseError(id, context.token ?? "", "not-running");
    case ScriptCode.idempotencyConflict:
      return new IdempotencyConflictError(context.idempotencyKey ?? "", context.holderId ?? "");
    case ScriptCode.idConflict:
      return new InvalidArgumentError(
        "id",
        "is already used by a task with a different name or payload",
        id,
      );
    default:
      return new UnexpectedReplyError(context.script, code);
  }
}

function safeText(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
