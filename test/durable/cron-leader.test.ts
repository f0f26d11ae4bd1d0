/**
 * The cron leader lock in durable mode, against a real redis-server: the lock itself (one
 * owner, compare-and-set renewal and release, stepping down at once), then schedules on two
 * managers sharing a prefix: only the leader enqueues, every tick exactly once, across a
 * hand-over and across restarts.
 */
import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import { type Clock, systemClock, TaskManager, type TaskSnapshot } from "taskmill";
import { afterEach, describe, expect, it, vi } from "vitest";
import { KeySpace } from "../../src/stores/redis/keys.js";
import {
  LeaderLock,
  type LeaderLockOptions,
  type LeadershipChange,
} from "../../src/stores/redis/leader-lock.js";
import { sleep, useRedis } from "../stores/redis/fixture.js";

const redis = useRedis();
const locks: LeaderLock[] = [];
const managers: TaskManager[] = [];

afterEach(async () => {
  await Promise.all(locks.splice(0).map((lock) => lock.stop()));
  await Promise.all(managers.splice(0).map((mill) => mill.stopNow()));
});

function lockKey(): string {
  return new KeySpace(`ll-${randomUUID().slice(0, 8)}`).leader("cron");
}

function lock(client: Redis, key: string, options: Partial<LeaderLockOptions> = {}) {
  const changes: Array<[boolean, LeadershipChange]> = [];
  const created = new LeaderLock(client, key, {
    ttlMs: 600,
    ...options,
    onChange: (leading, reason) => changes.push([leading, reason]),
  });
  locks.push(created);
  return { lock: created, changes };
}

describe("LeaderLock", () => {
  it("of two contenders exactly one leads, renewals keep it, a release hands over at once", async () => {
    const key = lockKey();
    const a = lock(redis.client(), key).lock;
    const b = lock(redis.client(), key).lock;
    a.start();
    b.start();
    await vi.waitFor(() => expect([a, b].filter((l) => l.isLeader)).toHaveLength(1));
    const leader = a.isLeader ? a : b;
    const other = leader === a ? b : a;
    // Several TTLs: renewals hold the lock, and at no instant do both believe they lead.
    let both = 0;
    let leaderChanged = 0;
    const sampler = setInterval(() => {
      if (a.isLeader && b.isLeader) both++;
      if (!leader.isLeader) leaderChanged++;
    }, 5);
    await sleep(2_000);
    clearInterval(sampler);
    expect(both).toBe(0);
    expect(leaderChanged).toBe(0);
    const raw = redis.client();
    expect(await raw.get(key)).toBe(leader.token);
    expect(await raw.pttl(key)).toBeGreaterThan(0);

    await leader.stop();
    expect(leader.isLeader).toBe(false);
    // Released, not left to expire: the other takes over within one retry period (ttl / 3).
    await vi.waitFor(() => expect(other.isLeader).toBe(true), { timeout: 400, interval: 10 });
    expect(await raw.get(key)).toBe(other.token);
  });

  it("steps down at the next renewal when another owner took the key, and waits for it", async () => {
    const key = lockKey();
    const raw = redis.client();
    const { lock: leader, changes } = lock(redis.client(), key, { ttlMs: 3_000 });
    leader.start();
    await vi.waitFor(() => expect(leader.isLeader).toBe(true));
    await raw.set(key, "intruder", "PX", 60_000);
    const tookAt = Date.now();
    // Renewals run every second: it notices well before its own 3 s TTL would end.
    await vi.waitFor(() => expect(leader.isLeader).toBe(false), { timeout: 1_500, interval: 10 });
    expect(Date.now() - tookAt).toBeLessThan(1_500);
    expect(changes).toEqual([
      [true, "acquired"],
      [false, "refused"],
    ]);
    await sleep(1_200); // at least one acquisition attempt: the intruder's key is not touched
    expect(leader.isLeader).toBe(false);
    expect(await raw.get(key)).toBe("intruder");
    await raw.del(key);
    await vi.waitFor(() => expect(leader.isLeader).toBe(true), { timeout: 1_500 });
    expect(changes.at(-1)).toEqual([true, "acquired"]);
  });

  it("steps down when its key is deleted under it, then takes it again", async () => {
    const key = lockKey();
    const raw = redis.client();
    const { lock: leader, changes } = lock(redis.client(), key, { ttlMs: 3_000 });
    leader.start();
    await vi.waitFor(() => expect(leader.isLeader).toBe(true));
    await raw.del(key);
    await vi.waitFor(() => expect(changes).toContainEqual([false, "refused"]), {
      timeout: 1_500,
    });
    await vi.waitFor(() => expect(leader.isLeader).toBe(true), { timeout: 1_500 });
    expect(await raw.get(key)).toBe(leader.token);
  });

  it("steps down at once when its connection drops, and re-enters its own key after reconnecting", async () => {
    const key = lockKey();
    const client = redis.client();
    const { lock: leader, changes } = lock(client, key, { ttlMs: 5_000 });
    leader.start();
    await vi.waitFor(() => expect(leader.isLeader).toBe(true));
    client.disconnect(true); // drop the socket; ioredis reconnects
    await vi.waitFor(() => expect(leader.isLeader).toBe(false), { timeout: 200, interval: 5 });
    expect(changes).toContainEqual([false, "connection-lost"]);
    // The key still holds its token (TTL 5 s): it takes it back rather than waiting it out.
    await vi.waitFor(() => expect(leader.isLeader).toBe(true), { timeout: 3_000 });
    expect(changes.at(-1)).toEqual([true, "re-entered"]);
  });

  it("stops believing it leads when its local deadline passes, even if no timer ran (blocked loop)", async () => {
    const key = lockKey();
    let skew = 0;
    // Real timers; a `now` we can jump, as a process does after its event loop was blocked.
    const clock: Clock = { ...systemClock, now: () => systemClock.now() + skew };
    const { lock: leader } = lock(redis.client(), key, { ttlMs: 3_000, clock });
    leader.start();
    await vi.waitFor(() => expect(leader.isLeader).toBe(true));
    skew = 1_000;
    expect(leader.isLeader).toBe(true);
    // 20 ms before the TTL would end in Redis: inside the drift margin (1% + 2 ms = 32 ms), so
    // the local view has already given up, without any timer having run.
    skew = 2_980;
    expect(leader.isLeader).toBe(false);
  });

  it("release is compare-and-set: a stopped former owner never deletes its successor's key", async () => {
    const key = lockKey();
    const raw = redis.client();
    const { lock: first } = lock(redis.client(), key, { ttlMs: 3_000 });
    first.start();
    await vi.waitFor(() => expect(first.isLeader).toBe(true));
    await raw.set(key, "successor", "PX", 60_000);
    await first.stop();
    expect(await raw.get(key)).toBe("successor");
  });
});

/** Two (or more) managers on one prefix, each with the same every-second schedule. */
function cluster() {
  const prefix = `cl-${randomUUID().slice(0, 8)}`;
  /** Handler runs per task id, across every manager. */
  const runs = new Map<string, number>();
  /** Ticks each manager submitted (by its own scheduler), by manager. */
  const submitted = new Map<TaskManager, number[]>();

  function start(): TaskManager {
    const mill = new TaskManager({
      retry: { maxRetries: 0 },
      // Lock TTL = leaseMs: renewals every 800 ms, retries every 800 ms (< the 1 s period).
      backend: { type: "redis", url: redis.server().url, prefix, leaseMs: 2_400 },
    });
    managers.push(mill);
    mill.register("tick", async (_payload, ctx) => {
      runs.set(ctx.taskId, (runs.get(ctx.taskId) ?? 0) + 1);
    });
    const mine: number[] = [];
    submitted.set(mill, mine);
    const submit = mill.submit.bind(mill);
    vi.spyOn(mill, "submit").mockImplementation(((name, payload, options) => {
      const key = options?.idempotencyKey;
      if (key?.startsWith("schedule:")) mine.push(Number(key.split(":").at(-1)));
      return submit(name as string, payload, options);
    }) as typeof mill.submit);
    mill.schedule("beat", "* * * * * *", "tick", { v: 1 });
    return mill;
  }

  /**
   * Every finished tick task, oldest first. Only the finished index: a listing across states
   * is not a snapshot (a task moving from ready to finished meanwhile can be seen twice or
   * not at all), while the finished set only grows.
   */
  async function tickTasks(reader: TaskManager): Promise<TaskSnapshot[]> {
    const { tasks } = await reader.list({ status: "succeeded", name: "tick", limit: 1_000 });
    return tasks
      .filter((t) => t.idempotencyKey?.startsWith("schedule:beat:"))
      .sort((x, y) => tickOf(x) - tickOf(y));
  }

  /** Ticks are enqueued once each, every second without a gap, and each ran exactly once. */
  async function expectEveryTickOnce(reader: TaskManager): Promise<number[]> {
    // Retried briefly only so a tick enqueued a moment ago can finish; a gap or a second run
    // does not go away by waiting.
    return vi.waitFor(
      async () => {
        const tasks = await tickTasks(reader);
        const ticks = tasks.map(tickOf);
        expect(new Set(ticks).size).toBe(ticks.length);
        expect(ticks).toEqual(ticks.map((_, i) => (ticks[0] ?? 0) + i * 1_000));
        expect(tasks.map((t) => runs.get(t.id))).toEqual(tasks.map(() => 1));
        return ticks;
      },
      { timeout: 3_000, interval: 100 },
    );
  }

  function leaderOf(mills: readonly TaskManager[]): TaskManager[] {
    return mills.filter((mill) => mill.schedules()[0]?.leader === true);
  }

  return { prefix, start, tickTasks, expectEveryTickOnce, leaderOf, submitted, runs };
}

function tickOf(task: TaskSnapshot): number {
  return Number(task.idempotencyKey?.split(":").at(-1));
}

async function waitForTicks(reader: () => Promise<unknown[]>, count: number, timeout = 10_000) {
  await vi.waitFor(async () => expect((await reader()).length).toBeGreaterThanOrEqual(count), {
    timeout,
    interval: 100,
  });
}

describe("cron schedules in durable mode", () => {
  it("two managers with the same schedule: one leads and only it enqueues, each tick once", async () => {
    const c = cluster();
    const a = c.start();
    const b = c.start();
    await vi.waitFor(() => expect(c.leaderOf([a, b])).toHaveLength(1), { timeout: 5_000 });
    const [leader] = c.leaderOf([a, b]);
    const follower = leader === a ? b : a;
    await waitForTicks(() => c.tickTasks(a), 4);
    const ticks = await c.expectEveryTickOnce(a);
    expect(c.leaderOf([a, b])).toEqual([leader]);
    // The gate, not only the idempotency key: the follower submitted nothing.
    expect(c.submitted.get(follower as TaskManager)).toEqual([]);
    expect(c.submitted.get(leader as TaskManager)).toEqual(expect.arrayContaining(ticks));
    expect(follower?.schedules()[0]).toMatchObject({ id: "beat", leader: false });
  });

  it("the leader stops: the other takes over within about one TTL, no tick missed or doubled", async () => {
    const c = cluster();
    const a = c.start();
    const b = c.start();
    await vi.waitFor(() => expect(c.leaderOf([a, b])).toHaveLength(1), { timeout: 5_000 });
    const [leader] = c.leaderOf([a, b]) as [TaskManager];
    const follower = leader === a ? b : a;
    await waitForTicks(() => c.tickTasks(follower), 3);
    const stoppedAt = Date.now();
    await leader.stopGraceful({ timeoutMs: 5_000 });
    const releasedAt = Date.now();
    await vi.waitFor(() => expect(follower.schedules()[0]?.leader).toBe(true), {
      timeout: 3_000,
      interval: 10,
    });
    expect(Date.now() - stoppedAt).toBeLessThan(2_400 + 500);
    // Released by the stop, not left to expire: taken within one retry period (800 ms).
    expect(Date.now() - releasedAt).toBeLessThan(800 + 400);
    const before = (await c.tickTasks(follower)).length;
    await waitForTicks(() => c.tickTasks(follower), before + 3);
    await c.expectEveryTickOnce(follower);
  });

  it("a crashed leader (its key left to expire): the next leader fires the tick due during the hand-over", async () => {
    const c = cluster();
    const raw = redis.client();
    // A leader that renewed its lock (TTL = leaseMs) and then died: nothing releases it.
    await raw.set(new KeySpace(c.prefix).leader("cron"), "crashed", "PX", 2_400);
    const crashedAt = Date.now();
    const follower = c.start();
    let gainedAt = 0;
    await vi.waitFor(
      () => {
        expect(follower.schedules()[0]?.leader).toBe(true);
        gainedAt = Date.now();
      },
      { timeout: 5_000, interval: 10 },
    );
    // Within one TTL plus one retry period (a third of it), with slack for a loaded machine.
    expect(gainedAt - crashedAt).toBeLessThan(2_400 + 800 + 500);
    await waitForTicks(() => c.tickTasks(follower), 3);
    const ticks = await c.expectEveryTickOnce(follower);
    // The first tick enqueued is the catch-up: due while the dead leader's key still held,
    // fired late, once, by the new leader; ticks skipped before it are not replayed.
    const first = ticks[0] as number;
    expect(first).toBeGreaterThan(crashedAt);
    expect(first).toBeLessThanOrEqual(gainedAt);
    expect(gainedAt - first).toBeLessThan(1_000 + 300);
    expect(c.submitted.get(follower)?.[0]).toBe(first);
  });

  it("restarting either process of two with the same schedule never doubles or drops a tick", async () => {
    const c = cluster();
    const a = c.start();
    const b = c.start();
    await vi.waitFor(() => expect(c.leaderOf([a, b])).toHaveLength(1), { timeout: 5_000 });
    const [leader] = c.leaderOf([a, b]) as [TaskManager];
    const follower = leader === a ? b : a;
    await waitForTicks(() => c.tickTasks(leader), 2);

    // Restart the follower: it registers the schedule again while the leader keeps firing.
    await follower.stopNow();
    const follower2 = c.start();
    let count = (await c.tickTasks(leader)).length;
    await waitForTicks(() => c.tickTasks(leader), count + 2);
    expect(c.leaderOf([leader, follower2])).toEqual([leader]);

    // Restart the leader: the restarted follower (or the new process) takes over.
    await leader.stopNow();
    const leader2 = c.start();
    await vi.waitFor(() => expect(c.leaderOf([follower2, leader2])).toHaveLength(1), {
      timeout: 5_000,
    });
    count = (await c.tickTasks(follower2)).length;
    await waitForTicks(() => c.tickTasks(follower2), count + 3);
    const ticks = await c.expectEveryTickOnce(follower2);
    expect(ticks.length).toBeGreaterThanOrEqual(7);
    expect([...c.runs.values()].every((n) => n === 1)).toBe(true);
  });
});
