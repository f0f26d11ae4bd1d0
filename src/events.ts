import { EventEmitter } from "eventemitter3";
import { InvalidArgumentError, type TaskmillError } from "./errors.js";
import { type Logger, safeLog } from "./observability/logger.js";
import type { ErrorInfo, TaskResult, TaskSnapshot } from "./types.js";

/**
 * Events the manager emits, each with one payload object. `task` is a snapshot taken at the
 * moment of the event.
 */
export interface TaskEvents {
  /** Accepted by `submit`/`run` (delayed tasks too: their status is `scheduled`). */
  queued: { task: TaskSnapshot };
  /** An attempt started. */
  started: { task: TaskSnapshot; attempt: number };
  /** A handler called `ctx.progress(value)`. */
  progress: { task: TaskSnapshot; value: unknown };
  /** An attempt failed and another will run after `delayMs`. */
  retrying: { task: TaskSnapshot; attempt: number; delayMs: number; error: ErrorInfo };
  succeeded: { task: TaskSnapshot; value: unknown };
  /** The task failed for good (after its last attempt, or at once for `PermanentError`). */
  failed: { task: TaskSnapshot; error: ErrorInfo };
  cancelled: { task: TaskSnapshot; reason: string };
  /** Its TTL passed before it started. */
  expired: { task: TaskSnapshot };
  /** A result subscription dropped a result because its buffer was full. */
  dropped: { subscription: number; result: TaskResult; policy: string };
  /**
   * Durable mode: the store cannot be reached (once per outage: `BackendUnavailableError` with
   * the cause), or it can never be used as configured (`MissingPeerError`, `InvalidOptionError`).
   */
  error: { error: TaskmillError };
}

/** Event names. */
export type TaskEventName = keyof TaskEvents;

/** Every event name, for checking a name given at run time. */
export const TASK_EVENT_NAMES: readonly TaskEventName[] = [
  "queued",
  "started",
  "progress",
  "retrying",
  "succeeded",
  "failed",
  "cancelled",
  "expired",
  "dropped",
  "error",
] satisfies readonly (keyof TaskEvents)[];

/**
 * Checks `on`/`once`/`off` arguments.
 * @throws InvalidArgumentError for an unknown event or a listener that is not a function.
 */
export function checkListener(event: unknown, listener: unknown, optional = false): void {
  if (!TASK_EVENT_NAMES.includes(event as TaskEventName))
    throw new InvalidArgumentError("event", `must be one of ${TASK_EVENT_NAMES.join(", ")}`, event);
  if (optional && listener === undefined) return;
  if (typeof listener !== "function")
    throw new InvalidArgumentError("listener", "must be a function", listener);
}

/** A listener of one event. */
export type TaskEventListener<E extends TaskEventName> = (event: TaskEvents[E]) => void;

type AnyListener = (event: unknown) => void;

/**
 * The manager's events on eventemitter3. Each listener is wrapped once so that one that throws
 * is logged and the others still run: a listener can never break the engine.
 */
export class TaskEventBus {
  readonly #emitter = new EventEmitter();
  readonly #wrappers = new Map<TaskEventName, WeakMap<AnyListener, AnyListener>>();

  constructor(private readonly logger: Logger) {}

  on<E extends TaskEventName>(event: E, listener: TaskEventListener<E>): void {
    this.#emitter.on(event, this.#wrap(event, listener as AnyListener));
  }

  once<E extends TaskEventName>(event: E, listener: TaskEventListener<E>): void {
    this.#emitter.once(event, this.#wrap(event, listener as AnyListener));
  }

  off<E extends TaskEventName>(event: E, listener?: TaskEventListener<E>): void {
    if (listener === undefined) {
      this.#emitter.removeAllListeners(event);
      return;
    }
    const wrapper = this.#wrappers.get(event)?.get(listener as AnyListener);
    if (wrapper !== undefined) this.#emitter.off(event, wrapper);
  }

  /** True when anyone listens, so callers skip building payloads nobody reads. */
  wants(event: TaskEventName): boolean {
    return this.#emitter.listenerCount(event) > 0;
  }

  emit<E extends TaskEventName>(event: E, payload: TaskEvents[E]): void {
    this.#emitter.emit(event, payload);
  }

  removeAll(): void {
    this.#emitter.removeAllListeners();
  }

  #wrap(event: TaskEventName, listener: AnyListener): AnyListener {
    let byListener = this.#wrappers.get(event);
    if (byListener === undefined) {
      byListener = new WeakMap();
      this.#wrappers.set(event, byListener);
    }
    let wrapper = byListener.get(listener);
    if (wrapper === undefined) {
      const logger = this.logger;
      wrapper = (payload: unknown) => {
        const report = (error: unknown) =>
          safeLog(logger, "error", { err: error, event }, "taskmill event listener threw");
        try {
          const returned: unknown = listener(payload);
          // An async listener's rejection is reported too, never left unhandled.
          if (returned instanceof Promise) returned.catch(report);
        } catch (error) {
          report(error);
        }
      };
      byListener.set(listener, wrapper);
    }
    return wrapper;
  }
}
