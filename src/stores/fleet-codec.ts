/**
 * The fleet records (`fleet-types.ts`) as JSON text, the same in every store: a store keeps the
 * text and its own columns for what it sorts or drops by (heartbeat time, paused).
 */
import { InvalidArgumentError } from "../errors.js";
import { isName, requireInteger } from "../validation.js";
import type { JsonValue } from "./durable-types.js";
import type { StoredSchedule, StoredWorker, WorkerReport } from "./fleet-types.js";

/** Checks a worker's report and encodes it. */
export function encodeWorker(worker: WorkerReport): string {
  if (typeof worker !== "object" || worker === null || !isName(worker.id))
    throw new InvalidArgumentError("worker.id", "must be a non-empty string", worker?.id);
  const { id, host, pid, startedAt, version, concurrency, running, processed, failed, queues } =
    worker;
  return JSON.stringify({
    id,
    host,
    pid,
    startedAt,
    version,
    concurrency,
    running,
    processed,
    failed,
    queues,
  });
}

/** A stored worker from its text and the store's heartbeat time. */
export function decodeWorker(text: string, heartbeatAt: number): StoredWorker {
  return { ...(JSON.parse(text) as WorkerReport), heartbeatAt };
}

/** `dropAfterMs`: an integer >= 1. */
export function requireDropAfter(dropAfterMs: number): void {
  requireInteger("dropAfterMs", dropAfterMs, 1);
}

/** Checks a schedule and encodes everything but `paused` (kept apart, changed alone). */
export function encodeSchedule(schedule: StoredSchedule): string {
  if (typeof schedule !== "object" || schedule === null || !isName(schedule.id))
    throw new InvalidArgumentError("schedule.id", "must be a non-empty string", schedule?.id);
  const { id, cron, taskName, payload, timezone, queue } = schedule;
  return JSON.stringify({ id, cron, taskName, payload, timezone, queue });
}

/** A stored schedule from its text and its paused flag. */
export function decodeSchedule(text: string, paused: boolean): StoredSchedule {
  const o = JSON.parse(text) as {
    id: string;
    cron: string;
    taskName: string;
    payload?: JsonValue;
    timezone?: string;
    queue?: string;
  };
  return {
    id: o.id,
    cron: o.cron,
    taskName: o.taskName,
    payload: o.payload,
    timezone: o.timezone,
    queue: o.queue,
    paused,
  };
}

/** A schedule id, checked. */
export function requireScheduleId(id: string): void {
  if (!isName(id)) throw new InvalidArgumentError("id", "must be a non-empty string", id);
}
