/**
 * Shared cron schedules (durable mode): the store holds every schedule, whichever process
 * registered it, and each process mirrors the store into its {@link CronScheduler} every
 * {@link SCHEDULE_SYNC_MS}. The cron leader (one process of many, see `CronLeadership`) then
 * fires every schedule, not only its own; the tick's idempotency key still makes a tick fired
 * twice at a hand-over harmless.
 *
 * Writes (`schedule`, `unschedule`, pause, resume) apply here at once and go to the store;
 * a schedule whose write is still in flight is not undone by a sync that read the store
 * before the write landed.
 */
import { type Logger, safeLog } from "../observability/logger.js";
import type { Clock, TimerHandle } from "../scheduling/clock.js";
import type { CronScheduler, ScheduleDefinition } from "../scheduling/cron.js";

/** How often a process reads the store's schedules. */
export const SCHEDULE_SYNC_MS = 1_000;

/** The store's schedules, as the durable engine exposes them. */
export interface ScheduleStorePort {
  /** Resolves once the store is connected (rejects if it never will be). */
  readonly connected: Promise<void>;
  save(schedule: ScheduleDefinition): Promise<void>;
  delete(id: string): Promise<boolean>;
  setPaused(id: string, paused: boolean): Promise<boolean>;
  list(): Promise<ScheduleDefinition[]>;
}

export class ScheduleSync {
  readonly #store: ScheduleStorePort;
  readonly #cron: CronScheduler;
  readonly #clock: Clock;
  readonly #logger: Logger;
  /** Ids with a write in flight: a sync leaves them alone. */
  readonly #writing = new Map<string, number>();
  /** The last write of each id, so the next one follows it. */
  readonly #chains = new Map<string, Promise<void>>();
  /** Schedules added here whose save failed: saved again at each sync until it lands. */
  readonly #unsaved = new Map<string, ScheduleDefinition>();
  #timer: TimerHandle | undefined;
  #stopped = false;

  constructor(store: ScheduleStorePort, cron: CronScheduler, clock: Clock, logger: Logger) {
    this.#store = store;
    this.#cron = cron;
    this.#clock = clock;
    this.#logger = logger;
    cron.onStop(() => this.stop());
    store.connected.then(
      () => this.#refresh(),
      () => {},
    );
  }

  /** A schedule was added or replaced here: store it. */
  saved(definition: ScheduleDefinition): void {
    this.#unsaved.delete(definition.id);
    this.#write(definition.id, "save the schedule (retried at the next sync)", () =>
      this.#store.save(definition),
    ).catch(() => {
      if (this.#cron.definitions().some((d) => d.id === definition.id))
        this.#unsaved.set(definition.id, definition);
    });
  }

  /** A schedule was removed here: remove it from the store. */
  removed(id: string): Promise<boolean> {
    this.#unsaved.delete(id);
    return this.#write(id, "delete the schedule", () => this.#store.delete(id));
  }

  /** Pauses or resumes a schedule in the store (and here); `false` if the store has none. */
  async setPaused(id: string, paused: boolean): Promise<boolean> {
    const found = await this.#write(id, paused ? "pause" : "resume", () =>
      this.#store.setPaused(id, paused),
    );
    if (found) this.#cron.setPaused(id, paused);
    return found;
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) this.#clock.clearTimer(this.#timer);
    this.#timer = undefined;
  }

  /**
   * Runs `write` after the writes of `id` sent before it (a pause right after a create must
   * not reach the store first), marking `id` as being written meanwhile.
   */
  async #write<T>(id: string, what: string, write: () => Promise<T>): Promise<T> {
    this.#writing.set(id, (this.#writing.get(id) ?? 0) + 1);
    const previous = this.#chains.get(id) ?? Promise.resolve();
    const running = previous.then(write);
    const settled = running.then(
      () => undefined,
      () => undefined,
    );
    this.#chains.set(id, settled);
    try {
      return await running;
    } catch (error) {
      safeLog(this.#logger, "warn", { err: error, scheduleId: id }, `taskmill could not ${what}`);
      throw error;
    } finally {
      if (this.#chains.get(id) === settled) this.#chains.delete(id);
      const left = (this.#writing.get(id) ?? 1) - 1;
      if (left === 0) this.#writing.delete(id);
      else this.#writing.set(id, left);
    }
  }

  async #refresh(): Promise<void> {
    if (this.#stopped) return;
    try {
      for (const [id, definition] of this.#unsaved) {
        await this.#store.save(definition);
        this.#unsaved.delete(id);
      }
      this.#apply(await this.#store.list());
    } catch (error) {
      safeLog(this.#logger, "warn", { err: error }, "taskmill could not read the schedules");
    }
    if (!this.#stopped)
      this.#timer = this.#clock.setTimer(() => void this.#refresh(), SCHEDULE_SYNC_MS, true);
  }

  /** Makes the local schedules what the store holds (writes in flight excepted). */
  #apply(stored: readonly ScheduleDefinition[]): void {
    if (this.#stopped) return;
    const local = new Map(this.#cron.definitions().map((d) => [d.id, d]));
    const seen = new Set<string>();
    for (const definition of stored) {
      seen.add(definition.id);
      if (this.#writing.has(definition.id) || this.#unsaved.has(definition.id)) continue;
      const mine = local.get(definition.id);
      if (mine !== undefined && sameTicks(mine, definition)) {
        if (mine.paused !== definition.paused) this.#cron.setPaused(mine.id, definition.paused);
        continue;
      }
      try {
        this.#cron.add(
          definition.id,
          definition.cron,
          definition.taskName,
          definition.payload,
          { timezone: definition.timezone, queue: definition.queue },
          definition.paused,
        );
      } catch (error) {
        safeLog(
          this.#logger,
          "warn",
          { err: error, scheduleId: definition.id },
          "taskmill skipped a stored schedule it cannot read",
        );
      }
    }
    for (const id of local.keys())
      if (!seen.has(id) && !this.#writing.has(id) && !this.#unsaved.has(id)) this.#cron.remove(id);
  }
}

/** Whether two definitions fire the same tasks at the same times (paused aside). */
function sameTicks(a: ScheduleDefinition, b: ScheduleDefinition): boolean {
  return (
    a.cron === b.cron &&
    a.taskName === b.taskName &&
    a.timezone === b.timezone &&
    a.queue === b.queue &&
    JSON.stringify(a.payload) === JSON.stringify(b.payload)
  );
}
