/**
 * One real 3-master Redis Cluster per test file (`test/support/redis-cluster.ts`), one key
 * prefix per store, every client closed after the file: `useRedis()`'s counterpart. Import
 * `useRedisCluster()` at the top level of a test file.
 */
import { randomUUID } from "node:crypto";
import { Cluster } from "ioredis";
import { afterAll, beforeAll } from "vitest";
import type { RedisStoreOptions } from "../../../src/stores/redis/options.js";
import { RedisStore } from "../../../src/stores/redis/redis-store.js";
import {
  type RedisCluster,
  type RedisClusterOptions,
  startRedisCluster,
} from "../../support/redis-cluster.js";

/** Handles for one test file. */
export interface RedisClusterFixture {
  cluster(): RedisCluster;
  /** A new ioredis `Cluster` client on every node as a seed (closed after the file). */
  client(): Cluster;
  /** A store on a fresh prefix (so a random slot, on one of the masters) over a new client. */
  store(options?: RedisStoreOptions): RedisStore;
}

export function useRedisCluster(options: RedisClusterOptions = {}): RedisClusterFixture {
  let cluster: RedisCluster | undefined;
  const clients: Cluster[] = [];
  beforeAll(async () => {
    cluster = await startRedisCluster(options);
  }, 60_000);
  afterAll(async () => {
    for (const client of clients) client.disconnect();
    await cluster?.dispose();
  });
  const fixture: RedisClusterFixture = {
    cluster() {
      if (cluster === undefined) throw new Error("the Redis Cluster is not started yet");
      return cluster;
    },
    client() {
      const client = new Cluster(
        fixture.cluster().nodes.map(({ host, port }) => ({ host, port })),
        { clusterRetryStrategy: (times) => Math.min(times * 20, 200) },
      );
      // Connection errors surface as command rejections; node restarts make them expected.
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
