/**
 * What the store keeps: idempotency keys, list with filters and paging, the dead-letter queue.
 */
import {
  IdempotencyConflictError,
  InvalidArgumentError,
  type TaskHandle,
  type TaskManager,
} from "taskmill";
import { describe, expect, it } from "vitest";
import {
  listAll,
  rejectionOf,
  type SuiteContext,
  statusOf,
  waitFor,
  waitForStatus,
} from "./support.js";

const ids = (tasks: ReadonlyArray<{ id: string }>) => tasks.map((task) => task.id).sort();

/** A manager with one handler, `fails`, that fails until `heal()` is called. */
function failingUntilHealed(mill: TaskManager) {
  const calls = new Map<string, number>();
  let healed = false;
  mill.register("fails", (payload: number, c) => {
    calls.set(c.taskId, (calls.get(c.taskId) ?? 0) + 1);
    if (!healed) throw new Error(`broken ${payload}`);
    return payload;
  });
  mill.register("also-fails", () => {
    throw new Error("also broken");
  });
  return {
    calls,
    heal() {
      healed = true;
    },
  };
}

export function registrySuite(ctx: SuiteContext): void {
  describe("idempotency", () => {
    it("the same key returns the same task, while it waits and after it finished", async () => {
      const mill = ctx.manager();
      let calls = 0;
      mill.register("pay", (payload: { cents: number }) => {
        calls++;
        return payload.cents;
      });
      const waiting = await mill.submit(
        "pay",
        { cents: 5 },
        {
          idempotencyKey: "order:1",
          delayMs: 60_000,
        },
      );
      const again = await mill.submit(
        "pay",
        { cents: 5 },
        {
          idempotencyKey: "order:1",
          delayMs: 60_000,
        },
      );
      expect(again.id).toBe(waiting.id);
      const first = await mill.submit("pay", { cents: 7 }, { idempotencyKey: "order:2" });
      expect(await first.result()).toBe(7);
      await waitForStatus(mill, first.id, "succeeded");
      const repeat = await mill.submit("pay", { cents: 7 }, { idempotencyKey: "order:2" });
      expect(repeat.id).toBe(first.id);
      expect(await repeat.result()).toBe(7);
      expect(calls).toBe(1);
      expect(ids(await listAll(mill))).toEqual([waiting.id, first.id].sort());
      expect((await mill.get(first.id))?.idempotencyKey).toBe("order:2");
    });

    it("the same key with a different payload is an IdempotencyConflictError", async () => {
      const mill = ctx.manager();
      mill.register("pay", () => {});
      const first = await mill.submit(
        "pay",
        { cents: 5 },
        {
          idempotencyKey: "order:9",
          delayMs: 60_000,
        },
      );
      const error = await rejectionOf(
        mill.submit("pay", { cents: 6 }, { idempotencyKey: "order:9", delayMs: 60_000 }),
      );
      expect(error).toBeInstanceOf(IdempotencyConflictError);
      expect(error).toMatchObject({ code: "ERR_IDEMPOTENCY_CONFLICT" });
      expect(ids(await listAll(mill))).toEqual([first.id]);
    });

    it("the same data in another key order is the same payload, also inside what toJSON() returns", async () => {
      const mill = ctx.manager();
      mill.register("pay", () => {});
      // A value with its own JSON form (a money type, a Decimal) whose key order varies.
      const money = (first: "cents" | "currency") => ({
        toJSON: () =>
          first === "cents" ? { cents: 5, currency: "EUR" } : { currency: "EUR", cents: 5 },
      });
      const options = { idempotencyKey: "order:10", delayMs: 60_000 };
      const first = await mill.submit(
        "pay",
        { amount: money("cents"), to: { iban: "X", bic: "Y" } },
        options,
      );
      const again = await mill.submit(
        "pay",
        { to: { bic: "Y", iban: "X" }, amount: money("currency") },
        options,
      );
      expect(again.id).toBe(first.id);
      expect(ids(await listAll(mill))).toEqual([first.id]);
    });
  });

  describe("retention", () => {
    it("finished records are evicted beyond retention.maxEntries, oldest first", async () => {
      const mill = ctx.manager({ retention: { maxEntries: 2 } });
      mill.register("n", (n: number) => n);
      const tasks: TaskHandle[] = [];
      for (let n = 1; n <= 4; n++) {
        const task = await mill.submit("n", n);
        await task.result();
        await waitForStatus(mill, task.id, "succeeded");
        tasks.push(task);
      }
      // Durable stores trim on their own cadence: a trim may have run while only three were
      // finished (evicting one), the next one evicts the second.
      await waitFor(
        async () => (await mill.get(tasks[1]?.id as string)) === undefined,
        5_000,
        "the two oldest records evicted",
      );
      expect(await mill.get(tasks[0]?.id as string)).toBeUndefined();
      expect(await statusOf(mill, tasks[3]?.id as string)).toBe("succeeded");
      const retained = await listAll(mill, { status: "succeeded" });
      expect(retained.length).toBeLessThanOrEqual(2);
      expect(retained.map((task) => task.id)).toContain(tasks[3]?.id);
    });
  });

  describe("list", () => {
    /** 2 succeeded in "default", 2 scheduled in "later", 2 queued in the paused "held". */
    async function populate(mill: TaskManager) {
      mill.register("a", (n: number) => n);
      mill.register("b", (n: number) => n, { queue: "later" });
      mill.register("c", (n: number) => n, { queue: "held" });
      await mill.pauseQueue("held");
      const done = [await mill.submit("a", 1), await mill.submit("a", 2)];
      await Promise.all(done.map((task) => task.result()));
      for (const task of done) await waitForStatus(mill, task.id, "succeeded");
      const scheduled = [
        await mill.submit("b", 3, { delayMs: 60_000 }),
        await mill.submit("b", 4, { delayMs: 60_000 }),
      ];
      const queued = [await mill.submit("c", 5), await mill.submit("c", 6)];
      return { done, scheduled, queued, all: [...done, ...scheduled, ...queued] };
    }

    it("filters by status, queue and name", async () => {
      const mill = ctx.manager();
      const { done, scheduled, queued, all } = await populate(mill);
      expect(ids(await listAll(mill))).toEqual(ids(all));
      expect(ids(await listAll(mill, { status: "succeeded" }))).toEqual(ids(done));
      expect(ids(await listAll(mill, { status: "scheduled" }))).toEqual(ids(scheduled));
      expect(ids(await listAll(mill, { status: "queued" }))).toEqual(ids(queued));
      expect(ids(await listAll(mill, { status: ["queued", "scheduled"] }))).toEqual(
        ids([...scheduled, ...queued]),
      );
      expect(ids(await listAll(mill, { queue: "held" }))).toEqual(ids(queued));
      expect(ids(await listAll(mill, { queue: "later" }))).toEqual(ids(scheduled));
      expect(ids(await listAll(mill, { name: "a" }))).toEqual(ids(done));
      expect(ids(await listAll(mill, { name: "b", status: "scheduled" }))).toEqual(ids(scheduled));
      expect(await listAll(mill, { name: "a", status: "queued" })).toEqual([]);
      expect(await listAll(mill, { queue: "no-such-queue" })).toEqual([]);
      for (const task of await listAll(mill, { status: "succeeded" }))
        expect(task).toMatchObject({ status: "succeeded", name: "a", queue: "default" });
    });

    it("limit + cursor pages through every task exactly once", async () => {
      const mill = ctx.manager();
      const { all } = await populate(mill);
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await mill.list({ limit: 2, ...(cursor === undefined ? {} : { cursor }) });
        expect(page.tasks.length).toBeLessThanOrEqual(2);
        seen.push(...page.tasks.map((task) => task.id));
        cursor = page.nextCursor;
        pages++;
        expect(pages).toBeLessThan(50);
      } while (cursor !== undefined);
      expect(new Set(seen).size).toBe(seen.length);
      expect([...seen].sort()).toEqual(ids(all));
      expect(pages).toBeGreaterThanOrEqual(3);
    });
  });

  describe("dead-letter queue", () => {
    it("a task whose last attempt failed is listed with its error; name filter and paging work", async () => {
      const mill = ctx.manager();
      failingUntilHealed(mill);
      const one = await mill.submit("fails", 1);
      const two = await mill.submit("fails", 2);
      const other = await mill.submit("also-fails");
      for (const task of [one, two, other]) await rejectionOf(task.result());
      await waitFor(
        async () => (await mill.dlq.list()).tasks.length === 3,
        5_000,
        "three dead letters",
      );
      const all = await mill.dlq.list();
      expect(ids(all.tasks)).toEqual(ids([one, two, other]));
      const first = all.tasks.find((task) => task.id === one.id);
      expect(first).toMatchObject({
        status: "failed",
        name: "fails",
        error: { message: "broken 1" },
      });
      expect(ids((await mill.dlq.list({ name: "fails" })).tasks)).toEqual(ids([one, two]));
      const paged: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await mill.dlq.list({ limit: 1, ...(cursor === undefined ? {} : { cursor }) });
        expect(page.tasks.length).toBeLessThanOrEqual(1);
        paged.push(...page.tasks.map((task) => task.id));
        cursor = page.nextCursor;
      } while (cursor !== undefined);
      expect(new Set(paged).size).toBe(3);
      expect([...paged].sort()).toEqual(ids([one, two, other]));
    });

    it("replay with dryRun reports what would go and changes nothing", async () => {
      const mill = ctx.manager();
      const { calls } = failingUntilHealed(mill);
      const task = await mill.submit("fails", 1);
      await rejectionOf(task.result());
      await waitFor(async () => (await mill.dlq.list()).tasks.length === 1, 5_000, "dead letter");
      const outcome = await mill.dlq.replay({ ids: [task.id] }, { dryRun: true });
      expect(outcome).toMatchObject({ ids: [task.id], dryRun: true });
      expect(await statusOf(mill, task.id)).toBe("failed");
      expect(ids((await mill.dlq.list()).tasks)).toEqual([task.id]);
      expect(calls.get(task.id)).toBe(1);
    });

    it("a dryRun that is not a boolean is refused, and nothing is replayed", async () => {
      const mill = ctx.manager();
      const { calls } = failingUntilHealed(mill);
      const task = await mill.submit("fails", 1);
      await rejectionOf(task.result());
      await waitFor(async () => (await mill.dlq.list()).tasks.length === 1, 5_000, "dead letter");
      for (const dryRun of ["true", 1, "yes", "false"]) {
        const refused = await rejectionOf(
          mill.dlq.replay({ ids: [task.id] }, { dryRun } as unknown as { dryRun: boolean }),
        );
        expect(refused).toBeInstanceOf(InvalidArgumentError);
      }
      expect(await statusOf(mill, task.id)).toBe("failed");
      expect(ids((await mill.dlq.list()).tasks)).toEqual([task.id]);
      expect(calls.get(task.id)).toBe(1);
    });

    it("replay re-runs the task under the same id; it leaves the dead-letter queue", async () => {
      const mill = ctx.manager();
      const { calls, heal } = failingUntilHealed(mill);
      const task = await mill.submit("fails", 7);
      await rejectionOf(task.result());
      await waitFor(async () => (await mill.dlq.list()).tasks.length === 1, 5_000, "dead letter");
      heal();
      // Held so the re-opened task can be seen back in queued before it runs.
      await mill.pauseQueue("default");
      const outcome = await mill.dlq.replay({ ids: [task.id] });
      expect(outcome).toMatchObject({ ids: [task.id], dryRun: false });
      expect(await statusOf(mill, task.id)).toBe("queued");
      mill.resumeQueue("default");
      await waitForStatus(mill, task.id, "succeeded");
      expect((await mill.get(task.id))?.value).toBe(7);
      expect(calls.get(task.id)).toBe(2);
      expect((await mill.dlq.list()).tasks).toEqual([]);
      expect(ids(await listAll(mill))).toEqual([task.id]);
    });

    it("replay by name re-runs every dead letter of that name only", async () => {
      const mill = ctx.manager();
      const { heal } = failingUntilHealed(mill);
      const one = await mill.submit("fails", 1);
      const two = await mill.submit("fails", 2);
      const other = await mill.submit("also-fails");
      for (const task of [one, two, other]) await rejectionOf(task.result());
      await waitFor(async () => (await mill.dlq.list()).tasks.length === 3, 5_000, "dead letters");
      heal();
      const outcome = await mill.dlq.replay({ name: "fails" });
      expect([...outcome.ids].sort()).toEqual(ids([one, two]));
      await waitForStatus(mill, one.id, "succeeded");
      await waitForStatus(mill, two.id, "succeeded");
      expect(ids((await mill.dlq.list()).tasks)).toEqual([other.id]);
    });

    it("purge removes dead letters", async () => {
      const mill = ctx.manager();
      failingUntilHealed(mill);
      const one = await mill.submit("fails", 1);
      const two = await mill.submit("fails", 2);
      for (const task of [one, two]) await rejectionOf(task.result());
      await waitFor(async () => (await mill.dlq.list()).tasks.length === 2, 5_000, "dead letters");
      const outcome = await mill.dlq.purge({ ids: [one.id] });
      expect(outcome.ids).toEqual([one.id]);
      expect(ids((await mill.dlq.list()).tasks)).toEqual([two.id]);
      // A purged task is not replayable any more.
      expect((await mill.dlq.replay({ ids: [one.id] })).ids).toEqual([]);
      await mill.dlq.purge({ name: "fails" });
      expect((await mill.dlq.list()).tasks).toEqual([]);
    });
  });
}
