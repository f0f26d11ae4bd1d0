/**
 * The durable-manager tests (durable-manager.test.ts, unchanged) again on a real 3-master Redis
 * Cluster: its `useRedis()` fixture is swapped for one whose "server" URL is the cluster's seed
 * list (so every manager's `backend.url` is `[...]`) and whose clients are ioredis `Cluster`s.
 * Run, retry and dead-letter, replay, cancel, idempotency across managers, stop, fenced acks:
 * the same assertions, on a cluster.
 */
import { expect, it, vi } from "vitest";

vi.mock("../stores/redis/fixture.js", async (importOriginal) => {
  const original = await importOriginal<typeof import("../stores/redis/fixture.js")>();
  const { useRedisCluster } = await import("../stores/redis/cluster-fixture.js");
  return {
    ...original,
    useRedis: () => {
      const cluster = useRedisCluster();
      (globalThis as { onRedisCluster?: boolean }).onRedisCluster = true;
      return {
        // Only `url` is read from the server by these tests: here, the list of seed URLs.
        server: () => ({ url: cluster.cluster().urls }),
        client: () => cluster.client(),
        store: cluster.store,
      };
    },
  };
});

await import("./durable-manager.test.js");

it("ran them on the Redis Cluster fixture", () => {
  expect((globalThis as { onRedisCluster?: boolean }).onRedisCluster).toBe(true);
});
