import {
  context,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanStatusCode,
  trace,
} from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import {
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
  TracerProvider,
} from "@opentelemetry/sdk-trace";
import {
  extractTraceContext,
  injectTraceContext,
  ManualClock,
  PermanentError,
  TaskManager,
} from "taskmill";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { sleep } from "./workload.js";

const contextManager = new AsyncLocalStorageContextManager();
beforeAll(() => {
  context.setGlobalContextManager(contextManager.enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
});
afterAll(() => {
  context.disable();
  propagation.disable();
});

function sdk() {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  return { exporter, provider, tracer: provider.getTracer("test") };
}

const stops: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

function millWith(provider: TracerProvider, clock = new ManualClock(1_000)) {
  let next = 0;
  const mill = new TaskManager({
    clock,
    concurrency: 4,
    createId: () => `t${++next}`,
    retry: { maxRetries: 2, backoff: "fixed", baseDelayMs: 100, jitter: "none" },
    tracing: { tracerProvider: provider },
    metrics: false,
  });
  stops.push(() => mill.stopNow());
  return { mill, clock };
}

const attempts = (exporter: InMemorySpanExporter) =>
  exporter.getFinishedSpans().filter((span) => span.name === "taskmill.attempt");

const ms = (span: ReadableSpan) => span.duration[0] * 1_000 + span.duration[1] / 1e6;

describe("a span per attempt", () => {
  it("is a child of the submitter's span, with task attributes and status OK", async () => {
    const { exporter, provider, tracer } = sdk();
    const { mill, clock } = millWith(provider);
    mill.register("ok", async () => {
      await sleep(clock, 30);
      return 1;
    });
    let parent: Span | undefined;
    const task = await tracer.startActiveSpan("http.request", async (span) => {
      parent = span;
      try {
        return await mill.submit("ok", { any: "payload" });
      } finally {
        span.end();
      }
    });
    await clock.advance(30);
    await expect(task.result()).resolves.toBe(1);
    const [span, ...others] = attempts(exporter);
    expect(others).toEqual([]);
    expect(span?.parentSpanContext?.spanId).toBe(parent?.spanContext().spanId);
    expect(span?.spanContext().traceId).toBe(parent?.spanContext().traceId);
    expect(span?.attributes).toEqual({
      "taskmill.task.id": task.id,
      "taskmill.task.name": "ok",
      "taskmill.queue": "default",
      "taskmill.attempt": 1,
      "taskmill.attempt.status": "succeeded",
    });
    expect(span?.status.code).toBe(SpanStatusCode.OK);
    expect(span?.instrumentationScope).toMatchObject({ name: "taskmill", version: "0.1.0" });
    expect(ms(span as ReadableSpan)).toBeCloseTo(30, 6); // timed by the manager's clock
  });

  it("one span per attempt; failed ones have ERROR status and the exception recorded", async () => {
    const { exporter, provider, tracer } = sdk();
    const { mill, clock } = millWith(provider);
    let calls = 0;
    mill.register("flaky", async () => {
      calls++;
      await sleep(clock, 10);
      if (calls < 3) throw new Error(`boom ${calls}`);
      return "ok";
    });
    const parent = tracer.startSpan("producer");
    const task = await context.with(trace.setSpan(context.active(), parent), () =>
      mill.submit("flaky"),
    );
    parent.end();
    await clock.advance(1_000);
    await expect(task.result()).resolves.toBe("ok");
    const spans = attempts(exporter);
    expect(spans.map((span) => span.attributes["taskmill.attempt"])).toEqual([1, 2, 3]);
    for (const span of spans) {
      expect(span.parentSpanContext?.spanId).toBe(parent.spanContext().spanId);
      expect(span.spanContext().traceId).toBe(parent.spanContext().traceId);
    }
    const [first, second, third] = spans as [ReadableSpan, ReadableSpan, ReadableSpan];
    for (const [span, message] of [
      [first, "boom 1"],
      [second, "boom 2"],
    ] as const) {
      expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message });
      expect(span.attributes["taskmill.attempt.status"]).toBe("failed");
      const exception = span.events.find((event) => event.name === "exception");
      expect(exception?.attributes).toMatchObject({
        "exception.type": "Error",
        "exception.message": message,
      });
    }
    expect(third.status.code).toBe(SpanStatusCode.OK);
  });

  it("a timed-out attempt and a permanent failure end with ERROR; a cancelled one does not", async () => {
    const { exporter, provider } = sdk();
    const { mill, clock } = millWith(provider);
    mill.register(
      "slow",
      (_payload, ctx) =>
        new Promise((_resolve, reject) =>
          ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason)),
        ),
      { timeoutMs: 50, retry: { maxRetries: 0 } },
    );
    mill.register("fatal", async () => {
      throw new PermanentError("bad input");
    });
    const slow = await mill.submit("slow");
    const fatal = await mill.submit("fatal");
    const cancelled = await mill.submit("slow", undefined, { timeoutMs: 0 });
    for (const handle of [slow, fatal, cancelled]) handle.result().catch(() => {});
    await clock.advance(10);
    await mill.cancel(cancelled.id);
    await clock.advance(100);
    const byTask = new Map(
      attempts(exporter).map((span) => [span.attributes["taskmill.task.id"], span]),
    );
    const timedOut = byTask.get(slow.id) as ReadableSpan;
    expect(timedOut.status.code).toBe(SpanStatusCode.ERROR);
    expect(timedOut.attributes["taskmill.attempt.status"]).toBe("timeout");
    // The SDK reports an error's `code` as its exception type when it has one.
    expect(timedOut.events.find((e) => e.name === "exception")?.attributes).toMatchObject({
      "exception.type": "ERR_TIMEOUT",
      "exception.message": "The attempt timed out after 50 ms",
    });
    expect(byTask.get(fatal.id)?.status).toEqual({
      code: SpanStatusCode.ERROR,
      message: "bad input",
    });
    const cancelSpan = byTask.get(cancelled.id) as ReadableSpan;
    expect(cancelSpan.status.code).toBe(SpanStatusCode.UNSET);
    expect(cancelSpan.attributes["taskmill.attempt.status"]).toBe("cancelled");
    expect(cancelSpan.events.map((e) => e.name)).toEqual(["taskmill.cancelled"]);
  });

  it("runs the handler inside its span: spans the handler starts are its children", async () => {
    const { exporter, provider, tracer } = sdk();
    const { mill, clock } = millWith(provider);
    mill.register("outer", async () => {
      await sleep(clock, 5);
      // After an await, the active context is still the attempt's.
      tracer.startSpan("db.query").end();
      return trace.getActiveSpan()?.spanContext().spanId;
    });
    const task = await mill.submit("outer");
    await clock.advance(5);
    const activeId = await task.result();
    const [attempt] = attempts(exporter);
    const query = exporter.getFinishedSpans().find((span) => span.name === "db.query");
    expect(activeId).toBe(attempt?.spanContext().spanId);
    expect(query?.parentSpanContext?.spanId).toBe(attempt?.spanContext().spanId);
    // Submitted outside any span: the attempt is a root span.
    expect(attempt?.parentSpanContext).toBeUndefined();
  });

  it("attempts never inherit another task's context from the dispatch path", async () => {
    const { exporter, provider, tracer } = sdk();
    const { mill, clock } = millWith(provider, new ManualClock(0));
    mill.register("t", async () => {
      await sleep(clock, 10);
    });
    const parentA = tracer.startSpan("A");
    await context.with(trace.setSpan(ROOT_CONTEXT, parentA), () => mill.submit("t"));
    const [, , , , later] = await Promise.all(Array.from({ length: 5 }, () => mill.submit("t")));
    await clock.advance(100);
    await later?.result();
    const spans = attempts(exporter);
    expect(spans).toHaveLength(6);
    const children = spans.filter(
      (s) => s.parentSpanContext?.spanId === parentA.spanContext().spanId,
    );
    expect(children).toHaveLength(1);
  });

  it("ends spans left open by handlers that ignore their signal when the manager stops", async () => {
    const { exporter, provider } = sdk();
    const { mill } = millWith(provider);
    mill.register("stubborn", () => new Promise(() => {}));
    const task = await mill.submit("stubborn");
    task.result().catch(() => {});
    await new Promise((resolve) => setImmediate(resolve));
    const report = await mill.stopNow();
    expect(report.abandoned).toEqual([task.id]);
    const [span] = attempts(exporter);
    expect(span?.attributes["taskmill.attempt.status"]).toBe("abandoned");
    expect(span?.status.code).toBe(SpanStatusCode.ERROR);
  });
});

describe("the global tracer provider (the default)", () => {
  afterEach(() => {
    trace.disable();
  });

  it("is a no-op until an SDK is installed, then traces without recreating the manager", async () => {
    const { exporter, provider, tracer } = sdk();
    const clock = new ManualClock(0);
    const mill = new TaskManager({ clock, metrics: false }); // tracing: the global provider
    stops.push(() => mill.stopNow());
    let active: string | undefined;
    mill.register("job", async () => {
      active = trace.getActiveSpan()?.spanContext().spanId;
    });
    await (await mill.submit("job")).result();
    expect(active).toBeUndefined();
    trace.setGlobalTracerProvider(provider);
    const parent = tracer.startSpan("request");
    const task = await context.with(trace.setSpan(ROOT_CONTEXT, parent), () => mill.submit("job"));
    await task.result();
    const [span] = attempts(exporter);
    expect(span?.parentSpanContext?.spanId).toBe(parent.spanContext().spanId);
    expect(active).toBe(span?.spanContext().spanId);
  });
});

describe("trace context across processes (W3C traceparent in the task)", () => {
  it("a worker's attempt joins the producer's trace through inject/extract", async () => {
    const producerSdk = sdk();
    const workerSdk = sdk();
    // The worker: another manager with its own tracer provider, as in another process.
    const { mill: worker, clock } = millWith(workerSdk.provider);
    worker.register("email.send", async () => "sent");

    const producerSpan = producerSdk.tracer.startSpan("api.signup");
    const carrier = injectTraceContext(trace.setSpan(ROOT_CONTEXT, producerSpan));
    producerSpan.end();
    expect(carrier.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);

    // What a durable backend does with the stored carrier when it hands the task to a worker.
    const serialized = JSON.parse(JSON.stringify({ payload: {}, trace: carrier }));
    const task = await context.with(extractTraceContext(serialized.trace), () =>
      worker.submit("email.send"),
    );
    await clock.advance(0);
    await expect(task.result()).resolves.toBe("sent");
    const [span] = attempts(workerSdk.exporter);
    expect(span?.spanContext().traceId).toBe(producerSpan.spanContext().traceId);
    expect(span?.parentSpanContext?.spanId).toBe(producerSpan.spanContext().spanId);
    expect(span?.parentSpanContext?.isRemote).toBe(true);
  });

  it("inject writes nothing without an active span; extract of an empty carrier is a root", () => {
    expect(injectTraceContext(ROOT_CONTEXT)).toEqual({});
    expect(trace.getSpan(extractTraceContext({}))).toBeUndefined();
  });
});
