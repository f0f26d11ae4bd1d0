/** `optionsFromEnv`: TASKMILL_* variables to the constructor's options, with its typed errors. */
import { InvalidOptionError, optionsFromEnv, TaskManager } from "taskmill";
import { describe, expect, it } from "vitest";

function refusal(env: Record<string, string>): InvalidOptionError {
  try {
    optionsFromEnv(env);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidOptionError);
    return error as InvalidOptionError;
  }
  throw new Error(`expected ${JSON.stringify(env)} to be refused`);
}

describe("optionsFromEnv", () => {
  it("reads every group of settings into the constructor's options", () => {
    const options = optionsFromEnv({
      PATH: "/usr/bin",
      TASKMILL_STORE: "redis",
      TASKMILL_STORE_URL: "redis://127.0.0.1:6379/0",
      TASKMILL_PREFIX: "billing",
      TASKMILL_REDIS_LAYOUT: "sharded",
      TASKMILL_LEASE_MS: "15000",
      TASKMILL_MAX_DELIVERIES: "7",
      TASKMILL_CALL_TIMEOUT_MS: "2000",
      TASKMILL_GLOBAL_RATE_PER_SECOND: "2.5",
      TASKMILL_DEAD_LETTERS_MAX_ENTRIES: "500",
      TASKMILL_CONCURRENCY: "16",
      TASKMILL_RATE_PER_SECOND: "50",
      TASKMILL_RATE_BURST: "10",
      TASKMILL_RETRY_MAX_RETRIES: "5",
      TASKMILL_RETRY_BACKOFF: "linear",
      TASKMILL_RETRY_BASE_DELAY_MS: "200",
      TASKMILL_RETRY_MAX_DELAY_MS: "60000",
      TASKMILL_RETRY_JITTER: "none",
      TASKMILL_TASK_TIMEOUT_MS: "30000",
      TASKMILL_RETENTION_TTL_MS: "600000",
      TASKMILL_RETENTION_MAX_ENTRIES: "1000",
      TASKMILL_HEARTBEAT_MS: "2000",
      // The CLI's own variables are left alone, not refused.
      TASKMILL_URL: "http://127.0.0.1:8080",
      TASKMILL_TOKEN: "secret",
      // Empty means unset.
      TASKMILL_WORKER_LOST_AFTER_MS: "",
    });
    expect(options).toEqual({
      backend: {
        type: "redis",
        url: "redis://127.0.0.1:6379/0",
        prefix: "billing",
        layout: "sharded",
        leaseMs: 15_000,
        maxDeliveries: 7,
        callTimeoutMs: 2_000,
        globalRate: { perSecond: 2.5 },
        deadLetters: { maxEntries: 500 },
      },
      concurrency: 16,
      rate: { perSecond: 50, burst: 10 },
      retry: {
        maxRetries: 5,
        backoff: "linear",
        baseDelayMs: 200,
        maxDelayMs: 60_000,
        jitter: "none",
      },
      timeoutMs: 30_000,
      retention: { ttlMs: 600_000, maxEntries: 1_000 },
      registry: { heartbeatMs: 2_000 },
    });
  });

  it("gives the defaults (memory mode) for an environment without TASKMILL_ variables", async () => {
    const options = optionsFromEnv({ HOME: "/root" });
    expect(options).toEqual({});
    const mill = new TaskManager(options);
    expect(mill.health().backend).toBe("memory");
    await mill.stopNow();
  });

  it("infers the store from its URL or path", () => {
    expect(optionsFromEnv({ TASKMILL_STORE_URL: "rediss://cache:6380" }).backend).toEqual({
      type: "redis",
      url: "rediss://cache:6380",
    });
    expect(optionsFromEnv({ TASKMILL_STORE_URL: "postgresql://db/app" }).backend).toEqual({
      type: "postgres",
      url: "postgresql://db/app",
    });
    expect(
      optionsFromEnv({ TASKMILL_STORE_PATH: "/var/lib/app/tasks.db", TASKMILL_LEASE_MS: "5000" })
        .backend,
    ).toEqual({ type: "sqlite", path: "/var/lib/app/tasks.db", leaseMs: 5_000 });
    expect(refusal({ TASKMILL_STORE_URL: "mysql://db" }).option).toBe("TASKMILL_STORE_URL");
    expect(refusal({ TASKMILL_LEASE_MS: "5000" }).option).toBe("TASKMILL_STORE");
  });

  it("refuses what the constructor refuses, naming the variable", () => {
    const cases: Array<[Record<string, string>, string]> = [
      [{ TASKMILL_CONCURRENCY: "0" }, "TASKMILL_CONCURRENCY"],
      [{ TASKMILL_CONCURRENCY: "eight" }, "TASKMILL_CONCURRENCY"],
      [{ TASKMILL_CONCURRENCY: "1.5" }, "TASKMILL_CONCURRENCY"],
      [{ TASKMILL_RATE_PER_SECOND: "fast" }, "TASKMILL_RATE_PER_SECOND"],
      [{ TASKMILL_RETRY_BACKOFF: "quadratic" }, "TASKMILL_RETRY_BACKOFF"],
      [{ TASKMILL_RETRY_MAX_RETRIES: "-1" }, "TASKMILL_RETRY_MAX_RETRIES"],
      [{ TASKMILL_STORE: "mongodb" }, "TASKMILL_STORE"],
      [{ TASKMILL_STORE: "redis", TASKMILL_STORE_PATH: "/tmp/x.db" }, "TASKMILL_STORE_PATH"],
      [{ TASKMILL_STORE_PATH: "/tmp/x.db", TASKMILL_PREFIX: "p" }, "TASKMILL_PREFIX"],
      [{ TASKMILL_HEARTBEAT_MS: "0" }, "TASKMILL_HEARTBEAT_MS"],
      [
        { TASKMILL_STORE_URL: "redis://127.0.0.1:6379", TASKMILL_REDIS_LAYOUT: "spread" },
        "TASKMILL_REDIS_LAYOUT",
      ],
    ];
    for (const [env, variable] of cases) {
      const error = refusal(env);
      expect(error.option, JSON.stringify(env)).toBe(variable);
      expect(error.message).toContain(variable);
    }
  });

  it("refuses an unknown TASKMILL_ variable with the nearest known name", () => {
    const error = refusal({ TASKMILL_CONCURENCY: "4" });
    expect(error.option).toBe("TASKMILL_CONCURENCY");
    expect(error.message).toContain("did you mean TASKMILL_CONCURRENCY?");
    expect(refusal({ TASKMILL_SOMETHING_ELSE_ENTIRELY: "1" }).message).toContain(
      "is not a taskmill variable",
    );
  });
});
