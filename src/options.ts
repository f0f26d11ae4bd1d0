/**
 * The manager's options: `TaskManagerOptions`, the defaults, and `resolveOptions`, which
 * validates them and fills in defaults. Option groups that belong to one feature (backend,
 * retry, rate, observability, registry, audit) are typed and resolved beside it and gathered
 * here, so this stays the one entry point. The rest of the code only sees the resolved,
 * validated shapes.
 */
import { type AuditOptions, type ResolvedAudit, resolveAudit } from "./audit/audit-options.js";
import { InvalidOptionError } from "./errors.js";
import { type RegistryOptions, type ResolvedRegistry, resolveRegistry } from "./fleet.js";
import type { TaskHooks } from "./observability/hooks.js";
import type { Logger } from "./observability/logger.js";
import {
  type MetricsOptions,
  type ResolvedMetrics,
  type ResolvedTracing,
  resolveHooks,
  resolveLogger,
  resolveMetrics,
  resolveTracing,
  type TracingOptions,
} from "./observability/observability-options.js";
import { requireBoolean, requireFunction, requireMethods } from "./option-checks.js";
import type { RateOptions, RetentionOptions } from "./option-types.js";
import type { RetryOptions, RetryPolicy } from "./retry/backoff.js";
import { resolveRetry } from "./retry/retry-options.js";
import { type Clock, systemClock } from "./scheduling/clock.js";
import { resolveRate } from "./scheduling/rate-options.js";
import type { TokenBucketConfig } from "./scheduling/token-bucket.js";
import {
  type BackendOptions,
  DURABLE_DEFAULTS,
  type ResolvedBackend,
  resolveBackend,
} from "./stores/backend-options.js";
import {
  requireInteger,
  requireIntegerIn,
  requireKnownKeys,
  requireNonNegative,
} from "./validation.js";

export type { AuditOptions } from "./audit/audit-options.js";
export type { MetricsOptions, TracingOptions } from "./observability/observability-options.js";
export type { RateOptions, RetentionOptions } from "./option-types.js";
// An option type too, but defined beside the policy it fills in: types.ts needs it, and must
// not import this module (which imports the hooks, and through them the lifecycle).
export type { RetryOptions } from "./retry/backoff.js";
// Resolvers that moved beside their feature, still importable from here.
export { resolveRetry } from "./retry/retry-options.js";
export { defaultBurst, resolveRate } from "./scheduling/rate-options.js";
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
  /**
   * Redis `layout: "sharded"` only: spread this hot queue's tasks over this many shards (hash
   * tags), an integer from 1 to 256. FIFO within a priority then holds per partition only.
   * Every other store (and the single layout) keeps one ordered queue and ignores it.
   * @default 1
   */
  readonly partitions?: number;
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

/** Everything resolved: what the engine reads. */
export interface ResolvedOptions {
  readonly concurrency: number;
  readonly rate: TokenBucketConfig | undefined;
  readonly retry: RetryPolicy;
  readonly timeoutMs: number;
  readonly retention: { readonly ttlMs: number; readonly maxEntries: number };
  readonly queues: ReadonlyMap<
    string,
    { readonly concurrency: number; readonly partitions?: number }
  >;
  readonly backend: ResolvedBackend;
  readonly clock: Clock;
  readonly random: () => number;
  readonly logger: Logger;
  readonly logPayloads: boolean;
  readonly payloads: "live" | "json";
  readonly createId: (() => string) | undefined;
  /** `undefined` when metrics are off. */
  readonly metrics: ResolvedMetrics;
  /** `undefined` when tracing is off. */
  readonly tracing: ResolvedTracing;
  readonly hooks: TaskHooks | undefined;
  readonly registry: ResolvedRegistry;
  readonly audit: ResolvedAudit;
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
const RETENTION_KEYS: ReadonlySet<string> = new Set(["ttlMs", "maxEntries"] satisfies Array<
  keyof RetentionOptions
>);
const QUEUE_KEYS: ReadonlySet<string> = new Set(["concurrency", "partitions"] satisfies Array<
  keyof QueueOptions
>);

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
    metrics: resolveMetrics(options.metrics),
    tracing: resolveTracing(options.tracing),
    hooks: resolveHooks(options.hooks),
    registry: resolveRegistry(options.registry),
    audit: resolveAudit(options.audit),
  };
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
  const resolved = new Map<string, { concurrency: number; partitions?: number }>();
  if (queues === undefined) return resolved;
  if (typeof queues !== "object" || queues === null)
    throw new InvalidOptionError("queues", "must be an object keyed by queue name", queues);
  for (const [name, settings] of Object.entries(queues)) {
    // `{ email: 2 }` would otherwise read as "no cap" and silently run 8 at once.
    if (settings !== undefined && (typeof settings !== "object" || settings === null))
      throw new InvalidOptionError(
        `queues.${name}`,
        "must be an object { concurrency?, partitions? }",
        settings,
      );
    if (settings !== undefined)
      requireKnownKeys(`queues.${name}`, settings, QUEUE_KEYS, InvalidOptionError);
    const concurrency = settings?.concurrency ?? Number.POSITIVE_INFINITY;
    if (concurrency !== Number.POSITIVE_INFINITY)
      requireInteger(`queues.${name}.concurrency`, concurrency, 1, InvalidOptionError);
    const partitions = settings?.partitions;
    if (partitions !== undefined)
      requireIntegerIn(`queues.${name}.partitions`, partitions, 1, 256, InvalidOptionError);
    resolved.set(name, { concurrency, ...(partitions === undefined ? {} : { partitions }) });
  }
  return resolved;
}
