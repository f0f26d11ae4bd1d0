/** shared-stats.test.ts, unchanged, on a real 3-master Redis Cluster (see on-redis-cluster.ts): shared stats. */
import { expect, it, vi } from "vitest";
import { onRedisCluster, ranOnRedisCluster } from "./on-redis-cluster.js";

vi.mock("../stores/redis/fixture.js", (original) => onRedisCluster(original));
await import("./shared-stats.test.js");
it("ran them on the Redis Cluster", () => expect(ranOnRedisCluster()).toBe(true));
