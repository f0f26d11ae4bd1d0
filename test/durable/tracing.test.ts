/**
 * Trace context travels with a durable task: the worker's attempt span joins the trace of the
 * span that submitted it, through Redis, between two managers that share only the prefix.
 */
import { randomUUID } from "node:crypto";
import { context, propagation } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import {
  InMemorySpanExporter,
  SimpleSpanProcessor,
  TracerProvider,
} from "@opentelemetry/sdk-trace";
import { TaskManager } from "taskmill";
import { afterAll, beforeAll, expect, it } from "vitest";
import { useRedis } from "../stores/redis/fixture.js";

const redis = useRedis();
beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
});
afterAll(() => {
  context.disable();
  propagation.disable();
});

it("the worker's attempt span is a child of the producer's span", async () => {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  const prefix = `tr-${randomUUID().slice(0, 8)}`;
  const backend = { type: "redis", url: redis.server().url, prefix } as const;
  const producer = new TaskManager({
    backend,
    tracing: { tracerProvider: provider },
    metrics: false,
  });
  const worker = new TaskManager({
    backend,
    tracing: { tracerProvider: provider },
    metrics: false,
  });
  worker.register("traced", async () => "done");
  try {
    const tracer = provider.getTracer("test");
    let traceId = "";
    let spanId = "";
    const task = await tracer.startActiveSpan("http.request", async (span) => {
      traceId = span.spanContext().traceId;
      spanId = span.spanContext().spanId;
      try {
        return await producer.submit("traced", { any: "payload" });
      } finally {
        span.end();
      }
    });
    expect(await task.result()).toBe("done");
    await expect
      .poll(() => exporter.getFinishedSpans().filter((s) => s.name === "taskmill.attempt").length)
      .toBe(1);
    const attempt = exporter.getFinishedSpans().find((s) => s.name === "taskmill.attempt");
    expect(attempt?.spanContext().traceId).toBe(traceId);
    expect(attempt?.parentSpanContext?.spanId).toBe(spanId);
  } finally {
    await Promise.all([producer.stopNow(), worker.stopNow()]);
  }
});
