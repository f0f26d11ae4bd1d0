/**
 * Runs a durable test file written for one redis-server again on a real 3-master Redis Cluster,
 * unchanged: its `useRedis()` fixture (`test/stores/redis/fixture.ts`) is swapped for one whose
 * "server" URL is the cluster's seed list, so every manager's `backend.url` (and every worker
 * process's) names the cluster, and whose clients and stores are on ioredis `Cluster`s.
 *
 * A variant file is three lines (vi.mock is hoisted, so the swap comes first):
 *
 * ```ts
 * vi.mock("../stores/redis/fixture.js", (original) => onRedisCluster(original));
 * await import("./some-durable.test.js");
 * it("ran on the cluster", () => expect(ranOnRedisCluster()).toBe(true));
 * ```
 *
 * Only files that read nothing but `server().url`, `client()` and `store()` can run this way
 * (not those that restart the server, proxy it or MONITOR it).
 */
import type * as FixtureModule from "../stores/redis/fixture.js";

const FLAG = Symbol.for("taskmill.test.onRedisCluster");

/** The `vi.mock` factory: the fixture module with `useRedis()` on a cluster. */
export async function onRedisCluster(
  importOriginal: () => Promise<unknown>,
): Promise<typeof FixtureModule> {
  const original = (await importOriginal()) as typeof FixtureModule;
  const { useRedisCluster } = await import("../stores/redis/cluster-fixture.js");
  return {
    ...original,
    useRedis: () => {
      const cluster = useRedisCluster();
      (globalThis as Record<symbol, boolean>)[FLAG] = true;
      return {
        // Only `url` is read from the server by these files: here, the seed list.
        server: () =>
          ({ url: cluster.cluster().urls }) as unknown as ReturnType<
            FixtureModule.RedisFixture["server"]
          >,
        client: () =>
          cluster.client() as unknown as ReturnType<FixtureModule.RedisFixture["client"]>,
        store: cluster.store,
      };
    },
  };
}

/** Whether a swapped fixture was created in this file (the variant's tests ran on a cluster). */
export function ranOnRedisCluster(): boolean {
  return (globalThis as Record<symbol, boolean>)[FLAG] === true;
}
