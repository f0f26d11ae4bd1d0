/**
 * Durable mode through the public API, against a real redis-server: the same handlers and
 * submits as memory mode, with tasks living in Redis and results crossing managers.
 */
import { randomUUID } from "node:crypto";
import {
  CancelledError,
  PermanentError,
  TaskFailedError,
  TaskManager,
  type TaskManagerOptions,
  type TaskResult,
  UnsupportedError,
} from "taskmill";
import { afterEach, describe, expect, it } from "vitest";
import { useRedis } from "../stores/redis/fixture.js";

const redis = useRedis();
const managers: TaskManager[] = [];

function durable(
  options: TaskManagerOptions = {},
  prefix = `dm-${randomUUID().slice(0, 8)}`,
  leaseMs = 2_000,
) {
  const mill = new TaskManager({
    retry: { maxRetries: 0 },
    ...options,
    backend: { type: "redis", url: redis.server().url, prefix, leaseMs },
  });
  managers.push(mill);
  return { mill, prefix };
}

afterEach(async () => {
  await Promise.all(managers.splice(0).map((mill) => mill.stopNow()));
});

describe("durable mode", () => {
  it("runs a submitted task and resolves its result", async () => {
    const { mill } = durable();
    mill.register("add", async (p: { a: number; b: number }, ctx) => ({
      sum: p.a + p.b,
      attempt: ctx.attempt,
    }));
    const task = await mill.submit("add", { a: 2, b: 3 });
    expect(await task.result()).toEqual({ sum: 5, attempt: 1 });
    expect(await mill.get(task.id)).toMatchObject({
      id: task.id,
      status: "succeeded",
      attempts: 1,
    });
  });

  it("a producer without handlers submits; a worker on the same prefix runs; the producer gets the result", async () => {
    const { mill: producer, prefix } = durable();
    const { mill: worker } = durable({}, prefix);
    worker.register("echo", async (p: string) => p.toUpperCase());
    const results: TaskResult[] = [];
    const sub = producer.subscribeResults();
    const reading = (async () => {
      for await (const r of sub) {
        results.push(r);
        break;
      }
    })();
    const task = await producer.submit("echo", "hello");
    expect(await task.result()).toBe("HELLO");
    await reading;
    expect(results[0]).toMatchObject({ id: task.id, status: "succeeded", value: "HELLO" });
  });

  it("retries with backoff, then dead-letters; replay runs it again under the same id", async () => {
    const { mill } = durable();
    let failing = true;
    let calls = 0;
    mill.register(
      "flaky",
      async () => {
        calls++;
        if (failing) throw new Error("down");
        return "up";
      },
      { retry: { maxRetries: 2, backoff: "fixed", baseDelayMs: 20, jitter: "none" } },
    );
    const task = await mill.submit("flaky");
    await expect(task.result()).rejects.toBeInstanceOf(TaskFailedError);
    expect(calls).toBe(3);
    const dead = await mill.dlq.list();
    expect(dead.tasks.map((t) => t.id)).toEqual([task.id]);
    expect(dead.tasks[0]?.error?.message).toBe("down");
    failing = false;
    expect((await mill.dlq.replay({ ids: [task.id] })).ids).toEqual([task.id]);
    await expect
      .poll(async () => (await mill.get(task.id))?.status, { timeout: 5_000 })
      .toBe("succeeded");
  });

  it("a producer's defaults do not override the worker's handler retry policy; a submit's own retry does", async () => {
    const { mill: producer, prefix } = durable({ retry: { maxRetries: 0 } });
    const { mill: worker } = durable({}, prefix);
    const calls = new Map<string, number>();
    worker.register(
      "down",
      async (_payload, ctx) => {
        calls.set(ctx.taskId, (calls.get(ctx.taskId) ?? 0) + 1);
        throw new Error("down");
      },
      { retry: { maxRetries: 2, backoff: "fixed", baseDelayMs: 10, jitter: "none" } },
    );
    const byHandler = await producer.submit("down");
    const bySubmit = await producer.submit("down", undefined, { retry: { maxRetries: 0 } });
    await expect(byHandler.result()).rejects.toBeInstanceOf(TaskFailedError);
    await expect(bySubmit.result()).rejects.toBeInstanceOf(TaskFailedError);
    expect(calls.get(byHandler.id)).toBe(3);
    expect(calls.get(bySubmit.id)).toBe(1);
    // Snapshots show the policy a worker of the reading process would apply, or the task's own.
    expect((await worker.get(byHandler.id))?.maxRetries).toBe(2);
    expect((await worker.get(bySubmit.id))?.maxRetries).toBe(0);
  });

  it("PermanentError is not retried", async () => {
    const { mill } = durable();
    let calls = 0;
    mill.register(
      "bad",
      async () => {
        calls++;
        throw new PermanentError("no such account");
      },
      { retry: { maxRetries: 5 } },
    );
    const task = await mill.submit("bad");
    const error = await task.result().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TaskFailedError);
    expect(error).toMatchObject({ message: "no such account", errorName: "PermanentError" });
    expect(calls).toBe(1);
  });

  it("stats() counts what each process did: the producer's submits and cancels, the worker's starts and outcomes", async () => {
    const { mill: producer, prefix } = durable();
    const { mill: worker } = durable({}, prefix);
    let flakyCalls = 0;
    worker.register("ok", async () => "fine");
    worker.register("bad", async () => {
      throw new PermanentError("no");
    });
    worker.register(
      "flaky",
      async () => {
        flakyCalls++;
        if (flakyCalls === 1) throw new Error("once");
        return "second time";
      },
      { retry: { maxRetries: 1, backoff: "fixed", baseDelayMs: 20, jitter: "none" } },
    );
    const tasks = await Promise.all([
      producer.submit("ok"),
      producer.submit("bad"),
      producer.submit("flaky"),
    ]);
    const later = await producer.submit("ok", undefined, { delayMs: 60_000 });
    expect(await producer.cancel(later.id)).toBe(true);
    // Submitting the same idempotency key again is not a new submit.
    await producer.submit("ok", undefined, { idempotencyKey: "k", delayMs: 60_000 });
    await producer.submit("ok", undefined, { idempotencyKey: "k", delayMs: 60_000 });
    await Promise.allSettled(tasks.map((task) => task.result()));
    await expect.poll(() => worker.stats().succeeded, { timeout: 5_000 }).toBe(2);
    expect(worker.stats()).toMatchObject({
      submitted: 0,
      started: 4,
      retried: 1,
      succeeded: 2,
      failed: 1,
      cancelled: 0,
      running: 0,
      queued: 0,
    });
    expect(producer.stats()).toMatchObject({
      submitted: 5,
      started: 0,
      succeeded: 0,
      failed: 0,
      cancelled: 1,
    });
  });

  it("cancel of a queued task ends it cancelled and it never runs; unknown ids resolve false", async () => {
    const { mill } = durable();
    const task = await mill.submit("later", { x: 1 }, { delayMs: 60_000 });
    expect(await mill.cancel(task.id)).toBe(true);
    await expect(task.result()).rejects.toBeInstanceOf(CancelledError);
    expect(await mill.cancel(randomUUID())).toBe(false);
  });

  it("cancel of a running task aborts its signal in the worker", async () => {
    const { mill } = durable();
    let aborted: unknown;
    let started!: () => void;
    const running = new Promise<void>((resolve) => {
      started = resolve;
    });
    mill.register("slow", (_p, ctx) => {
      started();
      return new Promise((_resolve, reject) =>
        ctx.signal.addEventListener("abort", () => {
          aborted = ctx.signal.reason;
          reject(ctx.signal.reason);
        }),
      );
    });
    const task = await mill.submit("slow");
    await running;
    expect(await mill.cancel(task.id)).toBe(true);
    await expect(task.result()).rejects.toBeInstanceOf(CancelledError);
    await expect.poll(() => aborted, { timeout: 5_000 }).toBeInstanceOf(CancelledError);
  });

  it("a submit signal cancels its task; a finished task sharing the signal is untouched", async () => {
    const { mill } = durable();
    mill.register("quick", async () => "ok");
    const controller = new AbortController();
    const done = await mill.submit("quick", 1, { signal: controller.signal });
    expect(await done.result()).toBe("ok");
    const later = await mill.submit("quick", 2, { signal: controller.signal, delayMs: 60_000 });
    controller.abort();
    await expect(later.result()).rejects.toBeInstanceOf(CancelledError);
    await expect.poll(async () => (await mill.get(later.id))?.status).toBe("cancelled");
    expect((await mill.get(done.id))?.status).toBe("succeeded");
  });

  it("refuses non-JSON payloads and run() with clear errors", async () => {
    const { mill } = durable();
    await expect(mill.submit("x", { n: 10n })).rejects.toMatchObject({
      code: "ERR_INVALID_ARGUMENT",
    });
    await expect(mill.run(async () => 1)).rejects.toBeInstanceOf(UnsupportedError);
  });

  it("refuses a schedule whose payload is not JSON when it is made, not at each tick", () => {
    const { mill } = durable();
    mill.register("report", () => "ok");
    expect(() => mill.schedule("nightly", "0 3 * * *", "report", { at: new Map() })).toThrow(
      expect.objectContaining({ code: "ERR_INVALID_ARGUMENT" }),
    );
    expect(mill.schedules()).toEqual([]);
  });

  it("idempotency keys hold across managers", async () => {
    const { mill: a, prefix } = durable();
    const { mill: b } = durable({}, prefix);
    const first = await a.submit(
      "pay",
      { order: 1, cents: 5 },
      { idempotencyKey: "order:1", delayMs: 60_000 },
    );
    const again = await b.submit(
      "pay",
      { cents: 5, order: 1 },
      { idempotencyKey: "order:1", delayMs: 60_000 },
    );
    expect(again.id).toBe(first.id);
    await expect(
      b.submit("pay", { order: 1, cents: 9 }, { idempotencyKey: "order:1" }),
    ).rejects.toMatchObject({ code: "ERR_IDEMPOTENCY_CONFLICT" });
  });

  it("reports health, and stops at once even when Redis was never reachable", async () => {
    const { mill } = durable();
    mill.register("noop", async () => {});
    await (await mill.submit("noop")).result();
    expect(mill.health()).toEqual({ backend: "redis", status: "connected", stopping: false });
    // Nothing listens on port 1: the manager keeps trying until it is stopped.
    const unreachable = new TaskManager({ backend: { type: "redis", url: "redis://127.0.0.1:1" } });
    expect(unreachable.health().status).not.toBe("connected");
    // Would hang (and hit the test timeout) if the stop waited for a connection.
    const report = await unreachable.stopNow();
    expect(report).toMatchObject({ cancelled: [], requeued: [] });
    expect(unreachable.health().status).toBe("closed");
  });

  it("stopGraceful leaves tasks that did not start in Redis for other processes", async () => {
    const { mill: first, prefix } = durable({ concurrency: 1 });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const ran: number[] = [];
    first.register("job", async (n: number) => {
      ran.push(n);
      await gate;
      return n;
    });
    const tasks = await Promise.all([1, 2, 3].map((n) => first.submit("job", n)));
    await expect.poll(() => ran.length, { timeout: 5_000 }).toBe(1);
    const stopping = first.stopGraceful({ timeoutMs: 10_000 });
    release();
    const report = await stopping;
    expect(report.escalated).toBe(false);
    const { mill: second } = durable({}, prefix);
    second.register("job", async (n: number) => n);
    expect(await Promise.all(tasks.map((t) => t.result().catch(() => undefined)))).toBeDefined();
    const values = await Promise.all(tasks.map(async (t) => (await second.get(t.id))?.status));
    await expect
      .poll(async () => Promise.all(tasks.map(async (t) => (await second.get(t.id))?.status)), {
        timeout: 5_000,
      })
      .toEqual(["succeeded", "succeeded", "succeeded"]);
    expect(values).toHaveLength(3);
  });
  it("a worker counts a success (hooks, metrics, logs) only once Redis took the ack: a refused late ack counts nothing", async () => {
    const finished: string[] = [];
    // A lease longer than the test: the stale task must not lapse and be recovered (and rightly
    // run again by this same worker) on a slow machine before the assertions.
    const { mill, prefix } = durable(
      { hooks: { onFinish: ({ task, status }) => void finished.push(`${task.id}:${status}`) } },
      undefined,
      120_000,
    );
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    mill.register("slow", async (n: number) => {
      await gate;
      return n;
    });
    const first = await mill.submit("slow", 1);
    await expect.poll(async () => (await mill.get(first.id))?.status).toBe("running");
    // Another worker took the task over (as after a lapsed lease): this worker's token is stale.
    const client = redis.client();
    await client.hset(`{${prefix}}:t:${first.id}`, "token", "taken-over");
    release();
    const second = await mill.submit("slow", 2);
    expect(await second.result()).toBe(2);
    await expect.poll(() => finished).toContain(`${second.id}:succeeded`);
    // The refused ack changed nothing in Redis and counted nothing here.
    expect(finished).toEqual([`${second.id}:succeeded`]);
    expect(await mill.get(first.id)).toMatchObject({ status: "running" });
  });
});
