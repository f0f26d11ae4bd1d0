/**
 * Shared cron schedules (SPEC.md, "Operations"): schedules are managed through the manager
 * (create, delete, pause, resume, next runs) and, in a shared store, held by the store: the
 * cron leader fires every schedule, whichever process registered it. Where managers cannot
 * share a store (in-process), "another process" is the same manager.
 *
 * Ticks are every second, in real time: what is proven is an order (a paused schedule fired
 * nothing while an active one on the same ticks fired twice), never a duration.
 */
import { InvalidArgumentError, type TaskManager, type TaskSnapshot } from "taskmill";
import { describe, expect, it } from "vitest";
import { type SuiteContext, waitFor } from "./support.js";

const EVERY_SECOND = "* * * * * *";

/** Finished tasks fired by schedule `id` (their idempotency key names it). */
async function firedBy(mill: TaskManager, id: string): Promise<TaskSnapshot[]> {
  const { tasks } = await mill.list({ status: "succeeded", limit: 1_000 });
  return tasks.filter((t) => t.idempotencyKey?.startsWith(`schedule:${id}:`));
}

/** The tick a scheduled task was fired for (epoch ms, the last part of its key). */
function tickOf(task: TaskSnapshot): number {
  return Number(task.idempotencyKey?.split(":").at(-1));
}

export function schedulesSuite(ctx: SuiteContext): void {
  describe("shared schedules", () => {
    it("the cron leader fires a schedule registered only by another process", async () => {
      const backend = ctx.fixture.backend();
      const leader = ctx.manager({ backend });
      leader.register("noop", () => undefined);
      leader.schedule("lead", "0 0 1 1 *", "noop");
      await waitFor(
        () => leader.schedules()[0]?.leader !== false,
        5_000,
        "the first process leads",
      );
      const other = ctx.differences.sharing === "store" ? ctx.manager({ backend }) : leader;
      // Its own queue: the leader, which has no handler for it, fires it into that queue.
      other.register("work", (n: number) => n * 2, { queue: "work" });
      other.schedule("follow", EVERY_SECOND, "work", 21);
      await waitFor(async () => (await firedBy(other, "follow")).length >= 1, 8_000, "a tick");
      const [task] = await firedBy(other, "follow");
      expect(task).toMatchObject({ name: "work", queue: "work", value: 42 });
      // Every process lists it, with its next run.
      await waitFor(
        () => leader.schedules().some((s) => s.id === "follow"),
        5_000,
        "the leader lists it",
      );
      expect(leader.schedules().find((s) => s.id === "follow")).toMatchObject({
        cron: EVERY_SECOND,
        taskName: "work",
        paused: false,
        nextRunAt: expect.any(Number),
      });
    });

    it("a paused schedule fires nothing while an active one fires; resumed, it fires again", async () => {
      const backend = ctx.fixture.backend();
      const mill = ctx.manager({ backend });
      mill.register("work", (n: number) => n);
      const admin = ctx.differences.sharing === "store" ? ctx.manager({ backend }) : mill;
      mill.schedule("held", EVERY_SECOND, "work", 1);
      // Another process can pause what the store holds: once the schedule reached it.
      await waitFor(() => admin.schedules().some((s) => s.id === "held"), 5_000, "stored");
      expect(await admin.pauseSchedule("held")).toBe(true);
      // Ticks before the pause reached every process may have fired; none after it may.
      await waitFor(
        () => mill.schedules().find((s) => s.id === "held")?.paused === true,
        5_000,
        "paused everywhere",
      );
      const pausedAt = Date.now();
      mill.schedule("active", EVERY_SECOND, "work", 2);
      const firedSince = async (id: string) =>
        (await firedBy(mill, id)).filter((t) => tickOf(t) > pausedAt);
      await waitFor(async () => (await firedSince("active")).length >= 2, 8_000, "two ticks");
      expect(await firedSince("held")).toEqual([]);
      expect(await admin.resumeSchedule("held")).toBe(true);
      await waitFor(async () => (await firedSince("held")).length >= 1, 8_000, "held fires");
      expect(mill.schedules().find((s) => s.id === "held")?.paused).toBe(false);
    });

    it("unschedule by another process removes it everywhere; unknown ids are reported, bad ones refused", async () => {
      const backend = ctx.fixture.backend();
      const mill = ctx.manager({ backend });
      mill.register("work", (n: number) => n);
      mill.schedule("gone", "0 3 * * *", "work", 1);
      // Here, a pause right after the create finds it (writes of one id keep their order).
      expect(await mill.pauseSchedule("gone")).toBe(true);
      expect(await mill.resumeSchedule("gone")).toBe(true);
      const admin = ctx.differences.sharing === "store" ? ctx.manager({ backend }) : mill;
      await waitFor(() => admin.schedules().some((s) => s.id === "gone"), 5_000, "seen");
      expect(admin.unschedule("gone")).toBe(true);
      await waitFor(() => mill.schedules().length === 0, 5_000, "removed everywhere");
      expect(await admin.pauseSchedule("gone")).toBe(false);
      expect(await admin.resumeSchedule("nope")).toBe(false);
      await expect(admin.pauseSchedule("" as string)).rejects.toThrow(InvalidArgumentError);
    });
  });
}
