import { describe, expect, it } from "vitest";
import { LeaseKeeper } from "../../../src/engine/durable/lease-keeper.js";
import { Reaper } from "../../../src/engine/durable/reaper.js";
import { NotFoundError, StaleLeaseError } from "../../../src/errors.js";
import { ManualClock } from "../../../src/scheduling/clock.js";
import type { ClaimedTask } from "../../../src/stores/durable-types.js";
import type { RedisStore } from "../../../src/stores/redis/redis-store.js";
import { eventually, sleep, useRedis } from "./fixture.js";

const redis = useRedis();

async function claimOne(store: RedisStore, leaseMs?: number): Promise<ClaimedTask> {
  const { tasks } = await store.claim(["default"], 1, leaseMs);
  const [task] = tasks;
  if (task === undefined) throw new Error("nothing to claim");
  return task;
}

/** Claims, lets the lease lapse, reclaims, and claims again: returns both holders. */
async function supersede(store: RedisStore): Promise<[ClaimedTask, ClaimedTask]> {
  await store.enqueue({ name: "x" });
  const stale = await claimOne(store, 100);
  await sleep(150);
  expect(await store.reclaim()).toMatchObject({ reclaimed: 1, poisoned: 0 });
  const fresh = await claimOne(store, 10_000);
  return [stale, fresh];
}

describe("fencing", () => {
  it("refuses ack, nack, fail and renew with a superseded token, changing nothing", async () => {
    const store = redis.store();
    const [stale, fresh] = await supersede(store);
    expect(fresh.id).toBe(stale.id);
    expect(fresh.attempts).toBe(2);
    const before = await store.get(fresh.id);
    const attempts = [
      () => store.ack(stale.id, stale.token, "late"),
      () => store.nack(stale.id, stale.token, { delayMs: 0 }, new Error("late")),
      () => store.fail(stale.id, stale.token, new Error("late")),
      () => store.renew(stale.id, stale.token, 60_000),
    ];
    for (const attempt of attempts) {
      const error = await attempt().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StaleLeaseError);
      expect(error).toMatchObject({ code: "ERR_STALE_LEASE", reason: "superseded" });
    }
    expect(await store.get(fresh.id)).toEqual(before);
    expect(await store.dlq.size()).toBe(0);
    // The current holder completes normally; the first worker's result never lands.
    const finishedAt = await store.ack(fresh.id, fresh.token, "winner");
    expect(await store.get(fresh.id)).toMatchObject({ status: "succeeded", value: "winner" });
    await expect(store.ack(stale.id, stale.token, "late")).rejects.toBeInstanceOf(StaleLeaseError);
    // A repeated ack (a retry whose first reply was lost) reports the same outcome, changes
    // nothing; another kind of outcome under the same token is refused.
    expect(await store.ack(fresh.id, fresh.token, "twice")).toBe(finishedAt);
    expect((await store.get(fresh.id))?.value).toBe("winner");
    await expect(store.fail(fresh.id, fresh.token, new Error("x"))).rejects.toMatchObject({
      reason: "not-running",
    });
  });

  it("refuses the old holder once its lease was reclaimed, even before anyone re-claims", async () => {
    const store = redis.store();
    await store.enqueue({ name: "x" });
    const stale = await claimOne(store, 80);
    await sleep(120);
    await store.reclaim();
    await expect(store.ack(stale.id, stale.token)).rejects.toMatchObject({ reason: "not-running" });
    expect((await store.get(stale.id))?.status).toBe("retrying");
  });

  it("accepts a late ack while the expired lease has not been reclaimed yet", async () => {
    // The token is still the current one: nobody else can hold the task.
    const store = redis.store();
    await store.enqueue({ name: "x" });
    const task = await claimOne(store, 30);
    await sleep(60);
    await store.ack(task.id, task.token, 1);
    expect(await store.reclaim()).toMatchObject({ reclaimed: 0, poisoned: 0 });
    expect((await store.get(task.id))?.status).toBe("succeeded");
  });

  it("renew extends the lease so reclaim leaves the task alone", async () => {
    const store = redis.store();
    await store.enqueue({ name: "x" });
    const task = await claimOne(store, 100);
    const until = await store.renew(task.id, task.token, 10_000);
    expect(until).toBeGreaterThan(task.leaseUntil);
    await sleep(150);
    expect(await store.reclaim()).toMatchObject({ reclaimed: 0, poisoned: 0 });
    await expect(store.renew("nope", task.token)).rejects.toMatchObject({ reason: "missing" });
  });

  it("nack and fail are idempotent per token, like ack", async () => {
    const store = redis.store();
    await store.enqueueMany([{ name: "r" }, { name: "f" }]);
    const retried = await claimOne(store);
    const runAt = await store.nack(retried.id, retried.token, { delayMs: 0 }, new Error("a"));
    expect(await store.nack(retried.id, retried.token, { delayMs: 9_999 }, new Error("b"))).toBe(
      runAt,
    );
    expect((await store.get(retried.id))?.error?.message).toBe("a");
    await expect(store.ack(retried.id, retried.token)).rejects.toMatchObject({
      reason: "not-running",
    });
    const failed = await claimOne(store);
    const finishedAt = await store.fail(failed.id, failed.token, new Error("once"));
    expect(await store.fail(failed.id, failed.token, new Error("twice"))).toBe(finishedAt);
    expect(await store.dlq.size()).toBe(1);
    expect((await store.readEvents("0")).map((e) => e.status)).toEqual(["retrying", "failed"]);
    // A new claim is a new lease: the retried task's old outcome no longer applies.
    const again = await claimOne(store);
    expect(again.id).toBe(retried.id);
    await expect(
      store.nack(again.id, retried.token, { delayMs: 0 }, new Error("c")),
    ).rejects.toMatchObject({
      reason: "superseded",
    });
  });

  it("nack schedules a retry with its error; fail dead-letters", async () => {
    const store = redis.store();
    await store.enqueueMany([{ name: "r" }, { name: "f" }]);
    const retried = await claimOne(store);
    const runAt = await store.nack(
      retried.id,
      retried.token,
      { delayMs: 60_000 },
      new Error("boom"),
    );
    expect(await store.get(retried.id)).toMatchObject({
      status: "retrying",
      runAt,
      deliveries: 0,
      error: { name: "Error", message: "boom" },
    });
    const failed = await claimOne(store);
    await store.fail(failed.id, failed.token, {
      name: "PermanentError",
      message: "no",
      code: "ERR_PERMANENT",
    });
    expect(await store.get(failed.id)).toMatchObject({
      status: "failed",
      error: { name: "PermanentError", code: "ERR_PERMANENT" },
    });
    expect(await store.counts()).toMatchObject({ delayed: 1, running: 0, deadLetters: 1 });
  });
});

describe("reclaim and maxDeliveries", () => {
  it("puts a reclaimed task back in its place: ahead of the tasks submitted after it", async () => {
    const store = redis.store();
    const first = await store.enqueue({ name: "x", payload: "first" });
    const second = await store.enqueue({ name: "x", payload: "second" });
    const crashed = await claimOne(store, 50);
    expect(crashed.id).toBe(first.id);
    const third = await store.enqueue({ name: "x", payload: "third" });
    await sleep(80);
    expect(await store.reclaim()).toMatchObject({ reclaimed: 1 });
    const { tasks } = await store.claim(["default"], 3);
    expect(tasks.map((task) => task.id)).toEqual([first.id, second.id, third.id]);
  });

  it("says when the earliest lease held runs out, so the reaper can come back then", async () => {
    const store = redis.store();
    expect((await store.reclaim()).nextExpiryInMs).toBeUndefined();
    await store.enqueue({ name: "x" });
    await claimOne(store, 5_000);
    const { nextExpiryInMs } = await store.reclaim();
    expect(nextExpiryInMs).toBeGreaterThan(4_000);
    expect(nextExpiryInMs).toBeLessThanOrEqual(5_000);
  });

  it("returns expired leases to the ready queue and dead-letters poison", async () => {
    const store = redis.store({ maxDeliveries: 2 });
    const { id } = await store.enqueue({ name: "crashy" });
    await claimOne(store, 50);
    await sleep(80);
    expect(await store.reclaim()).toMatchObject({ reclaimed: 1, poisoned: 0 });
    const again = await claimOne(store, 50);
    expect(again.deliveries).toBe(2);
    await sleep(80);
    expect(await store.reclaim()).toMatchObject({ reclaimed: 0, poisoned: 1 });
    expect((await store.claim(["default"], 1)).tasks).toEqual([]);
    const page = await store.dlq.list();
    expect(page.tasks.map((t) => t.id)).toEqual([id]);
    expect(page.tasks[0]).toMatchObject({ status: "failed", attempts: 2 });
    expect(page.tasks[0]?.error?.code).toBe("ERR_POISON");
  });

  it("a nack resets the delivery count: only lost leases count toward poison", async () => {
    const store = redis.store({ maxDeliveries: 1 });
    await store.enqueue({ name: "x" });
    for (let i = 0; i < 3; i++) {
      const task = await claimOne(store);
      await store.nack(task.id, task.token, { delayMs: 0 }, new Error("retry"));
    }
    expect((await claimOne(store)).attempts).toBe(4);
  });

  it("a claim dead-letters a task already delivered maxDeliveries times", async () => {
    // Reclaimed under a looser limit, claimed under a stricter one.
    const store = redis.store({ maxDeliveries: 0 });
    await store.enqueue({ name: "x" });
    for (let i = 0; i < 2; i++) {
      await claimOne(store, 30);
      await sleep(50);
      await store.reclaim();
    }
    const result = await store.claim(["default"], 1, 1_000, { maxDeliveries: 2 });
    expect(result.tasks).toEqual([]);
    expect(result.poisoned).toBe(1);
    expect(await store.dlq.size()).toBe(1);
  });

  it("the reaper reclaims within about half a lease, and stops cleanly", async () => {
    const store = redis.store({ leaseMs: 100 });
    await store.enqueue({ name: "orphan" });
    const orphan = await claimOne(store);
    const passes: number[] = [];
    const reaper = new Reaper(store, { onPass: (r) => passes.push(r.reclaimed) });
    reaper.start();
    reaper.start();
    const back = await eventually(async () => (await store.claim(["default"], 1)).tasks[0]);
    expect(back.id).toBe(orphan.id);
    await reaper.stop();
    await reaper.stop();
    expect(passes).toContain(1);
  });
});

describe("Reaper timing", () => {
  it("comes back when the earliest lease runs out, not an interval later", async () => {
    const store = redis.store({ leaseMs: 10_000 }); // interval: half a lease, 5 s
    const clock = new ManualClock(0);
    await store.enqueue({ name: "x" });
    const held = await claimOne(store, 1_000);
    const passes: number[] = [];
    const reaper = new Reaper(store, { clock, onPass: (r) => passes.push(r.reclaimed) });
    reaper.start();
    await clock.advance(5_000); // the first pass: the lease still holds, it runs out in ~1 s
    await sleep(1_100); // Redis time: the lease has run out now
    expect(passes).toEqual([]);
    await clock.advance(1_100); // well before the next interval (5 s)
    await eventually(async () => passes.includes(1));
    expect((await store.get(held.id))?.status).toBe("retrying");
    await reaper.stop();
  });
});

describe("cancel", () => {
  it("cancels queued and delayed tasks at once", async () => {
    const store = redis.store();
    const queued = await store.enqueue({ name: "q" });
    const delayed = await store.enqueue({ name: "d", delayMs: 60_000 });
    expect(await store.cancel(queued.id)).toEqual({ cancelled: true, wasRunning: false });
    expect(await store.cancel(delayed.id)).toEqual({ cancelled: true, wasRunning: false });
    expect((await store.claim(["default"], 10)).tasks).toEqual([]);
    expect(await store.counts()).toMatchObject({ delayed: 0, finished: 2 });
    expect(await store.get(queued.id)).toMatchObject({
      status: "cancelled",
      error: { code: "ERR_CANCELLED" },
    });
    expect(await store.cancel(queued.id)).toEqual({ cancelled: false, wasRunning: false });
    await expect(store.cancel("unknown")).rejects.toBeInstanceOf(NotFoundError);
  });

  it("cancels a running task; its worker's ack and renew are refused", async () => {
    const store = redis.store();
    await store.enqueue({ name: "r" });
    const task = await claimOne(store);
    expect(await store.cancel(task.id)).toEqual({ cancelled: true, wasRunning: true });
    await expect(store.ack(task.id, task.token, 1)).rejects.toMatchObject({ reason: "cancelled" });
    await expect(store.renew(task.id, task.token)).rejects.toMatchObject({ reason: "cancelled" });
    expect(await store.get(task.id)).toMatchObject({ status: "cancelled", value: undefined });
    expect((await store.counts()).running).toBe(0);
  });
});

describe("LeaseKeeper", () => {
  it("keeps a lease alive past its length and reports its loss once", async () => {
    const store = redis.store({ leaseMs: 150 });
    await store.enqueue({ name: "long" });
    const task = await claimOne(store);
    const lost: StaleLeaseError[] = [];
    const keeper = new LeaseKeeper(store, { onLost: (_id, error) => lost.push(error) });
    keeper.hold(task);
    await sleep(400);
    expect(await store.reclaim()).toMatchObject({ reclaimed: 0, poisoned: 0 });
    expect(lost).toEqual([]);
    await store.cancel(task.id);
    await eventually(async () => (lost.length > 0 ? true : undefined));
    expect(lost).toHaveLength(1);
    expect(lost[0]).toMatchObject({ reason: "cancelled", taskId: task.id });
    expect(keeper.size).toBe(0);
    keeper.stop();
  });

  it("leaves its timer armed across short tasks; a round with nothing held does not re-arm, and a later lease is renewed", async () => {
    const store = redis.store({ leaseMs: 3_000 });
    const clock = new ManualClock(Date.now());
    const keeper = new LeaseKeeper(store, { clock, onLost: () => {} });
    for (let i = 0; i < 100; i++) {
      await store.enqueue({ name: "short" });
      const task = await claimOne(store);
      keeper.hold(task, clock.now());
      expect(clock.pendingTimers).toBe(1);
      keeper.release(task.id);
      await store.ack(task.id, task.token);
    }
    // The held-over timer fires, renews nothing, and does not re-arm.
    await clock.advance(1_000);
    await eventually(async () => (clock.pendingTimers === 0 ? true : undefined));
    // A lease held later still gets renewed.
    await store.enqueue({ name: "long" });
    const task = await claimOne(store, 3_000);
    keeper.hold(task, clock.now());
    expect(clock.pendingTimers).toBe(1);
    const before = (await store.get(task.id))?.leaseUntil ?? 0;
    await sleep(5);
    await clock.advance(1_000);
    await eventually(async () => {
      const after = (await store.get(task.id))?.leaseUntil ?? 0;
      return after > before ? true : undefined;
    });
    keeper.stop();
    expect(clock.pendingTimers).toBe(0);
  });

  it("stops renewing released leases, which then lapse", async () => {
    const store = redis.store({ leaseMs: 100 });
    await store.enqueue({ name: "x" });
    const task = await claimOne(store);
    const keeper = new LeaseKeeper(store, { onLost: () => {} });
    keeper.hold(task);
    keeper.release(task.id);
    await sleep(150);
    expect(await store.reclaim()).toMatchObject({ reclaimed: 1, poisoned: 0 });
    keeper.stop();
  });
});
