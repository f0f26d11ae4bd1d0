/**
 * The scheduling path: priorities and FIFO, delays, TTLs, concurrency caps, pause/resume and
 * queues().
 */
import { ExpiredError } from "taskmill";
import { describe, expect, it } from "vitest";
import {
  eventsOf,
  recordEvents,
  rejectionOf,
  type SuiteContext,
  sleep,
  snapshotOf,
  statusOf,
  waitFor,
  waitForStatus,
} from "./support.js";

export function schedulingSuite(ctx: SuiteContext): void {
  describe("ordering", () => {
    it("higher priority first, FIFO within a priority", async () => {
      const mill = ctx.manager({ concurrency: 1 });
      const blocker = ctx.gate();
      const order: string[] = [];
      mill.register("job", async (label: string) => {
        order.push(label);
        if (label === "blocker") await blocker.promise;
      });
      const first = await mill.submit("job", "blocker");
      await waitForStatus(mill, first.id, "running");
      const submitted = [
        ["low-1", 0],
        ["high-1", 10],
        ["mid-1", 5],
        ["low-2", 0],
        ["high-2", 10],
        ["mid-2", 5],
        ["neg-1", -3],
        ["high-3", 10],
      ] as const;
      const tasks = [];
      for (const [label, priority] of submitted)
        tasks.push(await mill.submit("job", label, { priority }));
      expect((await snapshotOf(mill, tasks[1]?.id as string)).priority).toBe(10);
      blocker.resolve();
      await Promise.all(tasks.map((task) => task.result()));
      expect(order).toEqual([
        "blocker",
        "high-1",
        "high-2",
        "high-3",
        "mid-1",
        "mid-2",
        "low-1",
        "low-2",
        "neg-1",
      ]);
    });
  });

  describe("delays", () => {
    it("a delayed task is scheduled, then runs once due, not before", async () => {
      const mill = ctx.manager();
      let calls = 0;
      mill.register("later", () => {
        calls++;
        return "ran";
      });
      const task = await mill.submit("later", undefined, { delayMs: 150 });
      const scheduled = await snapshotOf(mill, task.id);
      expect(scheduled.status).toBe("scheduled");
      expect(scheduled.runAt).toEqual(expect.any(Number));
      expect(scheduled.runAt).toBeGreaterThanOrEqual(scheduled.createdAt);
      expect(calls).toBe(0);
      expect(await task.result()).toBe("ran");
      const done = await snapshotOf(mill, task.id);
      // On the store's own clock: it started no earlier than it was due.
      expect(done.startedAt).toBeGreaterThanOrEqual(scheduled.runAt as number);
      expect(calls).toBe(1);
    });

    it("a delayed task runs after an immediate one submitted later", async () => {
      const mill = ctx.manager({ concurrency: 1 });
      const order: string[] = [];
      mill.register("job", (label: string) => {
        order.push(label);
      });
      const delayed = await mill.submit("job", "delayed", { delayMs: 100 });
      const now = await mill.submit("job", "now");
      await now.result();
      await delayed.result();
      expect(order).toEqual(["now", "delayed"]);
    });
  });

  describe("TTL", () => {
    it("a task whose ttlMs passes before it starts ends expired and never runs", async () => {
      const mill = ctx.manager({ concurrency: 1 });
      const seen = recordEvents(mill);
      const blocker = ctx.gate();
      const ran: string[] = [];
      mill.register("job", async (label: string) => {
        ran.push(label);
        if (label === "blocker") await blocker.promise;
        return label;
      });
      const first = await mill.submit("job", "blocker");
      await waitForStatus(mill, first.id, "running");
      const doomed = await mill.submit("job", "doomed", { ttlMs: 30 });
      // Let its TTL pass while the only slot is taken.
      await sleep(100);
      blocker.resolve();
      expect(await rejectionOf(doomed.result())).toBeInstanceOf(ExpiredError);
      await waitForStatus(mill, doomed.id, "expired");
      const after = await mill.submit("job", "after");
      expect(await after.result()).toBe("after");
      expect(ran).toEqual(["blocker", "after"]);
      await waitFor(() => eventsOf(seen, doomed.id).includes("expired"), 5_000, "expired event");
      expect(eventsOf(seen, doomed.id)).toEqual(["queued", "expired"]);
      expect(await snapshotOf(mill, doomed.id)).toMatchObject({ status: "expired", attempts: 0 });
    });

    it("a task that starts within its TTL is never expired", async () => {
      const mill = ctx.manager();
      mill.register("quick", async () => {
        // Still running when its TTL passes.
        await sleep(250);
        return "ok";
      });
      const task = await mill.submit("quick", undefined, { ttlMs: 150 });
      expect(await task.result()).toBe("ok");
      expect(await statusOf(mill, task.id)).toBe("succeeded");
    });
  });

  describe("concurrency", () => {
    it("never runs more handlers at once than concurrency", async () => {
      const mill = ctx.manager({ concurrency: 2 });
      let running = 0;
      let peak = 0;
      mill.register("work", async () => {
        running++;
        peak = Math.max(peak, running);
        await sleep(20);
        running--;
      });
      const tasks = await Promise.all(Array.from({ length: 8 }, () => mill.submit("work")));
      await Promise.all(tasks.map((task) => task.result()));
      expect(peak).toBe(2);
    });

    it("a queue's own cap holds inside the manager's", async () => {
      const mill = ctx.manager({ concurrency: 4, queues: { narrow: { concurrency: 1 } } });
      let running = 0;
      let peak = 0;
      mill.register(
        "work",
        async () => {
          running++;
          peak = Math.max(peak, running);
          await sleep(15);
          running--;
        },
        { queue: "narrow" },
      );
      const tasks = await Promise.all(Array.from({ length: 4 }, () => mill.submit("work")));
      await Promise.all(tasks.map((task) => task.result()));
      expect(peak).toBe(1);
    });
  });

  describe("queues", () => {
    it("pauseQueue stops starts in that queue only; resumeQueue restarts them", async () => {
      const mill = ctx.manager();
      const ran: string[] = [];
      mill.register("slow-lane", (label: string) => void ran.push(label), { queue: "held" });
      mill.register("fast-lane", (label: string) => void ran.push(label), { queue: "open" });
      await mill.pauseQueue("held");
      const held = await mill.submit("slow-lane", "held");
      const open = await mill.submit("fast-lane", "open");
      await open.result();
      // The open queue ran; give the paused one the same chance, then check it did not start.
      await sleep(50);
      expect(ran).toEqual(["open"]);
      expect(await statusOf(mill, held.id)).toBe("queued");
      mill.resumeQueue("held");
      await held.result();
      expect(ran).toEqual(["open", "held"]);
    });

    it("pausing a queue lets its running task finish", async () => {
      const mill = ctx.manager();
      const release = ctx.gate();
      mill.register("job", async () => {
        await release.promise;
        return "finished";
      });
      const task = await mill.submit("job");
      await waitForStatus(mill, task.id, "running");
      await mill.pauseQueue("default");
      release.resolve();
      expect(await task.result()).toBe("finished");
      mill.resumeQueue("default");
    });

    it("queues() reports depth, running and paused per queue", async () => {
      const mill = ctx.manager({ queues: { busy: { concurrency: 1 } } });
      const release = ctx.gate();
      mill.register("wait", () => release.promise, { queue: "busy" });
      mill.register("held", () => {}, { queue: "held" });
      await mill.pauseQueue("held");
      await mill.submit("held");
      await mill.submit("held");
      const running = await mill.submit("wait");
      await waitForStatus(mill, running.id, "running");
      const queued = await mill.submit("wait");
      const byName = async () => Object.fromEntries((await mill.queues()).map((q) => [q.name, q]));
      const queues = await byName();
      expect(queues.held).toMatchObject({ name: "held", depth: 2, running: 0, paused: true });
      expect(queues.busy).toMatchObject({ name: "busy", depth: 1, running: 1, paused: false });
      expect(queues.busy?.concurrency).toBe(1);
      mill.resumeQueue("held");
      release.resolve();
      await queued.result();
      await waitFor(
        async () => {
          const now = await byName();
          return now.held?.depth === 0 && now.busy?.depth === 0 && now.busy?.running === 0;
        },
        5_000,
        "queues drained",
      );
      expect((await byName()).held?.paused).toBe(false);
    });
  });
}
