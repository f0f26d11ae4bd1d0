import { InvalidArgumentError } from "./errors.js";
import { isValidQueueName } from "./options.js";
import type { SubmitOptions } from "./types.js";
import { requireKnownKeys, requireName, requireNonNegative, requireNumber } from "./validation.js";

const SUBMIT_KEYS: ReadonlySet<string> = new Set([
  "idempotencyKey",
  "priority",
  "delayMs",
  "runAt",
  "queue",
  "ttlMs",
  "expiresAt",
  "signal",
  "retry",
  "timeoutMs",
  "tx",
] satisfies Array<keyof SubmitOptions>);

/** The options of a submit that passed none: shared, frozen, and known valid. */
export const NO_SUBMIT_OPTIONS: SubmitOptions = Object.freeze({});

/** Checks `submit`/`run` options; throws `InvalidArgumentError` naming the bad field. */
export function validateSubmitOptions(options: SubmitOptions): void {
  if (typeof options !== "object" || options === null)
    throw new InvalidArgumentError("options", "must be an object", options);
  requireKnownKeys("options", options, SUBMIT_KEYS);
  const { idempotencyKey, priority, delayMs, runAt, queue, ttlMs, expiresAt, signal, timeoutMs } =
    options;
  if (idempotencyKey !== undefined) requireName("idempotencyKey", idempotencyKey);
  if (priority !== undefined) requireNumber("priority", priority, Number.NEGATIVE_INFINITY);
  if (delayMs !== undefined) requireNonNegative("delayMs", delayMs);
  if (ttlMs !== undefined) requireNonNegative("ttlMs", ttlMs);
  if (timeoutMs !== undefined) requireNonNegative("timeoutMs", timeoutMs);
  requireTime("runAt", runAt);
  requireTime("expiresAt", expiresAt);
  if (queue !== undefined && !isValidQueueName(queue))
    throw new InvalidArgumentError("queue", "must be a non-empty string", queue);
  if (signal !== undefined && !(signal instanceof AbortSignal))
    throw new InvalidArgumentError("signal", "must be an AbortSignal", signal);
  const { tx } = options;
  if (
    tx !== undefined &&
    (typeof tx !== "object" ||
      tx === null ||
      typeof (tx as { query?: unknown }).query !== "function")
  )
    throw new InvalidArgumentError("tx", "must be a pg client inside an open transaction", tx);
}

function requireTime(name: string, value: unknown): void {
  if (value === undefined) return;
  const ms = value instanceof Date ? value.getTime() : value;
  if (typeof ms !== "number" || !Number.isFinite(ms))
    throw new InvalidArgumentError(name, "must be a Date or epoch milliseconds", value);
}
