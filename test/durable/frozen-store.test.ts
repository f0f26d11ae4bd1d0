/**
 * A frozen store (SIGSTOP: a VM pause, a black-holed path; its sockets stay open and nothing is
 * answered) must not hold callers: every call settles within `backend.callTimeoutMs` with a
 * `BackendUnavailableError` that says what may still have happened, and the manager works again
 * once the store answers.
 */
import { randomUUID } from "node:crypto";
import { type AddressInfo, createServer } from "node:net";
import { BackendUnavailableError, TaskManager } from "taskmill";
import { afterEach, describe, expect, it } from "vitest";
import { type RedisServer, startRedisServer } from "../support/redis-server.js";

const servers: RedisServer[] = [];
const managers: TaskManager[] = [];

afterEach(async () => {
  await Promise.all(managers.splice(0).map((mill) => mill.stopNow()));
  await Promise.all(servers.splice(0).map((server) => server.dispose()));
});

async function waitFor(predicate: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`not true within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function settled(promise: Promise<unknown>): Promise<{ error: unknown; ms: number }> {
  const started = Date.now();
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  return { error, ms: Date.now() - started };
}

describe("calls against a frozen Redis", () => {
  it("submit, submitMany, get, list and the DLQ reject within callTimeoutMs, health() says unresponsive; all work again after a thaw", async () => {
    const server = await startRedisServer();
    servers.push(server);
    const mill = new TaskManager({
      backend: {
        type: "redis",
        url: server.url,
        prefix: `frozen-${randomUUID().slice(0, 8)}`,
        callTimeoutMs: 300,
      },
    });
    managers.push(mill);
    // Connected first: the 300 ms bound is for the frozen calls, not a loaded machine's connect.
    await waitFor(() => mill.health().status === "connected", 10_000);
    const first = await mill.submit("report", { n: 1 });

    server.freeze();
    // All at once, each timed from its own start.
    const calls = {
      submit: settled(mill.submit("report", { n: 2 }, { idempotencyKey: "n:2" })),
      submitMany: settled(mill.submitMany([{ name: "report", payload: { n: 3 } }])),
      get: settled(mill.get(first.id)),
      list: settled(mill.list()),
      "dlq.list": settled(mill.dlq.list()),
    };
    for (const [call, outcome] of Object.entries(calls)) {
      const { error, ms } = await outcome;
      expect(error, call).toBeInstanceOf(BackendUnavailableError);
      expect((error as Error).message, call).toContain("within 300 ms");
      // The bound is 300 ms; the slack is for a loaded machine, far below a hang.
      expect(ms, call).toBeLessThan(3_000);
    }
    expect((await calls.submit).error).toHaveProperty(
      "message",
      expect.stringContaining("submit again with the same idempotencyKey"),
    );

    // The socket is open and "ready", yet nothing answers: health says so (readiness follows).
    await waitFor(() => mill.health().status === "unresponsive", 5_000);

    server.thaw();
    await waitFor(() => mill.health().status === "connected", 5_000);
    // The timed-out submit may have been stored: its idempotency key makes the retry safe.
    const again = await mill.submit("report", { n: 2 }, { idempotencyKey: "n:2" });
    expect((await mill.get(again.id))?.status).toBe("queued");
    expect(
      (await mill.list({ name: "report" })).tasks.filter((t) => t.id === again.id),
    ).toHaveLength(1);
  }, 30_000);
});

/** Settles in order of arrival: which of `promises` settled first. */
function order(promises: Record<string, Promise<unknown>>): string[] {
  const seen: string[] = [];
  for (const [name, promise] of Object.entries(promises))
    promise.then(
      () => seen.push(name),
      () => seen.push(name),
    );
  return seen;
}

describe("calls waiting for a store that does not answer are bounded in number", () => {
  it("frozen: past maxPendingCalls a submit is refused at once, before the waiting ones time out; after a thaw submits work again", async () => {
    const server = await startRedisServer();
    servers.push(server);
    const mill = new TaskManager({
      backend: {
        type: "redis",
        url: server.url,
        prefix: `pending-${randomUUID().slice(0, 8)}`,
        callTimeoutMs: 1_500,
        maxPendingCalls: 3,
      },
    });
    managers.push(mill);
    await waitFor(() => mill.health().status === "connected", 10_000);
    await mill.submit("report", { n: 0 });

    server.freeze();
    await waitFor(() => mill.health().status === "unresponsive", 10_000);
    const [w1, w2, w3] = [1, 2, 3].map((n) => mill.submit("report", { n }));
    const waiting = [w1, w2, w3] as Array<Promise<unknown>>;
    const refused = mill.submit("report", { n: 4 });
    const seen = order({
      w1: w1 as Promise<unknown>,
      w2: w2 as Promise<unknown>,
      w3: w3 as Promise<unknown>,
      refused,
    });
    const error = await refused.then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect(error).toBeInstanceOf(BackendUnavailableError);
    expect((error as Error).message).toContain("backend.maxPendingCalls");
    for (const call of waiting) await expect(call).rejects.toBeInstanceOf(BackendUnavailableError);
    expect(seen[0]).toBe("refused");

    server.thaw();
    await waitFor(() => mill.health().status === "connected", 5_000);
    const after = await mill.submit("report", { n: 5 });
    expect((await mill.get(after.id))?.status).toBe("queued");
  }, 30_000);

  it("not connected yet: past maxPendingCalls a call is refused at once; the waiting ones time out at callTimeoutMs", async () => {
    // A listener that accepts and never answers: the client never gets its first reply.
    const silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const { port } = silent.address() as AddressInfo;
    try {
      const mill = new TaskManager({
        backend: {
          type: "redis",
          url: `redis://127.0.0.1:${port}`,
          callTimeoutMs: 1_000,
          maxPendingCalls: 2,
        },
      });
      managers.push(mill);
      const w1: Promise<unknown> = mill.submit("report", { n: 1 });
      const w2: Promise<unknown> = mill.get("some-id");
      const refused = mill.list();
      const seen = order({ w1, w2, refused });
      await expect(refused).rejects.toThrow(/not connected yet.*backend\.maxPendingCalls/);
      for (const call of [w1, w2]) await expect(call).rejects.toThrow(/within 1000 ms/);
      expect(seen[0]).toBe("refused");
      await mill.stopNow();
    } finally {
      silent.close();
    }
  }, 30_000);
});
