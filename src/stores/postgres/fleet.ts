/**
 * The worker registry and shared schedules on Postgres (tables of migration 2): heartbeats
 * stamped with the store's clock (`now_ms()`), workers silent past the bound dropped as the
 * registry is written or read.
 */
import {
  decodeSchedule,
  decodeWorker,
  encodeSchedule,
  encodeWorker,
  requireDropAfter,
  requireScheduleId,
} from "../fleet-codec.js";
import type { StoredSchedule, StoredWorker, WorkerReport } from "../fleet-types.js";
import type { Query } from "./queries.js";
import type { SchemaNames } from "./sql/names.js";

export async function heartbeat(
  query: Query,
  { s }: SchemaNames,
  worker: WorkerReport,
  dropAfterMs: number,
): Promise<number> {
  requireDropAfter(dropAfterMs);
  const text = encodeWorker(worker);
  const { rows } = await query(
    `WITH t AS (SELECT ${s}.now_ms() AS now),
     gone AS (DELETE FROM ${s}.workers WHERE heartbeat_ms < (SELECT now FROM t) - $3 AND id <> $1),
     up AS (INSERT INTO ${s}.workers (id, report, heartbeat_ms) SELECT $1, $2, now FROM t
       ON CONFLICT (id) DO UPDATE SET report = EXCLUDED.report, heartbeat_ms = EXCLUDED.heartbeat_ms)
     SELECT now FROM t`,
    [worker.id, text, dropAfterMs],
  );
  return Number(rows[0]?.now);
}

export async function removeWorker(query: Query, { s }: SchemaNames, id: string): Promise<void> {
  await query(`DELETE FROM ${s}.workers WHERE id = $1`, [id]);
}

export async function listWorkers(
  query: Query,
  { s }: SchemaNames,
  dropAfterMs: number,
): Promise<{ now: number; workers: StoredWorker[] }> {
  requireDropAfter(dropAfterMs);
  const now = Number((await query(`SELECT ${s}.now_ms() AS now`)).rows[0]?.now);
  await query(`DELETE FROM ${s}.workers WHERE heartbeat_ms < $1`, [now - dropAfterMs]);
  const { rows } = await query(`SELECT report, heartbeat_ms FROM ${s}.workers ORDER BY id`);
  return {
    now,
    workers: rows.map((row) => decodeWorker(String(row.report), Number(row.heartbeat_ms))),
  };
}

export async function saveSchedule(
  query: Query,
  { s }: SchemaNames,
  schedule: StoredSchedule,
): Promise<void> {
  const text = encodeSchedule(schedule);
  await query(
    `INSERT INTO ${s}.schedules (id, spec, paused) VALUES ($1, $2, false)
     ON CONFLICT (id) DO UPDATE SET spec = EXCLUDED.spec, paused = false`,
    [schedule.id, text],
  );
}

export async function deleteSchedule(
  query: Query,
  { s }: SchemaNames,
  id: string,
): Promise<boolean> {
  requireScheduleId(id);
  const { rows } = await query(`DELETE FROM ${s}.schedules WHERE id = $1 RETURNING id`, [id]);
  return rows.length > 0;
}

export async function setSchedulePaused(
  query: Query,
  { s }: SchemaNames,
  id: string,
  paused: boolean,
): Promise<boolean> {
  requireScheduleId(id);
  const { rows } = await query(`UPDATE ${s}.schedules SET paused = $2 WHERE id = $1 RETURNING id`, [
    id,
    paused,
  ]);
  return rows.length > 0;
}

export async function listSchedules(query: Query, { s }: SchemaNames): Promise<StoredSchedule[]> {
  const { rows } = await query(`SELECT spec, paused FROM ${s}.schedules ORDER BY id`);
  return rows.map((row) => decodeSchedule(String(row.spec), row.paused === true));
}
