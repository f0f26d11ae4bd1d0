/**
 * The metrics taskmill reports: names, kinds, meanings, labels and buckets, in one table that
 * both the OpenTelemetry instruments (`metrics.ts`) and the Prometheus bridge
 * (`prometheus.ts`) are built from, so the two can never drift apart.
 */
import { CancelledError, TimeoutError } from "../errors.js";

/** How one attempt ended: the `status` attribute of `task_latency_seconds`. */
export type AttemptStatus = "succeeded" | "failed" | "timeout" | "cancelled";

/** The instrument kinds taskmill uses. */
export type MetricKind = "counter" | "updowncounter" | "gauge" | "histogram";

/** One metric: its name, kind, meaning and labels (attribute keys). */
export interface MetricDefinition {
  readonly name: string;
  readonly kind: MetricKind;
  readonly description: string;
  readonly unit: string;
  readonly labels: readonly string[];
  /** Histogram bucket upper bounds. */
  readonly buckets?: readonly number[];
}

/** Bucket bounds of both duration histograms, in seconds (1 ms to 15 min). */
export const DURATION_BUCKETS_SECONDS: readonly number[] = Object.freeze([
  0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900,
]);

const TASK_LABELS = Object.freeze(["queue", "task"]);

/**
 * Every metric taskmill reports. The OpenTelemetry instruments and the Prometheus bridge
 * (`taskmill/prometheus`) are both built from this table, so the names cannot drift apart.
 */
export const METRICS = Object.freeze({
  scheduled: {
    name: "tasks_scheduled_total",
    kind: "counter",
    unit: "{task}",
    labels: TASK_LABELS,
    description: "Tasks accepted: submit, run, cron ticks and dead-letter replays.",
  },
  completed: {
    name: "tasks_completed_total",
    kind: "counter",
    unit: "{task}",
    labels: TASK_LABELS,
    description: "Tasks that succeeded.",
  },
  failed: {
    name: "tasks_failed_total",
    kind: "counter",
    unit: "{task}",
    labels: TASK_LABELS,
    description: "Tasks that failed for good (last attempt failed, or PermanentError), once each.",
  },
  cancelled: {
    name: "tasks_cancelled_total",
    kind: "counter",
    unit: "{task}",
    labels: TASK_LABELS,
    description: "Tasks cancelled by cancel(), their submit signal or stopNow().",
  },
  expired: {
    name: "tasks_expired_total",
    kind: "counter",
    unit: "{task}",
    labels: TASK_LABELS,
    description: "Tasks whose TTL passed before they started.",
  },
  retries: {
    name: "retry_count_total",
    kind: "counter",
    unit: "{retry}",
    labels: TASK_LABELS,
    description: "Retries scheduled: failed attempts that will run again after a backoff.",
  },
  dropped: {
    name: "results_dropped_total",
    kind: "counter",
    unit: "{result}",
    labels: Object.freeze(["queue", "task", "policy"]),
    description: "Results a subscription dropped because its buffer was full.",
  },
  running: {
    name: "tasks_running",
    kind: "updowncounter",
    unit: "{attempt}",
    labels: TASK_LABELS,
    description:
      "Attempts holding a concurrency slot now (aborted handlers included until they settle).",
  },
  depth: {
    name: "queue_depth",
    kind: "gauge",
    unit: "{task}",
    labels: Object.freeze(["queue"]),
    description: "Tasks ready to start and waiting for a slot or a rate-limit token.",
  },
  waiting: {
    name: "queue_waiting",
    kind: "gauge",
    unit: "{task}",
    labels: Object.freeze(["queue"]),
    description: "Delayed tasks and retries waiting for their due time.",
  },
  deadLetters: {
    name: "dead_letter_queue_size",
    kind: "gauge",
    unit: "{task}",
    labels: Object.freeze([]),
    description: "Tasks held in the dead-letter queue.",
  },
  leaseLost: {
    name: "lease_lost_total",
    kind: "counter",
    unit: "{lease}",
    labels: TASK_LABELS,
    description:
      "Durable mode: leases this process lost on tasks it ran (renewal refused or expired, or the outcome refused by the fence); the task may run again elsewhere.",
  },
  workerSlots: {
    name: "worker_slots",
    kind: "gauge",
    unit: "{slot}",
    labels: Object.freeze([]),
    description:
      "Concurrency slots this process offers: its concurrency while it has handlers registered and is not stopping, else 0. Sum over processes: 0 means no worker is alive.",
  },
  adminRequests: {
    name: "admin_request_duration_seconds",
    kind: "histogram",
    unit: "s",
    labels: Object.freeze(["method", "route", "status"]),
    buckets: Object.freeze([0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]),
    description:
      "Admin API requests, from arrival until answered (SSE streams: until their headers were sent), by route template (never raw ids) and status.",
  },
  latency: {
    name: "task_latency_seconds",
    kind: "histogram",
    unit: "s",
    labels: Object.freeze(["queue", "task", "status"]),
    buckets: DURATION_BUCKETS_SECONDS,
    description:
      "Run time of every attempt, from start until its handler settled; status: succeeded, failed, timeout or cancelled.",
  },
  queueWait: {
    name: "task_queue_wait_seconds",
    kind: "histogram",
    unit: "s",
    labels: TASK_LABELS,
    buckets: DURATION_BUCKETS_SECONDS,
    description:
      "Time from when an attempt became due (submit, runAt, end of a retry backoff) until it started.",
  },
} as const satisfies Record<string, MetricDefinition>);

/** The `status` attribute of an attempt that ended with `error` (undefined on success). */
export function attemptStatus(error: Error | undefined): AttemptStatus {
  if (error === undefined) return "succeeded";
  if (error instanceof TimeoutError) return "timeout";
  if (error instanceof CancelledError) return "cancelled";
  return "failed";
}
