/**
 * The worker registry (SPEC.md, "Operations": `mill.workers()`): every manager with handlers,
 * with its figures; a worker whose heartbeats stop is shown lost, then dropped; a graceful stop
 * removes it. Where managers cannot share a store (in-process) the registry is the one process.
 *
 * A worker "whose heartbeats stopped" is a manager with a heartbeat period far beyond the test
 * (it registers once at start), read by a manager whose `lostAfterMs` and `dropAfterMs` are
 * short: the reader judges by the store's clock, so no process has to die for it.
 */
import { InvalidOptionError, TaskManager, type WorkerInfo } from "taskmill";
import { describe, expect, it } from "vitest";
import { type SuiteContext, waitFor } from "./support.js";

async function waitForWorkers(
  mill: TaskManager,
  predicate: (workers: WorkerInfo[]) => boolean,
  what: string,
): Promise<WorkerInfo[]> {
  let seen: WorkerInfo[] = [];
  await waitFor(
    async () => {
      seen = await mill.workers();
      return predicate(seen);
    },
    5_000,
    what,
  );
  return seen;
}

export function workersSuite(ctx: SuiteContext): void {
  describe("worker registry", () => {
    it("lists a manager with handlers, with its figures; a manager without handlers is no worker", async () => {
      const backend = ctx.fixture.backend();
      const mill = ctx.manager({ backend, concurrency: 3, registry: { heartbeatMs: 100 } });
      mill.register("a", (n: number) => n);
      mill.register("b", (n: number) => n, { queue: "mail" });
      const task = await mill.submit("a", 1);
      await task.result();
      const [worker, ...others] = await waitForWorkers(
        mill,
        (all) => all.length === 1 && all[0]?.processed === 1,
        "the worker with one task processed",
      );
      expect(others).toEqual([]);
      expect(worker).toMatchObject({
        pid: process.pid,
        concurrency: 3,
        running: 0,
        processed: 1,
        failed: 0,
        queues: ["default", "mail"],
        state: "alive",
      });
      expect(typeof worker?.id).toBe("string");
      expect(typeof worker?.host).toBe("string");
      expect(typeof worker?.version).toBe("string");
      expect(worker?.startedAt).toBeLessThanOrEqual(worker?.lastHeartbeatAt ?? 0);
      const idle = ctx.manager();
      expect(await idle.workers()).toEqual([]);
    });

    it("every manager with handlers sharing the store is listed; a graceful stop removes it at once", async () => {
      const backend = ctx.fixture.backend();
      const one = ctx.manager({ backend });
      one.register("a", (n: number) => n);
      const two = ctx.differences.sharing === "store" ? ctx.manager({ backend }) : undefined;
      two?.register("a", (n: number) => n, { queue: "default" });
      const expected = two === undefined ? 1 : 2;
      await waitForWorkers(one, (all) => all.length === expected, `${expected} workers`);
      if (two !== undefined) {
        await two.stopGraceful({ timeoutMs: 2_000 });
        // Removed by the stop itself: no lapse of heartbeats to wait out.
        expect(await one.workers()).toHaveLength(1);
      } else {
        await one.stopGraceful({ timeoutMs: 2_000 });
        expect(await one.workers()).toHaveLength(1);
      }
    });

    it("a worker whose heartbeats stopped is shown lost, then dropped", async () => {
      if (ctx.differences.sharing === "none") return; // the one process cannot outlive itself
      const backend = ctx.fixture.backend();
      // Registers at start, then not again within the test.
      const silent = ctx.manager({ backend, registry: { heartbeatMs: 600_000 } });
      silent.register("a", (n: number) => n);
      const reader = ctx.manager({
        backend,
        registry: { heartbeatMs: 50, lostAfterMs: 200, dropAfterMs: 1_000 },
      });
      const [alive] = await waitForWorkers(reader, (all) => all.length === 1, "the worker");
      const [lost] = await waitForWorkers(
        reader,
        (all) => all[0]?.state === "lost",
        "the worker shown lost",
      );
      expect(lost?.id).toBe(alive?.id);
      expect(lost?.lastHeartbeatAt).toBe(alive?.lastHeartbeatAt);
      await waitForWorkers(reader, (all) => all.length === 0, "the lost worker dropped");
    });

    it("refuses registry options that cannot hold, naming them", () => {
      for (const registry of [
        { heartbeatMs: 0 },
        { heartbeatMs: 100, lostAfterMs: 100 },
        { lostAfterMs: 60_000, dropAfterMs: 1_000 },
        { heartbeatMS: 5 },
      ]) {
        expect(
          () => new TaskManager({ backend: ctx.fixture.backend(), registry: registry as never }),
        ).toThrow(InvalidOptionError);
      }
    });
  });
}
