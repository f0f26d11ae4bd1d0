/**
 * Stored tasks as users see them: snapshots and pages, with the `maxRetries` a worker here
 * would apply to a task that did not set its own.
 */
import type { ResolvedOptions } from "../../options.js";
import type { StoredTask } from "../../stores/durable-types.js";
import { toSnapshot } from "../../stores/snapshots.js";
import type { TaskPage, TaskSnapshot } from "../../types.js";
import type { RegisteredHandler } from "../backend.js";

export class TaskViews {
  readonly #handlers: ReadonlyMap<string, RegisteredHandler>;
  readonly #options: ResolvedOptions;

  /** @param handlers the manager's handler table (read live: handlers may be registered later) */
  constructor(handlers: ReadonlyMap<string, RegisteredHandler>, options: ResolvedOptions) {
    this.#handlers = handlers;
    this.#options = options;
  }

  /** One task in detail (`get`). */
  snapshot(task: StoredTask): TaskSnapshot {
    return toSnapshot(task, this.maxRetries(task.name), true);
  }

  page(page: { readonly tasks: readonly StoredTask[]; readonly nextCursor?: string }): TaskPage {
    const tasks = page.tasks.map((task) => toSnapshot(task, this.maxRetries(task.name)));
    return page.nextCursor === undefined ? { tasks } : { tasks, nextCursor: page.nextCursor };
  }

  /**
   * The `maxRetries` shown for a task that did not set its own: what a worker here would apply
   * (the local handler's, else this manager's default). The worker that runs it applies its own.
   */
  maxRetries(name: string): number {
    return this.#handlers.get(name)?.retry.maxRetries ?? this.#options.retry.maxRetries;
  }
}
