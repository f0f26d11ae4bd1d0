/**
 * The schedule operations behind the facade: each change goes to this process's cron and, in
 * durable mode, to the store's shared schedules (so every process sharing it sees it).
 */
import type { RegisteredHandler } from "../engine/backend.js";
import type { ScheduleSync } from "../engine/schedule-sync.js";
import { HandlerNotFoundError, InvalidArgumentError, ShuttingDownError } from "../errors.js";
import type { ShutdownTracker } from "../lifecycle/shutdown.js";
import type { ResolvedOptions } from "../options.js";
import type { CronScheduler, ScheduleInfo, ScheduleOptions } from "../scheduling/cron.js";
import { checkDurablePayload } from "../stores/connect.js";
import { requireName } from "../validation.js";

export class ScheduleOperations {
  constructor(
    private readonly options: ResolvedOptions,
    private readonly handlers: ReadonlyMap<string, RegisteredHandler>,
    private readonly shutdown: ShutdownTracker,
    private readonly cron: CronScheduler,
    /** Durable mode: the store's shared schedules, mirrored into `cron`. */
    private readonly sync: ScheduleSync | undefined,
  ) {}

  /**
   * @throws HandlerNotFoundError in memory mode if no handler is registered for `taskName`.
   * @throws InvalidArgumentError for a bad id, pattern or time zone, and in durable mode if
   *   `payload` is not JSON data.
   */
  add(
    scheduleId: string,
    cron: string,
    taskName: string,
    payload: unknown,
    options: ScheduleOptions | undefined,
  ): ScheduleInfo {
    if (this.shutdown.stopping) throw new ShuttingDownError();
    const durable = this.options.backend.type !== "memory";
    if (!durable && !this.handlers.has(taskName)) throw new HandlerNotFoundError(taskName);
    if (durable) {
      requireName("taskName", taskName);
      // Each tick stores the payload: a durable store refuses what is not JSON now, not at a tick.
      checkDurablePayload("payload", payload);
    }
    // The queue travels with the schedule: the process that fires a tick may not know it.
    const queue = options?.queue ?? (durable ? this.handlers.get(taskName)?.queue : undefined);
    const info = this.cron.add(scheduleId, cron, taskName, payload, { ...options, queue });
    this.sync?.saved({
      id: info.id,
      cron: info.cron,
      taskName,
      payload,
      timezone: info.timezone,
      queue,
      paused: false,
    });
    return info;
  }

  remove(scheduleId: string): boolean {
    const removed = this.cron.remove(scheduleId);
    this.sync?.removed(scheduleId).catch(() => {}); // logged by the sync; the next sync shows what the store holds
    return removed;
  }

  setPaused(scheduleId: string, paused: boolean): Promise<boolean> {
    if (typeof scheduleId !== "string" || scheduleId.length === 0)
      return Promise.reject(
        new InvalidArgumentError("scheduleId", "must be a non-empty string", scheduleId),
      );
    if (this.sync === undefined) return Promise.resolve(this.cron.setPaused(scheduleId, paused));
    return this.sync.setPaused(scheduleId, paused);
  }

  list(): ScheduleInfo[] {
    return this.cron.list();
  }
}
