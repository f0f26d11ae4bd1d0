/**
 * Pause and resume: what every store does, and what a shared store does for every process
 * sharing it (SPEC.md, "Operations": in durable stores `pauseQueue` / `resumeQueue` hold for
 * every process). Where managers cannot share a store (in-process), "another process" is the
 * same manager.
 *
 * "A paused queue started nothing" is proven by order, not by waiting: a task of the paused
 * queue is submitted BEFORE a task of an open queue, and the worker claims across both queues
 * first-in first-out; once the later task ran, the earlier one would have run first had its
 * queue not been paused.
 */
import { InvalidArgumentError, type TaskManager } from "taskmill";
import { describe, expect, it } from "vitest";
import { type SuiteContext, statusOf, waitFor, waitForStatus } from "./support.js";

/** A worker with handlers on "held" and "open" (one slot each, so order is visible). */
function worker(ctx: SuiteContext, backend: ReturnType<SuiteContext["fixture"]["backend"]>) {
  const mill = ctx.manager({ backend, concurrency: 2 });
  const ran: string[] = [];
  const run = (label: string) => {
    ran.push(label);
    return label;
  };
  mill.register("held-job", run, { queue: "held" });
  mill.register("open-job", run, { queue: "open" });
  return { mill, ran };
}

/** Another process on the same store: a second manager where stores are shared. */
function peer(
  ctx: SuiteContext,
  backend: ReturnType<SuiteContext["fixture"]["backend"]>,
  self: TaskManager,
) {
  return ctx.differences.sharing === "store" ? ctx.manager({ backend }) : self;
}

async function pausedOf(mill: TaskManager, queue: string): Promise<boolean | undefined> {
  return (await mill.queues()).find((q) => q.name === queue)?.paused;
}

export function pauseSuite(ctx: SuiteContext): void {
  describe("pause and resume", () => {
    it("a paused queue starts nothing, even for a task submitted before the pause resolved; resume runs it", async () => {
      const backend = ctx.fixture.backend();
      const { mill, ran } = worker(ctx, backend);
      // Not awaited: the pause holds for what is submitted after the call, whatever the store's
      // connections deliver first.
      const pausing = mill.pauseQueue("held");
      const held = await mill.submit("held-job", "held");
      const open = await mill.submit("open-job", "open");
      await pausing;
      expect(await open.result()).toBe("open");
      expect(await statusOf(mill, held.id)).toBe("queued");
      expect(ran).toEqual(["open"]);
      expect(await pausedOf(mill, "held")).toBe(true);
      expect(await pausedOf(mill, "open")).toBe(false);
      await mill.resumeQueue("held");
      expect(await held.result()).toBe("held");
      expect(await pausedOf(mill, "held")).toBe(false);
      expect(ran).toEqual(["open", "held"]);
    });

    it("a pause by another process stops this one's claims; its resume restarts them", async () => {
      const backend = ctx.fixture.backend();
      const { mill, ran } = worker(ctx, backend);
      const admin = peer(ctx, backend, mill);
      // The worker is up and waiting for work before the pause.
      const warm = await mill.submit("open-job", "warm");
      expect(await warm.result()).toBe("warm");
      await admin.pauseQueue("held");
      expect(await pausedOf(mill, "held")).toBe(true);
      // The admin process has no handlers: it names the queues itself.
      const held = await admin.submit("held-job", "held", { queue: "held" });
      const open = await admin.submit("open-job", "open", { queue: "open" });
      await waitForStatus(admin, open.id, "succeeded");
      expect(await statusOf(admin, held.id)).toBe("queued");
      expect(ran).toEqual(["warm", "open"]);
      await admin.resumeQueue("held");
      // Woken by the resume (no idle timeout to wait out: the wait is bounded well below it).
      await waitForStatus(admin, held.id, "succeeded", 3_000);
      expect(await pausedOf(mill, "held")).toBe(false);
      expect(ran).toEqual(["warm", "open", "held"]);
    });

    it("a resume by another process lifts a pause made here", async () => {
      const backend = ctx.fixture.backend();
      const { mill } = worker(ctx, backend);
      const admin = peer(ctx, backend, mill);
      await mill.pauseQueue("held");
      const held = await mill.submit("held-job", "held");
      expect(await pausedOf(admin, "held")).toBe(true);
      await admin.resumeQueue("held");
      expect(await held.result()).toBe("held");
    });

    it("queues() lists a queue paused before it saw any task; pause and resume are idempotent", async () => {
      const mill = ctx.manager();
      await mill.pauseQueue("quiet");
      await mill.pauseQueue("quiet");
      expect((await mill.queues()).find((q) => q.name === "quiet")).toMatchObject({
        name: "quiet",
        depth: 0,
        paused: true,
      });
      await mill.resumeQueue("quiet");
      await mill.resumeQueue("quiet");
      expect(await pausedOf(mill, "quiet")).not.toBe(true);
    });

    it("refuses a queue name that is not one, synchronously, changing nothing", async () => {
      const mill = ctx.manager();
      for (const bad of ["", 7, null]) {
        expect(() => mill.pauseQueue(bad as string)).toThrow(InvalidArgumentError);
        expect(() => mill.resumeQueue(bad as string)).toThrow(InvalidArgumentError);
      }
      await waitFor(
        async () => (await mill.queues()).every((q) => !q.paused),
        1_000,
        "none paused",
      );
    });
  });
}
