/** fleet-processes.test.ts, unchanged, on a real 3-master Redis Cluster (see on-redis-cluster.ts): the worker registry across processes. */
import { expect, it, vi } from "vitest";
import { onRedisCluster, ranOnRedisCluster } from "./on-redis-cluster.js";

vi.mock("../stores/redis/fixture.js", (original) => onRedisCluster(original));
await import("./fleet-processes.test.js");
it("ran them on the Redis Cluster", () => expect(ranOnRedisCluster()).toBe(true));
