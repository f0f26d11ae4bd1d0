/**
 * Memory mode's `payloads` option: "live" (the default) hands the objects themselves, "json"
 * the JSON a durable store would. What only the option has (the shared round trip itself is in
 * the conformance suite).
 */
import { InvalidArgumentError, InvalidOptionError, TaskManager } from "taskmill";
import { afterEach, describe, expect, it } from "vitest";

const mills: TaskManager[] = [];
afterEach(async () => {
  await Promise.all(mills.splice(0).map((mill) => mill.stopNow()));
});
function manager(options: ConstructorParameters<typeof TaskManager>[0] = {}): TaskManager {
  const mill = new TaskManager({ retry: { maxRetries: 0 }, ...options });
  mills.push(mill);
  return mill;
}

describe("payloads", () => {
  it('"live" (the default) hands the submitted object itself and returns the result itself', async () => {
    const mill = manager();
    const payload = { at: new Date(0) };
    const result = new Map([["k", 1]]);
    let seen: unknown;
    mill.register("live", (p: unknown) => {
      seen = p;
      return result;
    });
    expect(await (await mill.submit("live", payload)).result()).toBe(result);
    expect(seen).toBe(payload);
  });

  it('"json": the handler gets a copy, so later changes by the submitter do not reach it', async () => {
    const mill = manager({ payloads: "json" });
    let seen: unknown;
    mill.register("copy", (p: unknown) => {
      seen = p;
    });
    mill.pauseQueue("default");
    const payload = { n: 1 };
    const task = await mill.submit("copy", payload);
    payload.n = 2;
    mill.resumeQueue("default");
    await task.result();
    expect(seen).toEqual({ n: 1 });
    expect((await mill.get(task.id))?.payload).toEqual({ n: 1 });
  });

  it('"json": a result that is not JSON fails the task with InvalidArgumentError, not retried', async () => {
    const mill = manager({ payloads: "json", retry: { maxRetries: 3 } });
    let calls = 0;
    mill.register("bigint", () => {
      calls++;
      return { n: 1n };
    });
    const task = await mill.submit("bigint");
    await expect(task.result()).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(calls).toBe(1);
    expect((await mill.get(task.id))?.status).toBe("failed");
  });

  it('"json": idempotency compares the JSON form (a Date and its ISO string are the same payload)', async () => {
    const mill = manager({ payloads: "json" });
    mill.register("once", () => "ok");
    const first = await mill.submit("once", { at: new Date(0) }, { idempotencyKey: "k" });
    const again = await mill.submit(
      "once",
      { at: "1970-01-01T00:00:00.000Z" },
      { idempotencyKey: "k" },
    );
    expect(again.id).toBe(first.id);
  });

  it('is checked: an unknown value, and "live" with a durable backend, are refused', () => {
    // biome-ignore lint/suspicious/noExplicitAny: a JavaScript caller's mistake
    expect(() => new TaskManager({ payloads: "xml" as any })).toThrow(InvalidOptionError);
    expect(
      () =>
        new TaskManager({
          payloads: "live",
          backend: { type: "redis", url: "redis://127.0.0.1:1" },
        }),
    ).toThrow(/durable stores keep payloads as JSON/);
  });
});
