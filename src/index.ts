/**
 * taskmill: background work for Node.js services — correct, observable and safe to shut down.
 *
 * @packageDocumentation
 */

export {
  type AdminAuth,
  type AdminErrorBody,
  type AdminErrorCode,
  type AdminErrorContext,
  type AdminHandler,
  type AdminHandlerOptions,
  type AdminPrincipal,
  type AdminRole,
  type AdminServer,
  type AdminServerOptions,
  type AdminToken,
  createAdminHandler,
  createAdminServer,
  type MetricsSource,
  type RedactPayload,
} from "./admin/index.js";
export type { AuditListOptions, AuditLog, AuditPage } from "./audit/audit-log.js";
export { auditHash, canonicalAuditEncoding } from "./audit/chain.js";
export {
  type AuditActor,
  type AuditEntry,
  type AuditLink,
  type AuditOutcome,
  type AuditRecord,
  DEFAULT_AUDIT_MAX_RECORDS,
  GENESIS_HASH,
} from "./audit/types.js";
export { type AuditProblem, type AuditVerification, verifyAuditChain } from "./audit/verify.js";
export type {
  BackendHealth,
  DeadLetterOperations,
  ManagerHealth,
  ManagerStats,
} from "./engine/backend.js";
export type { SubmitManyItem, SubmitManyOptions } from "./engine/submit-many.js";
export { optionsFromEnv } from "./env-options.js";
export {
  BackendUnavailableError,
  CancelledError,
  type CancelReason,
  DuplicateHandlerError,
  ExpiredError,
  HandlerNotFoundError,
  IdempotencyConflictError,
  IncompatibleStoreError,
  InvalidArgumentError,
  InvalidOptionError,
  type LeaseLossReason,
  MissingPeerError,
  NonErrorThrownError,
  NotFoundError,
  PermanentError,
  ResultBufferOverflowError,
  ShuttingDownError,
  StaleLeaseError,
  TaskFailedError,
  TaskmillError,
  type TaskmillErrorCode,
  TimeoutError,
  UnsupportedError,
} from "./errors.js";
export type { TaskEventListener, TaskEventName, TaskEvents } from "./events.js";
export type { RegistryOptions, WorkerInfo } from "./fleet.js";
export type {
  BatchHandle,
  BatchItem,
  BatchOptions,
  BatchProgress,
  BatchResult,
  DependencyFailurePolicy,
  FlowHandle,
  FlowNode,
  FlowNodeStatus,
  FlowSnapshot,
} from "./flows/flow-types.js";
export { TaskStatus, type TerminalStatus } from "./lifecycle/states.js";
export type {
  FinishHookEvent,
  QueuedHookEvent,
  RetryHookEvent,
  StartHookEvent,
  TaskHooks,
} from "./observability/hooks.js";
export type { LogFn, Logger } from "./observability/logger.js";
export {
  type AttemptStatus,
  DURATION_BUCKETS_SECONDS,
  METRICS,
  type MetricDefinition,
  type MetricKind,
} from "./observability/metric-definitions.js";
export type { DepthReader, DepthSnapshot, QueueDepth } from "./observability/metrics.js";
export { INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION } from "./observability/scope.js";
export {
  ATTEMPT_SPAN_NAME,
  extractTraceContext,
  injectTraceContext,
  SPAN_ATTRIBUTES,
  type TraceCarrier,
} from "./observability/tracing.js";
export type {
  AuditOptions,
  BackendOptions,
  MemoryBackendOptions,
  MetricsOptions,
  PostgresBackendOptions,
  QueueOptions,
  RateOptions,
  RedisBackendOptions,
  RetentionOptions,
  TaskManagerOptions,
  TracingOptions,
} from "./options.js";
export type {
  DeadLetterListOptions,
  DeadLetterOutcome,
  DeadLetterPage,
  DeadLetterSelector,
  ReplayOptions,
} from "./registry/dead-letters.js";
export {
  type OverflowPolicy,
  ResultSubscription,
  type SubscribeOptions,
} from "./results/subscription.js";
export type { Backoff, Jitter, RetryOptions } from "./retry/backoff.js";
export { type Clock, ManualClock, systemClock, type TimerHandle } from "./scheduling/clock.js";
export type { ScheduleInfo, ScheduleOptions } from "./scheduling/cron.js";
export type { PostgresPoolLike } from "./stores/postgres/backend-options.js";
export type { SqliteBackendOptions } from "./stores/sqlite/backend-options.js";
export { defineTask, type TaskDefinition } from "./task-definition.js";
export { TaskManager } from "./task-manager.js";
export type {
  DependencyOutcome,
  ErrorInfo,
  HandlerOptions,
  ListOptions,
  ListOrder,
  QueueInfo,
  RunOptions,
  StopGracefulOptions,
  StopReport,
  SubmitOptions,
  TaskContext,
  TaskHandle,
  TaskHandler,
  TaskPage,
  TaskResult,
  TaskSnapshot,
  TransactionClient,
} from "./types.js";
