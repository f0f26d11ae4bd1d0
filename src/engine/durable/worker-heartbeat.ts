/**
 * The worker registry, writer side: a manager with handlers heartbeats its report into the
 * store every `registry.heartbeatMs` (the store stamps it with its own clock), and removes it
 * on a graceful stop. A process that dies (kill -9) simply stops heartbeating: readers show it
 * lost after `registry.lostAfterMs` and the store drops it after `registry.dropAfterMs`.
 */
import type { ResolvedRegistry, WorkerInfo } from "../../fleet.js";
import { type Logger, safeLog } from "../../observability/logger.js";
import type { Clock, TimerHandle } from "../../scheduling/clock.js";
import type { DurableStore } from "../../stores/durable-store.js";
import type { StoredWorker, WorkerReport } from "../../stores/fleet-types.js";
import { within } from "../within.js";
import { type WorkerIdentity, workerIdentity } from "../worker-identity.js";

/** What this process reports at each heartbeat, besides who it is. */
export interface WorkerFigures {
  readonly concurrency: number;
  readonly running: number;
  readonly processed: number;
  readonly failed: number;
  readonly queues: readonly string[];
}

export interface HeartbeatDeps {
  readonly store: DurableStore;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly settings: ResolvedRegistry;
  /** Bound of the deregistration at a stop (`backend.callTimeoutMs`). */
  readonly callTimeoutMs: number;
  readonly figures: () => WorkerFigures;
}

export class WorkerHeartbeat {
  readonly #deps: HeartbeatDeps;
  readonly #identity: WorkerIdentity;
  #timer: TimerHandle | undefined;
  #beating: Promise<void> | undefined;
  #started = false;
  #stopped = false;

  constructor(deps: HeartbeatDeps) {
    this.#deps = deps;
    this.#identity = workerIdentity(deps.clock);
  }

  get id(): string {
    return this.#identity.id;
  }

  /** Registers now, then heartbeats until {@link stop}. Idempotent. */
  start(): void {
    if (this.#started || this.#stopped) return;
    this.#started = true;
    this.#beat();
  }

  /** Stops heartbeating; with `deregister`, removes this worker from the registry. */
  async stop(deregister: boolean): Promise<void> {
    const wasStarted = this.#started && !this.#stopped;
    this.#stopped = true;
    if (this.#timer !== undefined) this.#deps.clock.clearTimer(this.#timer);
    this.#timer = undefined;
    if (!wasStarted || !deregister) return;
    // After a heartbeat in flight (a removal overtaken by it would be undone), each bounded:
    // a store that does not answer leaves the worker to be shown lost instead.
    const { clock, callTimeoutMs, logger } = this.#deps;
    await within(this.#beating ?? Promise.resolve(), callTimeoutMs, clock);
    const removing = this.#deps.store.removeWorker(this.#identity.id);
    removing.catch((error: unknown) =>
      safeLog(logger, "warn", { err: error }, "taskmill could not deregister the worker"),
    );
    await within(removing, callTimeoutMs, clock);
  }

  #beat(): void {
    const { store, settings, logger, clock } = this.#deps;
    const report: WorkerReport = { ...this.#identity, ...this.#deps.figures() };
    this.#beating = store
      .heartbeat(report, settings.dropAfterMs)
      .then(
        () => undefined,
        (error: unknown) =>
          safeLog(logger, "warn", { err: error }, "taskmill worker heartbeat failed; retrying"),
      )
      .finally(() => {
        if (!this.#stopped)
          this.#timer = clock.setTimer(() => this.#beat(), settings.heartbeatMs, true);
      });
  }
}

/** A stored worker as `mill.workers()` shows it, judged by the store's time `now`. */
export function toWorkerInfo(
  worker: StoredWorker,
  now: number,
  settings: ResolvedRegistry,
): WorkerInfo {
  const { heartbeatAt, ...report } = worker;
  return {
    ...report,
    queues: [...report.queues],
    lastHeartbeatAt: heartbeatAt,
    state: now - heartbeatAt > settings.lostAfterMs ? "lost" : "alive",
  };
}
