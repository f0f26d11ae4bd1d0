/**
 * The worker's round trip (`RedisStore.step`): acks and a claim in one script call, each ack
 * fenced by its own token, and claim receipts that give a lost reply's leases back without
 * counting another delivery.
 */
import { describe, expect, it } from "vitest";
import { InvalidArgumentError, StaleLeaseError } from "../../../src/errors.js";
import type { ClaimedTask, TaskEvent } from "../../../src/stores/durable-types.js";
import type { RedisStore } from "../../../src/stores/redis/redis-store.js";
import { sleep, useRedis } from "./fixture.js";

const redis = useRedis();

async function enqueue(store: RedisStore, count: number): Promise<string[]> {
  const results = await store.enqueueMany(
    Array.from({ length: count }, (_, n) => ({ name: "job", payload: { n } })),
  );
  return results.map((result) => result.id);
}

async function events(store: RedisStore): Promise<TaskEvent[]> {
  return store.readEvents("0", { count: 1_000 });
}

function refs(tasks: readonly ClaimedTask[], value?: unknown) {
  return tasks.map((task) => ({ id: task.id, token: task.token, value }));
}

describe("step: acks and a claim in one call", () => {
  it("acks every finished task and claims for the freed slots, in queue order", async () => {
    const store = redis.store();
    const ids = await enqueue(store, 5);
    const first = await store.step([], ["default"], 2);
    expect(first.tasks.map((task) => task.id)).toEqual(ids.slice(0, 2));
    expect(first.acks).toEqual([]);

    const second = await store.step(refs(first.tasks, { ok: true }), ["default"], 2);
    expect(second.acks).toEqual([expect.any(Number), expect.any(Number)]);
    expect(second.tasks.map((task) => task.id)).toEqual(ids.slice(2, 4));
    for (const task of second.tasks)
      expect(task).toMatchObject({ status: "running", attempts: 1, deliveries: 1 });
    for (const id of ids.slice(0, 2))
      expect(await store.get(id)).toMatchObject({
        status: "succeeded",
        value: { ok: true },
        leaseUntil: undefined,
        error: undefined,
      });
    expect(await store.counts()).toMatchObject({ running: 2, finished: 2 });
    const succeeded = (await events(store)).filter((event) => event.status === "succeeded");
    expect(succeeded.map((event) => [event.id, event.name, event.attempts, event.value])).toEqual(
      ids.slice(0, 2).map((id) => [id, "job", 1, { ok: true }]),
    );

    // Acks only (max 0): nothing more is claimed.
    const last = await store.step(refs(second.tasks), ["default"], 0);
    expect(last.tasks).toEqual([]);
    expect(last.acks).toEqual([expect.any(Number), expect.any(Number)]);
    expect(await store.counts()).toMatchObject({ running: 0, finished: 4 });
    expect((await store.queues()).find((q) => q.name === "default")?.depth).toBe(1);
  });

  it("refuses a stale token in the batch, changing nothing for it, while the others are acked", async () => {
    const store = redis.store();
    await enqueue(store, 3);
    const held = (await store.step([], ["default"], 3, {}, 100)).tasks;
    const [a, b, c] = held as [ClaimedTask, ClaimedTask, ClaimedTask];
    // b's lease lapses, is reclaimed and claimed again: its first token is stale now.
    await store.renewMany(
      [a, c].map((task) => ({ id: task.id, token: task.token })),
      60_000,
    );
    await sleep(150);
    expect(await store.reclaim()).toMatchObject({ reclaimed: 1, poisoned: 0 });
    const again = (await store.claim(["default"], 1)).tasks[0] as ClaimedTask;
    expect(again.id).toBe(b.id);

    const result = await store.step(refs([a, b, c], "done"), ["default"], 3);
    expect(result.acks[0]).toEqual(expect.any(Number));
    expect(result.acks[1]).toBeInstanceOf(StaleLeaseError);
    expect(result.acks[1]).toMatchObject({ taskId: b.id, reason: "superseded" });
    expect(result.acks[2]).toEqual(expect.any(Number));
    expect(result.tasks).toEqual([]);
    expect(await store.get(a.id)).toMatchObject({ status: "succeeded", value: "done" });
    expect(await store.get(c.id)).toMatchObject({ status: "succeeded", value: "done" });
    expect(await store.get(b.id)).toMatchObject({
      status: "running",
      token: again.token,
      value: undefined,
    });
    // The current holder still completes it.
    expect((await store.step(refs([again], "mine"), ["default"], 0)).acks).toEqual([
      expect.any(Number),
    ]);
    expect(await store.get(b.id)).toMatchObject({ status: "succeeded", value: "mine" });
    const succeeded = (await events(store)).filter((event) => event.status === "succeeded");
    expect(succeeded.map((event) => event.id).sort()).toEqual([a.id, b.id, c.id].sort());
  });

  it("a repeated ack under the same token reports the first finish time and changes nothing", async () => {
    const store = redis.store();
    await enqueue(store, 1);
    const [task] = (await store.step([], ["default"], 1)).tasks as [ClaimedTask];
    const first = await store.step(refs([task], 1), ["default"], 0);
    const again = await store.step(refs([task], 2), ["default"], 0);
    expect(again.acks).toEqual(first.acks);
    expect(await store.get(task.id)).toMatchObject({ status: "succeeded", value: 1 });
    expect((await events(store)).filter((event) => event.status === "succeeded")).toHaveLength(1);
  });

  it("a result that is not JSON fails that ack alone, before Redis sees it", async () => {
    const store = redis.store();
    await enqueue(store, 2);
    const [a, b] = (await store.step([], ["default"], 2)).tasks as [ClaimedTask, ClaimedTask];
    const result = await store.step(
      [
        { id: a.id, token: a.token, value: new Map() },
        { id: b.id, token: b.token, value: "fine" },
      ],
      ["default"],
      0,
    );
    expect(result.acks[0]).toBeInstanceOf(InvalidArgumentError);
    expect(result.acks[1]).toEqual(expect.any(Number));
    expect((await store.get(a.id))?.status).toBe("running");
    expect((await store.get(b.id))?.status).toBe("succeeded");
  });
});

describe("step: what a claim returns", () => {
  it("returns the same task data for tasks stored with and without the packed spec (older versions)", async () => {
    const store = redis.store();
    const input = {
      name: "rich",
      queue: "q",
      payload: { a: [1, "two"] },
      priority: 7,
      maxRetries: 4,
      timeoutMs: 1_500,
      retry: { backoff: "fixed", baseDelayMs: 10 },
      meta: { traceparent: "00-abc-def-01" },
      idempotencyKey: "key-1",
    };
    const withSpec = await store.enqueue(input);
    const without = await store.enqueue({ ...input, idempotencyKey: "key-2" });
    // A task written before the spec existed has only the separate fields.
    await store.redis.hdel(store.keys.task(without.id), "spec");
    const { tasks } = await store.step([], ["q"], 2);
    const pick = (task: ClaimedTask) => ({
      name: task.name,
      queue: task.queue,
      payload: task.payload,
      priority: task.priority,
      maxRetries: task.maxRetries,
      timeoutMs: task.timeoutMs,
      retry: task.retry,
      meta: task.meta,
    });
    const byId = new Map(tasks.map((task) => [task.id, task]));
    const a = byId.get(withSpec.id) as ClaimedTask;
    const b = byId.get(without.id) as ClaimedTask;
    const expected = {
      name: "rich",
      queue: "q",
      payload: { a: [1, "two"] },
      priority: 7,
      maxRetries: 4,
      timeoutMs: 1_500,
      retry: { backoff: "fixed", baseDelayMs: 10 },
      meta: { traceparent: "00-abc-def-01" },
    };
    expect(pick(a)).toEqual(expected);
    expect(pick(b)).toEqual(expected);
    expect([a.idempotencyKey, b.idempotencyKey]).toEqual(["key-1", "key-2"]);
    for (const task of [a, b])
      expect(task).toMatchObject({ status: "running", attempts: 1, deliveries: 1 });
    expect((await store.get(a.id))?.createdAt).toBe(a.createdAt);
  });
});

describe("step: claim receipts", () => {
  it("a replayed call (same request id) gets the same leases back: no new claim, no delivery counted", async () => {
    const store = redis.store();
    const ids = await enqueue(store, 4);
    const first = await store.step([], ["default"], 2, { requestId: "w1:1" });
    expect(first.tasks.map((task) => task.id)).toEqual(ids.slice(0, 2));
    // The client resends the call after a dropped connection: Redis runs it a second time.
    const replay = await store.step([], ["default"], 2, { requestId: "w1:1" });
    expect(replay.tasks.map((task) => [task.id, task.token])).toEqual(
      first.tasks.map((task) => [task.id, task.token]),
    );
    for (const task of replay.tasks) expect(task).toMatchObject({ deliveries: 1, attempts: 1 });
    for (const id of ids.slice(0, 2))
      expect(await store.get(id)).toMatchObject({ status: "running", deliveries: 1, attempts: 1 });
    expect(await store.counts()).toMatchObject({ running: 2 });
    expect((await store.queues()).find((q) => q.name === "default")?.depth).toBe(2);
  });

  it("the next call recovers the leases of a call whose reply was lost, within its max", async () => {
    const store = redis.store();
    const ids = await enqueue(store, 5);
    const lost = await store.step([], ["default"], 2, { requestId: "w2:1" });
    expect(lost.tasks).toHaveLength(2);
    // Its reply never arrived: the worker names it in its next call, with 3 free slots.
    const next = await store.step([], ["default"], 3, {
      requestId: "w2:2",
      unanswered: ["w2:1"],
    });
    expect(next.tasks.map((task) => task.id)).toEqual(ids.slice(0, 3));
    expect(next.tasks.slice(0, 2).map((task) => task.token)).toEqual(
      lost.tasks.map((task) => task.token),
    );
    for (const id of ids.slice(0, 3))
      expect(await store.get(id)).toMatchObject({ status: "running", deliveries: 1, attempts: 1 });
    expect(await store.counts()).toMatchObject({ running: 3 });
  });

  it("recovers no more leases than the next call's max", async () => {
    const store = redis.store();
    await enqueue(store, 3);
    const lost = await store.step([], ["default"], 3, { requestId: "w4:1" });
    const next = await store.step([], ["default"], 2, {
      requestId: "w4:2",
      unanswered: ["w4:1"],
    });
    expect(next.tasks.map((task) => task.token)).toEqual(
      lost.tasks.slice(0, 2).map((task) => task.token),
    );
    expect(await store.counts()).toMatchObject({ running: 3 });
  });

  it("never hands back a lease that moved on (acked, or reclaimed and claimed by another)", async () => {
    const store = redis.store();
    await enqueue(store, 2);
    const lost = await store.step([], ["default"], 2, { requestId: "w3:1" }, 100);
    const [a, b] = lost.tasks as [ClaimedTask, ClaimedTask];
    await store.ack(a.id, a.token, "done");
    await sleep(150);
    expect(await store.reclaim()).toMatchObject({ reclaimed: 1, poisoned: 0 });
    const other = (await store.claim(["default"], 1)).tasks[0] as ClaimedTask;
    expect(other.id).toBe(b.id);
    const next = await store.step([], ["default"], 2, {
      requestId: "w3:2",
      unanswered: ["w3:1"],
    });
    expect(next.tasks).toEqual([]);
    expect(await store.get(b.id)).toMatchObject({ status: "running", token: other.token });
  });
});
