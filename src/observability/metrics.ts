/**
 * Metrics through the OpenTelemetry API (a no-op until the service installs an SDK).
 *
 * Hot path: the counters and `tasks_running` are plain integers on one series object per
 * (queue, task name), exported through observable instruments that the SDK reads when it
 * collects. A task event therefore costs a few increments and no SDK call; only the two
 * histograms call `record()` once per attempt each, with attribute objects cached per series.
 * Counters are never derived from each other, so nothing is counted twice on a failure path.
 */
import {
  type Attributes,
  type BatchObservableCallback,
  type BatchObservableResult,
  createNoopMeter,
  type Histogram,
  type Meter,
  type Observable,
  ValueType,
} from "@opentelemetry/api";
import type { TerminalStatus } from "../lifecycle/states.js";
import type { Attempt, TaskRecord } from "../lifecycle/task-record.js";
import type { TaskResult } from "../types.js";
import { type Instrumentation, noInstrumentation } from "./instrumentation.js";
import { type Logger, safeLog } from "./logger.js";
import {
  type AttemptStatus,
  attemptStatus,
  METRICS,
  type MetricDefinition,
} from "./metric-definitions.js";

/** One queue's backlog, as `mill.queues()` reports it. */
export interface QueueDepth {
  readonly name: string;
  /** Tasks ready to start. */
  readonly depth: number;
  /** Delayed tasks and retries waiting for their due time. */
  readonly waiting: number;
}

/** What the `queue_depth`, `queue_waiting` and `dead_letter_queue_size` gauges report. */
export interface DepthSnapshot {
  readonly queues: readonly QueueDepth[];
  readonly deadLetters: number;
  /** Slots this process offers to run tasks (0 without handlers or once stopping). */
  readonly workerSlots?: number;
}

/**
 * Reads the current backlog when metrics are collected. The memory engine reads its own queues;
 * a durable backend supplies one that asks Redis, so every process reports the true depth.
 * It may be async.
 */
export type DepthReader = () => DepthSnapshot | Promise<DepthSnapshot>;

/** Attempts beyond this many (queue, task) series are counted under `_other`. */
export const MAX_SERIES = 2_000;
const OVERFLOW = "_other";

/** Running figures of one (queue, task name) pair, with its attribute objects built once. */
class Series {
  scheduled = 0;
  completed = 0;
  failed = 0;
  cancelled = 0;
  expired = 0;
  retries = 0;
  running = 0;
  leaseLost = 0;
  dropped: Map<string, { attributes: Attributes; count: number }> | undefined;
  readonly attributes: Attributes;
  readonly byStatus: Readonly<Record<AttemptStatus, Attributes>>;

  constructor(
    readonly queue: string,
    readonly task: string,
  ) {
    this.attributes = Object.freeze({ queue, task });
    this.byStatus = {
      succeeded: Object.freeze({ queue, task, status: "succeeded" }),
      failed: Object.freeze({ queue, task, status: "failed" }),
      timeout: Object.freeze({ queue, task, status: "timeout" }),
      cancelled: Object.freeze({ queue, task, status: "cancelled" }),
    };
  }
}

/** True for the API's no-op meter, which never becomes a real one (unlike the tracer proxy). */
export function isNoopMeter(meter: Meter): boolean {
  return meter.constructor === NOOP_METER_CLASS;
}
const NOOP_METER_CLASS = createNoopMeter().constructor;

/**
 * The metrics side of the instrumentation seam. Built by the manager from its options; reads
 * queue depths through `readDepths` only, never from engine internals.
 */
export class MetricsInstrumentation implements Instrumentation {
  readonly invoke = noInstrumentation.invoke;
  readonly #meter: Meter;
  readonly #now: () => number;
  readonly #readDepths: DepthReader;
  readonly #logger: Logger;
  readonly #latency: Histogram;
  readonly #queueWait: Histogram;
  readonly #admin: Histogram;
  readonly #adminAttributes = new Map<string, Attributes>();
  readonly #observables: Record<ObservedKey, Observable>;
  readonly #series: Series[] = [];
  readonly #byKey = new Map<string, Series>();
  readonly #queueAttributes = new Map<string, Attributes>();
  #last: Series | undefined;
  #overflow: Series | undefined;
  #closed = false;

  constructor(meter: Meter, deps: { now: () => number; readDepths: DepthReader; logger: Logger }) {
    this.#meter = meter;
    this.#now = deps.now;
    this.#readDepths = deps.readDepths;
    this.#logger = deps.logger;
    this.#latency = createHistogram(meter, METRICS.latency);
    this.#queueWait = createHistogram(meter, METRICS.queueWait);
    this.#admin = createHistogram(meter, METRICS.adminRequests);
    const observables = {} as Record<ObservedKey, Observable>;
    for (const key of OBSERVED) {
      const definition: MetricDefinition = METRICS[key];
      const options = { description: definition.description, unit: definition.unit };
      observables[key] =
        definition.kind === "counter"
          ? meter.createObservableCounter(definition.name, { ...options, valueType: ValueType.INT })
          : definition.kind === "updowncounter"
            ? meter.createObservableUpDownCounter(definition.name, {
                ...options,
                valueType: ValueType.INT,
              })
            : meter.createObservableGauge(definition.name, {
                ...options,
                valueType: ValueType.INT,
              });
    }
    this.#observables = observables;
    meter.addBatchObservableCallback(this.#observe, Object.values(observables));
  }

  queued(record: TaskRecord): void {
    this.#seriesOf(record.name, record.queue).scheduled++;
    record.dueAt = record.runAt ?? this.#now();
  }

  started(attempt: Attempt): void {
    const record = attempt.record;
    const series = this.#seriesOf(record.name, record.queue);
    series.running++;
    const waitMs = attempt.startedAt - record.dueAt;
    this.#queueWait.record(waitMs > 0 ? waitMs / 1_000 : 0, series.attributes);
  }

  attemptEnded(attempt: Attempt, error: Error | undefined, now: number): void {
    const series = this.#seriesOf(attempt.name, attempt.queue);
    series.running--;
    const runMs = now - attempt.startedAt;
    this.#latency.record(runMs > 0 ? runMs / 1_000 : 0, series.byStatus[attemptStatus(error)]);
  }

  retrying(record: TaskRecord): void {
    this.#seriesOf(record.name, record.queue).retries++;
    record.dueAt = record.runAt ?? this.#now();
  }

  leaseLost(record: TaskRecord): void {
    this.#seriesOf(record.name, record.queue).leaseLost++;
  }

  /**
   * An admin API request was answered after `seconds`. `route` is the route template, so the
   * series stay few (`_other` for requests no route matched).
   */
  adminRequest(method: string, route: string, status: number, seconds: number): void {
    const key = `${method} ${route} ${status}`;
    let attributes = this.#adminAttributes.get(key);
    if (attributes === undefined) {
      attributes = Object.freeze({ method, route, status: String(status) });
      if (this.#adminAttributes.size < MAX_SERIES) this.#adminAttributes.set(key, attributes);
    }
    this.#admin.record(seconds, attributes);
  }

  finished(record: TaskRecord, status: TerminalStatus): void {
    const series = this.#seriesOf(record.name, record.queue);
    if (status === "succeeded") series.completed++;
    else series[status]++;
  }

  /** A result subscription dropped `result` (the broadcaster's `dropped` callback). */
  resultDropped(result: TaskResult, policy: string): void {
    const series = this.#seriesOf(result.name, result.queue);
    series.dropped ??= new Map();
    let entry = series.dropped.get(policy);
    if (entry === undefined) {
      entry = {
        attributes: Object.freeze({ queue: series.queue, task: series.task, policy }),
        count: 0,
      };
      series.dropped.set(policy, entry);
    }
    entry.count++;
  }

  /** Stops reporting: the collection callback is removed from the meter. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#meter.removeBatchObservableCallback(this.#observe, Object.values(this.#observables));
  }

  #seriesOf(task: string, queue: string): Series {
    const last = this.#last;
    if (last !== undefined && last.task === task && last.queue === queue) return last;
    const key = `${queue}\u0000${task}`;
    let series = this.#byKey.get(key);
    if (series === undefined) {
      if (this.#series.length < MAX_SERIES) {
        series = new Series(queue, task);
        this.#series.push(series);
        this.#byKey.set(key, series);
      } else {
        series = this.#overflow ?? new Series(OVERFLOW, OVERFLOW);
        if (this.#overflow === undefined) this.#series.push(series);
        this.#overflow = series;
      }
    }
    this.#last = series;
    return series;
  }

  readonly #observe: BatchObservableCallback = (result) => {
    const o = this.#observables;
    for (const s of this.#series) {
      const attributes = s.attributes;
      result.observe(o.scheduled, s.scheduled, attributes);
      result.observe(o.completed, s.completed, attributes);
      result.observe(o.failed, s.failed, attributes);
      result.observe(o.cancelled, s.cancelled, attributes);
      result.observe(o.expired, s.expired, attributes);
      result.observe(o.retries, s.retries, attributes);
      result.observe(o.running, s.running, attributes);
      result.observe(o.leaseLost, s.leaseLost, attributes);
      if (s.dropped !== undefined)
        for (const entry of s.dropped.values())
          result.observe(o.dropped, entry.count, entry.attributes);
    }
    let depths: DepthSnapshot | Promise<DepthSnapshot>;
    try {
      depths = this.#readDepths();
    } catch (error) {
      this.#readFailed(error);
      return;
    }
    if (!(depths instanceof Promise)) {
      this.#observeDepths(result, depths);
      return;
    }
    return depths.then(
      (snapshot) => this.#observeDepths(result, snapshot),
      (error: unknown) => this.#readFailed(error),
    );
  };

  #observeDepths(result: BatchObservableResult, snapshot: DepthSnapshot): void {
    const o = this.#observables;
    for (const queue of snapshot.queues) {
      let attributes = this.#queueAttributes.get(queue.name);
      if (attributes === undefined) {
        attributes = Object.freeze({ queue: queue.name });
        this.#queueAttributes.set(queue.name, attributes);
      }
      result.observe(o.depth, queue.depth, attributes);
      result.observe(o.waiting, queue.waiting, attributes);
    }
    result.observe(o.deadLetters, snapshot.deadLetters);
    if (snapshot.workerSlots !== undefined) result.observe(o.workerSlots, snapshot.workerSlots);
  }

  #readFailed(error: unknown): void {
    safeLog(this.#logger, "error", { err: error }, "taskmill metrics: reading queue depths failed");
  }
}

const OBSERVED = [
  "scheduled",
  "completed",
  "failed",
  "cancelled",
  "expired",
  "retries",
  "dropped",
  "running",
  "depth",
  "waiting",
  "deadLetters",
  "leaseLost",
  "workerSlots",
] as const;
type ObservedKey = (typeof OBSERVED)[number];

function createHistogram(meter: Meter, definition: MetricDefinition): Histogram {
  return meter.createHistogram(definition.name, {
    description: definition.description,
    unit: definition.unit,
    valueType: ValueType.DOUBLE,
    advice: { explicitBucketBoundaries: [...(definition.buckets ?? [])] },
  });
}
