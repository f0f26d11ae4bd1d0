import {
  CancelledError,
  HandlerNotFoundError,
  IdempotencyConflictError,
  InvalidArgumentError,
  ManualClock,
  ShuttingDownError,
  TaskManager,
  type TaskManagerOptions,
} from "taskmill";
import { afterEach, describe, expect, it } from "vitest";

const mills: TaskManager[] = [];

function makeMill(options: TaskManagerOptions = {}): { mill: TaskManager; clock: ManualClock } {
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const mill = new TaskManager({ clock, retry: { maxRetries: 0 }, ...options });
  mill.register("charge", async (payload: unknown) => payload);
  mill.register("refund", async (payload: unknown) => payload);
  mills.push(mill);
  return { mill, clock };
}

afterEach(async () => {
  for (const mill of mills.splice(0)) await mill.stopNow();
});

describe("idempotency keys", () => {
  it("same key + same payload returns the same task while it is live", async () => {
    const { mill } = makeMill();
    mill.pauseQueue("default");
    const first = await mill.submit("charge", { account: 42, cents: 100 }, { idempotencyKey: "k" });
    const again = await mill.submit("charge", { account: 42, cents: 100 }, { idempotencyKey: "k" });
    expect(again.id).toBe(first.id);
    expect(mill.stats().submitted).toBe(1);
    expect((await mill.list()).tasks).toHaveLength(1);
    expect((await mill.get(first.id))?.idempotencyKey).toBe("k");
  });

  it("payload key order does not matter (nested too)", async () => {
    const { mill } = makeMill();
    mill.pauseQueue("default");
    const first = await mill.submit(
      "charge",
      { a: 1, b: { x: [1, { p: 1, q: 2 }], y: null } },
      { idempotencyKey: "k" },
    );
    const again = await mill.submit(
      "charge",
      { b: { y: null, x: [1, { q: 2, p: 1 }] }, a: 1 },
      { idempotencyKey: "k" },
    );
    expect(again.id).toBe(first.id);
    // Array order does matter.
    await expect(
      mill.submit(
        "charge",
        { a: 1, b: { x: [{ p: 1, q: 2 }, 1], y: null } },
        { idempotencyKey: "k" },
      ),
    ).rejects.toBeInstanceOf(IdempotencyConflictError);
  });

  it("returns the finished task while its record is retained, with its outcome", async () => {
    const { mill, clock } = makeMill();
    const first = await mill.submit("charge", { cents: 5 }, { idempotencyKey: "k" });
    await clock.advance(0);
    expect((await mill.get(first.id))?.status).toBe("succeeded");
    const again = await mill.submit("charge", { cents: 5 }, { idempotencyKey: "k" });
    expect(again.id).toBe(first.id);
    await expect(again.result()).resolves.toEqual({ cents: 5 });
    expect(mill.stats().submitted).toBe(1);
    expect(mill.stats().started).toBe(1);
  });

  it("same key + different payload is an IdempotencyConflictError naming the holder", async () => {
    const { mill, clock } = makeMill();
    const first = await mill.submit("charge", { cents: 5 }, { idempotencyKey: "k" });
    const conflict = mill.submit("charge", { cents: 6 }, { idempotencyKey: "k" });
    await expect(conflict).rejects.toBeInstanceOf(IdempotencyConflictError);
    await expect(conflict).rejects.toMatchObject({
      code: "ERR_IDEMPOTENCY_CONFLICT",
      idempotencyKey: "k",
      existingTaskId: first.id,
    });
    // After it finished, still a conflict while retained.
    await clock.advance(0);
    await expect(
      mill.submit("charge", { cents: 6 }, { idempotencyKey: "k" }),
    ).rejects.toBeInstanceOf(IdempotencyConflictError);
    // A payload that is absent vs present differs too.
    await expect(mill.submit("charge", undefined, { idempotencyKey: "k" })).rejects.toBeInstanceOf(
      IdempotencyConflictError,
    );
    expect(mill.stats().submitted).toBe(1);
  });

  it("same key under a different task name is a conflict", async () => {
    const { mill } = makeMill();
    await mill.submit("charge", { cents: 5 }, { idempotencyKey: "k" });
    await expect(
      mill.submit("refund", { cents: 5 }, { idempotencyKey: "k" }),
    ).rejects.toBeInstanceOf(IdempotencyConflictError);
  });

  it("payloads that cannot be serialised compare by identity", async () => {
    const { mill } = makeMill();
    mill.pauseQueue("default");
    const cyclic: Record<string, unknown> = { n: 1n };
    cyclic.self = cyclic;
    const first = await mill.submit("charge", cyclic, { idempotencyKey: "k" });
    expect((await mill.submit("charge", cyclic, { idempotencyKey: "k" })).id).toBe(first.id);
    await expect(mill.submit("charge", { n: 1n }, { idempotencyKey: "k" })).rejects.toBeInstanceOf(
      IdempotencyConflictError,
    );
  });

  it("the key is freed once its record is evicted: a new task is created", async () => {
    const { mill, clock } = makeMill({ retention: { maxEntries: 1, ttlMs: 60_000 } });
    const first = await mill.submit("charge", { cents: 5 }, { idempotencyKey: "k" });
    await clock.advance(0);
    await mill.submit("charge", "other"); // finishing evicts the first record
    await clock.advance(0);
    expect(await mill.get(first.id)).toBeUndefined();
    const fresh = await mill.submit("charge", { cents: 6 }, { idempotencyKey: "k" });
    expect(fresh.id).not.toBe(first.id);
    await clock.advance(0);
    await expect(fresh.result()).resolves.toEqual({ cents: 6 });
  });

  it("the key is freed by ttl eviction too", async () => {
    const { mill, clock } = makeMill({ retention: { ttlMs: 1_000 } });
    const first = await mill.submit("charge", 1, { idempotencyKey: "k" });
    await clock.advance(999);
    expect((await mill.submit("charge", 1, { idempotencyKey: "k" })).id).toBe(first.id);
    await clock.advance(1);
    const fresh = await mill.submit("charge", 1, { idempotencyKey: "k" });
    expect(fresh.id).not.toBe(first.id);
  });

  it("a live task's key is never freed, however many finish around it", async () => {
    const { mill, clock } = makeMill({ retention: { maxEntries: 1 } });
    mill.pauseQueue("held");
    const held = await mill.submit("charge", 1, { idempotencyKey: "k", queue: "held" });
    for (let i = 0; i < 5; i++) await mill.submit("charge", i);
    await clock.advance(0);
    expect((await mill.submit("charge", 1, { idempotencyKey: "k", queue: "held" })).id).toBe(
      held.id,
    );
  });

  it("a refused submit claims no key", async () => {
    const { mill } = makeMill();
    mill.pauseQueue("default");
    // Invalid options.
    await expect(
      mill.submit("charge", 1, { idempotencyKey: "k", priority: Number.NaN }),
    ).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(
      mill.submit("charge", 1, { idempotencyKey: "k", delayMs: -1 }),
    ).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(
      mill.submit("charge", 1, { idempotencyKey: "k", retry: { maxRetries: -1 } }),
    ).rejects.toMatchObject({ code: expect.stringMatching(/^ERR_INVALID_/) });
    // Unknown handler.
    await expect(mill.submit("nope", 1, { idempotencyKey: "k" })).rejects.toBeInstanceOf(
      HandlerNotFoundError,
    );
    // Already-aborted signal.
    await expect(
      mill.submit("charge", 1, { idempotencyKey: "k", signal: AbortSignal.abort() }),
    ).rejects.toBeInstanceOf(CancelledError);
    expect(mill.stats().submitted).toBe(0);
    expect((await mill.list()).tasks).toHaveLength(0);
    // The key is still free: a different payload is accepted.
    const task = await mill.submit("charge", 2, { idempotencyKey: "k" });
    expect((await mill.get(task.id))?.status).toBe("queued");
  });

  it("an empty or non-string key is refused", async () => {
    const { mill } = makeMill();
    await expect(mill.submit("charge", 1, { idempotencyKey: "" })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    await expect(
      mill.submit("charge", 1, { idempotencyKey: 7 as unknown as string }),
    ).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it("a duplicate submit is refused while shutting down, like any submit", async () => {
    const { mill } = makeMill();
    await mill.submit("charge", 1, { idempotencyKey: "k" });
    await mill.stopGraceful();
    await expect(mill.submit("charge", 1, { idempotencyKey: "k" })).rejects.toBeInstanceOf(
      ShuttingDownError,
    );
  });

  it("concurrent submits with one key create one task", async () => {
    const { mill, clock } = makeMill();
    const handles = await Promise.all(
      Array.from({ length: 20 }, () =>
        mill.submit("charge", { cents: 1 }, { idempotencyKey: "k" }),
      ),
    );
    expect(new Set(handles.map((h) => h.id)).size).toBe(1);
    await clock.advance(0);
    expect(mill.stats().started).toBe(1);
  });
});
