/**
 * `taskmill/prometheus`: taskmill's metrics in a prom-client `Registry`, for services that serve
 * `/metrics` with prom-client. A separate entry point, so the core never loads prom-client (an
 * optional peer dependency).
 *
 * It works as an OpenTelemetry `MeterProvider` backed by prom-client: the manager records
 * through the same code path as with any OpenTelemetry SDK, and prom-client writes the text
 * exposition. Metric names, help texts, labels and buckets come from the one table in
 * `metrics.ts`, so they are the same under both.
 *
 * @example
 * ```ts
 * import { Registry } from "prom-client";
 * import { TaskManager } from "taskmill";
 * import { createPrometheusMetrics } from "taskmill/prometheus";
 *
 * const registry = new Registry();
 * const mill = new TaskManager({ metrics: createPrometheusMetrics({ registry }) });
 * // in your HTTP server:
 * //   res.setHeader("content-type", registry.contentType);
 * //   res.end(await registry.metrics());
 * ```
 */
import {
  type Attributes,
  type BatchObservableCallback,
  type BatchObservableResult,
  type Counter,
  createNoopMeter,
  diag,
  type Gauge,
  type Histogram,
  type Meter,
  type MeterProvider,
  type MetricOptions,
  type Observable,
  type ObservableCallback,
  type ObservableResult,
  type UpDownCounter,
} from "@opentelemetry/api";
import {
  register as globalRegistry,
  Counter as PromCounter,
  Gauge as PromGauge,
  type Registry,
} from "prom-client";
import { InvalidOptionError } from "../errors.js";
import { AggregatingHistogram } from "./aggregating-histogram.js";
import { METRICS, type MetricDefinition } from "./metric-definitions.js";

/** The prefix of every taskmill metric name in Prometheus unless `prefix` says otherwise. */
export const DEFAULT_METRIC_PREFIX = "taskmill_";

/** Options of {@link createPrometheusMetrics}. */
export interface PrometheusMetricsOptions {
  /** The service's registry; taskmill registers its metrics there. @default prom-client's global `register` */
  readonly registry?: Registry;
  /**
   * Prepended to every metric name, so taskmill's names never collide with others in a shared
   * registry; `""` for none. Must itself be a valid start of a metric name.
   * @default "taskmill_"
   */
  readonly prefix?: string;
}

/**
 * What {@link createPrometheusMetrics} returns. Pass it as the manager's `metrics` option (it
 * has the `meterProvider` that option takes); several managers may share one.
 */
export interface PrometheusMetrics {
  /** An OpenTelemetry `MeterProvider` recording into `registry`. */
  readonly meterProvider: MeterProvider;
  /** The registry holding taskmill's metrics. */
  readonly registry: Registry;
  /** The registry's text exposition, for a `/metrics` endpoint. */
  metrics(): Promise<string>;
  /** The `content-type` header to serve `metrics()` with. */
  readonly contentType: string;
}

/**
 * Registers every taskmill metric in a prom-client registry (at zero until a manager reports)
 * and returns the `metrics` option that makes a manager report there.
 *
 * @throws Error from prom-client if the registry already holds a metric of the same name
 * (create one per registry and share it between managers, or use `prefix`).
 * @throws InvalidOptionError for a `prefix` that would not make valid metric names.
 */
export function createPrometheusMetrics(options: PrometheusMetricsOptions = {}): PrometheusMetrics {
  const registry = options.registry ?? globalRegistry;
  const prefix = options.prefix ?? DEFAULT_METRIC_PREFIX;
  if (typeof prefix !== "string" || !/^([a-zA-Z_:][a-zA-Z0-9_:]*)?$/.test(prefix))
    throw new InvalidOptionError(
      "prefix",
      'must be "" or a valid start of a Prometheus metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)',
      prefix,
    );
  const meter = new PrometheusMeter(registry, prefix);
  const meterProvider: MeterProvider = { getMeter: () => meter };
  return {
    meterProvider,
    registry,
    metrics: () => registry.metrics(),
    get contentType() {
      return registry.contentType;
    },
  };
}

type PromMetric = PromCounter | PromGauge | AggregatingHistogram;
/** An observable instrument: a prom-client counter or gauge refilled at each collection. */
class PromObservable implements Observable {
  readonly callbacks = new Set<ObservableCallback>();

  constructor(readonly metric: PromCounter | PromGauge) {}

  addCallback(callback: ObservableCallback): void {
    this.callbacks.add(callback);
  }

  removeCallback(callback: ObservableCallback): void {
    this.callbacks.delete(callback);
  }

  /** Adds (not sets) so that several managers sharing one registry sum up. */
  write(value: number, attributes: Attributes | undefined): void {
    const labels = (attributes ?? {}) as Record<string, string | number>;
    if (this.metric instanceof PromCounter) {
      if (value >= 0) this.metric.inc(labels, value);
    } else this.metric.inc(labels, value);
  }
}

const NOOP_METER = createNoopMeter();

/**
 * The `Meter` behind {@link createPrometheusMetrics}. It knows taskmill's instruments by name
 * (prom-client needs label names up front); any other name gets a no-op instrument.
 */
class PrometheusMeter implements Meter {
  readonly #metrics = new Map<string, { definition: MetricDefinition; metric: PromMetric }>();
  readonly #observables = new Map<string, PromObservable>();
  readonly #batches = new Set<{ callback: BatchObservableCallback; observables: Observable[] }>();
  #cycle: Promise<void> | undefined;

  constructor(registry: Registry, prefix: string) {
    for (const definition of Object.values(METRICS) as MetricDefinition[]) {
      const config = {
        name: `${prefix}${definition.name}`,
        help: definition.description,
        labelNames: [...definition.labels],
        registers: [registry],
      };
      const collect = () => this.#collect();
      const metric =
        definition.kind === "histogram"
          ? new AggregatingHistogram({ ...config, buckets: [...(definition.buckets ?? [])] })
          : definition.kind === "counter"
            ? new PromCounter({ ...config, collect })
            : new PromGauge({ ...config, collect });
      this.#metrics.set(definition.name, { definition, metric });
      if (!(metric instanceof AggregatingHistogram))
        this.#observables.set(definition.name, new PromObservable(metric));
    }
  }

  createHistogram<A extends Attributes = Attributes>(
    name: string,
    options?: MetricOptions,
  ): Histogram<A> {
    const entry = this.#metrics.get(name);
    if (!(entry?.metric instanceof AggregatingHistogram))
      return NOOP_METER.createHistogram(name, options);
    const histogram = entry.metric;
    return { record: (value, attributes) => histogram.record(value, attributes) };
  }

  createCounter<A extends Attributes = Attributes>(
    name: string,
    options?: MetricOptions,
  ): Counter<A> {
    const entry = this.#metrics.get(name);
    if (!(entry?.metric instanceof PromCounter)) return NOOP_METER.createCounter(name, options);
    const counter = entry.metric;
    return {
      add: (value, attributes) =>
        counter.inc((attributes ?? {}) as Record<string, string | number>, value),
    };
  }

  createUpDownCounter<A extends Attributes = Attributes>(
    name: string,
    options?: MetricOptions,
  ): UpDownCounter<A> {
    const entry = this.#metrics.get(name);
    if (!(entry?.metric instanceof PromGauge)) return NOOP_METER.createUpDownCounter(name, options);
    const gauge = entry.metric;
    return {
      add: (value, attributes) =>
        gauge.inc((attributes ?? {}) as Record<string, string | number>, value),
    };
  }

  createGauge<A extends Attributes = Attributes>(name: string, options?: MetricOptions): Gauge<A> {
    const entry = this.#metrics.get(name);
    if (!(entry?.metric instanceof PromGauge)) return NOOP_METER.createGauge(name, options);
    const gauge = entry.metric;
    return {
      record: (value, attributes) =>
        gauge.set((attributes ?? {}) as Record<string, string | number>, value),
    };
  }

  createObservableGauge<A extends Attributes = Attributes>(
    name: string,
    options?: MetricOptions,
  ): Observable<A> {
    return this.#observable(name) ?? NOOP_METER.createObservableGauge(name, options);
  }

  createObservableCounter<A extends Attributes = Attributes>(
    name: string,
    options?: MetricOptions,
  ): Observable<A> {
    return this.#observable(name) ?? NOOP_METER.createObservableCounter(name, options);
  }

  createObservableUpDownCounter<A extends Attributes = Attributes>(
    name: string,
    options?: MetricOptions,
  ): Observable<A> {
    return this.#observable(name) ?? NOOP_METER.createObservableUpDownCounter(name, options);
  }

  addBatchObservableCallback<A extends Attributes = Attributes>(
    callback: BatchObservableCallback<A>,
    observables: Observable<A>[],
  ): void {
    this.#batches.add({
      callback: callback as BatchObservableCallback,
      observables: observables as Observable[],
    });
  }

  removeBatchObservableCallback<A extends Attributes = Attributes>(
    callback: BatchObservableCallback<A>,
  ): void {
    for (const batch of this.#batches) if (batch.callback === callback) this.#batches.delete(batch);
  }

  #observable(name: string): Observable<never> | undefined {
    return this.#observables.get(name) as Observable<never> | undefined;
  }

  /**
   * Refills every observable once per scrape: prom-client asks each metric in turn within one
   * synchronous pass, so all of them share the one collection in flight.
   */
  #collect(): Promise<void> {
    this.#cycle ??= this.#runCallbacks().finally(() => {
      this.#cycle = undefined;
    });
    return this.#cycle;
  }

  async #runCallbacks(): Promise<void> {
    for (const observable of this.#observables.values()) observable.metric.reset();
    const pending: Promise<unknown>[] = [];
    const run = (call: () => unknown) => {
      try {
        const returned = call();
        if (returned instanceof Promise) pending.push(returned.catch(reportCallbackError));
      } catch (error) {
        reportCallbackError(error);
      }
    };
    for (const observable of this.#observables.values())
      for (const callback of observable.callbacks) {
        const result: ObservableResult = {
          observe: (value, attributes) => observable.write(value, attributes),
        };
        run(() => callback(result));
      }
    for (const { callback, observables } of this.#batches) {
      const result: BatchObservableResult = {
        observe: (observable, value, attributes) => {
          if (observable instanceof PromObservable && observables.includes(observable))
            observable.write(value, attributes);
        },
      };
      run(() => callback(result));
    }
    await Promise.all(pending);
  }
}

function reportCallbackError(error: unknown): void {
  diag.error("taskmill/prometheus: an observable callback failed", error);
}
