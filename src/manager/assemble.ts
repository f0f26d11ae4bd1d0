/**
 * The wiring behind `new TaskManager(options)`: resolves the options and builds the parts the
 * facade delegates to (handlers, events, results, backend, cron, stop sequence, DLQ), each
 * given the others it needs.
 */
import { checkedDeadLetters } from "../argument-checks.js";
import { type AuditLog, createAuditLog } from "../audit/audit-log.js";
import type { Backend, DeadLetterOperations, RegisteredHandler } from "../engine/backend.js";
import { DurableEngine } from "../engine/durable/durable-engine.js";
import { ScheduleSync } from "../engine/schedule-sync.js";
import { TaskEventBus } from "../events.js";
import { ShutdownTracker } from "../lifecycle/shutdown.js";
import { StopSequence } from "../lifecycle/stop-sequence.js";
import type { DepthSnapshot } from "../observability/metrics.js";
import { createObservability, type Observability } from "../observability/setup.js";
import { type ResolvedOptions, resolveOptions, type TaskManagerOptions } from "../options.js";
import { ResultBroadcaster } from "../results/broadcaster.js";
import { CronScheduler } from "../scheduling/cron.js";
import { checkDurableBackend } from "../stores/connect.js";
import { MemoryBackend } from "../stores/memory/memory-backend.js";
import type { SubmitOptions, TaskHandle } from "../types.js";
import { EventListeners } from "./event-listeners.js";
import { FlowSubmission } from "./flow-submission.js";
import { QueueAndWorkerOperations } from "./queue-and-worker-operations.js";
import { ResultFeed } from "./result-feed.js";
import { ScheduleOperations } from "./schedule-operations.js";
import { TaskLookup } from "./task-lookup.js";
import { TaskSubmission } from "./task-submission.js";

/** What a cron tick calls: the manager's own `submit`, so a tick passes the same checks. */
export type SubmitScheduled = (
  taskName: string,
  payload: unknown,
  options: SubmitOptions,
) => Promise<TaskHandle<unknown>>;

/** The parts a TaskManager is made of: the facade delegates each call to one of them. */
export interface ManagerParts {
  readonly options: ResolvedOptions;
  readonly handlers: Map<string, RegisteredHandler>;
  readonly shutdown: ShutdownTracker;
  readonly observability: Observability;
  readonly backend: Backend;
  readonly stops: StopSequence;
  /** The backend's DLQ with the checks every store shares (strict `dryRun`). */
  readonly dlq: DeadLetterOperations;
  readonly submission: TaskSubmission;
  readonly flows: FlowSubmission;
  readonly fleet: QueueAndWorkerOperations;
  readonly schedules: ScheduleOperations;
  readonly resultFeed: ResultFeed;
  readonly lookup: TaskLookup;
  readonly listeners: EventListeners;
  /** The audit log, made on the first read of `mill.audit` and the same one after. */
  readonly audit: () => AuditLog;
}

/** @throws InvalidOptionError naming the first invalid option. */
export function assembleManager(
  options: TaskManagerOptions,
  submitScheduled: SubmitScheduled,
): ManagerParts {
  const resolved = resolveOptions(options);
  // A durable backend's options are checked before anything is created: a refused
  // constructor leaves no socket behind.
  if (resolved.backend.type !== "memory") checkDurableBackend(resolved.backend, resolved);
  const handlers = new Map<string, RegisteredHandler>();
  const events = new TaskEventBus(resolved.logger);
  const shutdown = new ShutdownTracker(resolved.logger);
  // The closures below read `backend` only once it exists (at a scrape, a drop, a free).
  const observability = createObservability(resolved, () =>
    withWorkerSlots(
      backend.depths(),
      handlers.size > 0 && !shutdown.stopping ? resolved.concurrency : 0,
    ),
  );
  const results = new ResultBroadcaster(
    (subscription, result, policy) => {
      observability.resultDropped(result, policy);
      if (events.wants("dropped")) events.emit("dropped", { subscription, result, policy });
    },
    () => backend.resultsFreed(),
  );
  const backend: Backend =
    resolved.backend.type !== "memory"
      ? new DurableEngine({
          options: resolved,
          backend: resolved.backend,
          handlers,
          events,
          results,
          instrumentation: observability.instrumentation,
          tracing: observability.tracing,
          shutdown,
        })
      : new MemoryBackend({ options: resolved, events, results, observability, shutdown });
  // In durable mode only the cron leader fires ticks; the idempotency key still guards the
  // instant leadership moves (the old and the new leader may both fire that tick).
  const cron = new CronScheduler(
    resolved.clock,
    resolved.logger,
    (id, taskName, payload, tick, queue) =>
      submitScheduled(taskName, payload, {
        idempotencyKey: `schedule:${id}:${tick}`,
        ...(queue === undefined ? {} : { queue }),
      }),
    backend.cronLeadership(),
  );
  const shared = backend.scheduleStore?.();
  // Durable mode: the store's shared schedules, mirrored into `cron`.
  const scheduleSync =
    shared === undefined
      ? undefined
      : new ScheduleSync(shared, cron, resolved.clock, resolved.logger);
  const dlq = checkedDeadLetters(backend.dlq);
  const stops = new StopSequence({
    options: resolved,
    shutdown,
    cron,
    backend,
    results,
    observability,
  });
  let audit: AuditLog | undefined;
  const core = { options: resolved, handlers, backend, shutdown };
  return {
    ...core,
    observability,
    stops,
    dlq,
    submission: new TaskSubmission(core),
    flows: new FlowSubmission(backend, handlers, shutdown),
    fleet: new QueueAndWorkerOperations(resolved, backend, handlers),
    schedules: new ScheduleOperations(resolved, handlers, shutdown, cron, scheduleSync),
    resultFeed: new ResultFeed(backend, results),
    lookup: new TaskLookup(backend),
    listeners: new EventListeners(events, backend),
    audit: () => {
      audit ??= createAuditLog(backend.audit, {
        maxRecords: resolved.audit.maxRecords,
        onAdmin: resolved.hooks?.onAdmin,
        logger: resolved.logger,
      });
      return audit;
    },
  };
}

/** The depth snapshot with this process's worker slots (`worker_slots`). */
function withWorkerSlots(
  depths: DepthSnapshot | Promise<DepthSnapshot>,
  workerSlots: number,
): DepthSnapshot | Promise<DepthSnapshot> {
  return depths instanceof Promise
    ? depths.then((snapshot) => ({ ...snapshot, workerSlots }))
    : { ...depths, workerSlots };
}
