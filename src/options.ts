/**
 * Option types, defaults and validation, all in one place. The rest of the code only sees the
 * resolved, validated shapes.
 */
import {
  type MeterProvider,
  metrics as otelMetrics,
  trace as otelTrace,
  type TracerProvider,
} from "@opentelemetry/api";
import { DEFAULT_AUDIT_MAX_RECORDS } from "./audit/types.js";
import { InvalidOptionError } from "./errors.js";
import { type RegistryOptions, type ResolvedRegistry, resolveRegistry } from "./fleet.js";
import { HOOK_NAMES, type TaskHooks } from "./observability/hooks.js";
import type { Logger } from "./observability/logger.js";
import { silentLogger } from "./observability/logger.js";
import type { RateOptions, RetentionOptions } from "./option-types.js";
import type { RetryOptions, RetryPolicy } from "./retry/backoff.js";
import { type Clock, systemClock } from "./scheduling/clock.js";
import type { TokenBucketConfig } from "./scheduling/token-bucket.js";
import {
  type BackendOptions,
  DURABLE_DEFAULTS,
  type ResolvedBackend,
  resolveBackend,
} from "./stores/backend-options.js";
import {
  requireInteger,
  requireKnownKeys,
  requireNonNegative,
  requirePositive,
} from "./validation.js";

export type { RateOptions, RetentionOptions } from "./option-types.js";
// An option type too, but defined beside the policy it fills in: types.ts needs it, and must
// not import this module (which imports the hooks, and through them the lifecycle).
export type { RetryOptions } from "./retry/backoff.js";
export type {
  BackendOptions,
  MemoryBackendOptions,
  PostgresBackendOptions,
  RedisBackendOptions,
  ResolvedBackend,
  ResolvedDurableBackend,
  ResolvedPostgresBackend,
  ResolvedRedisBackend,
  ResolvedSqliteBackend,
  SqliteBackendOptions,
} from "./stores/backend-options.js";

/** Settings of one named queue. */
export interface QueueOptions {
  /** Most tasks of this queue running at once, inside the manager's cap. */
  readonly concurrency?: number;
}

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

/** Options of `new TaskManager(options)`. */
export interface TaskManagerOptions {
  /** Most handlers running at once in this process. @default 8 */
  readonly concurrency?: number;
  /** Start-rate limit; omit for unlimited. */
  readonly rate?: RateOptions;
  /** Default retry policy. */
  readonly retry?: RetryOptions;
  /** Per-attempt timeout in ms; omit or `0` for none. */
  readonly timeoutMs?: number;
  /** Finished-record retention. */
  readonly retention?: RetentionOptions;
  /** Per-queue settings, by queue name. */
  readonly queues?: Readonly<Record<string, QueueOptions>>;
  /** @default { type: "memory" } */
  readonly backend?: BackendOptions;
  /** Time and timers; inject a `ManualClock` in tests. @default the system clock */
  readonly clock?: Clock;
  /** Random source in [0, 1) for jitter. @default Math.random */
  readonly random?: () => number;
  /** pino-compatible logger. @default silent */
  readonly logger?: Logger;
  /** Include payloads and results in log lines. Off by default: they may hold secrets. @default false */
  readonly logPayloads?: boolean;
  /**
   * How payloads and results travel in memory mode. `"live"` (the default): the objects
   * themselves. `"json"`: through JSON as in durable mode, so code tested in memory mode
   * behaves the same on a durable store: a `Date` arrives as its ISO string, a non-JSON
   * payload (a function, a `Map`, a `BigInt`, a cycle) is refused at submit with
   * `InvalidArgumentError`, and a handler result that is not JSON fails its task. Durable
   * stores always use JSON (`"live"` is refused there).
   * @default "live"
   */
  readonly payloads?: "live" | "json";
  /** Id generator for new tasks; ids must be unique. @default UUIDs (v8: random per manager, then a sequence) */
  readonly createId?: () => string;
  /** Metrics through `@opentelemetry/api`; `false` turns them off. @default the global meter provider */
  readonly metrics?: MetricsOptions | false;
  /** A span per attempt through `@opentelemetry/api`; `false` turns it off. @default the global tracer provider */
  readonly tracing?: TracingOptions | false;
  /** Lifecycle hooks for audit trails; a throwing hook is logged and never breaks a task. */
  readonly hooks?: TaskHooks;
  /** The worker registry's heartbeat and how long a silent worker is shown, then kept. */
  readonly registry?: RegistryOptions;
  /** The admin audit trail (`mill.audit`), kept in the store. */
  readonly audit?: AuditOptions;
}

/** Options of the admin audit trail. */
export interface AuditOptions {
  /**
   * Records kept; past it the oldest are dropped (the last one dropped stays as the chain's
   * anchor, so the rest still verifies). @default 100_000
   */
  readonly maxRecords?: number;
}

/** Everything resolved: what the engine reads. */
export interface ResolvedOptions {
  readonly concurrency: number;
  readonly rate: TokenBucketConfig | undefined;
  readonly retry: RetryPolicy;
  readonly timeoutMs: number;
  readonly retention: { readonly ttlMs: number; readonly maxEntries: number };
  readonly queues: ReadonlyMap<string, { readonly concurrency: number }>;
  readonly backend: ResolvedBackend;
  readonly clock: Clock;
  readonly random: () => number;
  readonly logger: Logger;
  readonly logPayloads: boolean;
  readonly payloads: "live" | "json";
  readonly createId: (() => string) | undefined;
  /** `undefined` when metrics are off. */
  readonly metrics: { readonly meterProvider: MeterProvider } | undefined;
  /** `undefined` when tracing is off. */
  readonly tracing:
    | { readonly tracerProvider: TracerProvider; readonly skipUnsampledChildren: boolean }
    | undefined;
  readonly hooks: TaskHooks | undefined;
  readonly registry: ResolvedRegistry;
  readonly audit: { readonly maxRecords: number };
}

export const DEFAULTS = {
  concurrency: 8,
  retry: {
    maxRetries: 3,
    backoff: "exponential",
    baseDelayMs: 100,
    maxDelayMs: 30_000,
    jitter: "full",
  } satisfies RetryPolicy,
  retention: { ttlMs: 3_600_000, maxEntries: 10_000 },
  stopTimeoutMs: 30_000,
  callTimeoutMs: DURABLE_DEFAULTS.callTimeoutMs,
  maxPendingCalls: DURABLE_DEFAULTS.maxPendingCalls,
} as const;

const OPTION_KEYS: ReadonlySet<string> = new Set([
  "concurrency",
  "rate",
  "retry",
  "timeoutMs",
  "retention",
  "queues",
  "backend",
  "clock",
  "random",
  "logger",
  "logPayloads",
  "payloads",
  "createId",
  "metrics",
  "tracing",
  "hooks",
  "registry",
  "audit",
] satisfies Array<keyof TaskManagerOptions>);
const RATE_KEYS: ReadonlySet<string> = new Set(["perSecond", "burst"] satisfies Array<
  keyof RateOptions
>);
const RETRY_KEYS: ReadonlySet<string> = new Set([
  "maxRetries",
  "backoff",
  "baseDelayMs",
  "maxDelayMs",
  "jitter",
] satisfies Array<keyof RetryOptions>);
const RETENTION_KEYS: ReadonlySet<string> = new Set(["ttlMs", "maxEntries"] satisfies Array<
  keyof RetentionOptions
>);
const QUEUE_KEYS: ReadonlySet<string> = new Set(["concurrency"] satisfies Array<
  keyof QueueOptions
>);
const TRACING_KEYS: ReadonlySet<string> = new Set([
  "tracerProvider",
  "skipUnsampledChildren",
] satisfies Array<keyof TracingOptions>);

/** `payloads`: JSON in every durable store; a choice in memory. */
function resolvePayloads(value: unknown, backend: string): "live" | "json" {
  if (value !== undefined && value !== "live" && value !== "json")
    throw new InvalidOptionError("payloads", 'must be "live" or "json"', value);
  if (backend === "memory") return value ?? "live";
  if (value === "live")
    throw new InvalidOptionError(
      "payloads",
      `cannot be "live" with a ${backend} backend (durable stores keep payloads as JSON)`,
      value,
    );
  return "json";
}

const BACKOFFS = ["fixed", "linear", "exponential"];
const JITTERS = ["none", "full", "equal"];

/** Validates and fills in defaults. Throws `InvalidOptionError` naming the first bad option. */
export function resolveOptions(options: TaskManagerOptions = {}): ResolvedOptions {
  if (typeof options !== "object" || options === null)
    throw new InvalidOptionError("options", "must be an object", options);
  requireKnownKeys("", options, OPTION_KEYS, InvalidOptionError);
  const concurrency = options.concurrency ?? DEFAULTS.concurrency;
  requireInteger("concurrency", concurrency, 1, InvalidOptionError);

  const backend = resolveBackend(options.backend);

  return {
    concurrency,
    backend,
    rate: resolveRate("rate", options.rate, concurrency),
    retry: resolveRetry(options.retry, DEFAULTS.retry, "retry"),
    timeoutMs: resolveTimeout(options.timeoutMs, 0, "timeoutMs"),
    retention: resolveRetention(options.retention),
    queues: resolveQueues(options.queues),
    clock: requireMethods("clock", options.clock ?? systemClock, ["now", "setTimer", "clearTimer"]),
    random: requireFunction("random", options.random ?? Math.random),
    logger: resolveLogger(options.logger),
    logPayloads: requireBoolean("logPayloads", options.logPayloads ?? false),
    payloads: resolvePayloads(options.payloads, backend.type),
    createId:
      options.createId === undefined ? undefined : requireFunction("createId", options.createId),
    metrics: resolveProvider(
      "metrics",
      "meterProvider",
      "getMeter",
      options.metrics,
      undefined,
      () => otelMetrics.getMeterProvider(),
    ),
    tracing: resolveTracing(options.tracing),
    hooks: resolveHooks(options.hooks),
    registry: resolveRegistry(options.registry),
    audit: resolveAudit(options.audit),
  };
}

function resolveAudit(audit: AuditOptions | undefined): { readonly maxRecords: number } {
  if (audit === undefined) return { maxRecords: DEFAULT_AUDIT_MAX_RECORDS };
  if (typeof audit !== "object" || audit === null)
    throw new InvalidOptionError("audit", "must be an object", audit);
  requireKnownKeys("audit", audit, AUDIT_KEYS, InvalidOptionError);
  const maxRecords = audit.maxRecords ?? DEFAULT_AUDIT_MAX_RECORDS;
  requireInteger("audit.maxRecords", maxRecords, 1, InvalidOptionError);
  return { maxRecords };
}

const AUDIT_KEYS: ReadonlySet<string> = new Set(["maxRecords"] satisfies Array<keyof AuditOptions>);

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

function resolveTracing(option: TracingOptions | false | undefined): ResolvedOptions["tracing"] {
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

function resolveHooks(hooks: TaskHooks | undefined): TaskHooks | undefined {
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

function resolveLogger(logger: Logger | undefined): Logger {
  if (logger === undefined) return silentLogger;
  if (typeof logger !== "object" || logger === null)
    throw new InvalidOptionError("logger", "must be a pino-compatible logger object", logger);
  return requireMethods("logger", logger, ["debug", "info", "warn", "error"]);
}

function requireBoolean(path: string, value: unknown): boolean {
  if (typeof value !== "boolean") throw new InvalidOptionError(path, "must be a boolean", value);
  return value;
}

/** Merges a partial retry policy over a resolved one, validating what it sets. */
export function resolveRetry(
  partial: RetryOptions | undefined,
  base: RetryPolicy,
  path: string,
): RetryPolicy {
  if (partial === undefined) return base;
  if (typeof partial !== "object" || partial === null)
    throw new InvalidOptionError(path, "must be an object", partial);
  requireKnownKeys(path, partial, RETRY_KEYS, InvalidOptionError);
  const policy: RetryPolicy = {
    maxRetries: partial.maxRetries ?? base.maxRetries,
    backoff: partial.backoff ?? base.backoff,
    baseDelayMs: partial.baseDelayMs ?? base.baseDelayMs,
    maxDelayMs: partial.maxDelayMs ?? base.maxDelayMs,
    jitter: partial.jitter ?? base.jitter,
  };
  requireInteger(`${path}.maxRetries`, policy.maxRetries, 0, InvalidOptionError);
  if (typeof policy.backoff !== "function" && !BACKOFFS.includes(policy.backoff))
    throw new InvalidOptionError(
      `${path}.backoff`,
      'must be "fixed", "linear", "exponential" or a function (attempt) => ms',
      policy.backoff,
    );
  requireNonNegative(`${path}.baseDelayMs`, policy.baseDelayMs, InvalidOptionError);
  requireNonNegative(`${path}.maxDelayMs`, policy.maxDelayMs, InvalidOptionError);
  if (!JITTERS.includes(policy.jitter))
    throw new InvalidOptionError(
      `${path}.jitter`,
      'must be "none", "full" or "equal"',
      policy.jitter,
    );
  return policy;
}

/** A timeout: absent keeps `fallback`, 0 means none, otherwise a positive finite number. */
export function resolveTimeout(value: number | undefined, fallback: number, path: string): number {
  if (value === undefined) return fallback;
  requireNonNegative(path, value, InvalidOptionError);
  return value;
}

/** Checks a queue name (used for options, register and submit). */
export function isValidQueueName(name: unknown): name is string {
  return typeof name === "string" && name.length > 0 && name.length <= 200;
}

/** The deterministic default burst: what can run at once, capped by the rate, at least 1. */
export function defaultBurst(concurrency: number, perSecond: number): number {
  return Math.max(1, Math.floor(Math.min(concurrency, perSecond)));
}

/**
 * Validates a token-bucket option at `path`: the manager's `rate`, or the Redis store's
 * `backend.globalRate`. An absent `burst` is {@link defaultBurst} of `concurrency` and the rate.
 */
export function resolveRate(
  path: string,
  rate: RateOptions | undefined,
  concurrency: number,
): TokenBucketConfig | undefined {
  if (rate === undefined) return undefined;
  if (typeof rate !== "object" || rate === null)
    throw new InvalidOptionError(path, "must be an object { perSecond, burst? }", rate);
  requireKnownKeys(path, rate, RATE_KEYS, InvalidOptionError);
  requirePositive(`${path}.perSecond`, rate.perSecond, InvalidOptionError);
  const burst = rate.burst ?? defaultBurst(concurrency, rate.perSecond);
  requireInteger(`${path}.burst`, burst, 1, InvalidOptionError);
  return { perSecond: rate.perSecond, burst };
}

function resolveRetention(retention: RetentionOptions | undefined) {
  if (retention !== undefined && (typeof retention !== "object" || retention === null))
    throw new InvalidOptionError(
      "retention",
      "must be an object { ttlMs?, maxEntries? }",
      retention,
    );
  if (retention !== undefined)
    requireKnownKeys("retention", retention, RETENTION_KEYS, InvalidOptionError);
  const ttlMs = retention?.ttlMs ?? DEFAULTS.retention.ttlMs;
  const maxEntries = retention?.maxEntries ?? DEFAULTS.retention.maxEntries;
  requireNonNegative("retention.ttlMs", ttlMs, InvalidOptionError);
  requireInteger("retention.maxEntries", maxEntries, 0, InvalidOptionError);
  return { ttlMs, maxEntries };
}

function resolveQueues(queues: TaskManagerOptions["queues"]) {
  const resolved = new Map<string, { concurrency: number }>();
  if (queues === undefined) return resolved;
  if (typeof queues !== "object" || queues === null)
    throw new InvalidOptionError("queues", "must be an object keyed by queue name", queues);
  for (const [name, settings] of Object.entries(queues)) {
    // `{ email: 2 }` would otherwise read as "no cap" and silently run 8 at once.
    if (settings !== undefined && (typeof settings !== "object" || settings === null))
      throw new InvalidOptionError(
        `queues.${name}`,
        "must be an object { concurrency? }",
        settings,
      );
    if (settings !== undefined)
      requireKnownKeys(`queues.${name}`, settings, QUEUE_KEYS, InvalidOptionError);
    const concurrency = settings?.concurrency ?? Number.POSITIVE_INFINITY;
    if (concurrency !== Number.POSITIVE_INFINITY)
      requireInteger(`queues.${name}.concurrency`, concurrency, 1, InvalidOptionError);
    resolved.set(name, { concurrency });
  }
  return resolved;
}

function requireFunction<F>(path: string, value: F): F {
  if (typeof value !== "function") throw new InvalidOptionError(path, "must be a function", value);
  return value;
}

function requireMethods<T extends object>(path: string, value: T, methods: readonly string[]): T {
  for (const method of methods) {
    if (typeof (value as Record<string, unknown>)[method] !== "function")
      throw new InvalidOptionError(`${path}.${method}`, "must be a function", undefined);
  }
  return value;
}
