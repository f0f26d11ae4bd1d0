/**
 * Tracing through the OpenTelemetry API: one span per attempt, a child of the context that was
 * active when the task was submitted. A no-op until the service installs an SDK.
 */
import {
  type Attributes,
  type Context,
  context,
  ProxyTracerProvider,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  type TracerProvider,
  trace,
} from "@opentelemetry/api";
import { CancelledError } from "../errors.js";
import type { Attempt } from "../lifecycle/attempt.js";
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

/**
 * Starts a span per attempt in `invoke`, runs the handler inside it (so spans the handler
 * starts are its children) and ends it when the attempt ends: status OK on success, ERROR with
 * the exception recorded on failure or timeout, UNSET (with a `taskmill.cancelled` event) when
 * the attempt was cancelled.
 */
export class TracingInstrumentation implements Instrumentation {
  readonly queued = noInstrumentation.queued;
  readonly started = noInstrumentation.started;
  readonly retrying = noInstrumentation.retrying;
  readonly finished = noInstrumentation.finished;
  readonly #spans = new Map<Attempt, Span>();
  /** The global proxy while no SDK is behind it yet. */
  readonly #proxy: ProxyTracerProvider | undefined;
  #tracer: Tracer | undefined;

  constructor(provider: TracerProvider) {
    if (provider instanceof ProxyTracerProvider) {
      // The global provider: an SDK may be installed after the manager is created.
      this.#proxy = provider;
      this.#tracer = provider.getDelegateTracer(INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION);
    } else this.#tracer = provider.getTracer(INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION);
  }

  invoke<T>(attempt: Attempt, call: () => T): T {
    const tracer = this.#tracer ?? this.#delegate();
    // No SDK installed: there is nothing to record and no span to parent anything to.
    if (tracer === undefined) return call();
    const parent = attempt.record.traceContext ?? ROOT_CONTEXT;
    // Given at creation (literal keys: cheaper), so samplers can decide on them.
    const attributes: Attributes = {
      "taskmill.task.id": attempt.taskId,
      "taskmill.task.name": attempt.name,
      "taskmill.queue": attempt.queue,
      "taskmill.attempt": attempt.attempt,
    };
    const span = tracer.startSpan(
      ATTEMPT_SPAN_NAME,
      { kind: SpanKind.INTERNAL, startTime: attempt.startedAt, attributes },
      parent,
    );
    this.#spans.set(attempt, span);
    return context.with(trace.setSpan(parent, span), call);
  }

  attemptEnded(attempt: Attempt, error: Error | undefined, now: number): void {
    const span = this.#spans.get(attempt);
    if (span === undefined) return;
    this.#spans.delete(attempt);
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
    return this.#tracer;
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
