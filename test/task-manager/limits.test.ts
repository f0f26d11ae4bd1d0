import { describe, expect, it } from "vitest";
import { deferred, manual, outcome, sleep, statusOf } from "../support/harness.js";

describe("concurrency cap and token bucket through the manager", () => {
  it("default burst is min(concurrency, perSecond): concurrency 4 at 2/s starts 2, then one per 500 ms", async () => {
    const { mill, clock } = manual({ concurrency: 4, rate: { perSecond: 2 } });
    const starts: number[] = [];
    mill.register("job", () => {
      starts.push(clock.now());
    });
    for (let i = 0; i < 6; i++) await mill.submit("job");
    await clock.advance(0);
    expect(starts).toEqual([0, 0]);
    await clock.advance(499);
    expect(starts).toEqual([0, 0]);
    await clock.advance(1);
    expect(starts).toEqual([0, 0, 500]);
    await clock.advance(2_000);
    expect(starts).toEqual([0, 0, 500, 1_000, 1_500, 2_000]);
  });

  it("default burst is capped by concurrency: concurrency 2 at 10/s bursts only 2", async () => {
    const { mill, clock } = manual({ concurrency: 2, rate: { perSecond: 10 } });
    const starts: number[] = [];
    mill.register("job", () => {
      starts.push(clock.now());
    });
    for (let i = 0; i < 5; i++) await mill.submit("job");
    await clock.advance(1_000);
    expect(starts).toEqual([0, 0, 100, 200, 300]);
  });

  it("an explicit burst is honoured and then the sustained rate applies", async () => {
    const { mill, clock } = manual({ concurrency: 10, rate: { perSecond: 4, burst: 3 } });
    const starts: number[] = [];
    mill.register("job", () => {
      starts.push(clock.now());
    });
    for (let i = 0; i < 6; i++) await mill.submit("job");
    await clock.advance(1_000);
    expect(starts).toEqual([0, 0, 0, 250, 500, 750]);
  });

  it("1 task/s with burst 1 starts at t = 0, 1000, 2000, ...", async () => {
    const { mill, clock } = manual({ concurrency: 8, rate: { perSecond: 1, burst: 1 } });
    const starts: number[] = [];
    mill.register("job", () => {
      starts.push(clock.now());
    });
    for (let i = 0; i < 4; i++) await mill.submit("job");
    await clock.advance(999);
    expect(starts).toEqual([0]);
    await clock.advance(3_001);
    expect(starts).toEqual([0, 1_000, 2_000, 3_000]);
  });

  it("a bucket that idled refills to burst and no further", async () => {
    const { mill, clock } = manual({ concurrency: 10, rate: { perSecond: 1, burst: 2 } });
    const starts: number[] = [];
    mill.register("job", () => {
      starts.push(clock.now());
    });
    await clock.advance(60_000);
    for (let i = 0; i < 3; i++) await mill.submit("job");
    await clock.advance(1_000);
    expect(starts).toEqual([60_000, 60_000, 61_000]);
  });

  it("concurrency 1 never runs two handlers at once and runs them all", async () => {
    const { mill, clock } = manual({ concurrency: 1 });
    let running = 0;
    let peak = 0;
    const order: number[] = [];
    mill.register("job", async (n: number) => {
      running++;
      peak = Math.max(peak, running);
      order.push(n);
      await sleep(clock, 10);
      running--;
    });
    const handles = [];
    for (let n = 0; n < 5; n++) handles.push(await mill.submit("job", n));
    await clock.advance(0);
    expect(running).toBe(1);
    await clock.advance(100);
    expect(peak).toBe(1);
    expect(order).toEqual([0, 1, 2, 3, 4]);
    for (const handle of handles) expect(await statusOf(mill, handle.id)).toBe("succeeded");
  });

  it("the cap counts running handlers: a slot frees only when the handler settles", async () => {
    const { mill, clock } = manual({ concurrency: 2 });
    const gates = [deferred(), deferred(), deferred()];
    let started = 0;
    mill.register("job", (i: number) => {
      started++;
      return gates[i]?.promise;
    });
    for (let i = 0; i < 3; i++) await mill.submit("job", i);
    await clock.advance(10_000);
    expect(started).toBe(2);
    expect(mill.stats().running).toBe(2);
    expect(mill.stats().queued).toBe(1);
    gates[1]?.resolve(undefined);
    await clock.advance(0);
    expect(started).toBe(3);
  });

  it("maxRetries 0 calls a failing handler exactly once", async () => {
    const { mill, clock } = manual({ retry: { maxRetries: 0 } });
    let calls = 0;
    mill.register("job", () => {
      calls++;
      throw new Error("nope");
    });
    const task = await mill.submit("job");
    await clock.advance(60_000);
    expect(calls).toBe(1);
    const result = await outcome(task.result());
    expect(result.ok).toBe(false);
    expect((result as { error: Error }).error.message).toBe("nope");
    expect(await statusOf(mill, task.id)).toBe("failed");
  });

  it("retries draw from the same bucket as first attempts", async () => {
    const { mill, clock } = manual({
      rate: { perSecond: 1, burst: 1 },
      retry: { maxRetries: 1, backoff: "fixed", baseDelayMs: 0, jitter: "none" },
    });
    const starts: number[] = [];
    mill.register("flaky", (_: unknown, ctx) => {
      starts.push(clock.now());
      if (ctx.attempt === 1) throw new Error("first try fails");
    });
    const task = await mill.submit("flaky");
    await clock.advance(5_000);
    expect(starts).toEqual([0, 1_000]);
    expect(await statusOf(mill, task.id)).toBe("succeeded");
  });

  it("delayed tasks draw from the same bucket as everything else", async () => {
    const { mill, clock } = manual({ rate: { perSecond: 1, burst: 1 } });
    const starts: Array<[string, number]> = [];
    mill.register("job", (name: string) => {
      starts.push([name, clock.now()]);
    });
    await mill.submit("job", "now");
    await mill.submit("job", "delayed", { delayMs: 100 });
    await clock.advance(5_000);
    expect(starts).toEqual([
      ["now", 0],
      ["delayed", 1_000],
    ]);
  });

  it("stats() reports running and queued tasks honestly", async () => {
    const { mill, clock } = manual({ concurrency: 1 });
    const gate = deferred();
    mill.register("job", () => gate.promise);
    await mill.submit("job");
    await mill.submit("job");
    await mill.submit("job", undefined, { delayMs: 1_000 });
    await clock.advance(0);
    expect(mill.stats()).toMatchObject({ running: 1, queued: 1, waiting: 1, live: 3, started: 1 });
  });
});
