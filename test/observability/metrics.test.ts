import { afterEach, describe, expect, it } from "vitest";
import {
  collect,
  histogramCount,
  runWorkload,
  sdkMeterProvider,
  total,
  valueAt,
  type Workload,
} from "./workload.js";

const stops: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

async function measured(): Promise<{
  workload: Workload;
  reader: ReturnType<typeof sdkMeterProvider>["reader"];
}> {
  const { provider, reader } = sdkMeterProvider();
  const workload = await runWorkload({ metrics: { meterProvider: provider }, tracing: false });
  stops.push(
    () => workload.mill.stopNow(),
    () => provider.shutdown(),
  );
  return { workload, reader };
}

const work = { queue: "default", task: "work" };
const flaky = { queue: "default", task: "flaky" };
const hang = { queue: "default", task: "hang" };
const heldWork = { queue: "held", task: "work" };

describe("metrics through the OpenTelemetry SDK after a known workload", () => {
  it("counts each task event once, with queue and task attributes", async () => {
    const { reader } = await measured();
    const m = await collect(reader);
    expect(valueAt(m, "tasks_scheduled_total", work)).toBe(3); // A, B, D
    expect(valueAt(m, "tasks_scheduled_total", flaky)).toBe(1);
    expect(valueAt(m, "tasks_scheduled_total", hang)).toBe(1);
    expect(valueAt(m, "tasks_scheduled_total", heldWork)).toBe(3); // E, W1, W2
    expect(valueAt(m, "tasks_completed_total", work)).toBe(2);
    expect(valueAt(m, "tasks_completed_total", flaky)).toBe(0);
    // Failed for good once, although three attempts failed; two retries.
    expect(valueAt(m, "tasks_failed_total", flaky)).toBe(1);
    expect(total(m, "tasks_failed_total")).toBe(1);
    expect(valueAt(m, "retry_count_total", flaky)).toBe(2);
    expect(total(m, "retry_count_total")).toBe(2);
    expect(valueAt(m, "tasks_cancelled_total", hang)).toBe(1);
    expect(total(m, "tasks_cancelled_total")).toBe(1);
    expect(valueAt(m, "tasks_expired_total", heldWork)).toBe(1);
    expect(total(m, "tasks_running")).toBe(0);
  });

  it("counts dropped results by queue, task and overflow policy", async () => {
    const { reader } = await measured();
    const m = await collect(reader);
    const policy = "drop-newest";
    expect(valueAt(m, "results_dropped_total", { ...work, policy })).toBe(2);
    expect(valueAt(m, "results_dropped_total", { ...hang, policy })).toBe(1);
    expect(valueAt(m, "results_dropped_total", { ...flaky, policy })).toBe(1);
    expect(total(m, "results_dropped_total")).toBe(4);
  });

  it("reports queue depth, waiting tasks and the dead-letter queue from the reader", async () => {
    const { reader } = await measured();
    const m = await collect(reader);
    expect(valueAt(m, "queue_depth", { queue: "held" })).toBe(2);
    expect(valueAt(m, "queue_depth", { queue: "default" })).toBe(0);
    expect(valueAt(m, "queue_waiting", { queue: "default" })).toBe(1);
    expect(valueAt(m, "queue_waiting", { queue: "held" })).toBe(0);
    expect(valueAt(m, "dead_letter_queue_size", {})).toBe(1);
  });

  it("records every attempt's run time with its outcome, and each attempt's queue wait", async () => {
    const { reader } = await measured();
    const m = await collect(reader);
    const latency = (attrs: Record<string, string>) =>
      valueAt(m, "task_latency_seconds", attrs) as { count: number; sum: number };
    expect(latency({ ...work, status: "succeeded" })).toMatchObject({ count: 2 });
    expect(latency({ ...work, status: "succeeded" }).sum).toBeCloseTo(0.1, 9);
    expect(latency({ ...flaky, status: "failed" })).toMatchObject({ count: 3 });
    expect(latency({ ...flaky, status: "failed" }).sum).toBeCloseTo(0.03, 9);
    expect(latency({ ...hang, status: "cancelled" })).toMatchObject({ count: 1 });
    expect(latency({ ...hang, status: "cancelled" }).sum).toBeCloseTo(0.04, 9);
    expect(histogramCount(m, "task_latency_seconds")).toBe(6);

    const wait = (attrs: Record<string, string>) =>
      valueAt(m, "task_queue_wait_seconds", attrs) as { count: number; sum: number };
    // A waited 0, B 50 ms; F#1 100 ms, its retries started when due; H 110 ms.
    expect(wait(work)).toMatchObject({ count: 2 });
    expect(wait(work).sum).toBeCloseTo(0.05, 9);
    expect(wait(flaky)).toMatchObject({ count: 3 });
    expect(wait(flaky).sum).toBeCloseTo(0.1, 9);
    expect(wait(hang).sum).toBeCloseTo(0.11, 9);
  });

  it("uses the documented buckets, instrument types and units", async () => {
    const { reader } = await measured();
    const { resourceMetrics } = await reader.collect();
    const metrics = resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics);
    const scope = resourceMetrics.scopeMetrics[0]?.scope;
    expect(scope).toMatchObject({ name: "taskmill", version: "0.1.0" });
    const byName = new Map(metrics.map((metric) => [metric.descriptor.name, metric]));
    expect([...byName.keys()].sort()).toEqual(
      [
        "dead_letter_queue_size",
        "lease_lost_total",
        "worker_slots",
        "queue_depth",
        "queue_waiting",
        "results_dropped_total",
        "retry_count_total",
        "task_latency_seconds",
        "task_queue_wait_seconds",
        "tasks_cancelled_total",
        "tasks_completed_total",
        "tasks_expired_total",
        "tasks_failed_total",
        "tasks_running",
        "tasks_scheduled_total",
      ].sort(),
    );
    expect(byName.get("task_latency_seconds")?.descriptor.unit).toBe("s");
    const point = byName.get("task_latency_seconds")?.dataPoints[0]?.value as {
      buckets: { boundaries: number[] };
    };
    expect(point.buckets.boundaries).toEqual([
      0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900,
    ]);
    const counter = byName.get("tasks_failed_total") as { isMonotonic?: boolean } | undefined;
    expect(counter?.isMonotonic).toBe(true);
    const running = byName.get("tasks_running") as { isMonotonic?: boolean } | undefined;
    expect(running?.isMonotonic).toBe(false);
  });

  it("agrees with mill.stats() after the workload", async () => {
    const { workload, reader } = await measured();
    const m = await collect(reader);
    const stats = workload.mill.stats();
    expect(stats).toMatchObject({
      submitted: 8,
      succeeded: 2,
      failed: 1,
      cancelled: 1,
      expired: 1,
    });
    expect(total(m, "tasks_scheduled_total")).toBe(stats.submitted);
    expect(total(m, "tasks_completed_total")).toBe(stats.succeeded);
    expect(total(m, "tasks_failed_total")).toBe(stats.failed);
    expect(total(m, "tasks_cancelled_total")).toBe(stats.cancelled);
    expect(total(m, "tasks_expired_total")).toBe(stats.expired);
    expect(total(m, "retry_count_total")).toBe(stats.retried);
    expect(total(m, "tasks_running")).toBe(stats.running);
    expect(total(m, "queue_depth")).toBe(stats.queued);
    expect(total(m, "queue_waiting")).toBe(stats.waiting);
    expect(total(m, "dead_letter_queue_size")).toBe(stats.deadLetters);
    expect(total(m, "results_dropped_total")).toBe(stats.resultsDropped);
    expect(histogramCount(m, "task_latency_seconds")).toBe(stats.started);
    expect(histogramCount(m, "task_queue_wait_seconds")).toBe(stats.started);
  });

  it("keeps counting through a DLQ replay and a running gauge while attempts hold slots", async () => {
    const { workload, reader } = await measured();
    const { mill, clock } = workload;
    mill.resumeQueue("held");
    await clock.advance(1); // W1 starts (one slot)
    let m = await collect(reader);
    expect(valueAt(m, "tasks_running", heldWork)).toBe(1);
    await mill.dlq.replay({ name: "flaky" });
    await clock.advance(20_000);
    m = await collect(reader);
    expect(valueAt(m, "tasks_running", heldWork)).toBe(0);
    expect(valueAt(m, "tasks_scheduled_total", flaky)).toBe(2);
    expect(valueAt(m, "tasks_failed_total", flaky)).toBe(2);
    expect(valueAt(m, "retry_count_total", flaky)).toBe(4);
    expect(total(m, "tasks_scheduled_total")).toBe(mill.stats().submitted);
    expect(total(m, "tasks_failed_total")).toBe(mill.stats().failed);
  });

  it("stops reporting once the manager stopped (no callback of ours left on the meter)", async () => {
    const { workload, reader } = await measured();
    await workload.mill.stopNow();
    const m = await collect(reader);
    expect(m.get("tasks_scheduled_total")?.points ?? []).toEqual([]);
  });
});
