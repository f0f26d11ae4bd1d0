import { Cron } from "croner";
import { InvalidArgumentError } from "../errors.js";
import { type Logger, safeLog } from "../observability/logger.js";
import { Alarm } from "./alarm.js";
import type { Clock } from "./clock.js";

/** Options of `schedule`. */
export interface ScheduleOptions {
  /** IANA time zone the pattern is read in, e.g. "Europe/Berlin". @default the process's zone */
  readonly timezone?: string;
}

/** A registered schedule. */
export interface ScheduleInfo {
  readonly id: string;
  readonly cron: string;
  readonly taskName: string;
  readonly timezone?: string;
  /** Epoch ms of the next tick, absent if the pattern has no future run. */
  readonly nextRunAt?: number;
}

/** Submits one tick; `tick` (epoch ms) makes the submission idempotent per schedule and tick. */
export type SubmitTick = (
  scheduleId: string,
  taskName: string,
  payload: unknown,
  tick: number,
) => Promise<unknown>;

interface Schedule {
  readonly id: string;
  readonly pattern: string;
  readonly cron: Cron;
  readonly taskName: string;
  readonly payload: unknown;
  readonly timezone: string | undefined;
  nextAt: number | undefined;
}

/**
 * Cron schedules on one timer armed for the earliest tick of all schedules. Croner parses
 * patterns and computes next runs (time-zone aware); it owns no timer here, so the injected
 * clock drives ticks. A tick that was missed while the process was busy fires once, not once
 * per missed occurrence, and each submission carries an idempotency key derived from the
 * schedule and the tick, so no tick is ever enqueued twice.
 */
export class CronScheduler {
  readonly #schedules = new Map<string, Schedule>();
  readonly #alarm: Alarm;
  #stopped = false;

  constructor(
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly submit: SubmitTick,
  ) {
    this.#alarm = new Alarm(clock, (now) => this.#fire(now));
  }

  add(
    id: string,
    pattern: string,
    taskName: string,
    payload: unknown,
    options: ScheduleOptions = {},
  ): ScheduleInfo {
    if (typeof id !== "string" || id.length === 0)
      throw new InvalidArgumentError("scheduleId", "must be a non-empty string", id);
    if (typeof pattern !== "string")
      throw new InvalidArgumentError("cron", "must be a cron pattern string", pattern);
    if (options.timezone !== undefined && !isTimeZone(options.timezone))
      throw new InvalidArgumentError(
        "timezone",
        'must be an IANA time zone name such as "Europe/Berlin"',
        options.timezone,
      );
    let cron: Cron;
    try {
      cron = new Cron(pattern, { timezone: options.timezone, paused: true });
    } catch (error) {
      throw new InvalidArgumentError(
        "cron",
        `must be a valid cron pattern: ${(error as Error).message}`,
        pattern,
      );
    }
    const schedule: Schedule = {
      id,
      pattern,
      cron,
      taskName,
      payload,
      timezone: options.timezone,
      nextAt: this.#nextAfter(cron, this.clock.now()),
    };
    this.#schedules.set(id, schedule);
    this.#rearm();
    return info(schedule);
  }

  remove(id: string): boolean {
    const removed = this.#schedules.delete(id);
    if (removed) this.#rearm();
    return removed;
  }

  list(): ScheduleInfo[] {
    return [...this.#schedules.values()].map(info);
  }

  stop(): void {
    this.#stopped = true;
    this.#alarm.cancel();
  }

  #fire(now: number): void {
    for (const schedule of this.#schedules.values()) {
      const tick = schedule.nextAt;
      if (tick === undefined || tick > now) continue;
      schedule.nextAt = this.#nextAfter(schedule.cron, now);
      this.submit(schedule.id, schedule.taskName, schedule.payload, tick).catch((error: unknown) =>
        safeLog(
          this.logger,
          "error",
          { err: error, scheduleId: schedule.id, tick },
          "taskmill schedule tick failed to submit",
        ),
      );
    }
    this.#rearm();
  }

  #rearm(): void {
    this.#alarm.cancel();
    if (this.#stopped) return;
    let earliest: number | undefined;
    for (const schedule of this.#schedules.values())
      if (schedule.nextAt !== undefined && (earliest === undefined || schedule.nextAt < earliest))
        earliest = schedule.nextAt;
    if (earliest !== undefined) this.#alarm.armAt(earliest);
  }

  #nextAfter(cron: Cron, now: number): number | undefined {
    return cron.nextRun(new Date(now))?.getTime();
  }
}

/** True for a time zone name Intl accepts (croner would otherwise fail later, untyped). */
function isTimeZone(timezone: unknown): boolean {
  if (typeof timezone !== "string" || timezone.length === 0) return false;
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: timezone });
    return true;
  } catch {
    return false;
  }
}

function info(schedule: Schedule): ScheduleInfo {
  return {
    id: schedule.id,
    cron: schedule.pattern,
    taskName: schedule.taskName,
    timezone: schedule.timezone,
    nextRunAt: schedule.nextAt,
  };
}
