import { describe, expect, it } from "vitest";
import { deferred, manual, statusOf } from "../support/harness.js";

describe("priorities", () => {
  it("starts higher priority first and FIFO within a priority", async () => {
    const { mill, clock } = manual({ concurrency: 1 });
    const gate = deferred();
    const order: string[] = [];
    mill.register("block", () => gate.promise);
    mill.register("job", (label: string) => {
      order.push(label);
    });
    await mill.submit("block");
    await clock.advance(0);
    const mix: Array<[string, number | undefined]> = [
      ["a0", undefined],
      ["b5", 5],
      ["c0", 0],
      ["d5", 5],
      ["e10", 10],
      ["f-1", -1],
      ["g5", 5],
      ["h0", 0],
      ["i2.5", 2.5],
    ];
    for (const [label, priority] of mix)
      await mill.submit("job", label, priority === undefined ? {} : { priority });
    await clock.advance(0);
    expect(order).toEqual([]);
    gate.resolve(undefined);
    await clock.advance(0);
    expect(order).toEqual(["e10", "b5", "d5", "g5", "i2.5", "a0", "c0", "h0", "f-1"]);
  });

  it("orders by priority across named queues too", async () => {
    const { mill, clock } = manual({ concurrency: 1 });
    const gate = deferred();
    const order: string[] = [];
    mill.register("block", () => gate.promise);
    mill.register("job", (label: string) => {
      order.push(label);
    });
    await mill.submit("block");
    await clock.advance(0);
    await mill.submit("job", "low-a", { queue: "a", priority: 1 });
    await mill.submit("job", "high-b", { queue: "b", priority: 9 });
    await mill.submit("job", "mid-a", { queue: "a", priority: 5 });
    await mill.submit("job", "first-1-b", { queue: "b", priority: 1 });
    gate.resolve(undefined);
    await clock.advance(0);
    expect(order).toEqual(["high-b", "mid-a", "low-a", "first-1-b"]);
  });

  it("a retry re-enters behind tasks of the same priority that were already waiting", async () => {
    const { mill, clock } = manual({
      concurrency: 1,
      retry: { maxRetries: 1, backoff: "fixed", baseDelayMs: 0, jitter: "none" },
    });
    const order: string[] = [];
    mill.register("job", (label: string, ctx) => {
      order.push(`${label}#${ctx.attempt}`);
      if (label === "flaky" && ctx.attempt === 1) throw new Error("again");
    });
    // Both are accepted before the first attempt settles: "other" is already waiting.
    await Promise.all([mill.submit("job", "flaky"), mill.submit("job", "other")]);
    await clock.advance(10);
    expect(order).toEqual(["flaky#1", "other#1", "flaky#2"]);
  });
});

describe("named queues", () => {
  it("a queue's own cap limits its tasks while others use the rest of the manager's cap", async () => {
    const { mill, clock } = manual({ concurrency: 4, queues: { email: { concurrency: 1 } } });
    const gate = deferred();
    const started: string[] = [];
    mill.register(
      "email.send",
      (n: number) => {
        started.push(`email${n}`);
        return gate.promise;
      },
      { queue: "email" },
    );
    mill.register("report", (n: number) => {
      started.push(`report${n}`);
      return gate.promise;
    });
    for (let n = 0; n < 3; n++) await mill.submit("email.send", n);
    for (let n = 0; n < 2; n++) await mill.submit("report", n);
    await clock.advance(0);
    expect(started).toEqual(["email0", "report0", "report1"]);
    const byName = Object.fromEntries((await mill.queues()).map((q) => [q.name, q]));
    expect(byName.email).toMatchObject({ depth: 2, running: 1, paused: false, concurrency: 1 });
    expect(byName.default).toMatchObject({ depth: 0, running: 2, paused: false });
    expect(byName.default?.concurrency).toBeUndefined();
    gate.resolve(undefined);
    await clock.advance(0);
    expect(started).toEqual(["email0", "report0", "report1", "email1", "email2"]);
  });

  it("submit's queue option overrides the handler's queue and its cap applies", async () => {
    const { mill, clock } = manual({ concurrency: 8, queues: { slow: { concurrency: 1 } } });
    const gate = deferred();
    let running = 0;
    mill.register("job", () => {
      running++;
      return gate.promise;
    });
    const task = await mill.submit("job", 1, { queue: "slow" });
    await mill.submit("job", 2, { queue: "slow" });
    expect(task.queue).toBe("slow");
    await clock.advance(0);
    expect(running).toBe(1);
    expect((await mill.get(task.id))?.queue).toBe("slow");
  });

  it("the manager's cap still bounds the sum of all queues", async () => {
    const { mill, clock } = manual({
      concurrency: 2,
      queues: { a: { concurrency: 5 }, b: { concurrency: 5 } },
    });
    const gate = deferred();
    let running = 0;
    mill.register("job", () => {
      running++;
      return gate.promise;
    });
    for (let i = 0; i < 4; i++) await mill.submit("job", i, { queue: i % 2 ? "a" : "b" });
    await clock.advance(0);
    expect(running).toBe(2);
  });
});

describe("pauseQueue / resumeQueue", () => {
  it("a paused queue starts nothing while other queues continue", async () => {
    const { mill, clock } = manual({ concurrency: 4 });
    const started: string[] = [];
    mill.register("email.send", (n: number) => void started.push(`email${n}`), { queue: "email" });
    mill.register("report", (n: number) => void started.push(`report${n}`));
    mill.pauseQueue("email");
    const emails = [await mill.submit("email.send", 0), await mill.submit("email.send", 1)];
    await mill.submit("report", 0);
    await clock.advance(1_000);
    expect(started).toEqual(["report0"]);
    expect((await mill.queues()).find((q) => q.name === "email")).toMatchObject({
      depth: 2,
      running: 0,
      paused: true,
    });
    for (const email of emails) expect(await statusOf(mill, email.id)).toBe("queued");

    mill.resumeQueue("email");
    await clock.advance(0);
    expect(started).toEqual(["report0", "email0", "email1"]);
    expect((await mill.queues()).find((q) => q.name === "email")).toMatchObject({
      depth: 0,
      paused: false,
    });
  });

  it("pausing lets running tasks finish and holds only new starts", async () => {
    const { mill, clock } = manual({ concurrency: 4 });
    const gate = deferred();
    let calls = 0;
    mill.register("job", () => {
      calls++;
      return gate.promise;
    });
    const running = await mill.submit("job");
    await clock.advance(0);
    mill.pauseQueue("default");
    const waiting = await mill.submit("job");
    gate.resolve("done");
    await clock.advance(0);
    expect(await statusOf(mill, running.id)).toBe("succeeded");
    expect(await statusOf(mill, waiting.id)).toBe("queued");
    expect(calls).toBe(1);
  });

  it("a paused queue's high-priority task does not block other queues", async () => {
    const { mill, clock } = manual({ concurrency: 1 });
    const order: string[] = [];
    mill.register("job", (label: string) => void order.push(label));
    mill.pauseQueue("vip");
    await mill.submit("job", "vip", { queue: "vip", priority: 100 });
    await mill.submit("job", "normal");
    await clock.advance(0);
    expect(order).toEqual(["normal"]);
  });

  it("a queue can be paused before it has seen any task, and resumed tasks keep priority order", async () => {
    const { mill, clock } = manual({ concurrency: 1 });
    const order: string[] = [];
    mill.register("job", (label: string) => void order.push(label), { queue: "later" });
    mill.pauseQueue("later");
    expect(await mill.queues()).toEqual([
      expect.objectContaining({ name: "later", paused: true, depth: 0, running: 0 }),
    ]);
    await mill.submit("job", "p1", { priority: 1 });
    await mill.submit("job", "p3", { priority: 3 });
    mill.resumeQueue("later");
    await clock.advance(0);
    expect(order).toEqual(["p3", "p1"]);
  });

  it("rejects an invalid queue name", () => {
    const { mill } = manual();
    expect(() => mill.pauseQueue("")).toThrow(expect.objectContaining({ argument: "queue" }));
    expect(() => mill.resumeQueue(7 as unknown as string)).toThrow(
      expect.objectContaining({ code: "ERR_INVALID_ARGUMENT" }),
    );
  });
});
