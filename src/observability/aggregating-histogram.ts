/**
 * The histogram behind `taskmill/prometheus`'s latency metric: a prom-client histogram that
 * finds its series by the identity of the frozen attribute object taskmill passes, so a
 * recording only increments numbers (see the class below).
 */
import type { Attributes } from "@opentelemetry/api";
import {
  type MetricObjectWithValues,
  type MetricValueWithName,
  Histogram as PromHistogram,
  type Registry,
} from "prom-client";

type Labels = Record<string, string | number>;

/** One label set of a histogram: per-bucket counts (not cumulative), sum and count. */
interface HistogramSeries {
  readonly labels: Labels;
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

const NO_ATTRIBUTES: Attributes = Object.freeze({});

/**
 * A prom-client histogram that aggregates by itself. prom-client's own `observe()` validates
 * and hashes the labels and allocates on every call; taskmill passes the same frozen attribute
 * object for a series every time, so this one finds the series by object identity and only
 * increments numbers. It registers and is exposed like any prom-client histogram.
 */
export class AggregatingHistogram extends PromHistogram {
  // Plain fields with guards: prom-client's constructor calls reset() before they exist.
  private bounds: readonly number[] = [];
  private labelList: readonly string[] = [];
  private byAttributes = new WeakMap<object, HistogramSeries>();
  private byKey = new Map<string, HistogramSeries>();

  constructor(config: {
    name: string;
    help: string;
    labelNames: string[];
    buckets: number[];
    registers: Registry[];
  }) {
    super(config);
    this.bounds = [...config.buckets].sort((a, b) => a - b);
    this.labelList = config.labelNames;
  }

  record(value: number, attributes: Attributes = NO_ATTRIBUTES): void {
    if (!Number.isFinite(value)) return;
    const series = this.byAttributes.get(attributes) ?? this.#seriesFor(attributes);
    const bounds = this.bounds;
    let bucket = 0;
    while (bucket < bounds.length && value > (bounds[bucket] as number)) bucket++;
    if (bucket < bounds.length) series.counts[bucket] = (series.counts[bucket] as number) + 1;
    series.sum += value;
    series.count++;
  }

  override reset(): void {
    this.byAttributes = new WeakMap();
    this.byKey?.clear();
  }

  override async get(): Promise<MetricObjectWithValues<MetricValueWithName<string>>> {
    const { name, help, aggregator } = this as unknown as {
      name: string;
      help: string;
      aggregator: MetricObjectWithValues<never>["aggregator"];
    };
    const values: MetricValueWithName<string>[] = [];
    for (const series of this.byKey.values()) {
      let cumulative = 0;
      this.bounds.forEach((bound, index) => {
        cumulative += series.counts[index] as number;
        values.push({
          labels: { le: bound, ...series.labels },
          value: cumulative,
          metricName: `${name}_bucket`,
        });
      });
      values.push(
        {
          labels: { le: "+Inf", ...series.labels },
          value: series.count,
          metricName: `${name}_bucket`,
        },
        { labels: series.labels, value: series.sum, metricName: `${name}_sum` },
        { labels: series.labels, value: series.count, metricName: `${name}_count` },
      );
    }
    // The shape prom-client's own histograms return (its typings also list `collect`).
    const data = { name, help, type: "histogram", values, aggregator };
    return data as unknown as MetricObjectWithValues<MetricValueWithName<string>>;
  }

  /** The registry prefers this one when present: the same output as `get()`. */
  getForPromString(): Promise<MetricObjectWithValues<MetricValueWithName<string>>> {
    return this.get();
  }

  #seriesFor(attributes: Attributes): HistogramSeries {
    const labels: Labels = {};
    for (const label of this.labelList) {
      const value = attributes[label];
      labels[label] = typeof value === "number" ? value : String(value ?? "");
    }
    const key = this.labelList.map((label) => labels[label]).join("\u0000");
    let series = this.byKey.get(key);
    if (series === undefined) {
      series = { labels, counts: new Float64Array(this.bounds.length), sum: 0, count: 0 };
      this.byKey.set(key, series);
    }
    this.byAttributes.set(attributes, series);
    return series;
  }
}
