/**
 * Cancellation of queued, delayed and running tasks, and of unknown ids.
 */
import { randomUUID } from "node:crypto";
import { CancelledError, type TaskContext } from "taskmill";
import { describe, expect, it } from "vitest";
import {
  rejectionOf,
  type SuiteContext,
  sleep,
  snapshotOf,
  statusOf,
  waitFor,
  waitForStatus,
} from "./support.js";

/** A handler body that rejects with the signal's reason as soon as it aborts. */
function untilAborted(c: TaskContext): Promise<never> {
  return new Promise((_resolve, reject) => {
    c.signal.addEventListener("abort", () => reject(c.signal.reason), { once: true });
  });
}

export function cancelSuite(ctx: SuiteContext): void {
  describe("cancel", () => {
    it("cancel of a queued task ends it cancelled and it never starts", async () => {
      const mill = ctx.manager({ concurrency: 1 });
      const blocker = ctx.gate();
      const ran: string[] = [];
      mill.register("job", async (label: string) => {
        ran.push(label);
        if (label === "blocker") await blocker.promise;
        return label;
      });
      const first = await mill.submit("job", "blocker");
      await waitForStatus(mill, first.id, "running");
      const victim = await mill.submit("job", "victim");
      const after = await mill.submit("job", "after");
      expect(await statusOf(mill, victim.id)).toBe("queued");
      expect(await mill.cancel(victim.id)).toBe(true);
      expect(await statusOf(mill, victim.id)).toBe("cancelled");
      expect(await rejectionOf(victim.result())).toBeInstanceOf(CancelledError);
      blocker.resolve();
      // "after" was queued behind the victim: once it ran, the victim had its chance.
      expect(await after.result()).toBe("after");
      expect(ran).toEqual(["blocker", "after"]);
      expect(await statusOf(mill, victim.id)).toBe("cancelled");
    });

    it("cancel of a delayed (scheduled) task ends it cancelled", async () => {
      const mill = ctx.manager();
      let calls = 0;
      mill.register("later", () => {
        calls++;
      });
      const task = await mill.submit("later", undefined, { delayMs: 60_000 });
      expect(await statusOf(mill, task.id)).toBe("scheduled");
      expect(await mill.cancel(task.id)).toBe(true);
      expect(await rejectionOf(task.result())).toBeInstanceOf(CancelledError);
      expect(await statusOf(mill, task.id)).toBe("cancelled");
      expect(calls).toBe(0);
    });

    it("cancel of a running task aborts ctx.signal with CancelledError and it is not retried", async () => {
      const mill = ctx.manager();
      const reasons: unknown[] = [];
      let calls = 0;
      mill.register(
        "long",
        async (_payload, c) => {
          calls++;
          c.signal.addEventListener("abort", () => reasons.push(c.signal.reason));
          return untilAborted(c);
        },
        { retry: { maxRetries: 3, backoff: "fixed", baseDelayMs: 10, jitter: "none" } },
      );
      const task = await mill.submit("long");
      await waitForStatus(mill, task.id, "running");
      expect(await mill.cancel(task.id)).toBe(true);
      expect(await rejectionOf(task.result())).toBeInstanceOf(CancelledError);
      await waitFor(() => reasons.length === 1, 5_000, "the handler's signal aborted");
      expect(reasons[0]).toBeInstanceOf(CancelledError);
      await waitForStatus(mill, task.id, "cancelled");
      // A retry would have started by now (10 ms backoff); it must not.
      await waitFor(async () => mill.stats().running === 0, 5_000, "the slot freed");
      expect(calls).toBe(1);
      expect(await statusOf(mill, task.id)).toBe("cancelled");
    });

    it("a cancelled running task whose handler ignores its signal stays cancelled when it later returns", async () => {
      const mill = ctx.manager();
      const hang = ctx.gate();
      mill.register("stubborn", async () => {
        await hang.promise;
        return "late value";
      });
      const task = await mill.submit("stubborn");
      await waitForStatus(mill, task.id, "running");
      expect(await mill.cancel(task.id)).toBe(true);
      expect(await rejectionOf(task.result())).toBeInstanceOf(CancelledError);
      hang.resolve();
      await waitFor(async () => mill.stats().running === 0, 5_000, "the late handler settled");
      const snapshot = await snapshotOf(mill, task.id);
      expect(snapshot.status).toBe("cancelled");
      expect(snapshot.value).toBeUndefined();
    });

    it("a cancelled handler that ignores its signal keeps its slot until it settles", async () => {
      const mill = ctx.manager({ concurrency: 1 });
      const hang = ctx.gate();
      const ran: string[] = [];
      mill.register("job", async (label: string) => {
        ran.push(label);
        if (label === "deaf") await hang.promise;
        return label;
      });
      const deaf = await mill.submit("job", "deaf");
      await waitForStatus(mill, deaf.id, "running");
      expect(await mill.cancel(deaf.id)).toBe(true);
      const next = await mill.submit("job", "next");
      // The cap stays honest: "next" waits for the deaf handler, not for the cancel.
      await sleep(100);
      expect(ran).toEqual(["deaf"]);
      expect(await statusOf(mill, next.id)).toBe("queued");
      hang.resolve();
      expect(await next.result()).toBe("next");
      expect(await statusOf(mill, deaf.id)).toBe("cancelled");
    });

    it("cancel of an unknown id resolves false", async () => {
      const mill = ctx.manager();
      mill.register("noop", () => {});
      expect(await mill.cancel(randomUUID())).toBe(false);
      expect(await mill.cancel("no-such-task")).toBe(false);
    });

    it("a submit signal cancels its task", async () => {
      const mill = ctx.manager();
      mill.register("later", () => {});
      const controller = new AbortController();
      const task = await mill.submit("later", undefined, {
        delayMs: 60_000,
        signal: controller.signal,
      });
      controller.abort();
      expect(await rejectionOf(task.result())).toBeInstanceOf(CancelledError);
      await waitForStatus(mill, task.id, "cancelled");
    });
  });
}
