/**
 * Events and their order for one task, progress, and the fan-out of results to subscribers.
 */
import type { TaskResult } from "taskmill";
import { describe, expect, it } from "vitest";
import {
  collect,
  eventsOf,
  recordEvents,
  rejectionOf,
  type SuiteContext,
  snapshotOf,
  waitFor,
  waitForStatus,
} from "./support.js";

export function eventsSuite(ctx: SuiteContext): void {
  describe("events", () => {
    it("one successful task: queued, started, succeeded, in this order, with its value", async () => {
      const mill = ctx.manager();
      const seen = recordEvents(mill);
      const values: unknown[] = [];
      mill.on("succeeded", ({ task, value }) => values.push({ id: task.id, value }));
      mill.register("ok", () => ({ fine: true }));
      const task = await mill.submit("ok");
      await task.result();
      await waitFor(() => eventsOf(seen, task.id).includes("succeeded"), 5_000, "succeeded event");
      expect(eventsOf(seen, task.id)).toEqual(["queued", "started", "succeeded"]);
      expect(values).toEqual([{ id: task.id, value: { fine: true } }]);
    });

    it("a retried task that fails: queued, started, retrying, started, failed", async () => {
      const mill = ctx.manager();
      const seen = recordEvents(mill);
      const attempts: number[] = [];
      const errors: unknown[] = [];
      mill.on("started", ({ attempt }) => attempts.push(attempt));
      mill.on("failed", ({ error }) => errors.push(error));
      mill.register(
        "down",
        () => {
          throw new Error("down");
        },
        { retry: { maxRetries: 1, backoff: "fixed", baseDelayMs: 100, jitter: "none" } },
      );
      const task = await mill.submit("down");
      await rejectionOf(task.result());
      await waitFor(() => eventsOf(seen, task.id).includes("failed"), 5_000, "failed event");
      expect(eventsOf(seen, task.id)).toEqual([
        "queued",
        "started",
        "retrying",
        "started",
        "failed",
      ]);
      expect(attempts).toEqual([1, 2]);
      expect(errors).toEqual([expect.objectContaining({ message: "down" })]);
    });

    it("a delayed task is announced queued (status scheduled); cancelling it emits cancelled", async () => {
      const mill = ctx.manager();
      const seen = recordEvents(mill);
      const statuses: string[] = [];
      mill.on("queued", ({ task }) => statuses.push(task.status));
      mill.register("later", () => {});
      const task = await mill.submit("later", undefined, { delayMs: 60_000 });
      expect(await mill.cancel(task.id)).toBe(true);
      await waitFor(() => eventsOf(seen, task.id).includes("cancelled"), 5_000, "cancelled event");
      expect(eventsOf(seen, task.id)).toEqual(["queued", "cancelled"]);
      expect(statuses).toEqual(["scheduled"]);
    });

    it("progress events carry each ctx.progress() value in order, before the terminal event", async () => {
      const mill = ctx.manager();
      const seen: unknown[] = [];
      mill.on("progress", ({ task, value }) => seen.push({ id: task.id, value }));
      mill.on("succeeded", ({ task }) => seen.push({ id: task.id, done: true }));
      mill.register("steps", (_payload, c) => {
        c.progress(1);
        c.progress({ pct: 50 });
        c.progress(3);
        return "ok";
      });
      const task = await mill.submit("steps");
      await task.result();
      await waitFor(() => seen.length === 4, 5_000, "three progress events and succeeded");
      expect(seen).toEqual([
        { id: task.id, value: 1 },
        { id: task.id, value: { pct: 50 } },
        { id: task.id, value: 3 },
        { id: task.id, done: true },
      ]);
    });

    it("progress: get(id).progress shows the value reported by ctx.progress() while the task runs", async () => {
      const mill = ctx.manager();
      const release = ctx.gate();
      mill.register("reporting", async (_payload, c) => {
        c.progress({ pct: 40 });
        await release.promise;
        return "ok";
      });
      const task = await mill.submit("reporting");
      try {
        await waitForStatus(mill, task.id, "running");
        await waitFor(
          async () => {
            const snapshot = await snapshotOf(mill, task.id);
            return snapshot.status === "running" && snapshot.progress !== undefined;
          },
          2_000,
          "progress stored on the running task",
        );
        const snapshot = await snapshotOf(mill, task.id);
        expect(snapshot.status).toBe("running");
        expect(snapshot.progress).toEqual({ pct: 40 });
      } finally {
        release.resolve();
      }
    });
  });

  describe("results", () => {
    it("fan out: every subscriber sees every result (succeeded, failed, cancelled)", async () => {
      const mill = ctx.manager();
      const a = mill.subscribeResults();
      const b = mill.subscribeResults();
      const seenA = collect(a);
      const seenB = collect(b);
      mill.register("ok", (n: number) => n * 10);
      mill.register("bad", () => {
        throw new Error("bad");
      });
      const ok1 = await mill.submit("ok", 1);
      const ok2 = await mill.submit("ok", 2);
      const bad = await mill.submit("bad");
      const later = await mill.submit("ok", 3, { delayMs: 60_000 });
      await mill.cancel(later.id);
      await ok1.result();
      await ok2.result();
      await rejectionOf(bad.result());
      await waitFor(() => seenA.length >= 4 && seenB.length >= 4, 5_000, "four results each");
      const byId = (results: TaskResult[]) =>
        Object.fromEntries(results.map((r) => [r.id, { status: r.status, value: r.value }]));
      const expected = {
        [ok1.id]: { status: "succeeded", value: 10 },
        [ok2.id]: { status: "succeeded", value: 20 },
        [bad.id]: { status: "failed", value: undefined },
        [later.id]: { status: "cancelled", value: undefined },
      };
      expect(byId(seenA)).toEqual(expected);
      expect(byId(seenB)).toEqual(expected);
      expect(seenA).toHaveLength(4);
      expect(seenB).toHaveLength(4);
      const failed = seenA.find((r) => r.id === bad.id);
      expect(failed?.error).toMatchObject({ message: "bad" });
      expect(failed).toMatchObject({ name: "bad", queue: "default", attempts: 1 });
      a.unsubscribe();
      b.unsubscribe();
    });

    it("a full buffer with drop-oldest keeps the newest results and counts what it dropped", async () => {
      const mill = ctx.manager();
      const slow = mill.subscribeResults({ buffer: 2, overflow: "drop-oldest" });
      const all = collect(mill.subscribeResults());
      const dropped: unknown[] = [];
      mill.on("dropped", ({ result, policy }) => dropped.push({ value: result.value, policy }));
      mill.register("n", (n: number) => n);
      for (let n = 1; n <= 5; n++) await (await mill.submit("n", n)).result();
      await waitFor(() => all.length === 5, 5_000, "five results");
      expect(slow.dropped).toBe(3);
      expect(mill.stats().resultsDropped).toBe(3);
      expect(dropped).toEqual([
        { value: 1, policy: "drop-oldest" },
        { value: 2, policy: "drop-oldest" },
        { value: 3, policy: "drop-oldest" },
      ]);
      const kept = [(await slow.next()).value, (await slow.next()).value] as TaskResult[];
      expect(kept.map((r) => r.value)).toEqual([4, 5]);
      slow.unsubscribe();
    });

    it("an unsubscribed subscriber stops receiving; the others still get every result", async () => {
      const mill = ctx.manager();
      const a = mill.subscribeResults();
      const b = mill.subscribeResults();
      const seenA = collect(a);
      const seenB = collect(b);
      mill.register("ok", (n: number) => n);
      await (await mill.submit("ok", 1)).result();
      await waitFor(() => seenA.length === 1 && seenB.length === 1, 5_000, "first result");
      a.unsubscribe();
      await (await mill.submit("ok", 2)).result();
      await waitFor(() => seenB.length === 2, 5_000, "second result");
      expect(seenA.map((r) => r.value)).toEqual([1]);
      expect(seenB.map((r) => r.value)).toEqual([1, 2]);
      b.unsubscribe();
    });
  });
}
