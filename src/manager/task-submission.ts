/**
 * Task submission behind the facade: `submit`, `submitMany` and `run` checked the same way
 * (a stop refuses new work, `tx` needs a store with transactions), then handed to the backend.
 */
import { DEFAULT_QUEUE, isOptionsObject } from "../argument-checks.js";
import type { Backend, RegisteredHandler } from "../engine/backend.js";
import {
  type SubmitManyItem,
  type SubmitManyOptions,
  validateSubmitMany,
} from "../engine/submit-many.js";
import { InvalidArgumentError, ShuttingDownError, UnsupportedError } from "../errors.js";
import type { ShutdownTracker } from "../lifecycle/shutdown.js";
import type { ResolvedOptions } from "../options.js";
import { MemoryBackend } from "../stores/memory/memory-backend.js";
import { NO_SUBMIT_OPTIONS } from "../submit-options.js";
import { type TaskDefinition, taskName } from "../task-definition.js";
import type { RunOptions, SubmitOptions, TaskContext, TaskHandle } from "../types.js";

export class TaskSubmission {
  constructor(
    private readonly parts: {
      readonly options: ResolvedOptions;
      readonly handlers: ReadonlyMap<string, RegisteredHandler>;
      readonly backend: Backend;
      readonly shutdown: ShutdownTracker;
    },
  ) {}

  /** Errors reject, never throw synchronously, as an `async` function's would. */
  submit<R>(
    task: string | TaskDefinition,
    payload: unknown,
    options: SubmitOptions,
  ): Promise<TaskHandle<R>> {
    // Not `async`: on the hot path the one resolved promise is all the caller needs to await.
    try {
      if (this.parts.shutdown.stopping) throw new ShuttingDownError();
      const name = (typeof task === "string" ? task : taskName(task)) as string;
      if (options?.tx !== undefined) this.#requireTransactions("submit");
      return Promise.resolve(
        this.parts.backend.submit<R>(name, payload, options, this.parts.handlers.get(name)),
      );
    } catch (error) {
      return Promise.reject(error);
    }
  }

  many<R>(items: readonly SubmitManyItem[], options: SubmitManyOptions): Promise<TaskHandle<R>[]> {
    try {
      if (this.parts.shutdown.stopping) throw new ShuttingDownError();
      validateSubmitMany(items);
      if (options?.tx !== undefined) this.#requireTransactions("submitMany");
      return Promise.resolve(
        this.parts.backend.submitMany(items, this.parts.handlers, options?.tx) as
          | TaskHandle<R>[]
          | Promise<TaskHandle<R>[]>,
      );
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Memory mode only: closures cannot be persisted. */
  async run<R>(
    fn: (ctx: TaskContext) => R | Promise<R>,
    options: RunOptions,
  ): Promise<TaskHandle<R>> {
    if (this.parts.shutdown.stopping) throw new ShuttingDownError();
    if (!(this.parts.backend instanceof MemoryBackend))
      throw new UnsupportedError(
        "run() is memory mode only: a closure cannot be stored in Redis; register a handler and submit() instead",
      );
    if (typeof fn !== "function") throw new InvalidArgumentError("fn", "must be a function", fn);
    if (!isOptionsObject(options))
      throw new InvalidArgumentError("options", "must be an object", options);
    const { name = "run", ...submitOptions } = options;
    if (typeof name !== "string" || name.length === 0)
      throw new InvalidArgumentError("name", "must be a non-empty string", name);
    const taskOptions = options === NO_SUBMIT_OPTIONS ? NO_SUBMIT_OPTIONS : submitOptions;
    return this.parts.backend.submit<R>(name, undefined, taskOptions, {
      handler: (_payload, ctx) => fn(ctx),
      retry: this.parts.options.retry,
      timeoutMs: this.parts.options.timeoutMs,
      queue: DEFAULT_QUEUE,
    });
  }

  /** `tx` is for stores whose tasks live in the caller's database (Postgres). */
  #requireTransactions(call: string): void {
    if (this.parts.options.backend.type === "memory")
      throw new UnsupportedError(
        `${call}({ tx }) needs a store with transactions (backend { type: "postgres" }), not memory`,
      );
  }
}
