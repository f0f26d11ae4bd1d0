import { ManualClock } from "taskmill";
import { describe, expect, it } from "vitest";
import { Alarm } from "../../src/scheduling/alarm.js";

describe("ManualClock", () => {
  it("fires due timers in time order, each at its own instant", async () => {
    const clock = new ManualClock(1_000);
    const fired: Array<[string, number]> = [];
    clock.setTimer(() => fired.push(["b", clock.now()]), 200);
    clock.setTimer(() => fired.push(["a", clock.now()]), 100);
    clock.setTimer(() => fired.push(["a2", clock.now()]), 100);
    clock.setTimer(() => fired.push(["late", clock.now()]), 500);
    await clock.advance(300);
    expect(fired).toEqual([
      ["a", 1_100],
      ["a2", 1_100],
      ["b", 1_200],
    ]);
    expect(clock.now()).toBe(1_300);
    expect(clock.pendingTimers).toBe(1);
  });

  it("fires timers set by timers within the same advance, and lets promises settle", async () => {
    const clock = new ManualClock();
    const fired: number[] = [];
    clock.setTimer(async () => {
      await Promise.resolve();
      clock.setTimer(() => fired.push(clock.now()), 50);
    }, 50);
    await clock.advance(100);
    expect(fired).toEqual([100]);
  });

  it("clearTimer cancels; unknown handles are ignored", async () => {
    const clock = new ManualClock();
    let fired = false;
    const handle = clock.setTimer(() => {
      fired = true;
    }, 10);
    clock.clearTimer(handle);
    clock.clearTimer({});
    await clock.advance(100);
    expect(fired).toBe(false);
    expect(clock.pendingTimers).toBe(0);
  });
});

describe("Alarm", () => {
  it("holds one timer for its earliest requested time", async () => {
    const clock = new ManualClock();
    const fired: number[] = [];
    const alarm = new Alarm(clock, (now) => fired.push(now));
    alarm.armAt(500);
    alarm.armAt(300);
    alarm.armAt(900); // later request never delays the alarm
    expect(clock.pendingTimers).toBe(1);
    await clock.advance(1_000);
    expect(fired).toEqual([300]);
    expect(alarm.armed).toBe(false);
    alarm.armAt(1_500);
    alarm.cancel();
    expect(clock.pendingTimers).toBe(0);
  });
});
