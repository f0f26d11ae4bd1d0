/**
 * Shared pause on Postgres: the `paused` table (migration 2) holds the queues paused for every
 * process; the step statement leaves them out (see `calls.ts`).
 */
import { InvalidArgumentError } from "../../errors.js";
import { isName } from "../../validation.js";
import type { Query } from "./queries.js";
import type { SchemaNames } from "./sql/names.js";

/** Pauses or resumes `queue`; a resume notifies the work channel so waiting workers claim. */
export async function setPaused(
  query: Query,
  names: SchemaNames,
  queue: string,
  paused: boolean,
): Promise<void> {
  if (!isName(queue)) throw new InvalidArgumentError("queue", "must be a queue name", queue);
  if (typeof paused !== "boolean")
    throw new InvalidArgumentError("paused", "must be a boolean", paused);
  const { s } = names;
  if (paused)
    await query(
      `INSERT INTO ${s}.paused (queue, since_ms) VALUES ($1, ${s}.now_ms()) ON CONFLICT DO NOTHING`,
      [queue],
    );
  else
    await query(
      `WITH gone AS (DELETE FROM ${s}.paused WHERE queue = $1 RETURNING queue)
       SELECT pg_notify($2, $1)`,
      [queue, names.workChannel],
    );
}

/** The queues paused in the store, sorted by name. */
export async function pausedQueues(query: Query, names: SchemaNames): Promise<string[]> {
  const { rows } = await query(`SELECT queue FROM ${names.s}.paused ORDER BY queue`);
  return rows.map((row) => String(row.queue));
}
