/**
 * The wiring behind `new TaskManager(options)`: resolves the options and builds the parts the
 * facade delegates to (handlers, events, results, backend, cron, stop sequence, DLQ), each
 * given the others it needs.
 */
import { checkedDeadLetters } from "../argument-checks.js";
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

/** What a cron tick calls: the manager's own `submit`, so a tick passes the same checks. */
export type SubmitScheduled = (
  taskName: string,
  payload: unknown,
  options: SubmitOptions,
) => Promise<TaskHandle<unknown>>;

/** The parts a TaskManager is made of. */
export interface ManagerParts {
  readonly options: ResolvedOptions;
  readonly handlers: Map<string, RegisteredHandler>;
  readonly events: TaskEventBus;
  readonly results: ResultBroadcaster;
  readonly shutdown: ShutdownTracker;
  readonly cron: CronScheduler;
  /** Durable mode: the store's shared schedules, mirrored into `cron`. */
  readonly scheduleSync: ScheduleSync | undefined;
  readonly observability: Observability;
  readonly backend: Backend;
  readonly stops: StopSequence;
  /** The backend's DLQ with the checks every store shares (strict `dryRun`). */
  readonly dlq: DeadLetterOperations;
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
  return {
    options: resolved,
    handlers,
    events,
    results,
    shutdown,
    cron,
    scheduleSync,
    observability,
    backend,
    stops,
    dlq,
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
