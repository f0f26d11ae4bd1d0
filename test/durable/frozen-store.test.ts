/**
 * A frozen store (SIGSTOP: a VM pause, a black-holed path; its sockets stay open and nothing is
 * answered) must not hold callers: every call settles within `backend.callTimeoutMs` with a
 * `BackendUnavailableError` that says what may still have happened, and the manager works again
 * once the store answers.
 */
import { randomUUID } from "node:crypto";
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
