/**
 * Who a manager is in the worker registry, and the registry entry of a process that is its own
 * store (memory mode: the one process).
 */
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import type { WorkerInfo } from "../fleet.js";
import { INSTRUMENTATION_VERSION } from "../observability/scope.js";
import type { Clock } from "../scheduling/clock.js";
import type { RegisteredHandler } from "./backend.js";
import type { RunnerCounters } from "./counters.js";

/** The fixed part of a worker's report. */
export interface WorkerIdentity {
  readonly id: string;
  readonly host: string;
  readonly pid: number;
  readonly startedAt: number;
  readonly version: string;
}

/** Who this process is, once per manager. */
export function workerIdentity(clock: Clock): WorkerIdentity {
  return {
    id: `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`,
    host: hostname(),
    pid: process.pid,
    startedAt: Math.round(clock.now()),
    version: INSTRUMENTATION_VERSION,
  };
}

/** Outcomes a worker wrote: every ending of an attempt it ran. */
export function processedOf(c: RunnerCounters): number {
  return c.succeeded + c.failed + c.retried + c.cancelled + c.expired;
}

/** The queues of a handler table, sorted. */
export function queuesOf(handlers: ReadonlyMap<string, RegisteredHandler>): string[] {
  return [...new Set([...handlers.values()].map((h) => h.queue))].sort();
}

/** This process as the registry's one worker (memory mode); none without handlers. */
export function localWorkers(
  identity: WorkerIdentity,
  clock: Clock,
  concurrency: number,
  stats: RunnerCounters & { readonly running: number },
  handlers: ReadonlyMap<string, RegisteredHandler>,
): WorkerInfo[] {
  if (handlers.size === 0) return [];
  return [
    {
      ...identity,
      lastHeartbeatAt: Math.round(clock.now()),
      concurrency,
      running: stats.running,
      processed: processedOf(stats),
      failed: stats.failed,
      queues: queuesOf(handlers),
      state: "alive",
    },
  ];
}
