/**
 * `order: "newest" | "oldest"` on `list` and `dlq.list`, the same in every store: newest-first
 * is exactly the reverse of oldest-first, cursors page through either order without a gap or a
 * duplicate, and a cursor is refused in the other order.
 */
import {
  InvalidArgumentError,
  type ListOrder,
  type TaskManager,
  type TaskSnapshot,
} from "taskmill";
import { describe, expect, it } from "vitest";
import { rejectionOf, type SuiteContext, waitForStatus } from "./support.js";

const ids = (tasks: readonly { id: string }[]) => tasks.map((task) => task.id);

/** Every page of `list` (or `dlq.list`) in `order`, `limit` at a time. */
async function pages(
  list: (options: { limit: number; order: ListOrder; cursor?: string }) => Promise<{
    tasks: readonly TaskSnapshot[];
    nextCursor?: string;
  }>,
  order: ListOrder,
  limit: number,
): Promise<{ ids: string[]; pages: number }> {
  const seen: string[] = [];
  let cursor: string | undefined;
  let count = 0;
  do {
    const page = await list({ limit, order, ...(cursor === undefined ? {} : { cursor }) });
    expect(page.tasks.length).toBeLessThanOrEqual(limit);
    seen.push(...ids(page.tasks));
    cursor = page.nextCursor;
    count++;
    expect(count).toBeLessThan(100);
  } while (cursor !== undefined);
  return { ids: seen, pages: count };
}

/** Tasks in every listed state: finished, failed, scheduled and queued (a paused queue). */
async function populate(mill: TaskManager): Promise<string[]> {
  mill.register("ok", (n: number) => n);
  mill.register("bad", () => {
    throw new Error("bad");
  });
  mill.register("held", (n: number) => n, { queue: "held" });
  await mill.pauseQueue("held");
  const all: string[] = [];
  for (const n of [1, 2]) {
    const task = await mill.submit("ok", n);
    await waitForStatus(mill, task.id, "succeeded");
    all.push(task.id);
  }
  const failed = await mill.submit("bad");
  await waitForStatus(mill, failed.id, "failed");
  all.push(failed.id);
  for (const n of [3, 4]) all.push((await mill.submit("ok", n, { delayMs: 60_000 })).id);
  for (const n of [5, 6, 7]) all.push((await mill.submit("held", n)).id);
  return all;
}

export function orderSuite(ctx: SuiteContext): void {
  describe("list order", () => {
    it('list({ order: "newest" }) is exactly the reverse of "oldest", paged in both orders', async () => {
      const mill = ctx.manager();
      const all = await populate(mill);
      const list = (options: object) => mill.list(options);
      const oldest = await pages(list, "oldest", 3);
      const newest = await pages(list, "newest", 3);
      expect([...oldest.ids].sort()).toEqual([...all].sort());
      expect(new Set(newest.ids).size).toBe(all.length);
      expect(newest.ids).toEqual([...oldest.ids].reverse());
      expect(newest.pages).toBeGreaterThanOrEqual(3);
      // The default is oldest first.
      expect(ids((await mill.list({ limit: 100 })).tasks)).toEqual(oldest.ids);
      // Page size 1 and the whole set in one page agree with it.
      expect((await pages(list, "newest", 1)).ids).toEqual(newest.ids);
      expect(ids((await mill.list({ order: "newest", limit: 100 })).tasks)).toEqual(newest.ids);
    });

    it("newest first within one state is the latest submitted first (FIFO reversed)", async () => {
      const mill = ctx.manager();
      mill.register("held", (n: number) => n, { queue: "held" });
      await mill.pauseQueue("held");
      const submitted: string[] = [];
      for (let n = 0; n < 5; n++) submitted.push((await mill.submit("held", n)).id);
      const list = (options: object) => mill.list({ ...options, status: "queued" });
      expect((await pages(list, "oldest", 2)).ids).toEqual(submitted);
      expect((await pages(list, "newest", 2)).ids).toEqual([...submitted].reverse());
    });

    it("filters apply in both orders", async () => {
      const mill = ctx.manager();
      await populate(mill);
      for (const filter of [{ name: "ok" }, { status: "queued" as const }, { queue: "held" }]) {
        const list = (options: object) => mill.list({ ...options, ...filter });
        const oldest = await pages(list, "oldest", 2);
        expect(oldest.ids.length).toBeGreaterThan(0);
        expect((await pages(list, "newest", 2)).ids).toEqual([...oldest.ids].reverse());
      }
    });

    it("a cursor is refused in the other order, and an unknown order is refused", async () => {
      const mill = ctx.manager();
      await populate(mill);
      const newest = await mill.list({ order: "newest", limit: 2 });
      const oldest = await mill.list({ order: "oldest", limit: 2 });
      expect(newest.nextCursor).toBeDefined();
      expect(oldest.nextCursor).toBeDefined();
      const wrong = [
        await rejectionOf(mill.list({ order: "oldest", cursor: newest.nextCursor as string })),
        await rejectionOf(mill.list({ order: "newest", cursor: oldest.nextCursor as string })),
        await rejectionOf(mill.list({ cursor: newest.nextCursor as string })),
      ];
      for (const error of wrong) {
        expect(error).toBeInstanceOf(InvalidArgumentError);
        expect((error as Error).message).toMatch(/cursor/);
      }
      const bad = await rejectionOf(mill.list({ order: "latest" as ListOrder }));
      expect(bad).toBeInstanceOf(InvalidArgumentError);
      expect((bad as Error).message).toMatch(/order/);
      const badDlq = await rejectionOf(mill.dlq.list({ order: "desc" as ListOrder }));
      expect(badDlq).toBeInstanceOf(InvalidArgumentError);
    });
  });

  describe("dead-letter order", () => {
    it('dlq.list({ order: "newest" }) starts with the latest failure; cursors work both ways', async () => {
      const mill = ctx.manager();
      mill.register("bad", () => {
        throw new Error("bad");
      });
      const failed: string[] = [];
      for (let n = 0; n < 5; n++) {
        const task = await mill.submit("bad", n);
        await waitForStatus(mill, task.id, "failed");
        failed.push(task.id);
      }
      const list = (options: object) => mill.dlq.list(options);
      expect((await pages(list, "oldest", 2)).ids).toEqual(failed);
      expect((await pages(list, "newest", 2)).ids).toEqual([...failed].reverse());
      const filtered = (options: object) => mill.dlq.list({ ...options, name: "bad" });
      expect((await pages(filtered, "newest", 3)).ids).toEqual([...failed].reverse());
      const first = await mill.dlq.list({ order: "newest", limit: 2 });
      const wrong = await rejectionOf(
        mill.dlq.list({ order: "oldest", cursor: first.nextCursor as string }),
      );
      expect(wrong).toBeInstanceOf(InvalidArgumentError);
    });
  });
}
