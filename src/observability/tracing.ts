/**
 * Tracing through the OpenTelemetry API: one span per attempt, a child of the context that was
 * active when the task was submitted. A no-op until the service installs an SDK.
 */
import {
  type Attributes,
  type Context,
  context,
  isSpanContextValid,
  ProxyTracerProvider,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  type Tracer,
  type TracerProvider,
  trace,
} from "@opentelemetry/api";
import { CancelledError } from "../errors.js";
import type { Attempt } from "../lifecycle/task-record.js";
import { type Instrumentation, noInstrumentation } from "./instrumentation.js";
import { attemptStatus } from "./metric-definitions.js";
import { INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION } from "./scope.js";

/** Name of the span of each attempt. */
export const ATTEMPT_SPAN_NAME = "taskmill.attempt";

/** Attribute keys set on `taskmill.attempt` spans. */
export const SPAN_ATTRIBUTES = Object.freeze({
  taskId: "taskmill.task.id",
  taskName: "taskmill.task.name",
  queue: "taskmill.queue",
  attempt: "taskmill.attempt",
  /** How the attempt ended: succeeded, failed, timeout, cancelled or abandoned. */
  status: "taskmill.attempt.status",
});

/** Settings of {@link TracingInstrumentation} beyond the provider (option `tracing`). */
export interface TracingSettings {
  /**
   * Skip the span of an attempt whose parent (the submitter's span) is valid and not sampled,
   * when the tracer's sampler is known to drop such a child anyway: run the handler in the
   * parent's context instead, so propagation still carries the unsampled decision. Nothing
   * recorded changes. @default true
   */
  readonly skipUnsampledChildren?: boolean;
}

/**
 * Starts a span per attempt in `invoke`, runs the handler inside it (so spans the handler
 * starts are its children) and ends it when the attempt ends: status OK on success, ERROR with
 * the exception recorded on failure or timeout, UNSET (with a `taskmill.cancelled` event) when
 * the attempt was cancelled.
 *
 * Hot path: a span that does not record (the sampler dropped it) is not kept or ended (ending
 * it does nothing); with the SDK's own samplers, which never read attributes, the attributes
 * are set only on spans that record; and the child of an unsampled parent is not started at
 * all when the sampler is the SDK's parent-based one that drops it (see
 * {@link TracingSettings.skipUnsampledChildren}). What is recorded is the same in every case.
 */
export class TracingInstrumentation implements Instrumentation {
  readonly queued = noInstrumentation.queued;
  readonly started = noInstrumentation.started;
  readonly retrying = noInstrumentation.retrying;
  readonly finished = noInstrumentation.finished;
  /** Open spans that record, by attempt (non-recording spans are not kept). */
  readonly #spans = new Map<Attempt, Span>();
  /** The global proxy while no SDK is behind it yet. */
  readonly #proxy: ProxyTracerProvider | undefined;
  readonly #skipUnsampledChildren: boolean;
  #tracer: Tracer | undefined;
  /** What the tracer's sampler is known to do (nothing assumed for an unknown sampler). */
  #sampler: SamplerTraits = UNKNOWN_SAMPLER;

  constructor(provider: TracerProvider, settings: TracingSettings = {}) {
    this.#skipUnsampledChildren = settings.skipUnsampledChildren ?? true;
    if (provider instanceof ProxyTracerProvider) {
      // The global provider: an SDK may be installed after the manager is created.
      this.#proxy = provider;
      this.#tracer = provider.getDelegateTracer(INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION);
    } else this.#tracer = provider.getTracer(INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION);
    if (this.#tracer !== undefined) this.#inspect(this.#tracer);
  }

  invoke<T>(attempt: Attempt, call: () => T): T {
    const tracer = this.#tracer ?? this.#delegate();
    // No SDK installed: there is nothing to record and no span to parent anything to.
    if (tracer === undefined) return call();
    const parent = attempt.record.traceContext ?? ROOT_CONTEXT;
    const parentSpan = trace.getSpanContext(parent);
    if (
      parentSpan !== undefined &&
      (parentSpan.traceFlags & TraceFlags.SAMPLED) === 0 &&
      (parentSpan.isRemote === true
        ? this.#sampler.dropsUnsampledRemoteChild
        : this.#sampler.dropsUnsampledLocalChild) &&
      isSpanContextValid(parentSpan)
    )
      // The sampler would return a non-recording span: run in the parent's context instead,
      // which carries the same trace id and the same unsampled decision to whatever the
      // handler starts or propagates.
      return context.with(parent, call);
    let span: Span;
    if (this.#sampler.ignoresAttributes) {
      // The sampler never reads attributes: set them only on a span that records (the SDK's
      // validation of creation attributes is most of the cost of a span it then drops).
      span = tracer.startSpan(
        ATTEMPT_SPAN_NAME,
        { kind: SpanKind.INTERNAL, startTime: attempt.startedAt },
        parent,
      );
      if (span.isRecording()) {
        span.setAttributes(attemptAttributes(attempt));
        this.#spans.set(attempt, span);
      }
    } else {
      // Given at creation, so samplers can decide on them.
      span = tracer.startSpan(
        ATTEMPT_SPAN_NAME,
        {
          kind: SpanKind.INTERNAL,
          startTime: attempt.startedAt,
          attributes: attemptAttributes(attempt),
        },
        parent,
      );
      // A span that does not record ignores status, attributes and end(): nothing to keep.
      if (span.isRecording()) this.#spans.set(attempt, span);
    }
    return context.with(trace.setSpan(parent, span), call);
  }

  attemptEnded(attempt: Attempt, error: Error | undefined, now: number): void {
    const span = this.#spans.get(attempt);
    if (span === undefined) return;
    this.#spans.delete(attempt);
    // Still recording unless the handler ended the active span itself.
    if (span.isRecording()) {
      const status = attemptStatus(error);
      span.setAttribute(SPAN_ATTRIBUTES.status, status);
      if (error === undefined) span.setStatus({ code: SpanStatusCode.OK });
      else if (error instanceof CancelledError)
        span.addEvent("taskmill.cancelled", { "taskmill.cancel.reason": error.reason });
      else {
        span.recordException(error);
        span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
      }
    }
    span.end(now);
  }

  #delegate(): Tracer | undefined {
    this.#tracer = this.#proxy?.getDelegateTracer(INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION);
    if (this.#tracer !== undefined) this.#inspect(this.#tracer);
    return this.#tracer;
  }

  #inspect(tracer: Tracer): void {
    const traits = samplerTraits(tracer);
    this.#sampler = this.#skipUnsampledChildren
      ? traits
      : { ...traits, dropsUnsampledLocalChild: false, dropsUnsampledRemoteChild: false };
  }

  /**
   * Ends the spans of attempts whose handlers never settled (they ignored their abort signal
   * through a stop), so traces are complete. Called once the manager has stopped.
   */
  close(now: number): void {
    for (const span of this.#spans.values()) {
      span.setAttribute(SPAN_ATTRIBUTES.status, "abandoned");
      span.setStatus({
        code: SpanStatusCode.ERROR,
        message: "abandoned: the handler ignored its abort signal through a stop",
      });
      span.end(now);
    }
    this.#spans.clear();
  }
}

/** The attributes of an attempt's span known at its start (literal keys: cheaper). */
function attemptAttributes(attempt: Attempt): Attributes {
  return {
    "taskmill.task.id": attempt.taskId,
    "taskmill.task.name": attempt.name,
    "taskmill.queue": attempt.queue,
    "taskmill.attempt": attempt.attempt,
  };
}

/** What taskmill knows of a tracer's sampler; every field false means "nothing known". */
export interface SamplerTraits {
  /** A span whose parent is local, valid and not sampled is never recorded. */
  readonly dropsUnsampledLocalChild: boolean;
  /** A span whose parent is remote, valid and not sampled is never recorded. */
  readonly dropsUnsampledRemoteChild: boolean;
  /** The decision never depends on the span's attributes. */
  readonly ignoresAttributes: boolean;
}

const UNKNOWN_SAMPLER: SamplerTraits = Object.freeze({
  dropsUnsampledLocalChild: false,
  dropsUnsampledRemoteChild: false,
  ignoresAttributes: false,
});

/**
 * Reads what `tracer`'s sampler does, when it can be known for sure: only for the
 * OpenTelemetry JS SDK's tracer (`@opentelemetry/sdk-trace`, `sdk-trace-base`,
 * `sdk-trace-node`: it keeps its sampler in `_sampler`) and only from the SDK's own samplers,
 * read from `toString()`, which samplers implement to describe their configuration.
 *
 * - It drops the child of an unsampled parent when it is a `ParentBasedSampler` whose delegate
 *   for that kind of parent is `AlwaysOffSampler`, as in the SDK's default sampler
 *   `ParentBased(root: AlwaysOn)`.
 * - It ignores attributes when it is built only of `AlwaysOn`, `AlwaysOff`,
 *   `TraceIdRatioBased` and `ParentBased` samplers.
 *
 * Any other tracer or sampler (a custom one, `AlwaysRecordSampler`, another SDK) may record such
 * a child or read attributes: nothing is assumed and spans are started as usual.
 */
export function samplerTraits(tracer: Tracer): SamplerTraits {
  try {
    const sampler = (tracer as { _sampler?: unknown })._sampler;
    if (typeof sampler !== "object" || sampler === null) return UNKNOWN_SAMPLER;
    const description = String(sampler);
    const delegates = parentBasedDelegates(description);
    return {
      dropsUnsampledLocalChild: delegates?.get("localParentNotSampled") === "AlwaysOffSampler",
      dropsUnsampledRemoteChild: delegates?.get("remoteParentNotSampled") === "AlwaysOffSampler",
      ignoresAttributes: ignoresAttributes(description),
    };
  } catch {
    return UNKNOWN_SAMPLER;
  }
}

const ATTRIBUTE_BLIND = /^(?:AlwaysOnSampler|AlwaysOffSampler|TraceIdRatioBased\{[0-9.eE+-]*\})$/;

function ignoresAttributes(description: string): boolean {
  if (ATTRIBUTE_BLIND.test(description)) return true;
  const delegates = parentBasedDelegates(description);
  if (delegates === undefined || delegates.size !== 5) return false;
  for (const delegate of delegates.values()) if (!ignoresAttributes(delegate)) return false;
  return true;
}

/**
 * The delegates of a `ParentBased{root=…, remoteParentSampled=…, remoteParentNotSampled=…,
 * localParentSampled=…, localParentNotSampled=…}` description (nested braces allowed), or
 * undefined when `description` is not one.
 */
export function parentBasedDelegates(description: string): Map<string, string> | undefined {
  const prefix = "ParentBased{";
  if (!description.startsWith(prefix) || !description.endsWith("}")) return undefined;
  const body = description.slice(prefix.length, -1);
  const delegates = new Map<string, string>();
  let depth = 0;
  let start = 0;
  for (let i = 0; i <= body.length; i++) {
    const char = body[i];
    if (char === "{") depth++;
    else if (char === "}") depth--;
    if (depth < 0) return undefined;
    if (i < body.length && (char !== "," || depth > 0)) continue;
    const entry = body.slice(start, i).trim();
    const equals = entry.indexOf("=");
    if (equals <= 0) return undefined;
    delegates.set(entry.slice(0, equals), entry.slice(equals + 1));
    start = i + 1;
  }
  return depth === 0 ? delegates : undefined;
}

/**
 * The context to parent a task's attempts to: the one active now, at submit time. Stored on the
 * task so that retries, delays and (in durable mode) other processes keep the submitter's trace.
 */
export function captureTraceContext(): Context {
  return context.active();
}

/** A string map carrying W3C trace context (`traceparent`, `tracestate`) with a task. */
export type TraceCarrier = Record<string, string>;

/**
 * Writes `ctx` (default: the active context) into `carrier` through the global propagator, for
 * storing with a task that another process will run. Install a propagator first (for example
 * `W3CTraceContextPropagator` from `@opentelemetry/core`); with none, nothing is written.
 *
 * @example
 * ```ts
 * const carrier = injectTraceContext(); // { traceparent: "00-…-…-01" }
 * ```
 */
export function injectTraceContext(
  ctx: Context = context.active(),
  carrier: TraceCarrier = {},
): TraceCarrier {
  propagation.inject(ctx, carrier);
  return carrier;
}

/**
 * Reads trace context written by {@link injectTraceContext} back into a `Context` whose span is
 * the remote producer's, so spans started in it join the producer's trace.
 *
 * @example
 * ```ts
 * await context.with(extractTraceContext(carrier), () => mill.submit("email.send", payload));
 * ```
 */
export function extractTraceContext(
  carrier: Readonly<TraceCarrier>,
  base: Context = ROOT_CONTEXT,
): Context {
  return propagation.extract(base, carrier);
}
