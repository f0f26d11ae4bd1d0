import {
  type Clock,
  HandlerNotFoundError,
  InvalidArgumentError,
  type Logger,
  ManualClock,
  ShuttingDownError,
  TaskManager,
  type TaskManagerOptions,
  type TimerHandle,
} from "taskmill";
import { afterEach, describe, expect, it } from "vitest";

/** 2026-01-01T00:00:00Z, a Thursday: a round minute, so "*\/5 * * * * *" ticks at +5 s, +10 s... */
const START = Date.UTC(2026, 0, 1);
const mills: TaskManager[] = [];

afterEach(async () => {
  for (const mill of mills.splice(0)) await mill.stopNow();
});

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

interface Timer {
  at: number;
  seq: number;
  callback: () => void;
}

/**
 * A clock whose process can be "busy": `stall(ms)` moves time on without running any timer (the
 * event loop was blocked), then runs the overdue ones late, as Node does after a long sync job.
 */
class BusyClock implements Clock {
  #now: number;
  #seq = 0;
  readonly timers = new Set<Timer>();

  constructor(start: number) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimer(callback: () => void, delayMs: number): TimerHandle {
    const timer = { at: this.#now + Math.max(0, delayMs), seq: this.#seq++, callback };
    this.timers.add(timer);
    return timer;
  }

  clearTimer(handle: TimerHandle): void {
    this.timers.delete(handle as Timer);
  }

  async stall(ms: number): Promise<void> {
    this.#now += ms;
    await this.#runDue();
  }

  async #runDue(): Promise<void> {
    await flush();
    for (;;) {
      const due = [...this.timers]
        .filter((t) => t.at <= this.#now)
        .sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (due === undefined) return;
      this.timers.delete(due);
      due.callback();
      await flush();
    }
  }
}

function makeMill(clock: Clock, options: TaskManagerOptions = {}) {
  const mill = new TaskManager({ clock, retry: { maxRetries: 0 }, ...options });
  const runs: { payload: unknown; at: number }[] = [];
  mill.register("report", async (payload: unknown) => {
    runs.push({ payload, at: clock.now() });
    return payload;
  });
  mills.push(mill);
  return { mill, runs };
}

/** Idempotency keys of every task the scheduler submitted: `schedule:<id>:<tick ms>`. */
async function scheduledKeys(mill: TaskManager): Promise<string[]> {
  const { tasks } = await mill.list({ limit: 10_000 });
  return tasks.map((t) => t.idempotencyKey ?? "");
}

describe("cron schedules", () => {
  it("every 5 s for 60 s submits exactly 12 tasks, one per tick, with the payload", async () => {
    const clock = new ManualClock(START);
    const { mill, runs } = makeMill(clock);
    const info = mill.schedule("five", "*/5 * * * * *", "report", { kind: "heartbeat" });
    expect(info).toMatchObject({
      id: "five",
      cron: "*/5 * * * * *",
      taskName: "report",
      nextRunAt: START + 5_000,
    });
    await clock.advance(60_000);
    expect(mill.stats().submitted).toBe(12);
    expect(runs).toHaveLength(12);
    expect(runs.map((r) => r.at - START)).toEqual(
      Array.from({ length: 12 }, (_, i) => (i + 1) * 5_000),
    );
    expect(runs.every((r) => (r.payload as { kind: string }).kind === "heartbeat")).toBe(true);
    const keys = await scheduledKeys(mill);
    expect(new Set(keys).size).toBe(12);
    expect(keys[0]).toBe(`schedule:five:${START + 5_000}`);
    expect(mill.schedules()[0]?.nextRunAt).toBe(START + 65_000);
  });

  it("advancing in small steps gives the same ticks as one big advance", async () => {
    const clock = new ManualClock(START);
    const { mill, runs } = makeMill(clock);
    mill.schedule("five", "*/5 * * * * *", "report");
    for (let i = 0; i < 600; i++) await clock.advance(100);
    expect(runs.map((r) => r.at - START)).toEqual(
      Array.from({ length: 12 }, (_, i) => (i + 1) * 5_000),
    );
  });

  it("a process busy for 60 s produces ONE occurrence for the missed ticks, never one per tick", async () => {
    const clock = new BusyClock(START);
    const { mill, runs } = makeMill(clock);
    mill.schedule("five", "*/5 * * * * *", "report");
    await clock.stall(60_000);
    expect(mill.stats().submitted).toBe(1);
    expect(runs).toHaveLength(1);
    // The next tick is in the future again: nothing is replayed.
    expect(mill.schedules()[0]?.nextRunAt).toBe(START + 65_000);
    await clock.stall(4_999);
    expect(mill.stats().submitted).toBe(1);
    await clock.stall(1);
    expect(mill.stats().submitted).toBe(2);
    // Busy again, for a while, repeatedly: one occurrence per catch-up, no tick twice.
    for (let i = 0; i < 5; i++) await clock.stall(17_000);
    expect(mill.stats().submitted).toBe(7);
    const keys = await scheduledKeys(mill);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it("re-registering a schedule id at a tick's instant never submits that tick twice", async () => {
    const clock = new ManualClock(START);
    const { mill } = makeMill(clock);
    mill.schedule("five", "*/5 * * * * *", "report", { v: 1 });
    await clock.advance(5_000);
    expect(mill.stats().submitted).toBe(1);
    mill.schedule("five", "*/5 * * * * *", "report", { v: 1 });
    expect(mill.schedules()).toHaveLength(1);
    expect(mill.schedules()[0]?.nextRunAt).toBe(START + 10_000);
    await clock.advance(5_000);
    expect(mill.stats().submitted).toBe(2);
    const keys = await scheduledKeys(mill);
    expect(new Set(keys).size).toBe(2);
  });

  it("unschedule stops it; unknown ids return false", async () => {
    const clock = new ManualClock(START);
    const { mill } = makeMill(clock);
    mill.schedule("five", "*/5 * * * * *", "report");
    await clock.advance(10_000);
    expect(mill.stats().submitted).toBe(2);
    expect(mill.unschedule("five")).toBe(true);
    expect(mill.unschedule("five")).toBe(false);
    expect(mill.schedules()).toEqual([]);
    await clock.advance(60_000);
    expect(mill.stats().submitted).toBe(2);
    expect(clock.pendingTimers).toBeLessThanOrEqual(1); // at most the (unref'd) retention timer
  });

  it("several schedules share one timer and each fires on its own ticks", async () => {
    const clock = new ManualClock(START);
    const { mill, runs } = makeMill(clock);
    mill.schedule("every-5", "*/5 * * * * *", "report", "five");
    mill.schedule("every-20", "*/20 * * * * *", "report", "twenty");
    expect(clock.pendingTimers).toBe(1);
    await clock.advance(60_000);
    expect(runs.filter((r) => r.payload === "five")).toHaveLength(12);
    expect(runs.filter((r) => r.payload === "twenty").map((r) => r.at - START)).toEqual([
      20_000, 40_000, 60_000,
    ]);
  });

  it("timezone changes nextRunAt: 09:00 in New York vs Berlin", () => {
    const clock = new ManualClock(START);
    const { mill } = makeMill(clock);
    const ny = mill.schedule("ny", "0 9 * * *", "report", undefined, {
      timezone: "America/New_York",
    });
    const berlin = mill.schedule("berlin", "0 9 * * *", "report", undefined, {
      timezone: "Europe/Berlin",
    });
    // January: New York is UTC-5, Berlin UTC+1.
    expect(ny.nextRunAt).toBe(Date.UTC(2026, 0, 1, 14));
    expect(berlin.nextRunAt).toBe(Date.UTC(2026, 0, 1, 8));
    expect(ny.timezone).toBe("America/New_York");
    expect(mill.schedules().map((s) => s.id)).toEqual(["ny", "berlin"]);
  });

  it("timezone-aware ticks follow daylight-saving changes", async () => {
    // 2026-03-28 in Berlin: CET (UTC+1); from 2026-03-29 CEST (UTC+2).
    const clock = new ManualClock(Date.UTC(2026, 2, 28, 12));
    const { mill, runs } = makeMill(clock);
    mill.schedule("berlin", "0 9 * * *", "report", undefined, { timezone: "Europe/Berlin" });
    await clock.advance(2 * 86_400_000);
    expect(runs.map((r) => new Date(r.at).toISOString())).toEqual([
      "2026-03-29T07:00:00.000Z",
      "2026-03-30T07:00:00.000Z",
    ]);
  });

  it("an invalid pattern is an InvalidArgumentError and registers nothing", () => {
    const clock = new ManualClock(START);
    const { mill } = makeMill(clock);
    for (const pattern of ["not a cron", "*/5 * * *", "61 * * * *", ""]) {
      expect(() => mill.schedule("bad", pattern, "report")).toThrow(InvalidArgumentError);
    }
    expect(() => mill.schedule("bad", 5 as unknown as string, "report")).toThrow(
      InvalidArgumentError,
    );
    expect(() => mill.schedule("", "* * * * *", "report")).toThrow(InvalidArgumentError);
    expect(mill.schedules()).toEqual([]);
    expect(clock.pendingTimers).toBe(0);
  });

  it("an invalid timezone is an InvalidArgumentError", () => {
    const clock = new ManualClock(START);
    const { mill } = makeMill(clock);
    expect(() =>
      mill.schedule("bad", "0 9 * * *", "report", undefined, { timezone: "Mars/Olympus" }),
    ).toThrow(InvalidArgumentError);
    expect(() =>
      mill.schedule("bad", "0 9 * * *", "report", undefined, { timezone: 5 as unknown as string }),
    ).toThrow(expect.objectContaining({ code: "ERR_INVALID_ARGUMENT", argument: "timezone" }));
    expect(mill.schedules()).toEqual([]);
  });

  it("scheduling an unknown task name is a HandlerNotFoundError", () => {
    const clock = new ManualClock(START);
    const { mill } = makeMill(clock);
    expect(() => mill.schedule("x", "* * * * *", "nope")).toThrow(HandlerNotFoundError);
    expect(mill.schedules()).toEqual([]);
  });

  it("stopNow cancels the schedule timer", async () => {
    const clock = new ManualClock(START);
    const { mill } = makeMill(clock);
    mill.schedule("five", "*/5 * * * * *", "report");
    expect(clock.pendingTimers).toBe(1);
    await mill.stopNow();
    expect(clock.pendingTimers).toBe(0);
    await clock.advance(60_000);
    expect(mill.stats().submitted).toBe(0);
    expect(() => mill.schedule("again", "* * * * *", "report")).toThrow(ShuttingDownError);
  });

  it("stopGraceful cancels the schedule timer too, after ticks ran", async () => {
    const clock = new ManualClock(START);
    const { mill } = makeMill(clock);
    mill.schedule("five", "*/5 * * * * *", "report");
    await clock.advance(5_000);
    const report = await mill.stopGraceful({ timeoutMs: 1_000 });
    expect(report.escalated).toBe(false);
    expect(clock.pendingTimers).toBe(0);
    await clock.advance(60_000);
    expect(mill.stats().submitted).toBe(1);
  });

  it("a tick whose submit fails is logged and the schedule keeps going", async () => {
    const clock = new ManualClock(START);
    const errors: Record<string, unknown>[] = [];
    const noop = () => {};
    const logger: Logger = {
      debug: noop,
      info: noop,
      warn: noop,
      error: (obj) => errors.push(obj),
    };
    const { mill } = makeMill(clock, { logger });
    // A conflicting task already holds the key of the first tick.
    mill.register("other", async () => 1);
    await mill.submit("other", undefined, { idempotencyKey: `schedule:five:${START + 5_000}` });
    mill.schedule("five", "*/5 * * * * *", "report");
    await clock.advance(10_000);
    expect(errors).toEqual([expect.objectContaining({ scheduleId: "five", tick: START + 5_000 })]);
    expect(mill.stats().submitted).toBe(2); // "other" and the second tick
  });
});
