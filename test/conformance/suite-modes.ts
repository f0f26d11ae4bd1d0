/**
 * The documented differences between stores, each asserted on both sides through
 * `ctx.differences` (support.ts), plus delivery counts.
 */
import { HandlerNotFoundError, UnsupportedError } from "taskmill";
import { describe, expect, it } from "vitest";
import { rejectionOf, type SuiteContext, statusOf } from "./support.js";

export function modesSuite(ctx: SuiteContext): void {
  describe("store differences", () => {
    it("run(fn): runs an ad-hoc closure with the same ctx, or rejects with UnsupportedError where closures cannot be stored", async () => {
      const mill = ctx.manager();
      if (ctx.differences.runClosures) {
        const task = await mill.run(async (c) => ({ attempt: c.attempt, id: c.taskId }));
        expect(await task.result()).toEqual({ attempt: 1, id: task.id });
      } else {
        expect(await rejectionOf(mill.run(async () => 1))).toBeInstanceOf(UnsupportedError);
      }
    });

    it("a submit naming no registered handler is refused with HandlerNotFoundError, or accepted for another process", async () => {
      // A manager without handlers: in durable mode, the producer of a producer/worker setup.
      const mill = ctx.manager();
      if (ctx.differences.unregisteredSubmit === "refused") {
        const error = await rejectionOf(mill.submit("unknown.task", { x: 1 }));
        expect(error).toBeInstanceOf(HandlerNotFoundError);
        expect(error).toMatchObject({ code: "ERR_HANDLER_NOT_FOUND" });
      } else {
        const task = await mill.submit("unknown.task", { x: 1 });
        expect(task.name).toBe("unknown.task");
        expect(await statusOf(mill, task.id)).toBe("queued");
      }
    });

    it("every task runs; at most once per attempt in-process, at least once where delivery is durable", async () => {
      const mill = ctx.manager({ concurrency: 3 });
      const calls = new Map<string, number>();
      mill.register("count", async (n: number, c) => {
        calls.set(c.taskId, (calls.get(c.taskId) ?? 0) + 1);
        await new Promise((resolve) => setTimeout(resolve, 2));
        return n;
      });
      const tasks = await Promise.all(
        Array.from({ length: 20 }, (_, n) => mill.submit("count", n)),
      );
      expect(await Promise.all(tasks.map((task) => task.result()))).toEqual(
        Array.from({ length: 20 }, (_, n) => n),
      );
      for (const task of tasks) {
        const count = calls.get(task.id) ?? 0;
        if (ctx.differences.delivery === "at-most-once") expect(count).toBe(1);
        else expect(count).toBeGreaterThanOrEqual(1);
      }
    });
  });
}
