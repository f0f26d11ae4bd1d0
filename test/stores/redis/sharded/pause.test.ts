/**
 * Shared pause over shards in a real Redis: a pause reaches every shard holding the queue, a
 * shard created after the pause (a new partition, a flow's shard) starts paused, and a resume
 * lifts it everywhere.
 */
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { useRedis } from "../fixture.js";
import { shardedStore } from "./fixture.js";

const redis = useRedis();

describe("Redis sharded layout: pause", () => {
  it("holds in shards created after the pause, and a resume lifts it in every shard", async () => {
    const store = shardedStore(redis, { partitions: { hot: 3 } });
    await store.setPaused("hot", true);
    // Three partitions and a flow's shard, all created after the pause.
    for (let n = 0; n < 3; n++) await store.enqueue({ name: "job", queue: "hot", payload: n });
    await store.enqueueFlow({
      id: `flow-${randomUUID()}`,
      kind: "flow",
      nodes: [
        {
          ref: "a",
          task: { id: randomUUID(), name: "job", queue: "cold", payload: "cold" },
          dependsOn: [],
          dependents: [],
          policy: "cancel",
        },
        {
          ref: "b",
          task: { id: randomUUID(), name: "job", queue: "hot", payload: "flow" },
          dependsOn: [],
          dependents: [],
          policy: "cancel",
        },
      ],
    });
    expect((await store.shards.holding(["hot"], 0)).length).toBe(4);
    expect((await store.step([], ["hot"], 10)).tasks).toEqual([]);
    expect((await store.step([], ["cold"], 10)).tasks.map((task) => task.payload)).toEqual([
      "cold",
    ]);
    expect(await store.pausedQueues()).toEqual(["hot"]);
    await store.setPaused("hot", false);
    const claimed = (await store.step([], ["hot"], 10)).tasks.map((task) => task.payload);
    expect(claimed.sort()).toEqual([0, 1, 2, "flow"].sort());
  });
});
