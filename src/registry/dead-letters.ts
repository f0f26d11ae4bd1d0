import { InvalidArgumentError } from "../errors.js";
import type { TaskRecord } from "../lifecycle/task-record.js";
import type { TaskSnapshot } from "../types.js";

/** Filters for `dlq.list`. */
export interface DeadLetterListOptions {
  readonly name?: string;
  /** @default 100 */
  readonly limit?: number;
  readonly cursor?: string;
}

/** One page of dead letters, newest last. */
export interface DeadLetterPage {
  readonly tasks: readonly TaskSnapshot[];
  readonly nextCursor?: string;
}

/** Which dead letters an operation targets: explicit ids, or every entry of a task name. */
export type DeadLetterSelector = { readonly ids: readonly string[] } | { readonly name: string };

/** Options of `dlq.replay`. */
export interface ReplayOptions {
  /** Report what would be replayed without doing it. @default false */
  readonly dryRun?: boolean;
  /** Give replayed tasks their full retry budget again. @default true */
  readonly resetAttempts?: boolean;
}

/** What `dlq.replay` and `dlq.purge` did (or, with `dryRun`, would do). */
export interface DeadLetterOutcome {
  readonly ids: readonly string[];
  readonly dryRun: boolean;
}

/**
 * The memory-mode dead-letter queue: tasks whose last attempt failed, oldest first, bounded by
 * `maxEntries` (the oldest entry is dropped first). It keeps its records even after the
 * registry evicted them, so a replay always has the payload.
 */
export class DeadLetters {
  readonly #entries = new Map<string, { readonly record: TaskRecord; readonly seq: number }>();
  #seq = 0;

  constructor(private readonly maxEntries: number) {}

  get size(): number {
    return this.#entries.size;
  }

  add(record: TaskRecord): void {
    this.#entries.delete(record.id);
    this.#entries.set(record.id, { record, seq: this.#seq++ });
    while (this.#entries.size > this.maxEntries) {
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
    }
  }

  list(options: DeadLetterListOptions = {}): DeadLetterPage {
    const limit = options.limit ?? 100;
    if (!Number.isInteger(limit) || limit < 1 || limit > 10_000)
      throw new InvalidArgumentError("limit", "must be an integer from 1 to 10000", limit);
    const after = decodeCursor(options.cursor);
    const tasks: TaskSnapshot[] = [];
    let last = -1;
    for (const { record, seq } of this.#entries.values()) {
      if (seq <= after) continue;
      if (options.name !== undefined && record.name !== options.name) continue;
      if (tasks.length === limit) return { tasks, nextCursor: `d${last}` };
      tasks.push(record.snapshot());
      last = seq;
    }
    return { tasks };
  }

  /** The entries a selector names (unknown ids are skipped). */
  select(selector: DeadLetterSelector): TaskRecord[] {
    if ("ids" in selector) {
      if (!Array.isArray(selector.ids))
        throw new InvalidArgumentError("ids", "must be an array of task ids", selector.ids);
      return selector.ids.flatMap((id) => {
        const entry = this.#entries.get(id);
        return entry === undefined ? [] : [entry.record];
      });
    }
    if (typeof selector?.name !== "string")
      throw new InvalidArgumentError("selector", "must be { ids } or { name }", selector);
    const matching: TaskRecord[] = [];
    for (const { record } of this.#entries.values())
      if (record.name === selector.name) matching.push(record);
    return matching;
  }

  delete(record: TaskRecord): void {
    this.#entries.delete(record.id);
  }
}

function decodeCursor(cursor: string | undefined): number {
  if (cursor === undefined) return -1;
  const seq =
    typeof cursor === "string" && cursor.startsWith("d") ? Number(cursor.slice(1)) : Number.NaN;
  if (!Number.isInteger(seq) || seq < 0)
    throw new InvalidArgumentError("cursor", "must be a nextCursor returned by dlq.list()", cursor);
  return seq;
}
