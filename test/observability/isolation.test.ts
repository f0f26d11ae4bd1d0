import {
  createNoopMeter,
  type Meter,
  type MeterProvider,
  type Span,
  type Tracer,
  type TracerProvider,
  trace,
} from "@opentelemetry/api";
import { type Logger, ManualClock, TaskManager, type TaskManagerOptions } from "taskmill";
import { afterEach, describe, expect, it } from "vitest";
import { MetricsInstrumentation } from "../../src/observability/metrics.js";
import { collect, sdkMeterProvider, sleep, total, valueAt } from "./workload.js";

const stops: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

function errorLog() {
  const errors: Array<{ obj: Record<string, unknown>; msg: string | undefined }> = [];
  const noop = () => {};
  const logger: Logger = {
    debug: noop,
    info: noop,
    warn: noop,
    error: (obj, msg) => errors.push({ obj, msg }),
  };
  return { logger, errors };
}

function millWith(options: Omit<TaskManagerOptions, "clock">) {
  const clock = new ManualClock(0);
  const mill = new TaskManager({ metrics: false, tracing: false, ...options, clock });
  stops.push(() => mill.stopNow());
  let calls = 0;
  mill.register("job", async (payload: number) => {
    calls++;
    await sleep(clock, 5);
    return payload * 2;
  });
  return { mill, clock, calls: () => calls };
}

const explode = () => {
  throw new Error("instrument down");
};

describe("a failing hook, meter, tracer or logger never breaks a task", () => {
  it("throwing and rejecting hooks are logged once per occurrence", async () => {
    const { logger, errors } = errorLog();
    const { mill, clock, calls } = millWith({
      logger,
      hooks: {
        onQueued: explode,
        onStart: async () => {
          throw new Error("async hook down");
        },
        onRetry: explode,
        onFinish: explode,
      },
    });
    const task = await mill.submit("job", 21);
    await clock.advance(10);
    await expect(task.result()).resolves.toBe(42);
    expect(calls()).toBe(1);
    const hookErrors = errors.filter((e) => e.msg === "taskmill hook threw");
    expect(hookErrors.map((e) => e.obj.hook).sort()).toEqual(["onFinish", "onQueued", "onStart"]);
    expect(hookErrors.every((e) => e.obj.taskId === task.id)).toBe(true);
  });

  it("a meter whose instruments throw: logged at each event, tasks unaffected", async () => {
    const { logger, errors } = errorLog();
    const noop = createNoopMeter();
    const meter: Meter = Object.assign(Object.create(null) as Meter, noop, {
      createHistogram: () => ({ record: explode }),
      createObservableCounter: noop.createObservableCounter.bind(noop),
      createObservableUpDownCounter: noop.createObservableUpDownCounter.bind(noop),
      createObservableGauge: noop.createObservableGauge.bind(noop),
      addBatchObservableCallback: () => {},
      removeBatchObservableCallback: explode,
    });
    const meterProvider: MeterProvider = { getMeter: () => meter };
    const { mill, clock } = millWith({ logger, metrics: { meterProvider } });
    const tasks = [await mill.submit("job", 1), await mill.submit("job", 2)];
    await clock.advance(20);
    expect(await Promise.all(tasks.map((t) => t.result()))).toEqual([2, 4]);
    const points = errors.map((e) => e.obj.point);
    // started (queue wait) and attemptEnded (latency) of each of the two attempts.
    expect(points.sort()).toEqual(["attemptEnded", "attemptEnded", "started", "started"]);
    await mill.stopNow(); // removing the callback throws too: logged, the stop still resolves
    expect(errors.at(-1)?.msg).toBe("taskmill observability threw while closing");
  });

  it("a meter provider that throws turns metrics off, loudly, and the manager works", async () => {
    const { logger, errors } = errorLog();
    const { mill, clock } = millWith({ logger, metrics: { meterProvider: { getMeter: explode } } });
    const task = await mill.submit("job", 5);
    await clock.advance(10);
    await expect(task.result()).resolves.toBe(10);
    expect(errors.map((e) => e.msg)).toEqual([
      "taskmill metrics could not be set up; metrics are off",
    ]);
  });

  it("a tracer that throws at startSpan: the handler still runs exactly once", async () => {
    const { logger, errors } = errorLog();
    const tracer = { startSpan: explode, startActiveSpan: explode } as unknown as Tracer;
    const tracerProvider: TracerProvider = { getTracer: () => tracer };
    const { mill, clock, calls } = millWith({ logger, tracing: { tracerProvider } });
    const task = await mill.submit("job", 4);
    await clock.advance(10);
    await expect(task.result()).resolves.toBe(8);
    expect(calls()).toBe(1);
    expect(errors.map((e) => [e.obj.component, e.obj.point])).toEqual([["tracing", "invoke"]]);
  });

  it("a span whose end() throws is logged; a handler's own sync throw is still its failure", async () => {
    const { logger, errors } = errorLog();
    const real = trace.getTracer("x"); // a no-op tracer from the API
    const tracer = {
      startSpan: (...args: Parameters<Tracer["startSpan"]>): Span => {
        const span = real.startSpan(...args);
        // Recording, as an SDK's sampled span is: taskmill only ends spans that record.
        span.isRecording = () => true;
        span.end = explode;
        return span;
      },
    } as unknown as Tracer;
    const { mill, clock } = millWith({
      logger,
      tracing: { tracerProvider: { getTracer: () => tracer } },
      retry: { maxRetries: 0 },
    });
    mill.register("sync-throw", () => {
      throw new Error("handler says no");
    });
    const ok = await mill.submit("job", 1);
    const bad = await mill.submit("sync-throw");
    await clock.advance(10);
    await expect(ok.result()).resolves.toBe(2);
    await expect(bad.result()).rejects.toThrow("handler says no");
    expect(errors.filter((e) => e.obj.component === "tracing").map((e) => e.obj.point)).toEqual([
      "attemptEnded",
      "attemptEnded",
    ]);
  });

  it("a logger that throws at every level breaks nothing (hooks and metrics on)", async () => {
    const logger: Logger = { debug: explode, info: explode, warn: explode, error: explode };
    const { provider, reader } = sdkMeterProvider();
    const { mill, clock } = millWith({
      logger,
      metrics: { meterProvider: provider },
      hooks: { onFinish: explode },
      retry: { maxRetries: 1, backoff: "fixed", baseDelayMs: 1, jitter: "none" },
    });
    mill.register("fails", async () => {
      throw new Error("x");
    });
    const ok = await mill.submit("job", 3);
    const fails = await mill.submit("fails");
    fails.result().catch(() => {});
    await clock.advance(50);
    await expect(ok.result()).resolves.toBe(6);
    const m = await collect(reader);
    expect(valueAt(m, "tasks_failed_total", { queue: "default", task: "fails" })).toBe(1);
    expect(total(m, "tasks_completed_total")).toBe(1);
  });

  it("a failing queue-depth reader is logged; the counters are still reported", async () => {
    const { logger, errors } = errorLog();
    const { provider, reader } = sdkMeterProvider();
    const metrics = new MetricsInstrumentation(provider.getMeter("t"), {
      now: () => 0,
      readDepths: async () => {
        throw new Error("redis down");
      },
      logger,
    });
    metrics.resultDropped(
      {
        id: "1",
        name: "n",
        queue: "q",
        status: "succeeded",
        attempts: 1,
        createdAt: 0,
        finishedAt: 1,
      },
      "drop-oldest",
    );
    const m = await collect(reader);
    expect(
      valueAt(m, "results_dropped_total", { queue: "q", task: "n", policy: "drop-oldest" }),
    ).toBe(1);
    expect(m.get("queue_depth")?.points ?? []).toEqual([]);
    expect(errors.map((e) => e.msg)).toEqual(["taskmill metrics: reading queue depths failed"]);
    metrics.close();
  });
});
