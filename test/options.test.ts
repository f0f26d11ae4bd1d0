import {
  DuplicateHandlerError,
  HandlerNotFoundError,
  type HandlerOptions,
  InvalidArgumentError,
  InvalidOptionError,
  type ListOptions,
  type SubmitOptions,
  type SubscribeOptions,
  TaskManager,
  type TaskManagerOptions,
  TaskmillError,
} from "taskmill";
import { describe, expect, it } from "vitest";
import { manual } from "./support/harness.js";

/** Runs `fn`, expecting it to throw; returns what it threw. */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error("expected a throw");
}

async function rejected(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection");
}

// Casts let the tests pass what a JavaScript caller (or a config file) could pass.
const bad = (options: Record<string, unknown>) => options as unknown as TaskManagerOptions;

describe("TaskManager options validation", () => {
  const cases: Array<[string, Record<string, unknown>, string, RegExp]> = [
    ["concurrency 0", { concurrency: 0 }, "concurrency", /integer >= 1/],
    ["negative concurrency", { concurrency: -2 }, "concurrency", /integer >= 1/],
    ["non-integer concurrency", { concurrency: 1.5 }, "concurrency", /integer >= 1/],
    ["NaN concurrency", { concurrency: Number.NaN }, "concurrency", /integer >= 1/],
    ["string concurrency", { concurrency: "4" }, "concurrency", /integer >= 1/],
    ["negative rate", { rate: { perSecond: -1 } }, "rate.perSecond", /> 0/],
    ["zero rate", { rate: { perSecond: 0 } }, "rate.perSecond", /> 0/],
    ["infinite rate", { rate: { perSecond: Infinity } }, "rate.perSecond", /finite/],
    ["burst 0", { rate: { perSecond: 5, burst: 0 } }, "rate.burst", /integer >= 1/],
    ["fractional burst", { rate: { perSecond: 5, burst: 1.5 } }, "rate.burst", /integer >= 1/],
    ["negative retries", { retry: { maxRetries: -1 } }, "retry.maxRetries", /integer >= 0/],
    ["fractional retries", { retry: { maxRetries: 0.5 } }, "retry.maxRetries", /integer >= 0/],
    ["unknown backoff", { retry: { backoff: "quadratic" } }, "retry.backoff", /"exponential"/],
    ["unknown jitter", { retry: { jitter: "half" } }, "retry.jitter", /"none", "full"/],
    ["negative base delay", { retry: { baseDelayMs: -1 } }, "retry.baseDelayMs", />= 0/],
    ["negative max delay", { retry: { maxDelayMs: -1 } }, "retry.maxDelayMs", />= 0/],
    ["negative timeout", { timeoutMs: -1 }, "timeoutMs", />= 0/],
    ["queue cap 0", { queues: { email: { concurrency: 0 } } }, "queues.email.concurrency", />= 1/],
    [
      "queue cap as a number",
      { queues: { email: 2 } },
      "queues.email",
      /\{ concurrency\?, partitions\? \}/,
    ],
    [
      "partitions out of range",
      { queues: { hot: { partitions: 257 } } },
      "queues.hot.partitions",
      /from 1 to 256/,
    ],
    [
      "partitions not whole",
      { queues: { hot: { partitions: 1.5 } } },
      "queues.hot.partitions",
      /integer/,
    ],
    [
      "unknown Redis layout",
      { backend: { type: "redis", url: "redis://127.0.0.1:6379", layout: "spread" } },
      "backend.layout",
      /"single" or "sharded"/,
    ],
    ["unknown backend", { backend: { type: "mongodb" } }, "backend.type", /"memory"/],
    ["clock without methods", { clock: {} }, "clock.now", /function/],
    ["random not a function", { random: 0.5 }, "random", /function/],
    // A misspelt option must not be ignored (its default used without a word).
    ["misspelt option", { concurrancy: 2 }, "concurrancy", /did you mean "concurrency"\?/],
    [
      "misspelt retry key",
      { retry: { maxRetry: 1 } },
      "retry.maxRetry",
      /did you mean "maxRetries"/,
    ],
    ["misspelt rate key", { rate: { perSecond: 1, brust: 2 } }, "rate.brust", /burst/],
    ["misspelt retention key", { retention: { ttl: 5 } }, "retention.ttl", /ttlMs/],
    ["misspelt queue key", { queues: { email: { cap: 2 } } }, "queues.email.cap", /concurrency/],
    ["memory backend with a url", { backend: { type: "memory", url: "x" } }, "backend.url", /type/],
    [
      "misspelt redis backend key",
      { backend: { type: "redis", url: "redis://127.0.0.1:1", leaseMS: 500 } },
      "backend.leaseMS",
      /did you mean "leaseMs"/,
    ],
    [
      "dead-letter bound as a number",
      { backend: { type: "redis", url: "redis://127.0.0.1:1", deadLetters: 5 } },
      "backend.deadLetters",
      /ttlMs\?, maxEntries\?/,
    ],
    [
      "SQLite dead-letter bound as a number",
      { backend: { type: "sqlite", path: "/tmp/never-opened.db", deadLetters: 5 } },
      "backend.deadLetters",
      /ttlMs\?, maxEntries\?/,
    ],
    [
      "maxPendingCalls 0",
      { backend: { type: "redis", url: "redis://127.0.0.1:1", maxPendingCalls: 0 } },
      "backend.maxPendingCalls",
      /integer >= 1/,
    ],
    ["misspelt tracing key", { tracing: { sampler: 1 } }, "tracing.sampler", /tracerProvider/],
  ];

  it.each(cases)("%s throws InvalidOptionError naming the option", (_, options, path, why) => {
    const error = thrown(() => new TaskManager(bad(options)));
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect(error).toBeInstanceOf(TaskmillError);
    const invalid = error as InvalidOptionError;
    expect(invalid.code).toBe("ERR_INVALID_OPTION");
    expect(invalid.option).toBe(path);
    expect(invalid.message).toContain(`"${path}"`);
    expect(invalid.message).toMatch(why);
    expect(invalid.name).toBe("InvalidOptionError");
  });

  it("reports the offending value in the error", () => {
    const error = thrown(() => new TaskManager({ concurrency: -3 })) as InvalidOptionError;
    expect(error.value).toBe(-3);
    expect(error.message).toContain("-3");
  });

  it("accepts the low values the spec promises to support", () => {
    expect(
      () =>
        new TaskManager({
          concurrency: 1,
          rate: { perSecond: 1, burst: 1 },
          retry: { maxRetries: 0 },
          timeoutMs: 0,
        }),
    ).not.toThrow();
    expect(() => new TaskManager({ rate: { perSecond: 0.5 } })).not.toThrow();
    expect(() => new TaskManager()).not.toThrow();
  });

  it("validates a handler's own retry and timeout at register time", () => {
    const { mill } = manual();
    const retryError = thrown(() =>
      mill.register("a", async () => 1, { retry: { backoff: "nope" as "fixed" } }),
    ) as InvalidOptionError;
    expect(retryError).toBeInstanceOf(InvalidOptionError);
    expect(retryError.option).toBe('register("a").retry.backoff');
    const timeoutError = thrown(() =>
      mill.register("b", async () => 1, { timeoutMs: -5 }),
    ) as InvalidOptionError;
    expect(timeoutError.option).toBe('register("b").timeoutMs');
    const queueError = thrown(() =>
      mill.register("c", async () => 1, { queue: "" }),
    ) as InvalidOptionError;
    expect(queueError.option).toBe('register("c").queue');
    const keyError = thrown(() =>
      mill.register("d", async () => 1, { timeout: 5 } as unknown as HandlerOptions),
    ) as InvalidOptionError;
    expect(keyError).toBeInstanceOf(InvalidOptionError);
    expect(keyError.option).toBe('register("d").timeout');
    expect(keyError.message).toContain("timeoutMs");
  });

  it("list, dlq.list and subscribeResults refuse options they do not know", async () => {
    const { mill } = manual();
    const listError = (await rejected(
      mill.list({ state: "queued" } as unknown as ListOptions),
    )) as InvalidArgumentError;
    expect(listError).toBeInstanceOf(InvalidArgumentError);
    expect(listError.argument).toBe("options.state");
    const dlqError = (await rejected(
      mill.dlq.list({ queue: "q" } as unknown as ListOptions),
    )) as InvalidArgumentError;
    expect(dlqError.argument).toBe("options.queue");
    const subscribeError = thrown(() =>
      mill.subscribeResults({ size: 5 } as unknown as SubscribeOptions),
    ) as InvalidArgumentError;
    expect(subscribeError.argument).toBe("options.size");
  });
});

describe("register and submit errors", () => {
  it("refuses a second handler for the same name with DuplicateHandlerError", () => {
    const { mill } = manual();
    mill.register("email.send", async () => 1);
    const error = thrown(() => mill.register("email.send", async () => 2)) as DuplicateHandlerError;
    expect(error).toBeInstanceOf(DuplicateHandlerError);
    expect(error.code).toBe("ERR_DUPLICATE_HANDLER");
    expect(error.taskName).toBe("email.send");
    expect(error.message).toContain("email.send");
  });

  it("refuses a submit naming no registered handler with HandlerNotFoundError", async () => {
    const { mill } = manual();
    mill.register("known", async () => 1);
    const error = (await rejected(mill.submit("unknown", {}))) as HandlerNotFoundError;
    expect(error).toBeInstanceOf(HandlerNotFoundError);
    expect(error.code).toBe("ERR_HANDLER_NOT_FOUND");
    expect(error.taskName).toBe("unknown");
    expect(error.message).toContain('register("unknown"');
    expect(mill.stats().submitted).toBe(0);
  });

  it("refuses a non-function handler and an empty name", () => {
    const { mill } = manual();
    const handlerError = thrown(() =>
      mill.register("x", "not a function" as unknown as () => void),
    ) as InvalidArgumentError;
    expect(handlerError).toBeInstanceOf(InvalidArgumentError);
    expect(handlerError.argument).toBe("handler");
    const nameError = thrown(() => mill.register("", async () => 1)) as InvalidArgumentError;
    expect(nameError.argument).toBe("name");
  });

  const submitCases: Array<[string, Record<string, unknown>, string]> = [
    ["negative delayMs", { delayMs: -1 }, "delayMs"],
    ["NaN delayMs", { delayMs: Number.NaN }, "delayMs"],
    ["non-numeric priority", { priority: "high" }, "priority"],
    ["infinite priority", { priority: Infinity }, "priority"],
    ["runAt not a time", { runAt: "tomorrow" }, "runAt"],
    ["invalid Date runAt", { runAt: new Date("nope") }, "runAt"],
    ["empty queue", { queue: "" }, "queue"],
    ["negative timeoutMs", { timeoutMs: -10 }, "timeoutMs"],
    ["negative ttlMs", { ttlMs: -1 }, "ttlMs"],
    ["empty idempotency key", { idempotencyKey: "" }, "idempotencyKey"],
    ["signal not an AbortSignal", { signal: { aborted: false } }, "signal"],
    ["a misspelt option", { delay: 100 }, "options.delay"],
    ["a run() option", { name: "x" }, "options.name"],
  ];

  it.each(submitCases)("submit with %s throws InvalidArgumentError", async (_, options, field) => {
    const { mill } = manual();
    let called = 0;
    mill.register("job", async () => {
      called++;
    });
    const error = (await rejected(
      mill.submit("job", {}, options as unknown as SubmitOptions),
    )) as InvalidArgumentError;
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error.code).toBe("ERR_INVALID_ARGUMENT");
    expect(error.argument).toBe(field);
    expect(error.message).toContain(`"${field}"`);
    expect(called).toBe(0);
    expect(mill.stats().submitted).toBe(0);
  });

  it("submit with a bad per-task retry override throws InvalidArgumentError naming it", async () => {
    const { mill } = manual();
    mill.register("job", async () => 1);
    const error = (await rejected(
      mill.submit("job", {}, { retry: { maxRetries: -1 } }),
    )) as InvalidArgumentError;
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error.argument).toBe("retry.maxRetries");
    expect(mill.stats().submitted).toBe(0);
  });

  it("run() validates its function and options like submit", async () => {
    const { mill } = manual();
    const fnError = (await rejected(
      mill.run(42 as unknown as () => number),
    )) as InvalidArgumentError;
    expect(fnError.argument).toBe("fn");
    const optionError = (await rejected(
      mill.run(async () => 1, { delayMs: -1 }),
    )) as InvalidArgumentError;
    expect(optionError.argument).toBe("delayMs");
    // run() takes a display name besides the submit options.
    const handle = await mill.run(async () => 7, { name: "adhoc", priority: 1 });
    expect(handle.name).toBe("adhoc");
  });
});
