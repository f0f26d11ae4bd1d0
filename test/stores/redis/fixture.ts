/**
 * One real redis-server per test file, one key prefix per store, every client closed after
 * the file. Import `useRedis()` at the top level of a test file.
 */
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll } from "vitest";
import type { RedisStoreOptions } from "../../../src/stores/redis/options.js";
import { RedisStore } from "../../../src/stores/redis/redis-store.js";
import {
  type RedisServer,
  type RedisServerOptions,
  startRedisServer,
} from "../../support/redis-server.js";

/** Handles for one test file. */
export interface RedisFixture {
  server(): RedisServer;
  /** A new client (closed after the file). */
  client(): Redis;
  /** A store on a fresh prefix over a new client. */
  store(options?: RedisStoreOptions): RedisStore;
}

export function useRedis(options: RedisServerOptions = {}): RedisFixture {
  let server: RedisServer | undefined;
  const clients: Redis[] = [];
  beforeAll(async () => {
    server = await startRedisServer(options);
  });
  afterAll(async () => {
    for (const client of clients) client.disconnect();
    await server?.dispose();
  });
  const fixture: RedisFixture = {
    server() {
      if (server === undefined) throw new Error("the redis-server is not started yet");
      return server;
    },
    client() {
      const client = new Redis(fixture.server().port, "127.0.0.1", {
        maxRetriesPerRequest: 50,
        retryStrategy: (times) => Math.min(times * 20, 200),
      });
      // Connection errors surface as command rejections; restarts in tests make them expected.
      client.on("error", () => {});
      clients.push(client);
      return client;
    },
    store(storeOptions = {}) {
      return new RedisStore(fixture.client(), {
        prefix: `test-${randomUUID().slice(0, 8)}`,
        ...storeOptions,
      });
    },
  };
  return fixture;
}

/** Polls `check` every `everyMs` until it returns a value other than `undefined`. */
export async function eventually<T>(
  check: () => Promise<T | undefined>,
  timeoutMs = 5_000,
  everyMs = 20,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(everyMs);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
