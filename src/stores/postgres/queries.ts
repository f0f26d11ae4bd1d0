/**
 * Read-only queries: `get`, `list`, the dead-letter listing, queue depths and counts. Each
 * listing walks the partial index of one state in its order, with a keyset cursor, so its
 * cost depends on what is listed, never on how many finished rows are retained.
 *
 * | status                          | source   | order                             |
 * | ------------------------------- | -------- | --------------------------------- |
 * | queued, retrying (due)          | ready    | queue name, priority, FIFO        |
 * | scheduled, retrying (waiting)   | delayed  | due time                          |
 * | running                         | running  | lease expiry                      |
 * | failed                          | dead     | failure time                      |
 * | succeeded, cancelled, expired   | finished | finish time                       |
 */

import { InvalidArgumentError } from "../../errors.js";
import type { TaskStatus } from "../../lifecycle/states.js";
import { wrongOrder } from "../../list-order.js";
import type { ListOptions, ListOrder } from "../../types.js";
import type { QueueDepth, StoreCounts, StoredTask, StoredTaskPage } from "../durable-types.js";
import { checkDeadLetterFilter, checkListFilter } from "../list-filter.js";
import { TASK_COLUMNS, taskFromRow } from "./codec.js";
import type { SchemaNames } from "./sql/names.js";

/**
 * Runs one statement (the store's pool). With `name`, the statement is prepared once per
 * connection and reused (no parse and plan per call: measured on the hot claim path).
 */
export type Query = (
  text: string,
  values?: unknown[],
  name?: string,
) => Promise<{ rows: Array<Record<string, unknown>> }>;

/** One state's rows, in one order. */
interface Source {
  readonly id: string;
  readonly where: string;
  /** The ordering columns; the cursor holds their values for the last row returned. */
  readonly keys: readonly string[];
  readonly order: string;
  /** `order` exactly reversed, for a newest-first walk. */
  readonly reverse: string;
}

const SOURCES: Record<string, Source> = {
  ready: {
    id: "ready",
    where: "status IN ('queued','retrying') AND run_at IS NULL",
    keys: ["queue", "(-priority)", "seq"],
    order: "queue, priority DESC, seq",
    reverse: "queue DESC, priority, seq DESC",
  },
  delayed: {
    id: "delayed",
    where: "status IN ('scheduled','retrying') AND run_at IS NOT NULL",
    keys: ["run_at", "id"],
    order: "run_at, id",
    reverse: "run_at DESC, id DESC",
  },
  running: {
    id: "running",
    where: "status = 'running'",
    keys: ["lease_until", "id"],
    order: "lease_until, id",
    reverse: "lease_until DESC, id DESC",
  },
  dead: {
    id: "dead",
    where: "status = 'failed'",
    keys: ["finished_at", "id"],
    order: "finished_at, id",
    reverse: "finished_at DESC, id DESC",
  },
  finished: {
    id: "finished",
    where: "status IN ('succeeded','cancelled','expired')",
    keys: ["finished_at", "id"],
    order: "finished_at, id",
    reverse: "finished_at DESC, id DESC",
  },
};

/** The task with its payload and progress, or `undefined`. */
export async function getTask(
  query: Query,
  { s }: SchemaNames,
  id: string,
): Promise<StoredTask | undefined> {
  if (typeof id !== "string" || id.length === 0)
    throw new InvalidArgumentError("id", "must be a non-empty string", id);
  const { rows } = await query(
    `SELECT ${TASK_COLUMNS}, payload, progress FROM ${s}.tasks WHERE id = $1`,
    [id],
  );
  return rows[0] === undefined ? undefined : taskFromRow(rows[0]);
}

/** One page of `list`: the sources the status filter names, in the table's order. */
export function listTasks(
  query: Query,
  names: SchemaNames,
  options: ListOptions,
): Promise<StoredTaskPage> {
  const filter = checkListFilter(options);
  const { limit, queue, name } = filter;
  const statuses = [...filter.statuses];
  const wants = (...list: TaskStatus[]) => list.some((status) => statuses.includes(status));
  const sources: Source[] = [];
  if (wants("queued", "retrying")) sources.push(SOURCES.ready as Source);
  if (wants("scheduled", "retrying")) sources.push(SOURCES.delayed as Source);
  if (wants("running")) sources.push(SOURCES.running as Source);
  if (wants("failed")) sources.push(SOURCES.dead as Source);
  if (wants("succeeded", "cancelled", "expired")) sources.push(SOURCES.finished as Source);
  return walk(query, names, sources, options.cursor, limit, {
    statuses,
    queue,
    name,
    newest: options.order === "newest",
  });
}

/** A page of dead letters, oldest failure first. */
export function listDeadLetters(
  query: Query,
  names: SchemaNames,
  options: {
    readonly name?: string;
    readonly limit?: number;
    readonly cursor?: string;
    readonly order?: ListOrder;
  },
): Promise<StoredTaskPage> {
  const { limit, name } = checkDeadLetterFilter(options);
  return walk(query, names, [SOURCES.dead as Source], options.cursor, limit, {
    statuses: ["failed"],
    queue: undefined,
    name,
    newest: options.order === "newest",
  });
}

interface Filter {
  readonly statuses: readonly TaskStatus[];
  readonly queue: string | undefined;
  readonly name: string | undefined;
  /** Walk in reverse: the sources last to first, each by its `reverse` order. */
  readonly newest: boolean;
}

async function walk(
  query: Query,
  { s }: SchemaNames,
  forward: readonly Source[],
  cursor: string | undefined,
  limit: number,
  filter: Filter,
): Promise<StoredTaskPage> {
  const { newest } = filter;
  const sources = newest ? [...forward].reverse() : forward;
  const start = decodeCursor(cursor, newest);
  let index = 0;
  if (start !== undefined) {
    index = sources.findIndex((source) => source.id === start.source);
    if (index < 0)
      throw new InvalidArgumentError("cursor", "does not belong to this listing's filters", cursor);
  }
  const tasks: StoredTask[] = [];
  for (; index < sources.length; index++) {
    const source = sources[index] as Source;
    const values: unknown[] = [filter.statuses];
    let where = `${source.where} AND status = ANY($1)`;
    if (filter.queue !== undefined) {
      values.push(filter.queue);
      where += ` AND queue = $${values.length}`;
    }
    if (filter.name !== undefined) {
      values.push(filter.name);
      where += ` AND name = $${values.length}`;
    }
    if (start !== undefined && start.source === source.id && start.after.length > 0) {
      const marks = start.after.map((value) => {
        values.push(value);
        return `$${values.length}`;
      });
      where += ` AND (${source.keys.join(", ")}) ${newest ? "<" : ">"} (${marks.join(", ")})`;
    }
    const want = limit - tasks.length;
    values.push(want + 1);
    const { rows } = await query(
      `SELECT ${TASK_COLUMNS}, seq, ${source.keys.map((key, i) => `${key} AS k${i}`).join(", ")}
       FROM ${s}.tasks WHERE ${where} ORDER BY ${newest ? source.reverse : source.order} LIMIT $${values.length}`,
      values,
    );
    for (const row of rows.slice(0, want)) tasks.push(taskFromRow(row));
    // The page filled up exactly at the end of the previous source: resume at this one's start.
    if (want === 0) {
      if (rows.length > 0) return { tasks, nextCursor: encodeCursor(source.id, [], newest) };
      continue;
    }
    if (rows.length > want) {
      const last = rows[want - 1] as Record<string, unknown>;
      const after = source.keys.map((_, i) => last[`k${i}`]);
      return { tasks, nextCursor: encodeCursor(source.id, after, newest) };
    }
  }
  return { tasks };
}

/** Ready depth of every queue ever used, by name. */
export async function queueDepths(query: Query, { s }: SchemaNames): Promise<QueueDepth[]> {
  const { rows } = await query(
    `SELECT q.name, (SELECT count(*) FROM ${s}.tasks t WHERE t.queue = q.name
       AND t.status IN ('queued','retrying') AND t.run_at IS NULL) AS depth
     FROM ${s}.queues q ORDER BY q.name`,
  );
  return rows.map((row) => ({ name: String(row.name), depth: Number(row.depth) }));
}

/** Counts over all queues (each from its partial index). */
export async function countAll(query: Query, { s }: SchemaNames): Promise<StoreCounts> {
  const { rows } = await query(
    `SELECT
      (SELECT count(*) FROM ${s}.tasks WHERE status IN ('scheduled','retrying') AND run_at IS NOT NULL) AS delayed,
      (SELECT count(*) FROM ${s}.tasks WHERE status = 'running') AS running,
      (SELECT count(*) FROM ${s}.tasks WHERE status = 'failed') AS dead,
      (SELECT count(*) FROM ${s}.tasks WHERE status IN ('succeeded','cancelled','expired')) AS finished`,
  );
  const row = rows[0] ?? {};
  return {
    delayed: Number(row.delayed ?? 0),
    running: Number(row.running ?? 0),
    deadLetters: Number(row.dead ?? 0),
    finished: Number(row.finished ?? 0),
  };
}

/** `[source, ...keys]`; the source is written `n:<source>` for a newest-first walk. */
function encodeCursor(source: string, after: readonly unknown[], newest: boolean): string {
  const head = newest ? `n:${source}` : source;
  return Buffer.from(JSON.stringify([head, ...after.map((v) => String(v))])).toString("base64url");
}

function decodeCursor(
  cursor: string | undefined,
  newest: boolean,
): { readonly source: string; readonly after: string[] } | undefined {
  if (cursor === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(String(cursor), "base64url").toString("utf8"));
    if (
      Array.isArray(parsed) &&
      parsed.length >= 1 &&
      parsed.every((part) => typeof part === "string")
    ) {
      const [head, ...after] = parsed as string[];
      const reversed = (head as string).startsWith("n:");
      const source = reversed ? (head as string).slice(2) : (head as string);
      const known = Object.values(SOURCES).find((candidate) => candidate.id === source);
      if (known !== undefined && (after.length === 0 || known.keys.length === after.length)) {
        if (reversed !== newest) throw wrongOrder(cursor);
        return { source, after };
      }
    }
  } catch (error) {
    if (error instanceof InvalidArgumentError) throw error;
    // Anything else falls through to the error below.
  }
  throw new InvalidArgumentError("cursor", "must be a nextCursor returned by list()", cursor);
}
