/**
 * What a durable submit stores, and the `queued` announcement the submitting process makes for
 * its own metrics, hooks, logs and listeners (the task itself now lives in the store).
 */
import { randomUUID } from "node:crypto";
import { InvalidArgumentError } from "../../errors.js";
import type { TaskEventBus } from "../../events.js";
import { TaskRecord } from "../../lifecycle/task-record.js";
import type { Instrumentation } from "../../observability/instrumentation.js";
import { injectTraceContext } from "../../observability/tracing.js";
import type { RetryPolicy } from "../../retry/backoff.js";
import { withMaxRetries } from "../../retry/policy.js";
import type { Clock } from "../../scheduling/clock.js";
import type { EnqueueInput, JsonValue } from "../../stores/durable-types.js";
import type { SubmitOptions } from "../../types.js";
import type { RegisteredHandler } from "../backend.js";

/** What the store keeps of one submit, with the queue it resolved to. */
export function enqueueInput(
  name: string,
  payload: unknown,
  options: SubmitOptions,
  handler: RegisteredHandler | undefined,
  tracing: boolean,
): EnqueueInput & { readonly queue: string } {
  const queue = options.queue ?? handler?.queue ?? "default";
  const retry = jsonRetry(options.retry);
  // Only the submit's own overrides travel with the task: the worker that runs it applies its
  // handler's retry policy (or its manager's) to the rest, as in memory mode. Stamping this
  // process's defaults here would let a producer without handlers override the worker's.
  const maxRetries = options.retry?.maxRetries;
  const runAt = options.runAt === undefined ? undefined : Number(options.runAt);
  const expiresAt = options.expiresAt === undefined ? undefined : Number(options.expiresAt);
  const meta = tracing ? traceMeta() : undefined;
  // Filled in place, not spread from conditional parts: a batch builds thousands of these, and
  // every spread is a temporary object for the collector.
  const input: { -readonly [K in keyof EnqueueInput]: EnqueueInput[K] } & { queue: string } = {
    id: randomUUID(),
    name,
    queue,
    payload,
    priority: options.priority ?? 0,
  };
  if (runAt !== undefined) input.runAt = runAt;
  else if (options.delayMs) input.delayMs = options.delayMs;
  if (expiresAt !== undefined) input.expiresAt = expiresAt;
  else if (options.ttlMs !== undefined) input.ttlMs = options.ttlMs;
  if (options.idempotencyKey !== undefined) input.idempotencyKey = options.idempotencyKey;
  if (maxRetries !== undefined) input.maxRetries = maxRetries;
  if (options.timeoutMs !== undefined) input.timeoutMs = options.timeoutMs;
  if (retry !== undefined) input.retry = retry;
  if (meta !== undefined) input.meta = meta;
  return input;
}

/** What announcing a submit needs from the manager. */
export interface AnnounceDeps {
  readonly clock: Clock;
  readonly retry: RetryPolicy;
  readonly timeoutMs: number;
  readonly instrumentation: Instrumentation;
  readonly events: TaskEventBus;
}

/** `queued` for this process's metrics, hooks, logs and listeners (the submit happened here). */
export function announceQueued(
  deps: AnnounceDeps,
  id: string,
  name: string,
  queue: string,
  payload: unknown,
  options: SubmitOptions,
  handler: RegisteredHandler | undefined,
): void {
  const now = deps.clock.now();
  const runAt =
    options.runAt !== undefined
      ? Number(options.runAt)
      : options.delayMs
        ? now + options.delayMs
        : undefined;
  const record = new TaskRecord(
    id,
    -1,
    name,
    queue,
    payload,
    options.priority ?? 0,
    handler?.handler ?? notHere,
    withMaxRetries(handler?.retry ?? deps.retry, options.retry?.maxRetries),
    options.timeoutMs ?? handler?.timeoutMs ?? deps.timeoutMs,
    now,
    runAt,
    undefined,
    options.idempotencyKey,
  );
  deps.instrumentation.queued(record);
  if (deps.events.wants("queued")) deps.events.emit("queued", { task: record.snapshot() });
}

/** The handler of a task announced by a producer: it never runs here. */
const notHere = (): never => {
  throw new Error("taskmill: a producer-side record is never run");
};

/** Per-task retry overrides, stored only when they are data (a backoff function is not). */
function jsonRetry(retry: SubmitOptions["retry"]): JsonValue | undefined {
  if (retry === undefined) return undefined;
  if (typeof retry !== "object" || retry === null)
    throw new InvalidArgumentError("retry", "must be an object", retry);
  if (typeof retry.backoff === "function")
    throw new InvalidArgumentError(
      "retry.backoff",
      "must be a named backoff in durable mode (functions cannot be stored)",
      "a function",
    );
  return JSON.parse(JSON.stringify(retry)) as JsonValue;
}

function traceMeta(): JsonValue | undefined {
  const carrier = injectTraceContext();
  return Object.keys(carrier).length === 0 ? undefined : carrier;
}
