/**
 * Memory mode's dead-letter queue: the bounded store of failed tasks, and the operations on it
 * (`mill.dlq.list`, `replay`, `purge`). A replayed task re-enters the runner under its own id.
 */
import type { DeadLetterOperations } from "../../engine/backend.js";
import { ShuttingDownError } from "../../errors.js";
import type { ShutdownTracker } from "../../lifecycle/shutdown.js";
import type { TaskRecord } from "../../lifecycle/task-record.js";
import { reopenFailed } from "../../lifecycle/transitions.js";
import { DEFAULTS } from "../../options.js";
import {
  type DeadLetterListOptions,
  type DeadLetterOutcome,
  type DeadLetterPage,
  type DeadLetterSelector,
  DeadLetters,
  type ReplayOptions,
} from "../../registry/dead-letters.js";
import type { Registry } from "../../registry/registry.js";
import type { TaskRunner } from "./runner.js";

export interface MemoryDeadLetterQueueDeps {
  readonly registry: Registry;
  readonly runner: TaskRunner;
  readonly shutdown: ShutdownTracker;
}

export class MemoryDeadLetterQueue implements DeadLetterOperations {
  readonly #deadLetters = new DeadLetters(DEFAULTS.retention.maxEntries);
  readonly #registry: Registry;
  readonly #runner: TaskRunner;
  readonly #shutdown: ShutdownTracker;

  constructor(deps: MemoryDeadLetterQueueDeps) {
    this.#registry = deps.registry;
    this.#runner = deps.runner;
    this.#shutdown = deps.shutdown;
  }

  /** Failed tasks held now. */
  get size(): number {
    return this.#deadLetters.size;
  }

  /** Keeps a task that just failed for good. */
  add(record: TaskRecord): void {
    this.#deadLetters.add(record);
  }

  async list(options?: DeadLetterListOptions): Promise<DeadLetterPage> {
    return this.#deadLetters.list(options);
  }

  async replay(
    selector: DeadLetterSelector,
    options: ReplayOptions = {},
  ): Promise<DeadLetterOutcome> {
    const selected = this.#deadLetters.select(selector);
    // A task whose timed-out handler is still running stays put: replaying it now would run two
    // attempts of one task at once. It can be replayed once the handler lets go.
    const records = selected.filter(
      (record) => record.status === "failed" && record.attempt === undefined,
    );
    const skipped = selected
      .filter((record) => !records.includes(record))
      .map((record) => record.id);
    const ids = records.map((record) => record.id);
    if (options.dryRun === true) return { ids, skipped, dryRun: true };
    if (this.#shutdown.stopping) throw new ShuttingDownError();
    for (const record of records) {
      this.#deadLetters.delete(record);
      if (!reopenFailed(record)) continue;
      if (options.resetAttempts !== false) record.attempts = 0;
      if (this.#registry.get(record.id) === undefined) this.#registry.add(record);
      this.#registry.reopened(record);
      this.#runner.accept(record);
    }
    return { ids, skipped, dryRun: false };
  }

  async purge(selector: DeadLetterSelector): Promise<DeadLetterOutcome> {
    const records = this.#deadLetters.select(selector);
    for (const record of records) this.#deadLetters.delete(record);
    return { ids: records.map((record) => record.id), skipped: [], dryRun: false };
  }
}
