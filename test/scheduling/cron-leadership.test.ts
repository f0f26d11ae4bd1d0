/**
 * The cron scheduler's leadership gate with a fake gate and a manual clock: followers skip
 * ticks, a new leader catches up the last skipped tick when it is recent, contention follows
 * the schedule count. (The Redis lock behind the gate is tested in test/durable/cron-leader.)
 */
import { describe, expect, it } from "vitest";
import { silentLogger } from "../../src/observability/logger.js";
import { ManualClock } from "../../src/scheduling/clock.js";
import { type CronLeadership, CronScheduler } from "../../src/scheduling/cron.js";

const START = Date.UTC(2026, 0, 1);

class FakeLeadership implements CronLeadership {
  leading = false;
  readonly contended: boolean[] = [];
  readonly #listeners: Array<() => void> = [];

  constructor(readonly catchUpWindowMs: number) {}

  isLeader(): boolean {
    return this.leading;
  }

  contend(active: boolean): void {
    this.contended.push(active);
  }

  onGained(listener: () => void): void {
    this.#listeners.push(listener);
  }

  gain(): void {
    this.leading = true;
    for (const listener of this.#listeners) listener();
  }
}

function setup(windowMs = 2_000) {
  const clock = new ManualClock(START);
  const leadership = new FakeLeadership(windowMs);
  const ticks: number[] = [];
  const cron = new CronScheduler(
    clock,
    silentLogger,
    async (_id, _name, _payload, tick) => {
      ticks.push(tick - START);
    },
    leadership,
  );
  return { clock, leadership, ticks, cron };
}

describe("cron leadership gate", () => {
  it("a follower submits nothing but keeps its next run current; the leader submits each tick", async () => {
    const { clock, leadership, ticks, cron } = setup();
    cron.add("s", "* * * * * *", "t", undefined);
    await clock.advance(3_000);
    expect(ticks).toEqual([]);
    expect(cron.list()[0]).toMatchObject({ nextRunAt: START + 4_000, leader: false });
    leadership.leading = true;
    await clock.advance(2_000);
    expect(ticks).toEqual([4_000, 5_000]);
    expect(cron.list()[0]?.leader).toBe(true);
  });

  it("on gaining leadership, fires the last tick skipped during the hand-over, once", async () => {
    const { clock, leadership, ticks, cron } = setup();
    cron.add("s", "*/5 * * * * *", "t", undefined);
    await clock.advance(5_400); // tick 5 s skipped
    leadership.gain();
    expect(ticks).toEqual([5_000]);
    leadership.gain(); // a second gain has nothing left to catch up
    await clock.advance(4_600);
    expect(ticks).toEqual([5_000, 10_000]);
  });

  it("of several skipped ticks only the most recent is caught up (as a busy process coalesces)", async () => {
    const { clock, leadership, ticks, cron } = setup(5_000);
    cron.add("s", "* * * * * *", "t", undefined);
    await clock.advance(3_500); // ticks 1, 2, 3 s skipped
    leadership.gain();
    expect(ticks).toEqual([3_000]);
  });

  it("a skipped tick older than the catch-up window is not replayed (the old leader ran it)", async () => {
    const { clock, leadership, ticks, cron } = setup(2_000);
    cron.add("daily", "0 0 9 * * *", "t", undefined); // 09:00 UTC
    await clock.advance(9 * 3_600_000 + 60_000); // skipped 09:00, leadership gained at 09:01
    leadership.gain();
    expect(ticks).toEqual([]);
  });

  it("contends while it has schedules and stops contending when the last goes or it stops", () => {
    const { leadership, cron } = setup();
    cron.add("a", "* * * * * *", "t", undefined);
    cron.add("b", "* * * * * *", "t", undefined);
    cron.remove("a");
    expect(leadership.contended.at(-1)).toBe(true);
    cron.remove("b");
    expect(leadership.contended.at(-1)).toBe(false);
    cron.add("c", "* * * * * *", "t", undefined);
    expect(leadership.contended.at(-1)).toBe(true);
    cron.stop();
    expect(leadership.contended.at(-1)).toBe(false);
  });

  it("a tick that fires while the gate says no (lock lapsed locally) is caught up on re-gain", async () => {
    const { clock, leadership, ticks, cron } = setup();
    leadership.leading = true;
    cron.add("s", "* * * * * *", "t", undefined);
    await clock.advance(1_000);
    leadership.leading = false; // e.g. a renewal failed
    await clock.advance(1_000);
    leadership.gain();
    await clock.advance(1_000);
    expect(ticks).toEqual([1_000, 2_000, 3_000]);
  });
});
