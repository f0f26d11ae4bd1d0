/**
 * The worker registry and shared schedules on SQLite (tables of schema version 2), each call
 * one transaction of the committer, timed by the store's clock (`tx.now`).
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
import type { Committer, Sql } from "./committer.js";

export function heartbeat(
  committer: Committer,
  worker: WorkerReport,
  dropAfterMs: number,
): Promise<number> {
  requireDropAfter(dropAfterMs);
  const text = encodeWorker(worker);
  return committer.run((tx) => {
    tx.sql.q("DELETE FROM workers WHERE heartbeat_at < ?").run(tx.now - dropAfterMs);
    tx.sql
      .q(
        `INSERT INTO workers (id, report, heartbeat_at) VALUES (?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET report = excluded.report, heartbeat_at = excluded.heartbeat_at`,
      )
      .run(worker.id, text, tx.now);
    return tx.now;
  });
}

export async function removeWorker(committer: Committer, id: string): Promise<void> {
  await committer.run((tx) => tx.sql.q("DELETE FROM workers WHERE id = ?").run(id));
}

export function listWorkers(
  committer: Committer,
  dropAfterMs: number,
): Promise<{ now: number; workers: StoredWorker[] }> {
  requireDropAfter(dropAfterMs);
  return committer.run((tx) => {
    tx.sql.q("DELETE FROM workers WHERE heartbeat_at < ?").run(tx.now - dropAfterMs);
    const rows = tx.sql.q("SELECT report, heartbeat_at FROM workers ORDER BY id").all() as Array<{
      report: string;
      heartbeat_at: number;
    }>;
    return {
      now: tx.now,
      workers: rows.map((row) => decodeWorker(row.report, row.heartbeat_at)),
    };
  });
}

export async function saveSchedule(committer: Committer, schedule: StoredSchedule): Promise<void> {
  const text = encodeSchedule(schedule);
  await committer.run((tx) =>
    tx.sql
      .q(
        `INSERT INTO schedules (id, spec, paused) VALUES (?, ?, 0)
         ON CONFLICT (id) DO UPDATE SET spec = excluded.spec, paused = 0`,
      )
      .run(schedule.id, text),
  );
}

export function deleteSchedule(committer: Committer, id: string): Promise<boolean> {
  requireScheduleId(id);
  return committer.run((tx) => tx.sql.q("DELETE FROM schedules WHERE id = ?").run(id).changes > 0);
}

export function setSchedulePaused(
  committer: Committer,
  id: string,
  paused: boolean,
): Promise<boolean> {
  requireScheduleId(id);
  return committer.run(
    (tx) =>
      tx.sql.q("UPDATE schedules SET paused = ? WHERE id = ?").run(paused ? 1 : 0, id).changes > 0,
  );
}

/** A plain read (no write transaction): every process runs it about every second. */
export async function listSchedules(sql: Sql): Promise<StoredSchedule[]> {
  return (
    sql.q("SELECT spec, paused FROM schedules ORDER BY id").all() as Array<{
      spec: string;
      paused: number;
    }>
  ).map((row) => decodeSchedule(row.spec, row.paused === 1));
}
