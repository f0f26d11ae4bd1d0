import { PermanentError, type RetryOptions } from "taskmill";
import { describe, expect, it } from "vitest";
import { manual, outcome, recordEvents, statusOf } from "../support/harness.js";

/** Start times of a handler that always fails, under `retry`, with `random`. */
async function attemptTimes(retry: RetryOptions, random: () => number = Math.random) {
  const { mill, clock } = manual({ retry, random });
  const starts: number[] = [];
  mill.register("fail", () => {
    starts.push(clock.now());
    throw new Error("always");
  });
  const task = await mill.submit("fail");
  await clock.advance(1_000_000);
  return { starts, status: await statusOf(mill, task.id), task };
}

describe("retry backoff on the manual clock", () => {
  it("fixed: equal gaps", async () => {
    const { starts } = await attemptTimes({
      maxRetries: 3,
      backoff: "fixed",
      baseDelayMs: 100,
      jitter: "none",
    });
    expect(starts).toEqual([0, 100, 200, 300]);
  });

  it("linear: gaps of 100, 200, 300", async () => {
    const { starts } = await attemptTimes({
      maxRetries: 3,
      backoff: "linear",
      baseDelayMs: 100,
      jitter: "none",
    });
    expect(starts).toEqual([0, 100, 300, 600]);
  });

  it("exponential: gaps of 100, 200, 400", async () => {
    const { starts } = await attemptTimes({
      maxRetries: 3,
      backoff: "exponential",
      baseDelayMs: 100,
      jitter: "none",
    });
    expect(starts).toEqual([0, 100, 300, 700]);
  });

  it("custom function of the failed attempt number", async () => {
    const { starts } = await attemptTimes({
      maxRetries: 3,
      backoff: (attempt) => attempt * 1_000 + 1,
      jitter: "none",
    });
    expect(starts).toEqual([0, 1_001, 3_002, 6_003]);
  });

  it("maxDelayMs caps each delay", async () => {
    const { starts } = await attemptTimes({
      maxRetries: 4,
      backoff: "exponential",
      baseDelayMs: 100,
      maxDelayMs: 250,
      jitter: "none",
    });
    expect(starts).toEqual([0, 100, 300, 550, 800]);
  });

  it("full jitter with random 0.5 waits half of each delay", async () => {
    const { starts } = await attemptTimes(
      { maxRetries: 3, backoff: "exponential", baseDelayMs: 100, jitter: "full" },
      () => 0.5,
    );
    expect(starts).toEqual([0, 50, 150, 350]);
  });

  it("equal jitter with random 0.5 waits three quarters of each delay", async () => {
    const { starts } = await attemptTimes(
      { maxRetries: 3, backoff: "exponential", baseDelayMs: 100, jitter: "equal" },
      () => 0.5,
    );
    expect(starts).toEqual([0, 75, 225, 525]);
  });

  it("the default policy is 3 retries, exponential from 100 ms with full jitter", async () => {
    const { starts } = await attemptTimes({}, () => 0.5);
    expect(starts).toEqual([0, 50, 150, 350]);
  });

  it("calls the handler maxRetries + 1 times on persistent failure, then fails with its error", async () => {
    for (const maxRetries of [0, 1, 5]) {
      const { starts, status, task } = await attemptTimes({ maxRetries, jitter: "none" });
      expect(starts).toHaveLength(maxRetries + 1);
      expect(status).toBe("failed");
      const result = await outcome(task.result());
      expect(result.ok).toBe(false);
      expect((result as { error: Error }).error.message).toBe("always");
    }
  });

  it("a per-handler policy overrides the manager's, and a per-task one overrides both", async () => {
    const { mill, clock } = manual({ retry: { maxRetries: 5, jitter: "none" } });
    const calls = new Map<string, number>();
    mill.register(
      "job",
      (label: string) => {
        calls.set(label, (calls.get(label) ?? 0) + 1);
        throw new Error("x");
      },
      { retry: { maxRetries: 1 } },
    );
    await mill.submit("job", "handler-policy");
    await mill.submit("job", "task-policy", { retry: { maxRetries: 2 } });
    await clock.advance(100_000);
    expect(Object.fromEntries(calls)).toEqual({ "handler-policy": 2, "task-policy": 3 });
  });
});

describe("retry semantics", () => {
  it("succeeds on a later attempt: result resolves, ctx.attempt counts up", async () => {
    const { mill, clock } = manual({ retry: { maxRetries: 3, jitter: "none" } });
    const attempts: number[] = [];
    mill.register("flaky", (_: unknown, ctx) => {
      attempts.push(ctx.attempt);
      if (ctx.attempt < 3) throw new Error(`attempt ${ctx.attempt}`);
      return "ok";
    });
    const task = await mill.submit<string>("flaky");
    await clock.advance(10_000);
    expect(await task.result()).toBe("ok");
    expect(attempts).toEqual([1, 2, 3]);
    expect(await mill.get(task.id)).toMatchObject({ status: "succeeded", attempts: 3 });
  });

  it("is retrying with a runAt between attempts and emits retrying with the delay", async () => {
    const { mill, clock } = manual({
      retry: { maxRetries: 1, backoff: "fixed", baseDelayMs: 400, jitter: "none" },
    });
    const retrying: Array<{ attempt: number; delayMs: number; message: string }> = [];
    mill.on("retrying", ({ attempt, delayMs, error }) =>
      retrying.push({ attempt, delayMs, message: error.message }),
    );
    mill.register("fail", () => {
      throw new Error("boom");
    });
    const task = await mill.submit("fail");
    await clock.advance(10);
    expect(await mill.get(task.id)).toMatchObject({ status: "retrying", runAt: 400 });
    expect(retrying).toEqual([{ attempt: 1, delayMs: 400, message: "boom" }]);
  });

  it("never retries a PermanentError", async () => {
    const { mill, clock } = manual({ retry: { maxRetries: 5 } });
    let calls = 0;
    mill.register("job", () => {
      calls++;
      throw new PermanentError("account closed");
    });
    const events = recordEvents(mill, ["retrying", "failed"]);
    const task = await mill.submit("job");
    await clock.advance(100_000);
    expect(calls).toBe(1);
    expect(events.map((e) => e.event)).toEqual(["failed"]);
    const result = await outcome(task.result());
    expect((result as { error: unknown }).error).toBeInstanceOf(PermanentError);
    expect(await mill.get(task.id)).toMatchObject({
      status: "failed",
      error: { name: "PermanentError", code: "ERR_PERMANENT", message: "account closed" },
    });
  });

  it("a PermanentError on a retry ends the task at once", async () => {
    const { mill, clock } = manual({ retry: { maxRetries: 5, jitter: "none" } });
    let calls = 0;
    mill.register("job", (_: unknown, ctx) => {
      calls++;
      throw ctx.attempt === 1 ? new Error("transient") : new PermanentError("now permanent");
    });
    const task = await mill.submit("job");
    await clock.advance(100_000);
    expect(calls).toBe(2);
    expect(await statusOf(mill, task.id)).toBe("failed");
  });

  it("waiting for a retry holds no slot: with concurrency 1 another task runs during the backoff", async () => {
    const { mill, clock } = manual({
      concurrency: 1,
      retry: { maxRetries: 1, backoff: "fixed", baseDelayMs: 1_000, jitter: "none" },
    });
    const log: string[] = [];
    mill.register("flaky", (_: unknown, ctx) => {
      log.push(`flaky#${ctx.attempt}@${clock.now()}`);
      if (ctx.attempt === 1) throw new Error("later");
    });
    mill.register("other", async () => {
      log.push(`other@${clock.now()}`);
      await new Promise<void>((resolve) => clock.setTimer(resolve, 300));
      log.push(`other-done@${clock.now()}`);
    });
    await mill.submit("flaky");
    await clock.advance(0);
    expect(mill.stats()).toMatchObject({ running: 0, waiting: 1 });
    await mill.submit("other");
    await clock.advance(2_000);
    expect(log).toEqual(["flaky#1@0", "other@0", "other-done@300", "flaky#2@1000"]);
  });

  it("a retry that comes due while the slot is busy waits for the slot", async () => {
    const { mill, clock } = manual({
      concurrency: 1,
      retry: { maxRetries: 1, backoff: "fixed", baseDelayMs: 100, jitter: "none" },
    });
    const log: string[] = [];
    mill.register("flaky", (_: unknown, ctx) => {
      log.push(`flaky#${ctx.attempt}@${clock.now()}`);
      if (ctx.attempt === 1) throw new Error("later");
    });
    mill.register("long", async () => {
      await new Promise<void>((resolve) => clock.setTimer(resolve, 500));
    });
    await mill.submit("flaky");
    await clock.advance(0);
    await mill.submit("long");
    await clock.advance(1_000);
    expect(log).toEqual(["flaky#1@0", "flaky#2@500"]);
  });
});
