/**
 * The results stream over SSE in memory mode: fan-out to every client, no subscription left
 * behind by a client that leaves, heartbeats, a slow client cut off without slowing the others,
 * and streams ended on shutdown.
 */
import { describe, expect, it, vi } from "vitest";
import { onCleanup, openSse, start } from "./support.js";

describe("GET /v1/results", () => {
  it("two clients each receive every result, in order, as `event: result` frames", async () => {
    const { server, mill } = await start();
    const a = await openSse(server.url);
    const b = await openSse(server.url);
    onCleanup(async () => {
      a.disconnect();
      b.disconnect();
    });
    expect(a.status).toBe(200);
    expect(a.headers["content-type"]).toBe("text/event-stream; charset=utf-8");
    await vi.waitFor(() => expect(mill.stats().subscribers).toBe(2));
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await mill.submit("echo", i)).id);
    for (const client of [a, b]) {
      await vi.waitFor(() => expect(client.events).toHaveLength(5));
      expect(client.events.map((e) => e.data.id)).toEqual(ids);
      expect(client.events.map((e) => e.data.value)).toEqual([0, 1, 2, 3, 4]);
      expect(client.events.every((e) => e.event === "result")).toBe(true);
      // Memory mode: ids are one sequence per handler, increasing within each stream.
      const seq = client.events.map((e) => Number(e.id));
      expect(
        seq.every((n, i) => Number.isInteger(n) && (i === 0 || n > (seq[i - 1] as number))),
      ).toBe(true);
    }
  });

  it("a client that disconnects mid-stream leaves no subscription behind", async () => {
    const { server, mill } = await start();
    const before = mill.stats().subscribers;
    const client = await openSse(server.url);
    await vi.waitFor(() => expect(mill.stats().subscribers).toBe(before + 1));
    await (await mill.submit("echo", "one")).result();
    await vi.waitFor(() => expect(client.events).toHaveLength(1));
    client.disconnect();
    await vi.waitFor(() => expect(mill.stats().subscribers).toBe(before));
    // Results keep flowing to nobody without error.
    expect(await (await mill.submit("echo", "two")).result()).toBe("two");
  });

  it("sends a `: ping` comment at the heartbeat interval", async () => {
    const { server } = await start({ sseHeartbeatMs: 20 });
    const client = await openSse(server.url);
    onCleanup(async () => client.disconnect());
    await vi.waitFor(() =>
      expect(client.comments.filter((c) => c === "ping").length).toBeGreaterThanOrEqual(2),
    );
  });

  it("needs a read token, and ignores Last-Event-ID in memory mode", async () => {
    const { server, mill } = await start();
    const anonymous = await openSse(server.url, "/v1/results", { token: null });
    expect(anonymous.status).toBe(401);
    await anonymous.ended;
    const resumed = await openSse(server.url, "/v1/results", { lastEventId: "garbage" });
    onCleanup(async () => resumed.disconnect());
    expect(resumed.status).toBe(200);
    await vi.waitFor(() => expect(mill.stats().subscribers).toBe(1));
    await (await mill.submit("echo", 1)).result();
    await vi.waitFor(() => expect(resumed.events).toHaveLength(1));
  });

  it("server.close() ends open streams and drops their subscriptions", async () => {
    const { server, mill } = await start();
    const client = await openSse(server.url);
    await vi.waitFor(() => expect(mill.stats().subscribers).toBe(1));
    await server.close();
    await client.ended;
    expect(mill.stats().subscribers).toBe(0);
  });

  it("stopping the manager ends the streams", async () => {
    const { server, mill } = await start();
    const client = await openSse(server.url);
    await vi.waitFor(() => expect(mill.stats().subscribers).toBe(1));
    await mill.stopGraceful();
    await client.ended;
  });

  it("a client that stops reading is cut off at its buffer, while the others get everything", async () => {
    const { server, mill } = await start({ sseBufferSize: 100 });
    const slow = await openSse(server.url);
    const fast = await openSse(server.url);
    onCleanup(async () => {
      slow.disconnect();
      fast.disconnect();
    });
    await vi.waitFor(() => expect(mill.stats().subscribers).toBe(2));
    slow.response.pause();
    const payload = "x".repeat(8 * 1024);
    // Batches smaller than the buffer, each read by the fast client before the next, until the
    // slow client's socket and then its 100 buffered results are full.
    let count = 0;
    while (mill.stats().subscribers === 2 && count < 20_000) {
      const batch = [];
      for (let i = 0; i < 50; i++) batch.push(await mill.submit("echo", payload));
      await Promise.all(batch.map((h) => h.result()));
      count += batch.length;
      await vi.waitFor(() => expect(fast.events).toHaveLength(count));
    }
    // The slow client's stream was ended (the server did not block on it).
    expect(mill.stats().subscribers).toBe(1);
    for (let i = 0; i < 10; i++) await (await mill.submit("echo", payload)).result();
    count += 10;
    await vi.waitFor(() => expect(fast.events).toHaveLength(count));
    slow.response.resume();
    await slow.ended;
    expect(slow.comments).toContain("fell too far behind; reconnect");
    expect(slow.events.length).toBeLessThan(count);
  });
});
