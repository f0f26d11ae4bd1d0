/**
 * Two connections to one file, as two processes have (each store below is its own connection):
 * a waiter on one wakes when the other makes work ready, a feed reader on one sees the other's
 * events, and a waiter is woken at once by its own process's writes. Cross-process wake-ups
 * come from polling `PRAGMA data_version` (`pollMs`), never from re-running a claim.
 */
import { describe, expect, it } from "vitest";
import { useSqlite } from "./fixture.js";

const sqlite = useSqlite();

describe("SQLite store: one file, several connections", () => {
  it("a waiter wakes at once for a submit of its own process", async () => {
    const store = sqlite.open();
    const waiting = store.createWaiter().wait(["default"], 10_000);
    await store.enqueue({ name: "job" });
    await expect(waiting).resolves.toBe("woken");
  });

  it("a waiter wakes for a submit of another connection, found by its data_version poll", async () => {
    const a = sqlite.open(undefined, { pollMs: 5 });
    const b = sqlite.open(a.options.path);
    const waiter = a.createWaiter();
    const waiting = waiter.wait(["default"], 10_000);
    let settled = false;
    void waiting.then(() => {
      settled = true;
    });
    // A commit that makes no work ready (a renewal of nothing, an empty claim) wakes no one.
    await b.step([], ["default"], 1);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(settled).toBe(false);
    await b.enqueue({ name: "job", id: "from-b" });
    await expect(waiting).resolves.toBe("woken");
    expect((await a.step([], ["default"], 1)).tasks.map((task) => task.id)).toEqual(["from-b"]);
    await waiter.close();
  });

  it("a wake-up from another connection while nobody waited is kept for the next wait", async () => {
    const a = sqlite.open(undefined, { pollMs: 5 });
    const b = sqlite.open(a.options.path);
    const waiter = a.createWaiter();
    // Between a worker's empty claim and its wait, another process submits.
    expect((await a.step([], ["default"], 1)).tasks).toEqual([]);
    await b.enqueue({ name: "job", id: "meanwhile" });
    await expect(waiter.wait(["default"], 5_000)).resolves.toBe("woken");
    await waiter.close();
  });

  it("a wake-up that came while nobody waited is kept for the next wait", async () => {
    const store = sqlite.open();
    const waiter = store.createWaiter();
    await store.enqueue({ name: "job" });
    await expect(waiter.wait(["default"], 10_000)).resolves.toBe("woken");
    await expect(waiter.wait(["default"], 20)).resolves.toBe("timeout");
  });

  it("a feed reader on one connection sees the events the other appends", async () => {
    const a = sqlite.open(undefined, { pollMs: 5 });
    const b = sqlite.open(a.options.path);
    const reader = a.createFeedReader();
    const from = await reader.end();
    const reading = reader.read(from, 10, 10_000);
    await b.enqueue({ name: "job", id: "t" });
    const task = (await b.step([], ["default"], 1)).tasks[0];
    if (task === undefined) throw new Error("not claimed");
    await b.ack("t", task.token, { done: true });
    const events = await reading;
    expect(events).toMatchObject([{ id: "t", status: "succeeded", value: { done: true } }]);
    expect(Number(events[0]?.streamId)).toBeGreaterThan(Number(from));
    expect(a.isFeedPosition(events[0]?.streamId)).toBe(true);
    reader.close();
  });

  it("closing a waiter ends its wait", async () => {
    const store = sqlite.open();
    const waiter = store.createWaiter();
    const waiting = waiter.wait(["default"], 10_000);
    await waiter.close();
    await expect(waiting).resolves.toBe("closed");
  });
});
