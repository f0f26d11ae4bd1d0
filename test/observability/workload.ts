/**
 * Shared helpers for the observability tests: an OpenTelemetry metric reader, data-point
 * lookups, and one known workload whose every figure is computed by hand below.
 */
import type { Attributes } from "@opentelemetry/api";
import {
  DataPointType,
  MeterProvider,
  MetricReader,
  type ResourceMetrics,
} from "@opentelemetry/sdk-metrics";
import {
  type Clock,
  ManualClock,
  type ResultSubscription,
  type TaskHandle,
  TaskManager,
  type TaskManagerOptions,
} from "taskmill";

/** A pull reader: the test decides when to collect. */
export class TestReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

export function sdkMeterProvider(): { provider: MeterProvider; reader: TestReader } {
  const reader = new TestReader();
  return { provider: new MeterProvider({ readers: [reader] }), reader };
}

/** One data point of a collected metric: attributes and a number (sums, gauges) or histogram. */
export interface Point {
  readonly attributes: Attributes;
  readonly value: number | { count: number; sum: number; counts: number[]; boundaries: number[] };
}

/** Collected metrics by name. */
export type Collected = Map<string, { type: DataPointType; points: Point[] }>;

export async function collect(reader: MetricReader): Promise<Collected> {
  const { resourceMetrics, errors } = await reader.collect();
  if (errors.length > 0) throw new AggregateError(errors, "metric collection failed");
  return byName(resourceMetrics);
}

function byName(resourceMetrics: ResourceMetrics): Collected {
  const out: Collected = new Map();
  for (const scope of resourceMetrics.scopeMetrics)
    for (const metric of scope.metrics) {
      const points = metric.dataPoints.map((point): Point => {
        const value = point.value as unknown;
        if (metric.dataPointType === DataPointType.HISTOGRAM) {
          const h = value as {
            count: number;
            sum: number;
            buckets: { counts: number[]; boundaries: number[] };
          };
          return {
            attributes: point.attributes,
            value: {
              count: h.count,
              sum: h.sum,
              counts: h.buckets.counts,
              boundaries: h.buckets.boundaries,
            },
          };
        }
        return { attributes: point.attributes, value: value as number };
      });
      out.set(metric.descriptor.name, { type: metric.dataPointType, points });
    }
  return out;
}

/** The value of `name` at exactly these attributes (undefined if that series is absent). */
export function valueAt(
  collected: Collected,
  name: string,
  attributes: Attributes,
): Point["value"] | undefined {
  const metric = collected.get(name);
  return metric?.points.find((p) => sameAttributes(p.attributes, attributes))?.value;
}

/** Sum of a counter or gauge over all its series. */
export function total(collected: Collected, name: string): number {
  return (collected.get(name)?.points ?? []).reduce((sum, p) => sum + (p.value as number), 0);
}

/** Sum of histogram counts over all series. */
export function histogramCount(collected: Collected, name: string): number {
  return (collected.get(name)?.points ?? []).reduce(
    (sum, p) => sum + (p.value as { count: number }).count,
    0,
  );
}

function sameAttributes(a: Attributes, b: Attributes): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => a[key] === b[key]);
}

/** Resolves after `ms` of the manual clock. */
export function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.setTimer(resolve, ms));
}

/** What the known workload leaves behind. */
export interface Workload {
  readonly mill: TaskManager;
  readonly clock: ManualClock;
  readonly subscription: ResultSubscription;
  readonly handles: Record<string, TaskHandle>;
}

/**
 * The known workload, on a manual clock from t=0 with one slot and fixed 100 ms retries:
 *
 * - t=0 `work` A and B, `flaky` F (always throws after 10 ms, 2 retries), `hang` H (waits for
 *   its signal); queue `held` (paused): `work` E with a 20 ms TTL, W1 and W2; `work` D delayed
 *   by 10 s. A subscription with a 1-slot buffer (`drop-newest`) never reads.
 * - t=20 E expires (its result fills the buffer). A runs 0-50, B 50-100, F#1 100-110 (retry
 *   due 210), H 110-150 (cancelled at 150), F#2 210-220, F#3 320-330: F failed for good.
 * - Results A, B, H, F are dropped: 4 drops (work 2, hang 1, flaky 1).
 * - Left at t=400: W1 and W2 ready in `held` (depth 2), D waiting in `default`, F in the DLQ.
 */
export async function runWorkload(
  options: Omit<TaskManagerOptions, "clock"> = {},
  payloadOf: (name: string) => unknown = () => undefined,
): Promise<Workload> {
  const clock = new ManualClock(0);
  let next = 0;
  const mill = new TaskManager({
    concurrency: 1,
    retry: { maxRetries: 2, backoff: "fixed", baseDelayMs: 100, jitter: "none" },
    createId: () => `t${++next}`,
    ...options,
    clock,
  });
  mill.register("work", async (payload) => {
    await sleep(clock, 50);
    return { done: true, payload };
  });
  mill.register("flaky", async () => {
    await sleep(clock, 10);
    throw new Error("flaky failed");
  });
  mill.register(
    "hang",
    (_payload, ctx) =>
      new Promise((_resolve, reject) => {
        ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason), { once: true });
      }),
  );
  const subscription = mill.subscribeResults({ buffer: 1, overflow: "drop-newest" });
  mill.pauseQueue("held");
  const handles: Record<string, TaskHandle> = {};
  handles.A = await mill.submit("work", payloadOf("A"));
  handles.B = await mill.submit("work", payloadOf("B"));
  handles.F = await mill.submit("flaky", payloadOf("F"));
  handles.H = await mill.submit("hang", payloadOf("H"));
  handles.E = await mill.submit("work", payloadOf("E"), { queue: "held", ttlMs: 20 });
  handles.W1 = await mill.submit("work", payloadOf("W1"), { queue: "held" });
  handles.W2 = await mill.submit("work", payloadOf("W2"), { queue: "held" });
  handles.D = await mill.submit("work", payloadOf("D"), { delayMs: 10_000 });
  for (const handle of Object.values(handles)) handle.result().catch(() => {});
  await clock.advance(150);
  await mill.cancel(handles.H.id);
  await clock.advance(250);
  return { mill, clock, subscription, handles };
}
