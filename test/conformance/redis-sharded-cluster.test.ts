/**
 * The conformance suite against a real 3-master Redis Cluster in the sharded key layout (a
 * shard per queue, partitions for some), started for this file, connected through
 * `backend.url` as a list of seed nodes. The suite runs unchanged; partitions are set up front
 * in each prefix's registry, as in `redis-sharded.test.ts`. Each manager gets a fresh prefix:
 * its shards (one hash tag each) spread over the three masters.
 */
import { randomUUID } from "node:crypto";
import { Cluster } from "ioredis";
import { describe, it } from "vitest";
import { type RedisCluster, startRedisCluster } from "../support/redis-cluster.js";
import { runConformanceSuite } from "./suite.js";

/** Partition counts of queues the suite uses; the others get one shard each. */
const PARTITIONS = { echoes: 3, later: 2, "inspect-q": 4, open: 2 };
/** Prefixes prepared in setup (more than the suite's managers). */
const POOL = 2_000;

let cluster: RedisCluster | undefined;
const prefixes: string[] = [];

// Opt-in (`TASKMILL_SHARDED_CLUSTER=1`) until a rare hang is found: 105/105 in most runs, but
// once in a loaded CI pre-check run "stopGraceful: a task that finishes while the stop drains"
// ran into its 20 s timeout (see docs/durable-mode.md, "Sharded layout").
const run = process.env.TASKMILL_SHARDED_CLUSTER === "1";
if (!run)
  describe.skip("conformance: redis-cluster (sharded layout), opt-in", () => {
    it("runs with TASKMILL_SHARDED_CLUSTER=1", () => {});
  });

if (run)
  runConformanceSuite({
    name: "redis-cluster (sharded layout)",
    durable: true,
    setup: async () => {
      cluster = await startRedisCluster();
      const client = new Cluster(cluster.nodes.map(({ host, port }) => ({ host, port })));
      // Each registry lives in its own slot: no cross-slot pipeline on a cluster.
      const writes: Promise<unknown>[] = [];
      for (let i = 0; i < POOL; i++) {
        const prefix = `shard-${randomUUID().slice(0, 8)}`;
        prefixes.push(prefix);
        writes.push(client.hset(`{${prefix}}:partitions`, PARTITIONS));
      }
      await Promise.all(writes);
      client.disconnect();
    },
    teardown: async () => {
      await cluster?.dispose();
    },
    // A fresh prefix per manager (per call): tests never see each other's tasks.
    backend: () => {
      if (cluster === undefined) throw new Error("the Redis Cluster is not started");
      return {
        type: "redis",
        layout: "sharded",
        url: cluster.urls,
        prefix: prefixes.pop() ?? `shard-${randomUUID().slice(0, 8)}`,
        leaseMs: 2_000,
      };
    },
  });
