import { Cron } from "croner";
import { InvalidArgumentError } from "../errors.js";
import { type Logger, safeLog } from "../observability/logger.js";
import { requireName } from "../validation.js";
import { Alarm } from "./alarm.js";
import type { Clock } from "./clock.js";

/** Options of `schedule`. */
export interface ScheduleOptions {
  /** IANA time zone the pattern is read in, e.g. "Europe/Berlin". @default the process's zone */
  readonly timezone?: string;
  /**
   * The queue of the tasks it submits. @default the queue of `taskName`'s handler here, else
   * "default" (durable mode: the process that fires a tick may have no handler for it)
   */
  readonly queue?: string;
}

/** A registered schedule. */
export interface ScheduleInfo {
  readonly id: string;
  readonly cron: string;
  readonly taskName: string;
  readonly timezone?: string;
  /** Epoch ms of the next tick, absent if the pattern has no future run. */
  readonly nextRunAt?: number;
  /** A paused schedule fires no tick until resumed (`mill.pauseSchedule`). */
  readonly paused: boolean;
  /**
   * Durable mode: whether this process holds the cron leader lock, i.e. fires the ticks of its
   * schedules (the other processes skip them). Absent in memory mode, where every schedule fires.
   */
  readonly leader?: boolean;
}

/**
 * A gate for processes that share schedules (durable mode): ticks fire only on the leader.
 * The scheduler contends only while it has schedules (a process without any must never hold
 * the lock, or nobody would fire), and when it gains leadership it fires the most recent tick
 * it skipped, if that tick is at most `catchUpWindowMs` old: a tick that fell due during a
 * hand-over is enqueued once, by the new leader (the old one may have enqueued it too; the
 * tick's idempotency key makes that harmless), while ticks the old leader ran long ago are not
 * replayed.
 */
export interface CronLeadership {
  /** True while this process may fire ticks. Read at every tick. */
  isLeader(): boolean;
  /** Oldest skipped tick (age in ms at the moment of gaining leadership) still caught up. */
  readonly catchUpWindowMs: number;
  /** Start (`true`) or stop (`false`) contending for leadership; stopping releases it. */
  contend(active: boolean): void;
  /** `listener` runs each time this process becomes leader. */
  onGained(listener: () => void): void;
}

/** Submits one tick; `tick` (epoch ms) makes the submission idempotent per schedule and tick. */
export type SubmitTick = (
  scheduleId: string,
  taskName: string,
  payload: unknown,
  tick: number,
  queue: string | undefined,
) => Promise<unknown>;

interface Schedule {
  readonly id: string;
  readonly pattern: string;
  readonly cron: Cron;
  readonly taskName: string;
  readonly payload: unknown;
  readonly timezone: string | undefined;
  readonly queue: string | undefined;
  nextAt: number | undefined;
  /** The last tick skipped because another process led, for the catch-up on gaining the lead. */
  skipped: number | undefined;
  paused: boolean;
}

/** What defines a schedule (what a shared store holds of it). */
export interface ScheduleDefinition {
  readonly id: string;
  readonly cron: string;
  readonly taskName: string;
  readonly payload: unknown;
  readonly timezone: string | undefined;
  readonly queue: string | undefined;
  readonly paused: boolean;
}

/**
 * Cron schedules on one timer armed for the earliest tick of all schedules. Croner parses
 * patterns and computes next runs (time-zone aware); it owns no timer here, so the injected
 * clock drives ticks. A tick that was missed while the process was busy fires once, not once
 * per missed occurrence, and each submission carries an idempotency key derived from the
 * schedule and the tick, so no tick is ever enqueued twice.
 *
 * With a {@link CronLeadership} gate (durable mode) only the leader submits; see there for the
 * catch-up rule of a hand-over.
 */
export class CronScheduler {
  readonly #schedules = new Map<string, Schedule>();
  readonly #alarm: Alarm;
  readonly #stopListeners: Array<() => void> = [];
  #stopped = false;

  constructor(
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly submit: SubmitTick,
    private readonly leadership?: CronLeadership,
  ) {
    this.#alarm = new Alarm(clock, (now) => this.#fire(now));
    leadership?.onGained(() => this.#catchUp(this.clock.now()));
  }

  add(
    id: string,
    pattern: string,
    taskName: string,
    payload: unknown,
    options: ScheduleOptions = {},
    paused = false,
  ): ScheduleInfo {
    requireName("scheduleId", id);
    if (typeof pattern !== "string")
      throw new InvalidArgumentError("cron", "must be a cron pattern string", pattern);
    if (options.queue !== undefined) requireName("queue", options.queue);
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
      queue: options.queue,
      nextAt: this.#nextAfter(cron, this.clock.now()),
      skipped: undefined,
      paused,
    };
    this.#schedules.set(id, schedule);
    this.#rearm();
    if (!this.#stopped) this.leadership?.contend(true);
    return info(schedule, this.leadership?.isLeader());
  }

  remove(id: string): boolean {
    const removed = this.#schedules.delete(id);
    if (removed) this.#rearm();
    // Nothing left to fire: let a process that has schedules lead.
    if (removed && this.#schedules.size === 0) this.leadership?.contend(false);
    return removed;
  }

  /**
   * Pauses or resumes a schedule; `false` for an unknown id. A paused schedule's ticks pass
   * without firing (and are not caught up on resume): it fires again from its next tick.
   */
  setPaused(id: string, paused: boolean): boolean {
    const schedule = this.#schedules.get(id);
    if (schedule === undefined) return false;
    schedule.paused = paused;
    return true;
  }

  /** What defines each schedule, as a shared store holds it. */
  definitions(): ScheduleDefinition[] {
    return [...this.#schedules.values()].map((s) => ({
      id: s.id,
      cron: s.pattern,
      taskName: s.taskName,
      payload: s.payload,
      timezone: s.timezone,
      queue: s.queue,
      paused: s.paused,
    }));
  }

  /** `listener` runs once when the scheduler stops. */
  onStop(listener: () => void): void {
    this.#stopListeners.push(listener);
  }

  list(): ScheduleInfo[] {
    const leader = this.leadership?.isLeader();
    return [...this.#schedules.values()].map((schedule) => info(schedule, leader));
  }

  stop(): void {
    if (!this.#stopped) for (const listener of this.#stopListeners.splice(0)) listener();
    this.#stopped = true;
    this.#alarm.cancel();
    // Releases the lock at the start of a stop, so another process takes over promptly.
    this.leadership?.contend(false);
  }

  #fire(now: number): void {
    // Followers keep their timers running: their next ticks stay known for `schedules()` and
    // for the catch-up when they take over.
    const leading = this.leadership?.isLeader() ?? true;
    for (const schedule of this.#schedules.values()) {
      const tick = schedule.nextAt;
      if (tick === undefined || tick > now) continue;
      schedule.nextAt = this.#nextAfter(schedule.cron, now);
      // A paused schedule lets its ticks pass: none is fired or caught up later.
      schedule.skipped = leading || schedule.paused ? undefined : tick;
      if (leading && !schedule.paused) this.#submitTick(schedule, tick);
    }
    this.#rearm();
  }

  /** Just became leader: fire each schedule's last skipped tick if it is recent enough. */
  #catchUp(now: number): void {
    if (this.#stopped || this.leadership === undefined) return;
    const window = this.leadership.catchUpWindowMs;
    for (const schedule of this.#schedules.values()) {
      const tick = schedule.skipped;
      schedule.skipped = undefined;
      if (tick === undefined || schedule.paused || now - tick > window) continue;
      safeLog(
        this.logger,
        "info",
        { scheduleId: schedule.id, tick, lateMs: Math.round(now - tick) },
        "taskmill new cron leader fires a tick due during the hand-over",
      );
      this.#submitTick(schedule, tick);
    }
  }

  #submitTick(schedule: Schedule, tick: number): void {
    this.submit(schedule.id, schedule.taskName, schedule.payload, tick, schedule.queue).catch(
      (error: unknown) =>
        safeLog(
          this.logger,
          "error",
          { err: error, scheduleId: schedule.id, tick },
          "taskmill schedule tick failed to submit",
        ),
    );
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

function info(schedule: Schedule, leader: boolean | undefined): ScheduleInfo {
  const base: ScheduleInfo = {
    id: schedule.id,
    cron: schedule.pattern,
    taskName: schedule.taskName,
    timezone: schedule.timezone,
    nextRunAt: schedule.nextAt,
    paused: schedule.paused,
  };
  // Memory mode keeps its exact shape: `leader` only exists where a lock decides.
  return leader === undefined ? base : { ...base, leader };
}
