/** metrics.test.ts, unchanged, on a real 3-master Redis Cluster (see on-redis-cluster.ts): metrics from the store. */
import { expect, it, vi } from "vitest";
import { onRedisCluster, ranOnRedisCluster } from "./on-redis-cluster.js";

vi.mock("../stores/redis/fixture.js", (original) => onRedisCluster(original));
await import("./metrics.test.js");
it("ran them on the Redis Cluster", () => expect(ranOnRedisCluster()).toBe(true));
