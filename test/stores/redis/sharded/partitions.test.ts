/**
 * Partitions of a hot queue in a real Redis: tasks spread evenly (round robin, or by
 * idempotency key so duplicates meet), FIFO holds within each partition, every partition gets
 * its turn at claims, and a flow spanning three queues ends correctly in its one shard.
 */
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { FlowInput } from "../../../../src/stores/durable-flows.js";
import { shardPrefix } from "../../../../src/stores/redis/sharded/tags.js";
import { useRedis } from "../fixture.js";
import { shardedStore } from "./fixture.js";

const redis = useRedis();

describe("Redis sharded layout: partitions", () => {
  it("spreads a hot queue evenly over its partitions and keeps FIFO within each", async () => {
    const store = shardedStore(redis, { partitions: { hot: 4 } });
    const prefix = store.control.keys.prefix;
    const ids: string[] = [];
    for (let n = 0; n < 400; n++)
      ids.push((await store.enqueue({ name: "job", queue: "hot", payload: n })).id);
    const client = redis.client();
    const depths = await Promise.all(
      [0, 1, 2, 3].map((k) => client.zcard(`{${shardPrefix(prefix, "hot", k, 4)}}:q:hot:ready`)),
    );
    expect(depths).toEqual([100, 100, 100, 100]);
    // Claimed in small steps, every partition gets its turn; within one, submission order.
    const seen = new Map<string, number[]>();
    for (;;) {
      const { tasks } = await store.step([], ["hot"], 3);
      if (tasks.length === 0) break;
      for (const task of tasks) {
        const shard = await store.shards.locate(task.id);
        const list = seen.get(shard?.keys.prefix ?? "?") ?? [];
        list.push(task.payload as number);
        seen.set(shard?.keys.prefix ?? "?", list);
        await store.ack(task.id, task.token);
      }
    }
    expect([...seen.keys()].sort()).toEqual(
      [0, 1, 2, 3].map((k) => shardPrefix(prefix, "hot", k, 4)).sort(),
    );
    for (const payloads of seen.values()) {
      expect(payloads).toHaveLength(100);
      expect(payloads).toEqual([...payloads].sort((a, b) => a - b));
    }
  });

  it("offers the slots an empty shard left to the others in the same step, whatever the rotation", async () => {
    const store = shardedStore(redis);
    const first = await store.enqueue({ name: "job", queue: "empty" });
    const claimed = (await store.step([], ["empty"], 1)).tasks[0];
    if (claimed === undefined) throw new Error(`${first.id} was not claimed`);
    await store.ack(claimed.id, claimed.token);
    for (let round = 0; round < 4; round++) {
      const { id } = await store.enqueue({ name: "job", queue: "busy", payload: round });
      // One slot, two shards: whichever is first in turn, the busy one's task comes back.
      expect((await store.step([], ["empty", "busy"], 1)).tasks.map((task) => task.id)).toEqual([
        id,
      ]);
    }
  });

  it("sends duplicates of an idempotency key to one partition, where they meet", async () => {
    const store = shardedStore(redis, { partitions: { hot: 8 } });
    const first = await store.enqueue({ name: "job", queue: "hot", idempotencyKey: "order-7" });
    for (let n = 0; n < 5; n++) {
      const again = await store.enqueue({ name: "job", queue: "hot", idempotencyKey: "order-7" });
      expect(again).toMatchObject({ id: first.id, created: false });
    }
    expect((await store.list({ queue: "hot" })).tasks).toHaveLength(1);
  });

  it("keeps the partition count the first process recorded", async () => {
    const first = shardedStore(redis, { partitions: { hot: 2 } });
    const prefix = first.control.keys.prefix;
    await first.enqueue({ name: "job", queue: "hot" });
    const second = shardedStore(redis, { prefix, partitions: { hot: 5 } });
    for (let n = 0; n < 4; n++) await second.enqueue({ name: "job", queue: "hot" });
    const shards = (await second.shards.holding(["hot"], 0)).map(({ shard }) => shard.keys.prefix);
    expect(shards.sort()).toEqual([0, 1].map((k) => shardPrefix(prefix, "hot", k, 2)).sort());
  });

  it("runs a flow over three queues in one shard: each node released when its dependency ends", async () => {
    const store = shardedStore(redis, { partitions: { extract: 3 } });
    const id = () => randomUUID();
    const [a, b, c] = [id(), id(), id()];
    const flow: FlowInput = {
      id: `flow-${randomUUID()}`,
      kind: "flow",
      nodes: [
        {
          ref: "a",
          task: { id: a, name: "extract", queue: "extract", payload: "a" },
          dependsOn: [],
          dependents: [b],
          policy: "cancel",
        },
        {
          ref: "b",
          task: { id: b, name: "transform", queue: "transform", payload: "b" },
          dependsOn: ["a"],
          dependents: [c],
          policy: "cancel",
        },
        {
          ref: "c",
          task: { id: c, name: "load", queue: "load", payload: "c" },
          dependsOn: ["b"],
          dependents: [],
          policy: "cancel",
        },
      ],
    };
    await store.enqueueFlow(flow);
    expect((await store.get(b))?.status).toBe("waiting");
    for (const [queue, ref] of [
      ["extract", "a"],
      ["transform", "b"],
      ["load", "c"],
    ] as const) {
      const { tasks } = await store.step([], [queue], 5);
      expect(tasks.map((task) => task.payload)).toEqual([ref]);
      const task = tasks[0];
      if (task === undefined) throw new Error(`${ref} was not claimed`);
      await store.ack(task.id, task.token, `${ref} done`);
    }
    const stored = await store.getFlow(flow.id);
    expect(stored?.done).toBe(true);
    expect(stored?.nodes.map((node) => node.status)).toEqual([
      "succeeded",
      "succeeded",
      "succeeded",
    ]);
    // All three queues' nodes live in the flow's one shard.
    const shard = await store.shards.locate(a);
    expect(await store.shards.locate(b)).toBe(shard);
    expect(await store.shards.locate(c)).toBe(shard);
  });
});
