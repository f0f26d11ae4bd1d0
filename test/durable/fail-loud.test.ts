/**
 * A broken backend is never silent and never slow to say so: a refused or unresolvable
 * connection fails calls at once with the cause and where the store is (never its password),
 * the manager emits an `error` event once per outage, and a manager without a logger prints
 * one process warning.
 */
import { randomUUID } from "node:crypto";
import {
  BackendUnavailableError,
  type TaskManager as Manager,
  MissingPeerError,
  TaskManager,
  type TaskmillError,
} from "taskmill";
import { afterEach, describe, expect, it } from "vitest";
import { importPeer } from "../../src/stores/peer.js";
import { startRedisServer } from "../support/redis-server.js";

const managers: Manager[] = [];

afterEach(async () => {
  await Promise.all(managers.splice(0).map((mill) => mill.stopNow()));
});

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = await startRedisServer();
  const port = server.port;
  await server.dispose();
  return port;
}

function manager(url: string, logger?: object): TaskManager {
  const mill = new TaskManager({
    ...(logger === undefined ? {} : { logger: logger as never }),
    backend: {
      type: "redis",
      url,
      prefix: `loud-${randomUUID().slice(0, 8)}`,
      callTimeoutMs: 5_000,
    },
  });
  managers.push(mill);
  return mill;
}

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

async function failure(promise: Promise<unknown>): Promise<{ error: Error; ms: number }> {
  const started = Date.now();
  const error = await promise.then(
    () => {
      throw new Error("expected a rejection");
    },
    (reason: unknown) => reason as Error,
  );
  return { error, ms: Date.now() - started };
}

describe("a backend that cannot be reached", () => {
  it("refused: the submit fails long before callTimeoutMs, naming the store, where it is and the cause", async () => {
    const port = await closedPort();
    const mill = manager(`redis://127.0.0.1:${port}`, quiet);
    const { error, ms } = await failure(mill.submit("report", {}));
    expect(error).toBeInstanceOf(BackendUnavailableError);
    expect(error.message).toContain(`127.0.0.1:${port}`);
    expect(error.message).toContain("ECONNREFUSED");
    expect(error.cause).toBeInstanceOf(Error);
    // The refusal is known within milliseconds; the deadline is 5 s.
    expect(ms).toBeLessThan(2_500);
  });

  it("unresolvable: the same, with the lookup failure", async () => {
    const mill = manager("redis://no-such-host.invalid:6379", quiet);
    const { error, ms } = await failure(mill.submit("report", {}));
    expect(error).toBeInstanceOf(BackendUnavailableError);
    expect(error.message).toContain("no-such-host.invalid");
    expect(error.message).toMatch(/ENOTFOUND|EAI_AGAIN/);
    expect(ms).toBeLessThan(2_500);
  });

  it("never puts the password in a message", async () => {
    const port = await closedPort();
    const mill = manager(`redis://reporter:s3cret-pw@127.0.0.1:${port}`, quiet);
    const { error } = await failure(mill.submit("report", {}));
    expect(error.message).toContain(`127.0.0.1:${port}`);
    expect(error.message).not.toContain("s3cret-pw");
  });

  it("emits one `error` event per outage, and a manager without a logger one process warning", async () => {
    const server = await startRedisServer();
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => {
      if (warning.message.startsWith("taskmill:")) warnings.push(warning);
    };
    process.on("warning", onWarning);
    try {
      const mill = manager(server.url);
      const events: TaskmillError[] = [];
      mill.on("error", ({ error }) => events.push(error));
      await mill.submit("report", { n: 1 });
      expect(events).toHaveLength(0);

      for (let outage = 1; outage <= 2; outage++) {
        await server.stop();
        await expect.poll(() => events.length, { timeout: 10_000 }).toBe(outage);
        await server.start();
        await expect.poll(() => mill.health().status, { timeout: 10_000 }).toBe("connected");
      }
      // Reconnect attempts during an outage do not repeat the event.
      expect(events).toHaveLength(2);
      for (const event of events) expect(event).toBeInstanceOf(BackendUnavailableError);
      await expect.poll(() => warnings.length).toBe(1);
      expect((warnings[0] as Error & { code?: string }).code).toBe(
        "TASKMILL_ERR_BACKEND_UNAVAILABLE",
      );
    } finally {
      process.off("warning", onWarning);
      await server.dispose();
    }
  }, 40_000);
});

describe("a store's client library that is not installed", () => {
  it("is a MissingPeerError that says what to install", async () => {
    const error = await importPeer("taskmill-no-such-client", "redis").then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect(error).toBeInstanceOf(MissingPeerError);
    expect((error as MissingPeerError).install).toBe("npm install taskmill-no-such-client");
    expect((error as Error).message).toContain('backend { type: "redis" }');
  });
});
