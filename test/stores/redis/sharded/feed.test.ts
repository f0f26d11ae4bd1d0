/**
 * The events feed over shards in a real Redis: one stream per shard, merged; every event's
 * position holds every shard's, so paging one event at a time (or resuming after any event)
 * sees each event exactly once, and a blocked reader wakes for an event in any shard.
 */
import { describe, expect, it } from "vitest";
import { useRedis } from "../fixture.js";
import { shardedStore } from "./fixture.js";

const redis = useRedis();

describe("Redis sharded layout: the events feed", () => {
  it("pages through the events of every shard once each, resuming after any position", async () => {
    const store = shardedStore(redis, { partitions: { hot: 3 } });
    for (let n = 0; n < 4; n++) {
      await store.enqueue({ name: "job", queue: "hot", payload: n });
      await store.enqueue({ name: "job", queue: "cold", payload: n });
    }
    const { tasks } = await store.step([], ["hot", "cold"], 20);
    expect(tasks).toHaveLength(8);
    for (const task of tasks) await store.ack(task.id, task.token, task.payload);
    const all = await store.readFeed("0", 100);
    expect(all.filter((event) => event.status === "succeeded")).toHaveLength(8);
    const paged: string[] = [];
    let after = "0";
    for (;;) {
      const [event] = await store.readFeed(after, 1);
      if (event === undefined) break;
      expect(store.isFeedPosition(event.streamId)).toBe(true);
      paged.push(`${event.id}:${event.status}`);
      after = event.streamId;
    }
    expect(paged).toEqual(all.map((event) => `${event.id}:${event.status}`));
    // Resuming after the third event gives exactly the rest.
    const rest = await store.readFeed(all[2]?.streamId as string, 100);
    expect(rest.map((event) => event.id)).toEqual(all.slice(3).map((event) => event.id));
    expect(store.isFeedPosition("v2.not-a-position")).toBe(false);
    expect(store.isFeedPosition("1700000000000-0")).toBe(true);
  });

  it("wakes a blocked reader for an event in a shard created after it started", async () => {
    const store = shardedStore(redis);
    await store.enqueue({ name: "job", queue: "first" });
    const reader = store.createFeedReader();
    try {
      const end = await reader.end();
      const read = reader.read(end, 10, 5_000);
      await store.enqueue({ name: "job", queue: "second" });
      const task = (await store.step([], ["second"], 1)).tasks[0];
      if (task === undefined) throw new Error("nothing claimed");
      await store.ack(task.id, task.token, "done");
      // The new shard's registration wakes the read, which reads every shard again; the event
      // may come with that read, or with the next one if the ack had not landed yet.
      let events = await read;
      if (events.length === 0) events = await reader.read(end, 10, 5_000);
      expect(events.map((event) => [event.id, event.status])).toEqual([[task.id, "succeeded"]]);
    } finally {
      reader.close();
    }
  });
});
