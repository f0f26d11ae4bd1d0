/**
 * The Postgres store's global rate bucket (inside the claim, on the database clock) and its
 * leader lock (a lease row), against a real PostgreSQL server.
 */
import { describe, expect, it } from "vitest";
import { usePostgres } from "./fixture.js";

const pgf = usePostgres();

describe("global rate inside the claim", () => {
  it("a claim takes at most the bucket's tokens and says how long until the next one", async () => {
    const store = await pgf.store({ globalRate: { perSecond: 2, burst: 3 } });
    for (let i = 0; i < 6; i++) await store.enqueue({ name: "t", payload: i });
    const first = await store.step([], ["default"], 6);
    expect(first.tasks.map((task) => task.payload)).toEqual([0, 1, 2]);
    expect(first.rateWaitMs).toBeGreaterThan(0);
    expect(first.rateWaitMs).toBeLessThanOrEqual(500);
    // Another process on the same schema shares the bucket: nothing now.
    const other = await pgf.store({
      schema: store.names.schema,
      globalRate: { perSecond: 2, burst: 3 },
    });
    const second = await other.step([], ["default"], 6);
    expect(second.tasks).toEqual([]);
    expect(second.rateWaitMs).toBeGreaterThan(0);
    // After the wait it names (database clock), one more token.
    await new Promise((resolve) => setTimeout(resolve, second.rateWaitMs + 20));
    expect((await other.step([], ["default"], 6)).tasks.length).toBeGreaterThanOrEqual(1);
  });
});

describe("leader lock (a lease row)", () => {
  it("one holder at a time; a stop hands it over", async () => {
    const a = await pgf.store();
    const b = await pgf.store({ schema: a.names.schema });
    const changes: string[] = [];
    // A lease well above a loaded machine's stalls: a 300 ms lease could lapse between renewals
    // and hand over early, which is the lock working, not the rule under test.
    const lockA = a.createLeaderLock("cron", {
      ttlMs: 1_500,
      onChange: (leading, reason) => changes.push(`A ${leading} ${reason}`),
    });
    const lockB = b.createLeaderLock("cron", {
      ttlMs: 1_500,
      onChange: (leading, reason) => changes.push(`B ${leading} ${reason}`),
    });
    lockA.start();
    await expect.poll(() => lockA.isLeader, { timeout: 5_000 }).toBe(true);
    lockB.start();
    // B keeps trying (every third of its TTL) while A renews: it never leads meanwhile.
    for (let i = 0; i < 5; i++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(lockB.isLeader).toBe(false);
    }
    // A steps down before it releases the row, so B's acquire is announced after A's stop.
    await lockA.stop();
    expect(lockA.isLeader).toBe(false);
    await expect.poll(() => lockB.isLeader, { timeout: 5_000 }).toBe(true);
    await lockB.stop();
    expect(changes).toEqual([
      "A true acquired",
      "A false stopped",
      "B true acquired",
      "B false stopped",
    ]);
  });

  it("steps down when its lease lapses locally while the database does not answer", async () => {
    const store = await pgf.store();
    const changes: string[] = [];
    const lock = store.createLeaderLock("cron", {
      ttlMs: 300,
      onChange: (leading, reason) => changes.push(`${leading} ${reason}`),
    });
    lock.start();
    await expect.poll(() => lock.isLeader, { timeout: 5_000 }).toBe(true);
    // Another session holds the lease row: the renewal waits on it, as with a stalled server.
    const blocker = await pgf.pool().connect();
    try {
      await blocker.query("BEGIN");
      await blocker.query(`SELECT * FROM ${store.names.schema}.leaders FOR UPDATE`);
      await expect.poll(() => changes, { timeout: 5_000 }).toContain("false expired-locally");
      expect(lock.isLeader).toBe(false);
      await blocker.query("ROLLBACK");
    } finally {
      blocker.release();
    }
    // The waiting renewal goes through once the row is free: it leads again.
    await expect.poll(() => lock.isLeader, { timeout: 5_000 }).toBe(true);
    await lock.stop();
    expect(changes).toEqual([
      "true acquired",
      "false expired-locally",
      "true acquired",
      "false stopped",
    ]);
  });
});
