import { spawnSync } from "node:child_process";
import { Registry } from "prom-client";
import { InvalidOptionError, METRICS, TaskManager } from "taskmill";
import { createPrometheusMetrics } from "taskmill/prometheus";
import { afterEach, describe, expect, it } from "vitest";
import { collect, runWorkload, sdkMeterProvider } from "./workload.js";

const stops: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

/**
 * Runs the real `promtool check metrics` (Debian package `prometheus`) on an exposition. A
 * missing promtool fails the test: CI installs it, and a skipped check proves nothing.
 */
function promtool(exposition: string): { status: number | null; output: string } {
  const run = spawnSync("promtool", ["check", "metrics"], {
    input: exposition,
    encoding: "utf8",
    timeout: 30_000,
  });
  if (run.error !== undefined) {
    const code = (run.error as NodeJS.ErrnoException).code;
    throw new Error(
      code === "ENOENT"
        ? "promtool is not installed: install the Debian package `prometheus` (CI does) to check the exposition"
        : `promtool could not run: ${run.error.message}`,
    );
  }
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

async function exposition() {
  const registry = new Registry();
  const prometheus = createPrometheusMetrics({ registry });
  const workload = await runWorkload({ metrics: prometheus, tracing: false });
  stops.push(() => workload.mill.stopNow());
  return { registry, prometheus, workload, text: await registry.metrics() };
}

/** The sample lines of one metric name (under the default `taskmill_` prefix), as `labels -> value`. */
function samples(text: string, name: string, prefix = "taskmill_"): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    const match = /^([a-z_]+)(\{[^}]*\})? (\S+)$/.exec(line);
    if (match?.[1] === `${prefix}${name}`) out.set(match[2] ?? "", Number(match[3]));
  }
  return out;
}

describe("Prometheus exposition through prom-client (taskmill/prometheus)", () => {
  it("passes `promtool check metrics` with no problem reported", async () => {
    const { text } = await exposition();
    const { status, output } = promtool(text);
    expect(output).toBe("");
    expect(status).toBe(0);
  });

  it("passes promtool before any task ran too (every metric registered at zero)", async () => {
    const registry = new Registry();
    createPrometheusMetrics({ registry, prefix: "billing_" });
    const text = await registry.metrics();
    expect(text).toContain("# TYPE billing_tasks_scheduled_total counter");
    expect(text).toContain("billing_dead_letter_queue_size 0");
    expect(promtool(text)).toEqual({ status: 0, output: "" });
  });

  it("has the workload's values, with queue, task, status and policy labels", async () => {
    const { text, workload } = await exposition();
    const stats = workload.mill.stats();
    expect(samples(text, "tasks_scheduled_total")).toEqual(
      new Map([
        ['{queue="default",task="work"}', 3],
        ['{queue="default",task="flaky"}', 1],
        ['{queue="default",task="hang"}', 1],
        ['{queue="held",task="work"}', 3],
      ]),
    );
    expect(samples(text, "tasks_failed_total").get('{queue="default",task="flaky"}')).toBe(1);
    expect(samples(text, "retry_count_total").get('{queue="default",task="flaky"}')).toBe(2);
    expect(samples(text, "tasks_cancelled_total").get('{queue="default",task="hang"}')).toBe(1);
    expect(samples(text, "tasks_expired_total").get('{queue="held",task="work"}')).toBe(1);
    expect(samples(text, "tasks_completed_total").get('{queue="default",task="work"}')).toBe(2);
    expect(
      samples(text, "results_dropped_total").get(
        '{queue="default",task="work",policy="drop-newest"}',
      ),
    ).toBe(2);
    expect(samples(text, "queue_depth").get('{queue="held"}')).toBe(2);
    expect(samples(text, "queue_waiting").get('{queue="default"}')).toBe(1);
    expect(samples(text, "dead_letter_queue_size").get("")).toBe(stats.deadLetters);
    expect(
      samples(text, "task_latency_seconds_count").get(
        '{queue="default",task="flaky",status="failed"}',
      ),
    ).toBe(3);
    expect(
      samples(text, "task_latency_seconds_bucket").get(
        '{le="0.01",queue="default",task="flaky",status="failed"}',
      ),
    ).toBe(3);
    expect(
      samples(text, "task_queue_wait_seconds_sum").get('{queue="default",task="hang"}'),
    ).toBeCloseTo(0.11, 9);
    const sum = (name: string) => [...samples(text, name).values()].reduce((a, b) => a + b, 0);
    expect(sum("tasks_scheduled_total")).toBe(stats.submitted);
    expect(sum("results_dropped_total")).toBe(stats.resultsDropped);
    expect(sum("tasks_running")).toBe(stats.running);
  });

  it("works with the registry's JSON view and resetMetrics()", async () => {
    const { registry } = await exposition();
    const json = await registry.getMetricsAsJSON();
    const latency = json.find((metric) => metric.name === "taskmill_task_latency_seconds");
    expect(latency?.type).toBe("histogram");
    expect(latency?.values).toContainEqual({
      labels: { queue: "default", task: "work", status: "succeeded" },
      value: 2,
      metricName: "taskmill_task_latency_seconds_count",
    });
    registry.resetMetrics();
    const after = await registry.metrics();
    expect(samples(after, "task_latency_seconds_count").size).toBe(0);
    // Observables are refilled from the managers at every scrape.
    expect(samples(after, "tasks_scheduled_total").get('{queue="default",task="work"}')).toBe(3);
  });

  it("uses the same metric names as the OpenTelemetry path", async () => {
    const { text } = await exposition();
    const { provider, reader } = sdkMeterProvider();
    const otel = await runWorkload({ metrics: { meterProvider: provider }, tracing: false });
    stops.push(() => otel.mill.stopNow());
    const otelNames = [...(await collect(reader)).keys()].sort();
    const promNames = [...text.matchAll(/^# TYPE taskmill_(\S+) /gm)].map((m) => m[1]).sort();
    expect(promNames.length).toBe([...text.matchAll(/^# TYPE /gm)].length);
    // The OpenTelemetry SDK exports a histogram once it has a value: this workload serves no
    // admin API, so only `admin_request_duration_seconds` is missing there.
    expect(promNames.filter((name) => name !== "admin_request_duration_seconds")).toEqual(
      otelNames,
    );
    expect(promNames).toEqual(
      Object.values(METRICS)
        .map((m) => m.name)
        .sort(),
    );
  });

  it("several managers sharing one PrometheusMetrics add up; a second one per registry throws", async () => {
    const registry = new Registry();
    const prometheus = createPrometheusMetrics({ registry });
    const a = new TaskManager({ metrics: prometheus, tracing: false });
    const b = new TaskManager({ metrics: prometheus, tracing: false });
    stops.push(
      () => a.stopNow(),
      () => b.stopNow(),
    );
    for (const mill of [a, b]) mill.register("job", async () => 1);
    await (await a.submit("job")).result();
    await (await b.submit("job")).result();
    const text = await registry.metrics();
    expect(samples(text, "tasks_completed_total").get('{queue="default",task="job"}')).toBe(2);
    expect(() => createPrometheusMetrics({ registry })).toThrow(/already been registered/);
    expect(prometheus.contentType).toBe(registry.contentType);
    expect(await prometheus.metrics()).toContain("taskmill_tasks_completed_total");
  });

  it('prefixes every name with `taskmill_` by default; `prefix: ""` for none; refuses an invalid prefix', async () => {
    const prefixed = new Registry();
    createPrometheusMetrics({ registry: prefixed });
    const names = [...(await prefixed.metrics()).matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]);
    expect(names.length).toBe(Object.keys(METRICS).length);
    for (const name of names) expect(name).toMatch(/^taskmill_/);

    const bare = new Registry();
    createPrometheusMetrics({ registry: bare, prefix: "" });
    const text = await bare.metrics();
    expect(text).toContain("# TYPE tasks_scheduled_total counter");
    expect(text).not.toContain("taskmill_");
    // The default and the bare names live side by side in one registry without a collision.
    createPrometheusMetrics({ registry: bare });

    for (const prefix of ["9x_", "bad-prefix_", "a b"])
      expect(() => createPrometheusMetrics({ registry: new Registry(), prefix })).toThrow(
        InvalidOptionError,
      );
  });
});
