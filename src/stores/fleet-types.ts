/**
 * The data of the fleet operations a durable store keeps for every process sharing it: the
 * worker registry and the shared cron schedules (see the "Fleet operations" block of
 * `durable-store.ts`). Queue pauses need no type of their own (a set of queue names).
 */
import type { JsonValue } from "./durable-types.js";

/** What a worker process says of itself at each heartbeat. */
export interface WorkerReport {
  /** Unique per manager (a new one at each start). */
  readonly id: string;
  readonly host: string;
  readonly pid: number;
  /** When the manager started, epoch ms (the worker's clock). */
  readonly startedAt: number;
  /** taskmill's version in the worker. */
  readonly version: string;
  readonly concurrency: number;
  /** Attempts running now. */
  readonly running: number;
  /** Outcomes this worker wrote (succeeded, failed, retried, cancelled, expired). */
  readonly processed: number;
  /** Tasks this worker failed for good. */
  readonly failed: number;
  /** Queues it has handlers for, sorted. */
  readonly queues: readonly string[];
}

/** A registered worker as the store holds it. */
export interface StoredWorker extends WorkerReport {
  /** The store's time of its last heartbeat, epoch ms. */
  readonly heartbeatAt: number;
}

/** A cron schedule shared through the store. */
export interface StoredSchedule {
  readonly id: string;
  readonly cron: string;
  readonly taskName: string;
  /** JSON data submitted at each tick (`undefined`: none). */
  readonly payload: JsonValue | undefined;
  readonly timezone: string | undefined;
  /** The queue of the tasks it submits (`undefined`: the submitting process decides). */
  readonly queue: string | undefined;
  /** A paused schedule fires no tick until resumed. */
  readonly paused: boolean;
}
