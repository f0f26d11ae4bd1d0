import { InvalidArgumentError } from "../errors.js";
import type { TaskRecord } from "../lifecycle/task-record.js";
import { wrongOrder } from "../list-order.js";
import type { ListOrder, TaskSnapshot } from "../types.js";
import { resolvePageLimit } from "../validation.js";
import { AgeQueue } from "./age-queue.js";

/** Filters for `dlq.list`. */
export interface DeadLetterListOptions {
  readonly name?: string;
  /** @default 100 */
  readonly limit?: number;
  /** `nextCursor` from the previous page (of a listing in the same `order`). */
  readonly cursor?: string;
  /** Oldest failure first (the default) or newest first. @default "oldest" */
  readonly order?: ListOrder;
}

/** One page of dead letters, oldest first. */
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

/**
 * Checks `dlq.replay`'s options in every store: a dry run must be asked for with a real boolean,
 * so that `dryRun: "true"` (or `1`, `"yes"`) is refused rather than read as "replay for real".
 * @throws InvalidArgumentError naming the bad option.
 */
export function checkReplayOptions(options: unknown): ReplayOptions {
  if (options === undefined) return {};
  if (typeof options !== "object" || options === null)
    throw new InvalidArgumentError(
      "options",
      "must be an object { dryRun?, resetAttempts? }",
      options,
    );
  const { dryRun, resetAttempts } = options as Record<string, unknown>;
  if (dryRun !== undefined && typeof dryRun !== "boolean")
    throw new InvalidArgumentError("dryRun", "must be true or false", dryRun);
  if (resetAttempts !== undefined && typeof resetAttempts !== "boolean")
    throw new InvalidArgumentError("resetAttempts", "must be true or false", resetAttempts);
  return options as ReplayOptions;
}

/** What `dlq.replay` and `dlq.purge` did (or, with `dryRun`, would do). */
export interface DeadLetterOutcome {
  /** The entries replayed or purged (or that would be, with `dryRun`). */
  readonly ids: readonly string[];
  /** Selected entries left alone: their timed-out handler is still running. */
  readonly skipped: readonly string[];
  readonly dryRun: boolean;
}

/**
 * The memory-mode dead-letter queue: tasks whose last attempt failed, oldest first, bounded by
 * `maxEntries` (the oldest entry is dropped first). It keeps its records even after the
 * registry evicted them, so a replay always has the payload.
 */
export class DeadLetters {
  readonly #byId = new Map<string, TaskRecord>();
  readonly #order = new AgeQueue<TaskRecord>(
    (record) => record.deadLetterStamp,
    (record, stamp) => {
      record.deadLetterStamp = stamp;
    },
  );

  constructor(private readonly maxEntries: number) {}

  get size(): number {
    return this.#order.size;
  }

  add(record: TaskRecord): void {
    this.#byId.set(record.id, record);
    this.#order.push(record);
    while (this.#order.size > this.maxEntries) {
      const oldest = this.#order.shift() as TaskRecord;
      this.#byId.delete(oldest.id);
    }
  }

  list(options: DeadLetterListOptions = {}): DeadLetterPage {
    const limit = resolvePageLimit(options.limit);
    const newest = options.order === "newest";
    const after = decodeCursor(options.cursor, newest);
    const tasks: TaskSnapshot[] = [];
    let last = 0;
    const prefix = newest ? "n" : "d";
    for (const record of newest ? this.#order.valuesNewestFirst() : this.#order.values()) {
      const stamp = record.deadLetterStamp;
      if (after !== undefined && (newest ? stamp >= after : stamp <= after)) continue;
      if (options.name !== undefined && record.name !== options.name) continue;
      if (tasks.length === limit) return { tasks, nextCursor: `${prefix}${last}` };
      tasks.push(record.snapshot());
      last = stamp;
    }
    return { tasks };
  }

  /** The entries a selector names (unknown ids are skipped). */
  select(selector: DeadLetterSelector): TaskRecord[] {
    if (typeof selector !== "object" || selector === null)
      throw new InvalidArgumentError("selector", "must be { ids } or { name }", selector);
    if ("ids" in selector) {
      if (!Array.isArray(selector.ids))
        throw new InvalidArgumentError("ids", "must be an array of task ids", selector.ids);
      return selector.ids.flatMap((id) => {
        const record = this.#byId.get(id);
        return record === undefined ? [] : [record];
      });
    }
    if (typeof selector.name !== "string")
      throw new InvalidArgumentError("selector", "must be { ids } or { name }", selector);
    const matching: TaskRecord[] = [];
    for (const record of this.#order.values())
      if (record.name === selector.name) matching.push(record);
    return matching;
  }

  delete(record: TaskRecord): void {
    this.#byId.delete(record.id);
    this.#order.delete(record);
  }
}

/** The stamp a cursor resumes after (`d<stamp>` oldest first, `n<stamp>` newest first). */
function decodeCursor(cursor: string | undefined, newest: boolean): number | undefined {
  if (cursor === undefined) return undefined;
  const text = typeof cursor === "string" ? cursor : "";
  const stamp = /^[dn]/.test(text) ? Number(text.slice(1)) : Number.NaN;
  if (!Number.isInteger(stamp) || stamp < 0)
    throw new InvalidArgumentError("cursor", "must be a nextCursor returned by dlq.list()", cursor);
  if (text.startsWith("n") !== newest) throw wrongOrder(cursor);
  return stamp;
}
