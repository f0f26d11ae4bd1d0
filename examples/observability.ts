/**
 * Observability end to end: Prometheus metrics on `/metrics` (prom-client), a span per attempt
 * joined to the request that submitted it (OpenTelemetry SDK), structured logs without
 * payloads, and an audit hook. Run it with `npm run build && npx tsx examples/observability.ts`.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { context, SpanStatusCode } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import {
  InMemorySpanExporter,
  ParentBasedSampler,
  SimpleSpanProcessor,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from "@opentelemetry/sdk-trace";
import { Registry } from "prom-client";
import { type Logger, PermanentError, TaskManager } from "taskmill";
import { createPrometheusMetrics } from "taskmill/prometheus";

// 1. Tracing: a context manager (so the submitter's span follows the task) and a provider.
//    Production would export over OTLP with a BatchSpanProcessor; this keeps spans in memory.
const contextManager = new AsyncLocalStorageContextManager().enable();
context.setGlobalContextManager(contextManager);
const spans = new InMemorySpanExporter();
const tracerProvider = new TracerProvider({
  // Keep every trace whose root was sampled; sample 100 % of roots here, 1-10 % in production.
  sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(1) }),
  spanProcessors: [new SimpleSpanProcessor({ exporter: spans })],
});
const tracer = tracerProvider.getTracer("example-api");

// 2. Metrics: the service's own prom-client registry, served on /metrics.
const registry = new Registry();
const server = createServer(async (req, res) => {
  if (req.url !== "/metrics") {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, { "content-type": registry.contentType });
  res.end(await registry.metrics());
});
await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));

// 3. Logs: any pino-compatible logger; this one prints warn and above as JSON lines.
const print =
  (level: string): Logger["warn"] =>
  (obj, msg) =>
    console.log(
      JSON.stringify({ level, msg, ...obj, err: (obj.err as { message?: string })?.message }),
    );
const logger: Logger = {
  debug: () => {},
  info: () => {},
  warn: print("warn"),
  error: print("error"),
};

const mill = new TaskManager({
  concurrency: 4,
  retry: { maxRetries: 2, backoff: "fixed", baseDelayMs: 20, jitter: "none" },
  metrics: createPrometheusMetrics({ registry }),
  tracing: { tracerProvider },
  logger, // payloads and results stay out of the logs: logPayloads is false by default
  hooks: {
    // 4. An audit trail: one line per finished task, written by the service.
    onFinish: ({ task, status }) =>
      console.log(`audit    ${task.name} ${status} after ${task.attempts} attempt(s)`),
  },
});

let calls = 0;
mill.register("invoice.render", async (payload: { customer: string; cardNumber: string }) => {
  calls++;
  // Spans started here are children of the attempt's span.
  await tracer.startActiveSpan("pdf.render", async (span) => {
    await new Promise((resolve) => setTimeout(resolve, 5));
    span.end();
  });
  if (calls === 1) throw new Error("renderer busy"); // the first attempt fails, the retry works
  return { url: `https://files.example/${payload.customer}.pdf` };
});
mill.register("invoice.send", async () => {
  throw new PermanentError("mailbox does not exist");
});

// A request handler submits tasks inside its own span: each attempt becomes its child.
await tracer.startActiveSpan("POST /invoices", async (request) => {
  const rendered = await mill.submit("invoice.render", { customer: "c42", cardNumber: "4111…" });
  const sent = await mill.submit("invoice.send", { customer: "c42" });
  await rendered.result();
  await sent.result().catch(() => {});
  request.end();
});

const { port } = server.address() as AddressInfo;
const exposition = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
console.log("\n/metrics (excerpt):");
for (const line of exposition.split("\n"))
  if (
    /^taskmill_(tasks_(completed|failed)_total|retry_count_total|task_latency_seconds_count)\{/.test(
      line,
    )
  )
    console.log(`  ${line}`);

console.log("\nspans:");
const byId = new Map(spans.getFinishedSpans().map((s) => [s.spanContext().spanId, s]));
for (const span of spans.getFinishedSpans()) {
  const parent = span.parentSpanContext && byId.get(span.parentSpanContext.spanId);
  const attempt = span.attributes["taskmill.attempt"];
  const task = span.attributes["taskmill.task.name"];
  const label = attempt === undefined ? span.name : `${span.name} ${task} #${attempt}`;
  console.log(
    `  ${label.padEnd(40)} ${SpanStatusCode[span.status.code].padEnd(5)} parent: ${parent?.name ?? "(root)"}`,
  );
}

console.log("\nstats:", mill.stats());
await mill.stopGraceful();
await tracerProvider.shutdown();
await new Promise((resolve) => server.close(resolve));
context.disable();
contextManager.disable();
