/**
 * The dead-letter queue in the SQLite file: tasks that failed for good, oldest first, bounded
 * by count and age. Replay re-opens a task under the same id; purge deletes it. Ids are
 * handled in chunks, one transaction each, so one call never holds the write lock long.
 */
import { InvalidArgumentError } from "../../errors.js";
import type {
  DeadLetterListOptions,
  DeadLetterOutcome,
  DeadLetterSelector,
  ReplayOptions,
} from "../../registry/dead-letters.js";
import type { DeadLetterStore } from "../durable-store.js";
import type { StoredTaskPage } from "../durable-types.js";
import type { Committer, Sql } from "./committer.js";
import { purge, replay } from "./maintenance.js";
import { listDeadLetters } from "./queries.js";

/** Ids per transaction. */
const CHUNK = 500;

export class SqliteDeadLetters implements DeadLetterStore {
  readonly #sql: Sql;
  readonly #committer: Committer;

  constructor(sql: Sql, committer: Committer) {
    this.#sql = sql;
    this.#committer = committer;
  }

  /** A page of dead letters (oldest failure first) with their last error and attempts. */
  async list(options: DeadLetterListOptions = {}): Promise<StoredTaskPage> {
    return listDeadLetters(this.#sql, options);
  }

  /**
   * Puts dead letters back into their ready queue under the same id (attempts reset unless
   * `resetAttempts: false`); with `dryRun`, only reports. Selected ids that left the queue
   * before their transaction ran are reported as `skipped`.
   */
  async replay(
    selector: DeadLetterSelector,
    options: ReplayOptions = {},
  ): Promise<DeadLetterOutcome> {
    const dryRun = options.dryRun === true;
    const ids = this.#select(selector);
    if (dryRun) return { ids, skipped: [], dryRun };
    const reset = options.resetAttempts !== false;
    const done: string[] = [];
    for (let i = 0; i < ids.length; i += CHUNK) {
      const chunk = ids.slice(i, i + CHUNK);
      done.push(...(await this.#committer.run((tx) => replay(tx, chunk, reset))));
    }
    return { ids: done, skipped: missing(ids, done), dryRun };
  }

  /** Deletes dead letters for good: the ones a selector names, or all without one. */
  async purge(
    selector?: DeadLetterSelector,
    options: { readonly dryRun?: boolean } = {},
  ): Promise<DeadLetterOutcome> {
    const dryRun = options.dryRun === true;
    const ids =
      selector === undefined
        ? (this.#sql
            .q("SELECT id FROM tasks WHERE dead_seq IS NOT NULL ORDER BY dead_seq")
            .pluck()
            .all() as string[])
        : this.#select(selector);
    if (dryRun) return { ids, skipped: [], dryRun };
    const done: string[] = [];
    for (let i = 0; i < ids.length; i += CHUNK) {
      const chunk = ids.slice(i, i + CHUNK);
      done.push(...(await this.#committer.run((tx) => purge(tx, chunk))));
    }
    return { ids: done, skipped: missing(ids, done), dryRun };
  }

  /** The dead-letter ids a selector names: oldest first for `{ name }`, given order for ids. */
  #select(selector: DeadLetterSelector): string[] {
    if (typeof selector !== "object" || selector === null)
      throw new InvalidArgumentError("selector", "must be { ids } or { name }", selector);
    if ("ids" in selector) {
      const { ids } = selector;
      if (!Array.isArray(ids) || !ids.every((id) => typeof id === "string"))
        throw new InvalidArgumentError("ids", "must be an array of task ids", ids);
      const isDead = this.#sql.q("SELECT 1 FROM tasks WHERE id = ? AND dead_seq IS NOT NULL");
      return ids.filter((id) => isDead.get(id) !== undefined);
    }
    if (typeof selector.name !== "string")
      throw new InvalidArgumentError("selector", "must be { ids } or { name }", selector);
    return this.#sql
      .q(
        "SELECT id FROM tasks WHERE dead_seq IS NOT NULL AND status = 'failed' AND name = ? ORDER BY dead_seq",
      )
      .pluck()
      .all(selector.name) as string[];
  }
}

function missing(selected: readonly string[], done: readonly string[]): string[] {
  const doneSet = new Set(done);
  return selected.filter((id) => !doneSet.has(id));
}
