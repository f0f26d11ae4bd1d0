/**
 * A leader lock's local validity (stores/leadership.ts), shared by the Redis, Postgres and
 * SQLite locks: the lapse is reported once, at the deadline, even when the timer fires early.
 */
import { describe, expect, it } from "vitest";
import { type Clock, ManualClock, type TimerHandle } from "../../src/scheduling/clock.js";
import { LockValidity } from "../../src/stores/leadership.js";

/**
 * Node's timers run on the loop's millisecond time: one may fire a fraction of a millisecond
 * before `performance.now()` reaches its deadline.
 */
class EarlyTimers implements Clock {
  constructor(readonly manual: ManualClock) {}
  now(): number {
    return this.manual.now();
  }
  setTimer(callback: () => void, delayMs: number): TimerHandle {
    return this.manual.setTimer(callback, Math.max(0, delayMs - 0.5));
  }
  clearTimer(handle: TimerHandle): void {
    this.manual.clearTimer(handle);
  }
}

describe("LockValidity", () => {
  it("reports a lapse at the deadline even when its timer fires early", async () => {
    const manual = new ManualClock(1_000);
    let lapses = 0;
    const validity = new LockValidity(new EarlyTimers(manual), () => lapses++);
    validity.confirm(1_100);
    await manual.advance(99);
    expect(validity.holds()).toBe(true);
    expect(lapses).toBe(0);
    await manual.advance(1);
    expect(validity.holds()).toBe(false);
    expect(lapses).toBe(1);
    await manual.advance(1_000);
    expect(lapses).toBe(1);
  });

  it("a newer confirmation moves the deadline; clear() ends it without a lapse", async () => {
    const manual = new ManualClock(0);
    let lapses = 0;
    const validity = new LockValidity(manual, () => lapses++);
    validity.confirm(100);
    await manual.advance(50);
    validity.confirm(200);
    await manual.advance(100);
    expect(lapses).toBe(0);
    expect(validity.holds()).toBe(true);
    await manual.advance(50);
    expect(lapses).toBe(1);
    validity.confirm(400);
    validity.clear();
    await manual.advance(1_000);
    expect(lapses).toBe(1);
    expect(validity.holds()).toBe(false);
  });
});
