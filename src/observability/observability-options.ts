/**
 * The manager's observability options: `metrics`, `tracing`, `logger` and `hooks`, their
 * types and their resolution.
 */
import {
  type MeterProvider,
  metrics as otelMetrics,
  trace as otelTrace,
  type TracerProvider,
} from "@opentelemetry/api";
import { InvalidOptionError } from "../errors.js";
import { requireBoolean, requireMethods } from "../option-checks.js";
import { requireKnownKeys } from "../validation.js";
import { HOOK_NAMES, type TaskHooks } from "./hooks.js";
import { type Logger, silentLogger } from "./logger.js";

/** Where taskmill's metrics go (option `metrics`). */
export interface MetricsOptions {
  /**
   * The provider of the `taskmill` meter. Install the SDK before creating the manager: the
   * API's global meter provider is read once, at construction.
   * @default the global `metrics.getMeterProvider()` (a no-op until an SDK is installed)
   */
  readonly meterProvider?: MeterProvider;
}

/** Where taskmill's spans go (option `tracing`). */
export interface TracingOptions {
  /**
   * The provider of the `taskmill` tracer.
   * @default the global `trace.getTracerProvider()` (a no-op until an SDK is installed)
   */
  readonly tracerProvider?: TracerProvider;
  /**
   * Don't start the span of an attempt whose parent (the submitter's span) is valid and not
   * sampled when the tracer's sampler is known to drop such a child: the OpenTelemetry JS
   * SDK's `ParentBasedSampler` with `AlwaysOffSampler` for unsampled parents (its default). The
   * handler then runs in the parent's context, so propagation keeps the unsampled decision;
   * nothing recorded changes. With any other tracer or sampler the span is always started.
   * `false` always starts it. @default true
   */
  readonly skipUnsampledChildren?: boolean;
}

/** The metrics option resolved; `undefined` when metrics are off. */
export type ResolvedMetrics = { readonly meterProvider: MeterProvider } | undefined;

/** The tracing option resolved; `undefined` when tracing is off. */
export type ResolvedTracing =
  | { readonly tracerProvider: TracerProvider; readonly skipUnsampledChildren: boolean }
  | undefined;

const TRACING_KEYS: ReadonlySet<string> = new Set([
  "tracerProvider",
  "skipUnsampledChildren",
] satisfies Array<keyof TracingOptions>);

export function resolveMetrics(option: MetricsOptions | false | undefined): ResolvedMetrics {
  return resolveProvider("metrics", "meterProvider", "getMeter", option, undefined, () =>
    otelMetrics.getMeterProvider(),
  );
}

/** `false` turns the feature off; otherwise the given provider, or the global one. */
function resolveProvider<K extends string, P extends object>(
  path: string,
  key: K,
  method: string,
  option: false | Partial<Record<K, P>> | undefined,
  // `undefined`: any other keys are allowed (`metrics` takes a `PrometheusMetrics`, which is
  // an object with a meterProvider and more).
  known: ReadonlySet<string> | undefined,
  global: () => P,
): Record<K, P> | undefined {
  if (option === false) return undefined;
  if (option !== undefined && (typeof option !== "object" || option === null))
    throw new InvalidOptionError(path, `must be false or an object { ${key}? }`, option);
  if (option !== undefined && known !== undefined)
    requireKnownKeys(path, option, known, InvalidOptionError);
  const provider = option?.[key];
  if (provider === undefined) return { [key]: global() } as Record<K, P>;
  if (typeof provider !== "object" || provider === null)
    throw new InvalidOptionError(`${path}.${key}`, `must be an object with ${method}()`, provider);
  requireMethods(`${path}.${key}`, provider, [method]);
  return { [key]: provider } as Record<K, P>;
}

export function resolveTracing(option: TracingOptions | false | undefined): ResolvedTracing {
  const resolved = resolveProvider<"tracerProvider", TracerProvider>(
    "tracing",
    "tracerProvider",
    "getTracer",
    option,
    TRACING_KEYS,
    () => otelTrace.getTracerProvider(),
  );
  if (resolved === undefined) return undefined;
  const skip = option === undefined || option === false ? undefined : option.skipUnsampledChildren;
  return {
    tracerProvider: resolved.tracerProvider,
    skipUnsampledChildren: requireBoolean("tracing.skipUnsampledChildren", skip ?? true),
  };
}

export function resolveHooks(hooks: TaskHooks | undefined): TaskHooks | undefined {
  if (hooks === undefined) return undefined;
  if (typeof hooks !== "object" || hooks === null)
    throw new InvalidOptionError("hooks", "must be an object of hook functions", hooks);
  for (const [name, hook] of Object.entries(hooks)) {
    if (!(HOOK_NAMES as readonly string[]).includes(name))
      throw new InvalidOptionError(
        `hooks.${name}`,
        `is not a hook (${HOOK_NAMES.join(", ")})`,
        hook,
      );
    if (hook !== undefined && typeof hook !== "function")
      throw new InvalidOptionError(`hooks.${name}`, "must be a function", hook);
  }
  return hooks;
}

export function resolveLogger(logger: Logger | undefined): Logger {
  if (logger === undefined) return silentLogger;
  if (typeof logger !== "object" || logger === null)
    throw new InvalidOptionError("logger", "must be a pino-compatible logger object", logger);
  return requireMethods("logger", logger, ["debug", "info", "warn", "error"]);
}
