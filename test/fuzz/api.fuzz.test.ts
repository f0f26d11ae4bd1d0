/**
 * Every public call either succeeds or fails with a `TaskmillError` (a stable `code` to branch
 * on), in memory and in durable mode: no bare `TypeError` from an argument of the wrong shape,
 * and no call that never settles. Arguments are random values (fast-check), and option objects
 * whose known keys (and misspelt ones) hold random values.
 */
import fc from "fast-check";
import { TaskManager, type TaskManagerOptions, TaskmillError } from "taskmill";
import { afterAll, describe, expect, it } from "vitest";
import { useRedis } from "../stores/redis/fixture.js";

const redis = useRedis();

/** Any value a caller might pass by mistake. */
const anyValue = fc.oneof(
  fc.anything(),
  fc.constant(null),
  fc.constant(undefined),
  fc.constant(new Map()),
  fc.constant(Symbol("s")),
  fc.constant(() => {}),
  fc.constant(Number.NaN),
  fc.constant("true"),
);

/** An options object: known keys (and now and then a misspelt one) with random values. */
function optionsOf(keys: readonly string[]) {
  return fc.oneof(
    anyValue,
    fc.dictionary(fc.constantFrom(...keys, "misspelt"), anyValue, { maxKeys: 4 }),
  );
}

const SUBMIT_KEYS = [
  "idempotencyKey",
  "priority",
  "delayMs",
  "runAt",
  "queue",
  "ttlMs",
  "expiresAt",
  "signal",
  "retry",
  "timeoutMs",
  "tx",
];
const MANAGER_KEYS = [
  "concurrency",
  "rate",
  "retry",
  "timeoutMs",
  "retention",
  "queues",
  "clock",
  "random",
  "logger",
  "createId",
];
const SUBSCRIBE_KEYS = ["buffer", "overflow", "filter", "signal", "after"];
const LIST_KEYS = ["status", "queue", "name", "limit", "cursor"];

const SETTLE_MS = 3_000;

/** Runs one call: a sync throw or a rejection must be a TaskmillError, and it must settle. */
async function expectTyped(label: string, call: () => unknown): Promise<void> {
  let outcome: unknown;
  try {
    outcome = call();
  } catch (error) {
    expect(error, `${label} threw`).toBeInstanceOf(TaskmillError);
    return;
  }
  if (typeof (outcome as { then?: unknown })?.then !== "function") return;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const settled = await Promise.race([
    Promise.resolve(outcome).then(
      () => ({ ok: true as const }),
      (error: unknown) => ({ ok: false as const, error }),
    ),
    new Promise<"hang">((resolve) => {
      timer = setTimeout(() => resolve("hang"), SETTLE_MS);
    }),
  ]);
  clearTimeout(timer);
  expect(settled, `${label} did not settle within ${SETTLE_MS} ms`).not.toBe("hang");
  if (settled !== "hang" && !settled.ok)
    expect(settled.error, `${label} rejected`).toBeInstanceOf(TaskmillError);
}

const managers: TaskManager[] = [];
afterAll(async () => {
  await Promise.all(managers.map((mill) => mill.stopNow()));
});

function callsOn(mill: TaskManager) {
  return fc.asyncProperty(
    anyValue,
    anyValue,
    optionsOf(SUBMIT_KEYS),
    optionsOf(SUBSCRIBE_KEYS),
    optionsOf(LIST_KEYS),
    async (a, b, submitOptions, subscribeOptions, listOptions) => {
      await expectTyped("register", () =>
        mill.register(a as string, b as never, submitOptions as never),
      );
      await expectTyped("submit", () => mill.submit(a as string, b, submitOptions as never));
      await expectTyped("submit (registered name)", () =>
        mill.submit("ok", b, submitOptions as never),
      );
      await expectTyped("submitMany", () => mill.submitMany(a as never));
      await expectTyped("submitMany (items)", () =>
        mill.submitMany([{ name: "ok", payload: b, options: submitOptions as never }]),
      );
      await expectTyped("schedule", () =>
        mill.schedule(a as string, b as string, "ok", submitOptions),
      );
      await expectTyped("subscribeResults", () =>
        mill.subscribeResults(subscribeOptions as never).unsubscribe(),
      );
      await expectTyped("list", () => mill.list(listOptions as never));
      await expectTyped("get", () => mill.get(a as string));
      await expectTyped("cancel", () => mill.cancel(a as string));
      await expectTyped("on", () => mill.on(a as never, b as never));
      await expectTyped("off", () => mill.off(a as never, b as never));
      await expectTyped("pauseQueue", () => mill.pauseQueue(a as string));
      await expectTyped("dlq.list", () => mill.dlq.list(listOptions as never));
      await expectTyped("dlq.replay", () => mill.dlq.replay(a as never, b as never));
      await expectTyped("dlq.replay (options)", () =>
        mill.dlq.replay({ ids: [] } as never, submitOptions as never),
      );
      await expectTyped("dlq.purge", () => mill.dlq.purge(a as never));
    },
  );
}

describe("every public call fails only with a TaskmillError", () => {
  it("memory mode: the constructor and the stops", async () => {
    await fc.assert(
      fc.asyncProperty(optionsOf(MANAGER_KEYS), anyValue, async (options, stopOptions) => {
        await expectTyped("constructor", () => {
          const mill = new TaskManager(options as TaskManagerOptions);
          return Promise.all([mill.stopGraceful(stopOptions as never), mill.stopNow()]);
        });
      }),
      { numRuns: 200 },
    );
  });

  it("memory mode: the calls of a running manager", async () => {
    const mill = new TaskManager({ concurrency: 2 });
    managers.push(mill);
    mill.register("ok", async () => 1);
    await fc.assert(callsOn(mill), { numRuns: 200 });
  });

  it("durable mode: the constructor with a Redis backend", async () => {
    const url = redis.server().url;
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(
          fc.constantFrom(
            "prefix",
            "leaseMs",
            "maxDeliveries",
            "globalRate",
            "deadLetters",
            "callTimeoutMs",
            "maxPendingCalls",
            "misspelt",
          ),
          anyValue,
          { maxKeys: 3 },
        ),
        async (backend) => {
          await expectTyped("constructor", () => {
            const mill = new TaskManager({ backend: { type: "redis", url, ...backend } as never });
            return mill.stopNow();
          });
        },
      ),
      { numRuns: 40 },
    );
  });

  it("durable mode: the calls of a running manager", async () => {
    const mill = new TaskManager({
      concurrency: 2,
      backend: { type: "redis", url: redis.server().url, prefix: "fuzz", callTimeoutMs: 1_000 },
    });
    managers.push(mill);
    mill.register("ok", async () => 1);
    await fc.assert(callsOn(mill), { numRuns: 40 });
  }, 60_000);
});
