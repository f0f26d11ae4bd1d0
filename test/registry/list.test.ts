import fc from "fast-check";
import {
  InvalidArgumentError,
  type ListOptions,
  ManualClock,
  TaskManager,
  type TaskManagerOptions,
  type TaskSnapshot,
} from "taskmill";
import { afterEach, describe, expect, it } from "vitest";

const mills: TaskManager[] = [];

function makeMill(options: TaskManagerOptions = {}): { mill: TaskManager; clock: ManualClock } {
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const mill = new TaskManager({ clock, retry: { maxRetries: 0 }, ...options });
  mill.register("a", async (payload: unknown) => payload);
  mill.register("b", async () => {
    throw new Error("b fails");
  });
  mills.push(mill);
  return { mill, clock };
}

afterEach(async () => {
  for (const mill of mills.splice(0)) await mill.stopNow();
});

/** Follows nextCursor to the end. */
async function allPages(
  mill: TaskManager,
  options: ListOptions,
): Promise<{ pages: TaskSnapshot[][]; all: TaskSnapshot[] }> {
  const pages: TaskSnapshot[][] = [];
  let cursor = options.cursor;
  for (;;) {
    const page = await mill.list({ ...options, cursor });
    pages.push([...page.tasks]);
    if (page.nextCursor === undefined) break;
    cursor = page.nextCursor;
  }
  return { pages, all: pages.flat() };
}

/** 30 tasks over two names, two queues and four outcomes (succeeded, failed, queued, scheduled). */
async function populate(mill: TaskManager, clock: ManualClock): Promise<string[]> {
  mill.pauseQueue("paused");
  const ids: string[] = [];
  for (let i = 0; i < 30; i++) {
    const name = i % 3 === 0 ? "b" : "a";
    const queue = i % 2 === 0 ? "default" : "paused";
    const delayMs = i % 5 === 0 ? 60_000 : 0;
    ids.push((await mill.submit(name, i, { queue, delayMs })).id);
  }
  await clock.advance(0);
  return ids;
}

describe("list()", () => {
  it("pages don't overlap and cover everything, in submission order", async () => {
    const { mill, clock } = makeMill();
    const ids = await populate(mill, clock);
    for (const limit of [1, 4, 7, 29, 30, 31, 100]) {
      const { pages, all } = await allPages(mill, { limit });
      expect(all.map((t) => t.id)).toEqual(ids);
      expect(new Set(all.map((t) => t.id)).size).toBe(ids.length);
      for (const page of pages.slice(0, -1)) expect(page).toHaveLength(limit);
      expect(pages.at(-1)?.length).toBeGreaterThan(0);
    }
  });

  it("the default limit is 100", async () => {
    const { mill } = makeMill();
    mill.pauseQueue("default");
    for (let i = 0; i < 150; i++) await mill.submit("a", i);
    const first = await mill.list();
    expect(first.tasks).toHaveLength(100);
    expect(first.nextCursor).toBeDefined();
    const second = await mill.list({ cursor: first.nextCursor });
    expect(second.tasks).toHaveLength(50);
    expect(second.nextCursor).toBeUndefined();
  });

  it("filters by status, queue and name, and they combine", async () => {
    const { mill, clock } = makeMill();
    await populate(mill, clock);
    const everything = (await mill.list({ limit: 1000 })).tasks;
    const check = async (options: ListOptions, keep: (t: TaskSnapshot) => boolean) => {
      const expected = everything.filter(keep).map((t) => t.id);
      for (const limit of [1, 3, 1000]) {
        const { all } = await allPages(mill, { ...options, limit });
        expect(all.map((t) => t.id)).toEqual(expected);
      }
      return expected.length;
    };
    expect(await check({ status: "succeeded" }, (t) => t.status === "succeeded")).toBeGreaterThan(
      0,
    );
    expect(await check({ status: "failed" }, (t) => t.status === "failed")).toBeGreaterThan(0);
    expect(await check({ status: "scheduled" }, (t) => t.status === "scheduled")).toBe(6);
    expect(
      await check({ status: ["queued", "scheduled"] }, (t) =>
        ["queued", "scheduled"].includes(t.status),
      ),
    ).toBeGreaterThan(6);
    expect(await check({ queue: "paused" }, (t) => t.queue === "paused")).toBe(15);
    expect(await check({ name: "b" }, (t) => t.name === "b")).toBe(10);
    expect(
      await check(
        { name: "a", queue: "default", status: "succeeded" },
        (t) => t.name === "a" && t.queue === "default" && t.status === "succeeded",
      ),
    ).toBeGreaterThan(0);
    expect(await check({ name: "b", queue: "paused", status: "succeeded" }, () => false)).toBe(0);
    expect(await check({ name: "nope" }, () => false)).toBe(0);
  });

  it("paging is stable while tasks finish between pages", async () => {
    const { mill, clock } = makeMill();
    const ids = await populate(mill, clock);
    const first = await mill.list({ limit: 10 });
    mill.resumeQueue("paused");
    await clock.advance(60_000);
    const rest = await allPages(mill, { limit: 10, cursor: first.nextCursor });
    expect([...first.tasks, ...rest.all].map((t) => t.id)).toEqual(ids);
  });

  it("property: any filter and limit pages through exactly the matching tasks once", async () => {
    const { mill, clock } = makeMill();
    await populate(mill, clock);
    const everything = (await mill.list({ limit: 1000 })).tasks;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 35 }),
        fc.option(fc.constantFrom("a", "b"), { nil: undefined }),
        fc.option(fc.constantFrom("default", "paused"), { nil: undefined }),
        fc.option(
          fc.subarray(["queued", "scheduled", "succeeded", "failed"] as const, { minLength: 1 }),
          { nil: undefined },
        ),
        async (limit, name, queue, status) => {
          const { all } = await allPages(mill, { limit, name, queue, status });
          const expected = everything.filter(
            (t) =>
              (name === undefined || t.name === name) &&
              (queue === undefined || t.queue === queue) &&
              (status === undefined || (status as readonly string[]).includes(t.status)),
          );
          expect(all.map((t) => t.id)).toEqual(expected.map((t) => t.id));
        },
      ),
      { numRuns: 100 },
    );
  });

  it("a bad cursor or limit is an InvalidArgumentError", async () => {
    const { mill } = makeMill();
    for (const cursor of ["", "nope", "bzo6LTE", Buffer.from("o:-1").toString("base64url"), "d1"])
      await expect(mill.list({ cursor })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(mill.list({ cursor: 42 as unknown as string })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    for (const limit of [0, -1, 1.5, Number.NaN, 10_001, Number.POSITIVE_INFINITY])
      await expect(mill.list({ limit })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(mill.list({ limit: "10" as unknown as number })).rejects.toMatchObject({
      code: "ERR_INVALID_ARGUMENT",
      argument: "limit",
    });
  });

  it("evicted records disappear from list(); a cursor past them still works", async () => {
    const { mill, clock } = makeMill({ retention: { maxEntries: 5 } });
    mill.pauseQueue("default");
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) ids.push((await mill.submit("a", i)).id);
    const first = await mill.list({ limit: 3 });
    expect(first.tasks.map((t) => t.id)).toEqual(ids.slice(0, 3));
    mill.resumeQueue("default");
    await clock.advance(0);
    const rest = await allPages(mill, { limit: 3, cursor: first.nextCursor });
    expect(rest.all.map((t) => t.id)).toEqual(ids.slice(5));
  });
});
