/**
 * The fleet operations in durable mode, state the store shares between every process: queue
 * pauses (with this process's writes in flight laid over them, see {@link SharedPause}), the
 * queues' depths, the worker registry and the cron schedules the manager's `ScheduleSync` keeps.
 */
import { BackendUnavailableError } from "../../errors.js";
import type { WorkerInfo } from "../../fleet.js";
import type { ResolvedOptions } from "../../options.js";
import type { DurableBackend } from "../../stores/connect.js";
import type { DurableStore } from "../../stores/durable-store.js";
import type { JsonValue } from "../../stores/durable-types.js";
import type { QueueInfo } from "../../types.js";
import type { ScheduleStorePort } from "../schedule-sync.js";
import { within } from "../within.js";
import { SharedPause } from "./shared-pause.js";
import type { StoreCalls } from "./store-calls.js";
import type { StoreSession } from "./store-session.js";
import { toWorkerInfo } from "./worker-heartbeat.js";

/** What the fleet operations need from the engine. */
export interface FleetOperationsDeps {
  readonly calls: StoreCalls;
  readonly session: () => StoreSession;
  readonly backend: DurableBackend;
  readonly options: ResolvedOptions;
  /** Handlers of `queue` running in this process. */
  readonly runningIn: (queue: string) => number;
  /** A resume is in the store: wake this process's worker (the store woke the others). */
  readonly resumed: () => void;
}

export class FleetOperations {
  readonly #deps: FleetOperationsDeps;
  readonly #pause: SharedPause;

  constructor(deps: FleetOperationsDeps) {
    this.#deps = deps;
    this.#pause = new SharedPause(deps.calls, deps.resumed);
  }

  /** Pauses `queue` for every process sharing the store (see {@link SharedPause}). */
  pause(queue: string): Promise<void> {
    return this.#pause.set(queue, true);
  }

  resume(queue: string): Promise<void> {
    return this.#pause.set(queue, false);
  }

  /** Whether this process must not claim from `queue` (its pause is being written). */
  isPausing(queue: string): boolean {
    return this.#pause.isPausing(queue);
  }

  async queues(): Promise<QueueInfo[]> {
    const [depths, stored] = await this.#deps.calls.read("queues", (store) =>
      Promise.all([store.queues(), store.pausedQueues()]),
    );
    const paused = this.#pause.overlay(stored);
    const names = new Set([...depths.map((q) => q.name), ...paused]);
    return [...names].map((name) => ({
      name,
      depth: depths.find((q) => q.name === name)?.depth ?? 0,
      waiting: 0,
      running: this.#deps.runningIn(name),
      paused: paused.has(name),
      concurrency: this.#deps.options.queues.get(name)?.concurrency,
    }));
  }

  /** The worker registry, judged by the store's clock (see {@link WorkerHeartbeat}). */
  async workers(): Promise<WorkerInfo[]> {
    const { registry } = this.#deps.options;
    const { now, workers } = await this.#deps.calls.read("workers", (store) =>
      store.listWorkers(registry.dropAfterMs),
    );
    return workers.map((worker) => toWorkerInfo(worker, now, registry));
  }

  /** The store's schedules for the manager's {@link ScheduleSync}. */
  scheduleStore(): ScheduleStorePort {
    const calls = this.#deps.calls;
    return {
      connected: this.#deps.session().ready.then(() => undefined),
      save: (d) =>
        calls.read("schedule", (store) =>
          store.saveSchedule({ ...d, payload: d.payload as JsonValue | undefined }),
        ),
      delete: (id) => calls.read("unschedule", (store) => store.deleteSchedule(id)),
      setPaused: (id, paused) =>
        calls.read(paused ? "pauseSchedule" : "resumeSchedule", (store) =>
          store.setSchedulePaused(id, paused),
        ),
      // The periodic sync is background work: it must not take a slot of the bound on calls
      // waiting for the store (backend.maxPendingCalls), which belongs to the application.
      list: () => this.#background("schedules", (store) => store.listSchedules()),
    };
  }

  /**
   * A background call to the store (not counted in `backend.maxPendingCalls`): rejects at once
   * when not connected, and with `BackendUnavailableError` past `backend.callTimeoutMs`.
   */
  async #background<T>(what: string, call: (store: DurableStore) => Promise<T>): Promise<T> {
    const { backend, options } = this.#deps;
    const current = this.#deps.session().current;
    if (current === undefined)
      throw new BackendUnavailableError(`${backend.type} is not connected (${what})`);
    const running = call(current.store);
    const outcome = await within(running, backend.callTimeoutMs, options.clock);
    if (outcome.done) return running;
    throw new BackendUnavailableError(
      `no answer from ${backend.type} within ${backend.callTimeoutMs} ms (${what})`,
    );
  }
}
