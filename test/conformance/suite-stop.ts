/**
 * Stopping: stopGraceful and stopNow, their reports, and what happens to running and
 * unstarted work.
 */
import { CancelledError, ShuttingDownError, type StopReport, type TaskContext } from "taskmill";
import { describe, expect, it } from "vitest";
import {
  rejectionOf,
  type SuiteContext,
  settle,
  statusOf,
  waitFor,
  waitForStatus,
} from "./support.js";

function untilAborted(c: TaskContext): Promise<never> {
  return new Promise((_resolve, reject) => {
    c.signal.addEventListener("abort", () => reject(c.signal.reason), { once: true });
  });
}

/** Every stop resolves with this shape. */
function expectReportShape(report: StopReport): void {
  expect(report).toEqual({
    finished: expect.any(Array),
    cancelled: expect.any(Array),
    abandoned: expect.any(Array),
    requeued: expect.any(Array),
    // Every store here answers: nothing is left unwritten.
    unwritten: [],
    escalated: expect.any(Boolean),
  });
}

export function stopSuite(ctx: SuiteContext): void {
  describe("stopGraceful", () => {
    it("refuses new submissions with ShuttingDownError from the moment it is called", async () => {
      const mill = ctx.manager();
      mill.register("job", () => 1);
      const stopping = mill.stopGraceful({ timeoutMs: 5_000 });
      const refused = await settle(mill.submit("job"));
      expect(refused.ok).toBe(false);
      expect((refused as { error: unknown }).error).toBeInstanceOf(ShuttingDownError);
      expectReportShape(await stopping);
      expect((await settle(mill.submit("job"))).ok).toBe(false);
    });

    it("stopGraceful: a task that finishes while the stop drains is listed in report.finished", async () => {
      const mill = ctx.manager();
      const release = ctx.gate<string>();
      mill.register("drain-me", () => release.promise);
      const task = await mill.submit("drain-me");
      await waitForStatus(mill, task.id, "running");
      // Asked before the stop: a durable manager's store connections close with the stop.
      const result = task.result();
      const stopping = mill.stopGraceful({ timeoutMs: 5_000 });
      release.resolve("done");
      const report = await stopping;
      expectReportShape(report);
      expect(report.escalated).toBe(false);
      expect(report.finished).toContain(task.id);
      expect(report.cancelled).toEqual([]);
      expect(report.abandoned).toEqual([]);
      expect(report.requeued).toEqual([]);
      expect(await result).toBe("done");
    });

    it("lets running work finish and leaves no unstarted task behind: run here, or kept in the store", async () => {
      const backend = ctx.fixture.backend();
      const mill = ctx.manager({ backend, concurrency: 1 });
      const release = ctx.gate();
      const ran: string[] = [];
      mill.register("job", async (label: string) => {
        ran.push(label);
        if (label === "running") await release.promise;
        return label;
      });
      const running = await mill.submit("job", "running");
      await waitForStatus(mill, running.id, "running");
      const queued = await mill.submit("job", "queued");
      const delayed = await mill.submit("job", "delayed", { delayMs: 100 });
      const stopping = mill.stopGraceful({ timeoutMs: 5_000 });
      release.resolve();
      const report = await stopping;
      expectReportShape(report);
      expect(report.escalated).toBe(false);
      if (ctx.differences.unstartedOnStop === "run-or-cancel") {
        // In-process: the stop drains queued and delayed work too.
        expect(await running.result()).toBe("running");
        expect(await queued.result()).toBe("queued");
        expect(await delayed.result()).toBe("delayed");
        expect([...report.finished].sort()).toEqual([running.id, queued.id, delayed.id].sort());
        expect(ran.sort()).toEqual(["delayed", "queued", "running"]);
      } else {
        // Durable: tasks not started stay in the store; another process runs them.
        expect(ran).toEqual(["running"]);
        const other = ctx.manager({ backend });
        expect(await other.get(running.id)).toMatchObject({
          status: "succeeded",
          value: "running",
        });
        expect(await statusOf(other, queued.id)).toBe("queued");
        other.register("job", (label: string) => `${label} elsewhere`);
        await waitForStatus(other, queued.id, "succeeded");
        await waitForStatus(other, delayed.id, "succeeded");
        expect((await other.get(queued.id))?.value).toBe("queued elsewhere");
      }
    });

    it("at its deadline it escalates: running handlers are aborted, report.escalated is true", async () => {
      const backend = ctx.fixture.backend();
      const mill = ctx.manager({ backend });
      const reasons: unknown[] = [];
      let calls = 0;
      mill.register("forever", (_payload, c) => {
        calls++;
        c.signal.addEventListener("abort", () => reasons.push(c.signal.reason));
        return untilAborted(c);
      });
      const task = await mill.submit("forever");
      await waitForStatus(mill, task.id, "running");
      const report = await mill.stopGraceful({ timeoutMs: 100 });
      expectReportShape(report);
      expect(report.escalated).toBe(true);
      expect(report.abandoned).toEqual([]);
      expect(reasons).toHaveLength(1);
      expect(reasons[0]).toBeInstanceOf(CancelledError);
      if (ctx.differences.abortedRunning === "cancelled") {
        expect(report.cancelled).toEqual([task.id]);
        expect(report.requeued).toEqual([]);
        expect(await statusOf(mill, task.id)).toBe("cancelled");
        expect(await rejectionOf(task.result())).toBeInstanceOf(CancelledError);
      } else {
        expect(report.requeued).toEqual([task.id]);
        expect(report.cancelled).toEqual([]);
        const other = ctx.manager({ backend });
        other.register("forever", () => "second life");
        await waitForStatus(other, task.id, "succeeded");
      }
      expect(calls).toBe(1);
    });
  });

  describe("stopNow", () => {
    it("aborts running handlers: the task ends cancelled, or goes back to the store (requeued)", async () => {
      const backend = ctx.fixture.backend();
      const mill = ctx.manager({ backend });
      const reasons: unknown[] = [];
      mill.register("long", (_payload, c) => {
        c.signal.addEventListener("abort", () => reasons.push(c.signal.reason));
        return untilAborted(c);
      });
      const task = await mill.submit("long");
      await waitForStatus(mill, task.id, "running");
      const report = await mill.stopNow();
      expectReportShape(report);
      expect(report.escalated).toBe(false);
      expect(report.abandoned).toEqual([]);
      expect(report.finished).toEqual([]);
      expect(reasons).toHaveLength(1);
      expect(reasons[0]).toBeInstanceOf(CancelledError);
      if (ctx.differences.abortedRunning === "cancelled") {
        expect(report.cancelled).toEqual([task.id]);
        expect(report.requeued).toEqual([]);
        expect(await statusOf(mill, task.id)).toBe("cancelled");
        expect(await rejectionOf(task.result())).toBeInstanceOf(CancelledError);
      } else {
        expect(report.requeued).toEqual([task.id]);
        const other = ctx.manager({ backend });
        expect(["queued", "retrying"]).toContain(await statusOf(other, task.id));
        other.register("long", () => "ran again");
        await waitForStatus(other, task.id, "succeeded");
      }
    });

    it("reports a handler that ignores its signal as abandoned", async () => {
      const mill = ctx.manager();
      const hang = ctx.gate();
      mill.register("deaf", () => hang.promise);
      const task = await mill.submit("deaf");
      await waitForStatus(mill, task.id, "running");
      try {
        const report = await mill.stopNow();
        expectReportShape(report);
        expect(report.abandoned).toEqual([task.id]);
      } finally {
        hang.resolve();
      }
    });

    it("unstarted tasks are cancelled (in-process) or kept in the store (durable)", async () => {
      const backend = ctx.fixture.backend();
      const mill = ctx.manager({ backend, concurrency: 1 });
      mill.register("job", (label: string) => label, { queue: "held" });
      await mill.pauseQueue("held");
      const queued = await mill.submit("job", "queued");
      const delayed = await mill.submit("job", "delayed", { delayMs: 60_000 });
      const report = await mill.stopNow();
      expectReportShape(report);
      if (ctx.differences.unstartedOnStop === "run-or-cancel") {
        expect([...report.cancelled].sort()).toEqual([queued.id, delayed.id].sort());
        expect(await rejectionOf(queued.result())).toBeInstanceOf(CancelledError);
        expect(await rejectionOf(delayed.result())).toBeInstanceOf(CancelledError);
        expect(await statusOf(mill, queued.id)).toBe("cancelled");
        expect(await statusOf(mill, delayed.id)).toBe("cancelled");
      } else {
        expect(report.cancelled).toEqual([]);
        const other = ctx.manager({ backend });
        expect(await statusOf(other, queued.id)).toBe("queued");
        expect(await statusOf(other, delayed.id)).toBe("scheduled");
        other.register("job", (label: string) => label, { queue: "held" });
        // A pause is state in a shared store: it outlives the process that made it.
        await other.resumeQueue("held");
        await waitForStatus(other, queued.id, "succeeded");
      }
    });

    it("both stops are idempotent and never throw; later calls get the same report", async () => {
      const mill = ctx.manager();
      mill.register("quick", () => "ok");
      const task = await mill.submit("quick");
      await task.result();
      const first = mill.stopGraceful({ timeoutMs: 1_000 });
      const second = mill.stopGraceful({ timeoutMs: 1_000 });
      const [a, b] = await Promise.all([first, second]);
      expect(b).toEqual(a);
      expectReportShape(a);
      expect(a.escalated).toBe(false);
      const now = await mill.stopNow();
      expectReportShape(now);
      expect(now).toEqual(a);
      expect(await mill.stopNow()).toEqual(now);
      // Nothing is running after a stop.
      await waitFor(() => mill.stats().running === 0, 1_000, "nothing running");
    });
  });
}
