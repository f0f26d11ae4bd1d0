/**
 * Read-only queries: `get`, `list`, queue depths, counts. Reads run outside the group commit
 * (WAL readers see the last commit and never wait for a writer). `list` walks the same
 * sources in the same order as the Redis store, each by its index, with keyset cursors:
 *
 * | status                           | source (order)                                   |
 * | -------------------------------- | ------------------------------------------------ |
 * | queued, retrying (due)           | each queue's ready tasks (priority, FIFO), queues by name |
 * | scheduled, retrying (waiting)    | delayed, by due time                             |
 * | running                          | leases, by lease expiry                          |
 * | failed                           | dead letters, by failure order                   |
 * | succeeded, cancelled, expired    | finished, by finish order                        |
 */

import { InvalidArgumentError } from "../../errors.js";
import type { TaskStatus } from "../../lifecycle/states.js";
import { wrongOrder } from "../../list-order.js";
import type { ListOptions, ListOrder } from "../../types.js";
import type { QueueDepth, StoreCounts, StoredTask, StoredTaskPage } from "../durable-types.js";
import { checkDeadLetterFilter, checkListFilter } from "../list-filter.js";
import { LIST_COLUMNS, type TaskRow, toTask } from "./codec.js";
import type { Sql } from "./committer.js";
import { sizeOf } from "./records.js";

/** One index walked by `list`. */
interface Source {
  /** Written into cursors. */
  readonly id: string;
  /** Selects the source's rows (with `?` for `params`). */
  readonly where: string;
  readonly params: readonly unknown[];
  /** The two ordering columns; the first descending for ready queues (priority). */
  readonly order: readonly [string, string];
  readonly descending: boolean;
}

/** The task with its payload and progress, or `undefined`. */
export function getTask(sql: Sql, id: string): StoredTask | undefined {
  if (typeof id !== "string" || id.length === 0)
    throw new InvalidArgumentError("id", "must be a non-empty string", id);
  const row = sql.q("SELECT * FROM tasks WHERE id = ?").get(id) as TaskRow | undefined;
  return row === undefined ? undefined : toTask(row);
}

/** One page of `list`. */
export function listTasks(sql: Sql, options: ListOptions): StoredTaskPage {
  const filter = checkListFilter(options);
  const { limit, statuses, queue, name } = filter;
  const wants = (...some: TaskStatus[]) => some.some((status) => statuses.has(status));
  const sources: Source[] = [];
  if (wants("queued", "retrying")) {
    const queues =
      queue === undefined
        ? (sql.q("SELECT name FROM queues ORDER BY name").pluck().all() as string[])
        : [queue];
    for (const q of queues)
      sources.push({
        id: `r:${q}`,
        where: "ready = 1 AND queue = ?",
        params: [q],
        order: ["priority", "pos"],
        descending: true,
      });
  }
  const set = (id: string, column: string): Source => ({
    id,
    where: `${column} IS NOT NULL`,
    params: [],
    order: [column, "id"],
    descending: false,
  });
  if (wants("scheduled", "retrying")) sources.push(set("delayed", "due_at"));
  if (wants("running")) sources.push(set("leases", "lease_until"));
  if (wants("failed")) sources.push(set("dlq", "dead_seq"));
  if (wants("succeeded", "cancelled", "expired")) sources.push(set("finished", "done_seq"));
  const filters: string[] = [`status IN (${[...statuses].map(() => "?").join(", ")})`];
  const params: unknown[] = [...statuses];
  if (queue !== undefined) {
    filters.push("queue = ?");
    params.push(queue);
  }
  if (name !== undefined) {
    filters.push("name = ?");
    params.push(name);
  }
  return walk(sql, sources, filters, params, options.cursor, limit, options.order === "newest");
}

/** A page of dead letters, oldest failure first. */
export function listDeadLetters(
  sql: Sql,
  options: {
    readonly name?: string;
    readonly limit?: number;
    readonly cursor?: string;
    readonly order?: ListOrder;
  },
): StoredTaskPage {
  const { limit, name } = checkDeadLetterFilter(options);
  const source: Source = {
    id: "dlq",
    where: "dead_seq IS NOT NULL",
    params: [],
    order: ["dead_seq", "id"],
    descending: false,
  };
  const filters = ["status = 'failed'", ...(name === undefined ? [] : ["name = ?"])];
  const params = name === undefined ? [] : [name];
  return walk(sql, [source], filters, params, options.cursor, limit, options.order === "newest");
}

/** `newest`: the exact reverse walk (the sources last to first, each order flipped). */
function walk(
  sql: Sql,
  forward: readonly Source[],
  filters: readonly string[],
  filterParams: readonly unknown[],
  cursor: string | undefined,
  limit: number,
  newest: boolean,
): StoredTaskPage {
  const sources = newest ? [...forward].reverse() : forward;
  const start = decodeCursor(cursor, newest);
  let index = 0;
  if (start !== undefined) {
    index = sources.findIndex((source) => source.id === start.source);
    if (index < 0)
      throw new InvalidArgumentError("cursor", "does not belong to this listing's filters", cursor);
  }
  const found: StoredTask[] = [];
  for (; index < sources.length; index++) {
    const source = sources[index] as Source;
    const [first, second] = source.order;
    const after = start !== undefined && start.source === source.id ? start : undefined;
    // The first column runs descending for ready queues (priority); a newest walk flips both.
    const firstDown = source.descending !== newest;
    const keyset =
      after === undefined
        ? ""
        : ` AND (${first} ${firstDown ? "<" : ">"} ? OR (${first} = ? AND ${second} ${newest ? "<" : ">"} ?))`;
    const rows = sql
      .q(
        `SELECT ${LIST_COLUMNS}, ${first} AS k1, ${second} AS k2 FROM tasks
         WHERE ${source.where} AND ${filters.join(" AND ")}${keyset}
         ORDER BY ${first} ${firstDown ? "DESC" : ""}, ${second} ${newest ? "DESC" : ""} LIMIT ?`,
      )
      .all(
        ...source.params,
        ...filterParams,
        ...(after === undefined ? [] : [after.k1, after.k1, after.k2]),
        limit - found.length,
      ) as Array<TaskRow & { k1: number | string; k2: number | string }>;
    for (const row of rows) found.push(toTask(row));
    if (found.length >= limit) {
      const last = rows.at(-1) as { k1: number | string; k2: number | string };
      return { tasks: found, nextCursor: encodeCursor(source.id, last.k1, last.k2, newest) };
    }
  }
  return { tasks: found };
}

/** Ready depth of every queue ever used, by name. */
export function queueDepths(sql: Sql): QueueDepth[] {
  return sql
    .q(
      `SELECT name, (SELECT count(*) FROM tasks WHERE ready = 1 AND queue = queues.name) AS depth
       FROM queues ORDER BY name`,
    )
    .all() as QueueDepth[];
}

/** Counts over all queues. */
export function countAll(sql: Sql): StoreCounts {
  const count = (where: string) =>
    Number(sql.q(`SELECT count(*) FROM tasks WHERE ${where}`).pluck().get());
  return {
    delayed: count("due_at IS NOT NULL"),
    running: count("lease_until IS NOT NULL"),
    deadLetters: sizeOf({ sql }, "dead"),
    finished: sizeOf({ sql }, "done"),
  };
}

/** `[source, k1, k2]`, with a fourth `"n"` for a newest-first walk. */
function encodeCursor(
  source: string,
  k1: number | string,
  k2: number | string,
  newest: boolean,
): string {
  return Buffer.from(JSON.stringify([source, k1, k2, ...(newest ? ["n"] : [])])).toString(
    "base64url",
  );
}

function decodeCursor(
  cursor: string | undefined,
  newest: boolean,
):
  | { readonly source: string; readonly k1: number | string; readonly k2: number | string }
  | undefined {
  if (cursor === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(String(cursor), "base64url").toString("utf8"));
    if (
      Array.isArray(parsed) &&
      (parsed.length === 3 || (parsed.length === 4 && parsed[3] === "n"))
    ) {
      const [source, k1, k2] = parsed as unknown[];
      const key = (v: unknown) => typeof v === "number" || typeof v === "string";
      if (typeof source === "string" && key(k1) && key(k2)) {
        if ((parsed.length === 4) !== newest) throw wrongOrder(cursor);
        return { source, k1: k1 as number | string, k2: k2 as number | string };
      }
    }
  } catch (error) {
    if (error instanceof InvalidArgumentError) throw error;
    // Anything else falls through to the error below.
  }
  throw new InvalidArgumentError("cursor", "must be a nextCursor returned by list()", cursor);
}
