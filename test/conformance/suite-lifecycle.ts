/**
 * Lifecycle: statuses and terminal states, retries, PermanentError, timeouts.
 */
import { PermanentError, TaskmillError, TimeoutError } from "taskmill";
import { describe, expect, it } from "vitest";
import {
  failureInfo,
  rejectionOf,
  type SuiteContext,
  sleep,
  snapshotOf,
  statusOf,
  waitFor,
  waitForStatus,
} from "./support.js";

const FAST_RETRY = { backoff: "fixed", baseDelayMs: 10, jitter: "none" } as const;

export function lifecycleSuite(ctx: SuiteContext): void {
  describe("lifecycle", () => {
    it("a task goes queued -> running -> succeeded; its snapshot and result show the value", async () => {
      const mill = ctx.manager();
      const release = ctx.gate<{ n: number }>();
      mill.register("work", (_payload: unknown) => release.promise, { queue: "held" });
      await mill.pauseQueue("held");
      const task = await mill.submit("work", { in: 1 });
      expect(task.id).toEqual(expect.any(String));
      expect(task.name).toBe("work");
      expect(task.queue).toBe("held");
      expect(await snapshotOf(mill, task.id)).toMatchObject({
        id: task.id,
        name: "work",
        queue: "held",
        status: "queued",
        attempts: 0,
        priority: 0,
      });
      mill.resumeQueue("held");
      await waitForStatus(mill, task.id, "running");
      const running = await snapshotOf(mill, task.id);
      expect(running.attempts).toBe(1);
      expect(running.startedAt).toEqual(expect.any(Number));
      release.resolve({ n: 42 });
      expect(await task.result()).toEqual({ n: 42 });
      await waitForStatus(mill, task.id, "succeeded");
      const done = await snapshotOf(mill, task.id);
      expect(done).toMatchObject({ status: "succeeded", attempts: 1, value: { n: 42 } });
      expect(done.finishedAt).toEqual(expect.any(Number));
      expect(done.finishedAt).toBeGreaterThanOrEqual(done.startedAt as number);
    });

    it("a terminal state never changes: cancel of a succeeded task resolves false and it stays succeeded", async () => {
      const mill = ctx.manager();
      mill.register("ok", () => "done");
      const task = await mill.submit("ok");
      expect(await task.result()).toBe("done");
      await waitForStatus(mill, task.id, "succeeded");
      expect(await mill.cancel(task.id)).toBe(false);
      expect(await statusOf(mill, task.id)).toBe("succeeded");
      expect(await task.result()).toBe("done");
    });

    it("the handler receives the payload and ctx (taskId, name, queue, attempt, signal)", async () => {
      const mill = ctx.manager();
      const seen: unknown[] = [];
      mill.register(
        "inspect",
        (payload: { a: number }, c) => {
          seen.push({
            payload,
            taskId: c.taskId,
            name: c.name,
            queue: c.queue,
            attempt: c.attempt,
            aborted: c.signal.aborted,
          });
          return payload.a * 2;
        },
        { queue: "inspect-q" },
      );
      const task = await mill.submit("inspect", { a: 21 });
      expect(await task.result()).toBe(42);
      expect(seen).toEqual([
        {
          payload: { a: 21 },
          taskId: task.id,
          name: "inspect",
          queue: "inspect-q",
          attempt: 1,
          aborted: false,
        },
      ]);
    });
  });

  describe("retries", () => {
    it("maxRetries 0 means the handler is called once; the task fails and result() rejects", async () => {
      const mill = ctx.manager({ retry: { maxRetries: 0 } });
      let calls = 0;
      mill.register("down", () => {
        calls++;
        throw new Error("down");
      });
      const task = await mill.submit("down");
      const error = await rejectionOf(task.result());
      expect(failureInfo(ctx.differences, error)).toMatchObject({ message: "down" });
      await waitForStatus(mill, task.id, "failed");
      expect(calls).toBe(1);
      expect(await snapshotOf(mill, task.id)).toMatchObject({
        status: "failed",
        attempts: 1,
        error: { message: "down" },
      });
    });

    it("a handler that always fails is called maxRetries + 1 times, then the task is failed", async () => {
      const mill = ctx.manager();
      const attempts: number[] = [];
      mill.register(
        "down",
        (_payload, c) => {
          attempts.push(c.attempt);
          throw new Error(`attempt ${c.attempt}`);
        },
        { retry: { maxRetries: 2, ...FAST_RETRY } },
      );
      const task = await mill.submit("down");
      const error = await rejectionOf(task.result());
      expect(failureInfo(ctx.differences, error).message).toBe("attempt 3");
      await waitForStatus(mill, task.id, "failed");
      expect(attempts).toEqual([1, 2, 3]);
      expect(await snapshotOf(mill, task.id)).toMatchObject({ attempts: 3, maxRetries: 2 });
    });

    it("a flaky handler that succeeds on its second attempt ends succeeded", async () => {
      const mill = ctx.manager();
      const attempts: number[] = [];
      mill.register(
        "flaky",
        (_payload, c) => {
          attempts.push(c.attempt);
          if (c.attempt === 1) throw new Error("once");
          return "second";
        },
        { retry: { maxRetries: 3, ...FAST_RETRY } },
      );
      const task = await mill.submit("flaky");
      expect(await task.result()).toBe("second");
      await waitForStatus(mill, task.id, "succeeded");
      expect(attempts).toEqual([1, 2]);
      expect(await snapshotOf(mill, task.id)).toMatchObject({ attempts: 2 });
    });

    it("a task waiting for its backoff is retrying", async () => {
      const mill = ctx.manager();
      let calls = 0;
      mill.register(
        "slow-retry",
        () => {
          calls++;
          if (calls === 1) throw new Error("again");
          return "ok";
        },
        { retry: { maxRetries: 1, backoff: "fixed", baseDelayMs: 300, jitter: "none" } },
      );
      const task = await mill.submit("slow-retry");
      await waitForStatus(mill, task.id, "retrying");
      expect(calls).toBe(1);
      expect(await task.result()).toBe("ok");
      expect(calls).toBe(2);
    });

    it("a submit's own retry overrides the handler's", async () => {
      const mill = ctx.manager();
      const calls = new Map<string, number>();
      mill.register(
        "down",
        (_payload, c) => {
          calls.set(c.taskId, (calls.get(c.taskId) ?? 0) + 1);
          throw new Error("down");
        },
        { retry: { maxRetries: 2, ...FAST_RETRY } },
      );
      const byHandler = await mill.submit("down");
      const bySubmit = await mill.submit("down", undefined, { retry: { maxRetries: 0 } });
      await rejectionOf(byHandler.result());
      await rejectionOf(bySubmit.result());
      expect(calls.get(byHandler.id)).toBe(3);
      expect(calls.get(bySubmit.id)).toBe(1);
    });

    it("a thrown non-Error value and a synchronous throw are failures like rejections", async () => {
      const mill = ctx.manager();
      mill.register("throws-string", () => {
        throw "just a string";
      });
      mill.register("throws-sync", (): never => {
        throw new TypeError("sync");
      });
      const nonError = await mill.submit("throws-string");
      const sync = await mill.submit("throws-sync");
      expect(failureInfo(ctx.differences, await rejectionOf(nonError.result()))).toMatchObject({
        name: "NonErrorThrownError",
        code: "ERR_HANDLER_THREW_NON_ERROR",
      });
      expect(failureInfo(ctx.differences, await rejectionOf(sync.result()))).toMatchObject({
        name: "TypeError",
        message: "sync",
      });
      await waitForStatus(mill, nonError.id, "failed");
      await waitForStatus(mill, sync.id, "failed");
    });

    it("a handler throwing PermanentError is not retried", async () => {
      const mill = ctx.manager();
      let calls = 0;
      mill.register(
        "bad",
        () => {
          calls++;
          throw new PermanentError("no such account");
        },
        { retry: { maxRetries: 5, ...FAST_RETRY } },
      );
      const task = await mill.submit("bad");
      const error = await rejectionOf(task.result());
      expect(failureInfo(ctx.differences, error)).toEqual({
        name: "PermanentError",
        message: "no such account",
        code: "ERR_PERMANENT",
      });
      await waitForStatus(mill, task.id, "failed");
      expect(calls).toBe(1);
      expect(await snapshotOf(mill, task.id)).toMatchObject({
        attempts: 1,
        error: { name: "PermanentError", message: "no such account", code: "ERR_PERMANENT" },
      });
    });
  });

  describe("timeouts", () => {
    it("a timed-out attempt is a failure: retried per policy, failed after the last; result() rejects with a timeout", async () => {
      const mill = ctx.manager();
      const reasons: unknown[] = [];
      mill.register(
        "slow",
        (_payload, c) =>
          new Promise((_resolve, reject) => {
            // Honours its signal: lets go at once.
            c.signal.addEventListener("abort", () => {
              reasons.push(c.signal.reason);
              reject(c.signal.reason);
            });
          }),
        { timeoutMs: 50, retry: { maxRetries: 1, ...FAST_RETRY } },
      );
      const task = await mill.submit("slow");
      const error = await rejectionOf(task.result());
      // Every store: a TaskmillError whose info says timeout.
      expect(error).toBeInstanceOf(TaskmillError);
      expect(failureInfo(ctx.differences, error)).toMatchObject({
        name: "TimeoutError",
        code: "ERR_TIMEOUT",
      });
      if (ctx.differences.failureRejection === "thrown-error")
        expect(error).toBeInstanceOf(TimeoutError);
      await waitForStatus(mill, task.id, "failed");
      expect(reasons).toHaveLength(2);
      for (const reason of reasons) expect(reason).toBeInstanceOf(TimeoutError);
      expect(await snapshotOf(mill, task.id)).toMatchObject({
        status: "failed",
        attempts: 2,
        error: { name: "TimeoutError", code: "ERR_TIMEOUT" },
      });
    });

    it("timeout: a last attempt whose handler ignores ctx.signal is failed at its deadline while the handler still hangs", async () => {
      const mill = ctx.manager();
      const hang = ctx.gate();
      let settled = false;
      mill.register(
        "stuck",
        async () => {
          // Ignores its signal: settles only when the test lets it go.
          await hang.promise;
          settled = true;
          return "late";
        },
        { timeoutMs: 150, retry: { maxRetries: 0 } },
      );
      try {
        const task = await mill.submit("stuck");
        await waitForStatus(mill, task.id, "running");
        await waitForStatus(mill, task.id, "failed", 2_000);
        const error = await rejectionOf(task.result());
        expect(failureInfo(ctx.differences, error)).toMatchObject({ code: "ERR_TIMEOUT" });
        expect(settled).toBe(false);
      } finally {
        hang.resolve();
      }
    });

    it("a timed-out attempt that will be retried waits for its handler to let go: attempts never overlap", async () => {
      const mill = ctx.manager();
      const hang = ctx.gate();
      const attempts: number[] = [];
      let running = 0;
      let peak = 0;
      mill.register(
        "overlap",
        async (_payload, c) => {
          attempts.push(c.attempt);
          running++;
          peak = Math.max(peak, running);
          try {
            // The first attempt ignores its signal until the test lets it go.
            if (c.attempt === 1) await hang.promise;
            return c.attempt;
          } finally {
            running--;
          }
        },
        {
          timeoutMs: 50,
          retry: { maxRetries: 1, backoff: "fixed", baseDelayMs: 1, jitter: "none" },
        },
      );
      const task = await mill.submit("overlap");
      await waitFor(() => attempts.length === 1, 5_000, "first attempt");
      // Well past the deadline and the backoff: a retry must still not have started.
      await sleep(200);
      expect(attempts).toEqual([1]);
      hang.resolve();
      // The late value of the timed-out attempt changes nothing; the retry decides.
      expect(await task.result()).toBe(2);
      expect(attempts).toEqual([1, 2]);
      expect(peak).toBe(1);
    });

    it("a handler that settles before its timeout is unaffected", async () => {
      const mill = ctx.manager();
      mill.register("quick", () => "fast", { timeoutMs: 5_000 });
      const task = await mill.submit("quick");
      expect(await task.result()).toBe("fast");
      await waitFor(async () => (await mill.get(task.id))?.status === "succeeded");
    });
  });
}
