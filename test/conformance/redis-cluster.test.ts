/**
 * The conformance suite against a real 3-master Redis Cluster (durable mode), started for this
 * file, connected through `backend.url` as a list of seed nodes. Each manager gets a fresh
 * prefix, so a fresh hash tag: the tests spread over the three masters.
 */
import { randomUUID } from "node:crypto";
import { type RedisCluster, startRedisCluster } from "../support/redis-cluster.js";
import { runConformanceSuite } from "./suite.js";

let cluster: RedisCluster | undefined;

runConformanceSuite({
  name: "redis-cluster",
  durable: true,
  setup: async () => {
    cluster = await startRedisCluster();
  },
  teardown: async () => {
    await cluster?.dispose();
  },
  backend: () => {
    if (cluster === undefined) throw new Error("the Redis Cluster is not started");
    return {
      type: "redis",
      url: cluster.urls,
      prefix: `conf-${randomUUID().slice(0, 8)}`,
      leaseMs: 2_000,
    };
  },
});
