/**
 * The admin API over a durable (Redis) manager, against a real redis-server: SSE ids are
 * events-stream positions, `Last-Event-ID` resumes without a gap or a duplicate, and
 * `/readyz` follows Redis.
 */
import { randomUUID } from "node:crypto";
import { InvalidArgumentError, TaskManager, type TaskResult } from "taskmill";
import { describe, expect, it, vi } from "vitest";
import { useRedis } from "../stores/redis/fixture.js";
import { onCleanup, openSse, start } from "./support.js";

const redis = useRedis();

function durableMill(prefix = `adm-${randomUUID().slice(0, 8)}`): TaskManager {
  const mill = new TaskManager({
    retry: { maxRetries: 0 },
    backend: { type: "redis", url: redis.server().url, prefix, leaseMs: 2_000 },
  });
  mill.register("echo", async (payload: unknown) => payload);
  return mill;
}

async function collect(sub: AsyncIterable<TaskResult>, count: number): Promise<TaskResult[]> {
  const results: TaskResult[] = [];
  for await (const result of sub) {
    results.push(result);
    if (results.length === count) break;
  }
  return results;
}

describe("durable mode", () => {
  it("SSE ids are the results' events-stream positions", async () => {
    const mill = durableMill();
    const { server } = await start({}, {}, mill);
    const client = await openSse(server.url);
    onCleanup(async () => client.disconnect());
    await vi.waitFor(() => expect(mill.stats().subscribers).toBe(1));
    const task = await mill.submit("echo", "hello");
    await vi.waitFor(() => expect(client.events).toHaveLength(1));
    const [event] = client.events;
    expect(event?.data).toMatchObject({ id: task.id, status: "succeeded", value: "hello" });
    expect(event?.id).toMatch(/^\d+-\d+$/);
    expect(event?.id).toBe(event?.data.eventId);
  });

  it("a client reconnecting with Last-Event-ID gets what it missed, then live results, each once", async () => {
    const mill = durableMill();
    const { server } = await start({}, {}, mill);
    const first = await openSse(server.url);
    await vi.waitFor(() => expect(mill.stats().subscribers).toBe(1));
    const ids: string[] = [];
    for (let i = 1; i <= 3; i++) ids.push((await mill.submit("echo", i)).id);
    await vi.waitFor(() => expect(first.events).toHaveLength(3));
    expect(first.events.map((e) => e.data.id)).toEqual(ids);
    const resumeFrom = first.events[0]?.id as string;
    first.disconnect();
    await vi.waitFor(() => expect(mill.stats().subscribers).toBe(0));

    // Finished while nobody was connected.
    for (let i = 4; i <= 5; i++) {
      const task = await mill.submit("echo", i);
      ids.push(task.id);
      await task.result();
    }
    const second = await openSse(server.url, "/v1/results", { lastEventId: resumeFrom });
    onCleanup(async () => second.disconnect());
    expect(second.status).toBe(200);
    await vi.waitFor(() => expect(second.events).toHaveLength(4));
    const live = await mill.submit("echo", 6);
    ids.push(live.id);
    await vi.waitFor(() => expect(second.events).toHaveLength(5));
    expect(second.events.map((e) => e.data.id)).toEqual(ids.slice(1));
    expect(second.events.map((e) => e.data.value)).toEqual([2, 3, 4, 5, 6]);
    // Positions only grow: nothing was delivered twice or out of order at the join.
    const positions = second.events.map((e) => e.id as string);
    expect(new Set(positions).size).toBe(positions.length);
    expect(positions[0]! > resumeFrom).toBe(true);
  });

  it("subscribeResults({ after }) joins replay and live results with no gap and no duplicate under load", async () => {
    const mill = durableMill();
    onCleanup(() => mill.stopNow());
    const total = 120;
    const everything = mill.subscribeResults({ buffer: 10_000 });
    const all = collect(everything, total);
    const producing = (async () => {
      for (let i = 0; i < total; i++) await mill.submit("echo", i);
    })();
    // Resume from the 10th result while tasks are still being submitted and finished.
    const seen: TaskResult[] = [];
    for await (const result of mill.subscribeResults({ buffer: 10_000 })) {
      seen.push(result);
      if (seen.length === 10) break;
    }
    const after = seen[9]?.eventId as string;
    expect(after).toMatch(/^\d+-\d+$/);
    const resumed = collect(
      mill.subscribeResults({ after, buffer: 10_000 }),
      // `seen` started with the reference stream: its 10th result is the 10th of everything.
      total - 10,
    );
    await producing;
    const reference = await all;
    expect(reference[9]?.eventId).toBe(after);
    const expected = reference.slice(10).map((r) => r.id);
    const got = (await resumed).map((r) => r.id);
    expect(got).toEqual(expected);
  });

  it("refuses a malformed resume position and leaves no subscription", async () => {
    const mill = durableMill();
    const { server } = await start({}, {}, mill);
    expect(() => mill.subscribeResults({ after: "not-a-position" })).toThrow(InvalidArgumentError);
    expect(mill.stats().subscribers).toBe(0);
    const client = await openSse(server.url, "/v1/results", { lastEventId: "12-x" });
    expect(client.status).toBe(400);
    await client.ended;
    expect(mill.stats().subscribers).toBe(0);
  });

  it("/readyz is 503 while Redis is down and 200 again once it is back", async () => {
    const mill = durableMill();
    const { call } = await start({}, {}, mill);
    await vi.waitFor(async () =>
      expect((await call("GET", "/readyz", { token: null })).status).toBe(200),
    );
    expect((await call("GET", "/readyz", { token: null })).json).toEqual({
      status: "ready",
      backend: "redis",
    });
    await redis.server().stop();
    try {
      await vi.waitFor(async () => {
        const reply = await call("GET", "/readyz", { token: null });
        expect(reply.status).toBe(503);
        expect(reply.json).toMatchObject({ status: "unavailable", backend: "redis" });
      });
    } finally {
      await redis.server().start();
    }
    await vi.waitFor(
      async () => expect((await call("GET", "/readyz", { token: null })).status).toBe(200),
      {
        timeout: 10_000,
      },
    );
  });
});
