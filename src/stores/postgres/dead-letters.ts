/**
 * The dead-letter queue in Postgres: rows with status `failed`, kept with their last error and
 * attempts, oldest failure first, bounded by count and age (trimmed by the reaper). Replay
 * re-opens a task under the same id at the back of its queue; purge deletes it.
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
import type { PostgresStoreSettings } from "./options.js";
import { listDeadLetters, type Query } from "./queries.js";
import type { SchemaNames } from "./sql/names.js";

/** Ids per replay/purge statement, so one statement stays short. */
const CHUNK = 500;

export class PostgresDeadLetters implements DeadLetterStore {
  constructor(
    private readonly query: Query,
    private readonly names: SchemaNames,
    _settings: PostgresStoreSettings,
  ) {}

  list(options: DeadLetterListOptions = {}): Promise<StoredTaskPage> {
    return listDeadLetters(this.query, this.names, options);
  }

  async replay(
    selector: DeadLetterSelector,
    options: ReplayOptions = {},
  ): Promise<DeadLetterOutcome> {
    const dryRun = options.dryRun === true;
    const ids = await this.#select(selector);
    if (dryRun) return { ids, skipped: [], dryRun };
    const replayed: string[] = [];
    for (let i = 0; i < ids.length; i += CHUNK) {
      const { rows } = await this.query(`SELECT ${this.names.s}.dlq_replay($1, $2) AS r`, [
        ids.slice(i, i + CHUNK),
        options.resetAttempts !== false,
      ]);
      replayed.push(...((rows[0]?.r as string[] | undefined) ?? []));
    }
    return { ids: inOrder(ids, replayed), skipped: missing(ids, replayed), dryRun };
  }

  async purge(
    selector?: DeadLetterSelector,
    options: { readonly dryRun?: boolean } = {},
  ): Promise<DeadLetterOutcome> {
    const dryRun = options.dryRun === true;
    const ids =
      selector === undefined
        ? (
            await this.query(
              `SELECT id FROM ${this.names.s}.tasks WHERE status = 'failed' ORDER BY finished_at, id`,
            )
          ).rows.map((row) => String(row.id))
        : await this.#select(selector);
    if (dryRun) return { ids, skipped: [], dryRun };
    const purged: string[] = [];
    for (let i = 0; i < ids.length; i += CHUNK) {
      const { rows } = await this.query(
        `DELETE FROM ${this.names.s}.tasks WHERE id = ANY($1) AND status = 'failed' RETURNING id`,
        [ids.slice(i, i + CHUNK)],
      );
      purged.push(...rows.map((row) => String(row.id)));
    }
    return { ids: inOrder(ids, purged), skipped: missing(ids, purged), dryRun };
  }

  /** The dead-letter ids a selector names, oldest first for `{ name }`, given order for ids. */
  async #select(selector: DeadLetterSelector): Promise<string[]> {
    if (typeof selector !== "object" || selector === null)
      throw new InvalidArgumentError("selector", "must be { ids } or { name }", selector);
    if ("ids" in selector) {
      const { ids } = selector;
      if (!Array.isArray(ids) || !ids.every((id) => typeof id === "string"))
        throw new InvalidArgumentError("ids", "must be an array of task ids", ids);
      if (ids.length === 0) return [];
      const { rows } = await this.query(
        `SELECT id FROM ${this.names.s}.tasks WHERE id = ANY($1) AND status = 'failed'`,
        [ids],
      );
      const dead = new Set(rows.map((row) => String(row.id)));
      return ids.filter((id) => dead.has(id));
    }
    if (typeof selector.name !== "string")
      throw new InvalidArgumentError("selector", "must be { ids } or { name }", selector);
    const { rows } = await this.query(
      `SELECT id FROM ${this.names.s}.tasks WHERE status = 'failed' AND name = $1
       ORDER BY finished_at, id`,
      [selector.name],
    );
    return rows.map((row) => String(row.id));
  }
}

function inOrder(selected: readonly string[], done: readonly string[]): string[] {
  const doneSet = new Set(done);
  return selected.filter((id) => doneSet.has(id));
}

function missing(selected: readonly string[], done: readonly string[]): string[] {
  const doneSet = new Set(done);
  return selected.filter((id) => !doneSet.has(id));
}
