/**
 * Fencing in SQL: tokens from one counter row, strictly increasing across claims and store
 * connections; a write under a token that lost its lease is refused with StaleLeaseError and
 * changes nothing. The store clock is `Date.now()`, faked here (only `Date`), so leases expire
 * without waiting.
 */
import { StaleLeaseError } from "taskmill";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { useSqlite } from "./fixture.js";

const sqlite = useSqlite();
const LEASE = 1_000;

beforeEach(() => {
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(1_800_000_000_000);
});
afterEach(() => {
  vi.useRealTimers();
});

function advance(ms: number): void {
  vi.setSystemTime(Date.now() + ms);
}

describe("SQLite store: fencing tokens and leases", () => {
  it("tokens increase across claims and across connections to the same file", async () => {
    const a = sqlite.open(undefined, { leaseMs: LEASE });
    const b = sqlite.open(a.options.path, { leaseMs: LEASE });
    await a.enqueueMany(Array.from({ length: 6 }, (_, n) => ({ name: "job", payload: { n } })));
    const fences: number[] = [];
    for (const store of [a, b, a, b, a, b]) {
      const { tasks } = await store.step([], ["default"], 1);
      fences.push(...tasks.map((task) => task.fence));
    }
    expect(fences).toHaveLength(6);
    for (let i = 1; i < fences.length; i++)
      expect(fences[i] as number).toBeGreaterThan(fences[i - 1] as number);
  });

  it("after a lease expired and another claim took the task, the old token changes nothing", async () => {
    const store = sqlite.open(undefined, { leaseMs: LEASE });
    await store.enqueue({ name: "job", id: "t" });
    const first = (await store.step([], ["default"], 1)).tasks[0];
    if (first === undefined) throw new Error("not claimed");
    advance(LEASE + 1);
    expect(await store.reclaim()).toMatchObject({ reclaimed: 1, poisoned: 0 });
    const second = (await store.step([], ["default"], 1)).tasks[0];
    if (second === undefined) throw new Error("not claimed again");
    expect(second.fence).toBeGreaterThan(first.fence);
    expect(second.attempts).toBe(2);
    const snapshot = await store.get("t");

    const old = first.token;
    const refusals = await Promise.allSettled([
      store.ack("t", old, "late"),
      store.nack("t", old, { delayMs: 0 }, new Error("late")),
      store.fail("t", old, new Error("late")),
      store.progress("t", old, { late: true }),
      store.renewMany([{ id: "t", token: old }]),
    ]);
    for (const refusal of refusals.slice(0, 4)) {
      expect(refusal.status).toBe("rejected");
      expect((refusal as PromiseRejectedResult).reason).toBeInstanceOf(StaleLeaseError);
      expect((refusal as PromiseRejectedResult).reason).toMatchObject({ reason: "superseded" });
    }
    expect((refusals[4] as PromiseFulfilledResult<unknown[]>).value[0]).toBeInstanceOf(
      StaleLeaseError,
    );
    const step = await store.step([{ id: "t", token: old, value: "late" }], ["default"], 0);
    expect(step.acks[0]).toBeInstanceOf(StaleLeaseError);
    expect(await store.get("t")).toEqual(snapshot);

    // The current holder completes; a repeated ack under its token answers the same time.
    const finishedAt = await store.ack("t", second.token, "ok");
    expect(await store.ack("t", second.token, "ok")).toBe(finishedAt);
    expect(await store.get("t")).toMatchObject({ status: "succeeded", value: "ok" });
  });

  it("a lease renewed in time is not reclaimed; one that lapsed goes back to its place", async () => {
    const store = sqlite.open(undefined, { leaseMs: LEASE });
    await store.enqueueMany([
      { name: "job", id: "first" },
      { name: "job", id: "second" },
    ]);
    const [a, b] = (await store.step([], ["default"], 2)).tasks;
    if (a === undefined || b === undefined) throw new Error("not claimed");
    await store.enqueue({ name: "job", id: "later" });
    advance(LEASE - 10);
    expect(await store.renewMany([{ id: b.id, token: b.token }])).toEqual([Date.now() + LEASE]);
    advance(20);
    expect(await store.reclaim()).toMatchObject({ reclaimed: 1, nextExpiryInMs: LEASE - 20 });
    // "first" was ahead of "later": reclaimed, it is ahead again.
    const next = await store.step([], ["default"], 2);
    expect(next.tasks.map((task) => task.id)).toEqual(["first", "later"]);
  });

  it("a task delivered maxDeliveries times without an outcome is dead-lettered as poison", async () => {
    const store = sqlite.open(undefined, { leaseMs: LEASE, maxDeliveries: 2 });
    await store.enqueue({ name: "job", id: "p" });
    expect((await store.step([], ["default"], 1)).tasks).toHaveLength(1);
    advance(LEASE + 1);
    expect(await store.reclaim()).toMatchObject({ reclaimed: 1, poisoned: 0 });
    expect((await store.step([], ["default"], 1)).tasks).toHaveLength(1);
    advance(LEASE + 1);
    // The second lapse of a task delivered maxDeliveries times: into the DLQ, not back.
    expect(await store.reclaim()).toMatchObject({ reclaimed: 0, poisoned: 1 });
    expect(await store.step([], ["default"], 1)).toMatchObject({ tasks: [] });
    expect(await store.get("p")).toMatchObject({
      status: "failed",
      error: { name: "PoisonTaskError", code: "ERR_POISON" },
    });
    expect((await store.dlq.list()).tasks.map((task) => task.id)).toEqual(["p"]);
  });
});
