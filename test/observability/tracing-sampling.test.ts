import {
  context,
  propagation,
  ROOT_CONTEXT,
  type SpanContext,
  TraceFlags,
  type Tracer,
  trace,
} from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  InMemorySpanExporter,
  ParentBasedSampler,
  type Sampler,
  SimpleSpanProcessor,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from "@opentelemetry/sdk-trace";
import {
  extractTraceContext,
  INSTRUMENTATION_NAME,
  INSTRUMENTATION_VERSION,
  injectTraceContext,
  TaskManager,
} from "taskmill";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { parentBasedDelegates, samplerTraits } from "../../src/observability/tracing.js";

const contextManager = new AsyncLocalStorageContextManager();
beforeAll(() => {
  context.setGlobalContextManager(contextManager.enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
});
afterAll(() => {
  context.disable();
  propagation.disable();
});

const stops: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const stop of stops.splice(0)) await stop();
});

function sdk(sampler?: Sampler) {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({
    ...(sampler === undefined ? {} : { sampler }),
    spanProcessors: [new SimpleSpanProcessor({ exporter })],
  });
  // The very tracer taskmill gets (the SDK caches tracers by name and version).
  const taskmillTracer = provider.getTracer(INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION);
  const startSpan = vi.spyOn(taskmillTracer, "startSpan");
  return { exporter, provider, startSpan };
}

/** What the handler sees: the active span context and the traceparent it would propagate. */
interface Seen {
  active: SpanContext | undefined;
  traceparent: string | undefined;
  recording: boolean | undefined;
}

function millWith(provider: TracerProvider, skipUnsampledChildren?: boolean) {
  const mill = new TaskManager({
    metrics: false,
    tracing: {
      tracerProvider: provider,
      ...(skipUnsampledChildren === undefined ? {} : { skipUnsampledChildren }),
    },
  });
  stops.push(() => mill.stopNow());
  const seen: Seen[] = [];
  mill.register("job", async () => {
    await new Promise((resolve) => setImmediate(resolve));
    const active = trace.getActiveSpan();
    seen.push({
      active: active?.spanContext(),
      traceparent: injectTraceContext().traceparent,
      recording: active?.isRecording(),
    });
  });
  return { mill, seen };
}

const TRACE_ID = "0af7651916cd43dd8448eb211c80319c";
const SPAN_ID = "b7ad6b7169203331";

function parentContext(flags: TraceFlags, isRemote = false) {
  return trace.setSpanContext(ROOT_CONTEXT, {
    traceId: TRACE_ID,
    spanId: SPAN_ID,
    traceFlags: flags,
    isRemote,
  });
}

async function runIn(mill: TaskManager, parent: ReturnType<typeof parentContext>) {
  const task = await context.with(parent, () => mill.submit("job"));
  await task.result();
}

const attempts = (exporter: InMemorySpanExporter) =>
  exporter.getFinishedSpans().filter((span) => span.name === "taskmill.attempt");

describe("children of an unsampled parent (skipUnsampledChildren, default on)", () => {
  it("with the SDK's default sampler: no span is started, the handler runs in the parent's context", async () => {
    const { exporter, provider, startSpan } = sdk();
    const { mill, seen } = millWith(provider);
    await runIn(mill, parentContext(TraceFlags.NONE));
    expect(startSpan).not.toHaveBeenCalled();
    expect(attempts(exporter)).toEqual([]);
    // Propagation continues: same trace, still unsampled.
    expect(seen[0]?.active).toMatchObject({ traceId: TRACE_ID, spanId: SPAN_ID });
    expect(seen[0]?.recording).toBe(false);
    expect(seen[0]?.traceparent).toBe(`00-${TRACE_ID}-${SPAN_ID}-00`);
  });

  it("a remote unsampled parent (extracted traceparent ...-00) is skipped the same way", async () => {
    const { exporter, provider, startSpan } = sdk();
    const { mill, seen } = millWith(provider);
    await runIn(mill, extractTraceContext({ traceparent: `00-${TRACE_ID}-${SPAN_ID}-00` }));
    expect(startSpan).not.toHaveBeenCalled();
    expect(attempts(exporter)).toEqual([]);
    expect(seen[0]?.traceparent).toBe(`00-${TRACE_ID}-${SPAN_ID}-00`);
  });

  it("sampled parents, root tasks and invalid parents still get their span", async () => {
    const { exporter, provider, startSpan } = sdk();
    const { mill } = millWith(provider);
    await runIn(mill, parentContext(TraceFlags.SAMPLED));
    await runIn(mill, ROOT_CONTEXT);
    await runIn(
      mill,
      trace.setSpanContext(ROOT_CONTEXT, {
        traceId: "0".repeat(32),
        spanId: "0".repeat(16),
        traceFlags: TraceFlags.NONE,
      }),
    );
    expect(startSpan).toHaveBeenCalledTimes(3);
    const spans = attempts(exporter);
    expect(spans).toHaveLength(3);
    expect(spans[0]?.parentSpanContext?.spanId).toBe(SPAN_ID);
    expect(spans[1]?.parentSpanContext).toBeUndefined();
  });

  it("turned off: the span is started (and the SDK's sampler drops it)", async () => {
    const { exporter, provider, startSpan } = sdk();
    const { mill, seen } = millWith(provider, false);
    await runIn(mill, parentContext(TraceFlags.NONE));
    expect(startSpan).toHaveBeenCalledTimes(1);
    expect(attempts(exporter)).toEqual([]);
    // The handler runs in the attempt's own non-recording span: same trace, a new span id.
    expect(seen[0]?.active?.traceId).toBe(TRACE_ID);
    expect(seen[0]?.active?.spanId).not.toBe(SPAN_ID);
    expect(seen[0]?.recording).toBe(false);
  });

  it("a sampler that records children of unsampled parents still gets them, option on", async () => {
    const samplers: Sampler[] = [
      new AlwaysOnSampler(),
      new TraceIdRatioBasedSampler(1),
      new ParentBasedSampler({
        root: new AlwaysOnSampler(),
        localParentNotSampled: new AlwaysOnSampler(),
      }),
    ];
    for (const sampler of samplers) {
      const { exporter, provider, startSpan } = sdk(sampler);
      const { mill } = millWith(provider);
      await runIn(mill, parentContext(TraceFlags.NONE));
      expect(startSpan, String(sampler)).toHaveBeenCalledTimes(1);
      const [span] = attempts(exporter);
      expect(span?.parentSpanContext?.spanId, String(sampler)).toBe(SPAN_ID);
    }
  });

  it("ParentBased with a recording delegate for remote unsampled parents only", async () => {
    const sampler = new ParentBasedSampler({
      root: new AlwaysOnSampler(),
      remoteParentNotSampled: new AlwaysOnSampler(),
    });
    const { exporter, provider, startSpan } = sdk(sampler);
    const { mill } = millWith(provider);
    await runIn(mill, parentContext(TraceFlags.NONE, false)); // local: skipped
    await runIn(mill, parentContext(TraceFlags.NONE, true)); // remote: recorded
    expect(startSpan).toHaveBeenCalledTimes(1);
    expect(attempts(exporter)).toHaveLength(1);
  });
});

describe("spans the sampler drops", () => {
  it("a root the sampler drops is not kept, and the handler still sees its unsampled decision", async () => {
    const { exporter, provider, startSpan } = sdk(
      new ParentBasedSampler({ root: new AlwaysOffSampler() }),
    );
    const { mill, seen } = millWith(provider);
    await runIn(mill, ROOT_CONTEXT);
    expect(startSpan).toHaveBeenCalledTimes(1);
    expect(attempts(exporter)).toEqual([]);
    expect(seen[0]?.recording).toBe(false);
    expect(seen[0]?.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
  });
});

describe("reading the sampler", () => {
  it("parses ParentBased descriptions, nested ones included", () => {
    expect(parentBasedDelegates(String(new AlwaysOnSampler()))).toBeUndefined();
    const nested = new ParentBasedSampler({
      root: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(0.1) }),
      localParentNotSampled: new ParentBasedSampler({ root: new AlwaysOnSampler() }),
    });
    const delegates = parentBasedDelegates(String(nested));
    expect(delegates?.get("remoteParentNotSampled")).toBe("AlwaysOffSampler");
    expect(delegates?.get("localParentNotSampled")).toMatch(/^ParentBased\{/);
    expect(delegates?.get("root")).toMatch(/^ParentBased\{root=TraceIdRatioBased\{0\.1\}/);
    expect(parentBasedDelegates("ParentBased{root=x")).toBeUndefined();
    expect(parentBasedDelegates("ParentBased{root}")).toBeUndefined();
  });

  it("unknown tracers and odd ones are assumed to record such children and read attributes", () => {
    const unknown = {
      dropsUnsampledLocalChild: false,
      dropsUnsampledRemoteChild: false,
      ignoresAttributes: false,
    };
    expect(samplerTraits(trace.getTracer("noop"))).toEqual(unknown);
    expect(samplerTraits({ _sampler: "ParentBased{}" } as unknown as Tracer)).toEqual(unknown);
    const throwing = Object.defineProperty({}, "_sampler", {
      get() {
        throw new Error("no");
      },
    });
    expect(samplerTraits(throwing as Tracer)).toEqual(unknown);
    const custom: Sampler = {
      shouldSample: () => ({ decision: 0 }),
      toString: () => "MySampler",
    };
    expect(samplerTraits(new TracerProvider({ sampler: custom }).getTracer("x"))).toEqual(unknown);
  });

  it("the SDK's own samplers", () => {
    const traits = (sampler?: Sampler) =>
      samplerTraits(new TracerProvider(sampler === undefined ? {} : { sampler }).getTracer("x"));
    expect(traits()).toEqual({
      dropsUnsampledLocalChild: true,
      dropsUnsampledRemoteChild: true,
      ignoresAttributes: true,
    });
    expect(traits(new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(0.25) }))).toEqual({
      dropsUnsampledLocalChild: true,
      dropsUnsampledRemoteChild: true,
      ignoresAttributes: true,
    });
    expect(traits(new AlwaysOnSampler())).toEqual({
      dropsUnsampledLocalChild: false,
      dropsUnsampledRemoteChild: false,
      ignoresAttributes: true,
    });
    const custom: Sampler = { shouldSample: () => ({ decision: 0 }), toString: () => "Mine" };
    expect(
      traits(
        new ParentBasedSampler({ root: custom, remoteParentNotSampled: new AlwaysOnSampler() }),
      ),
    ).toEqual({
      dropsUnsampledLocalChild: true,
      dropsUnsampledRemoteChild: false,
      ignoresAttributes: false,
    });
  });
});

describe("span attributes", () => {
  it("a sampler that may read attributes gets them at creation", async () => {
    const seen: Array<Record<string, unknown>> = [];
    const reading: Sampler = {
      shouldSample: (_ctx, _traceId, _name, _kind, attributes) => {
        seen.push({ ...attributes });
        return { decision: 2 };
      },
      toString: () => "ReadsAttributes",
    };
    const { exporter, provider } = sdk(reading);
    const { mill } = millWith(provider);
    await runIn(mill, ROOT_CONTEXT);
    expect(seen[0]).toMatchObject({ "taskmill.task.name": "job", "taskmill.attempt": 1 });
    expect(attempts(exporter)[0]?.attributes).toMatchObject({ "taskmill.task.name": "job" });
  });

  it("with the SDK's samplers they are set after creation: the exported span is the same", async () => {
    const { exporter, provider, startSpan } = sdk();
    const { mill } = millWith(provider);
    await runIn(mill, parentContext(TraceFlags.SAMPLED));
    expect(startSpan.mock.calls[0]?.[1]?.attributes).toBeUndefined();
    expect(attempts(exporter)[0]?.attributes).toEqual({
      "taskmill.task.id": expect.any(String),
      "taskmill.task.name": "job",
      "taskmill.queue": "default",
      "taskmill.attempt": 1,
      "taskmill.attempt.status": "succeeded",
    });
  });
});
