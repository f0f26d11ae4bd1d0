/**
 * The conformance suite against a real redis-server in the sharded key layout (a shard per
 * queue, partitions for some), started for this file. The suite runs unchanged; partitions are
 * set up front in each prefix's registry (the first writer's count wins, as between processes),
 * on queues the suite uses without relying on FIFO across them.
 */
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { type RedisServer, startRedisServer } from "../support/redis-server.js";
import { runConformanceSuite } from "./suite.js";

/** Partition counts of queues the suite uses; the others get one shard each. */
const PARTITIONS = { echoes: 3, later: 2, "inspect-q": 4, open: 2 };
/** Prefixes prepared in setup (more than the suite's managers). */
const POOL = 2_000;

let server: RedisServer | undefined;
const prefixes: string[] = [];

runConformanceSuite({
  name: "redis (sharded layout)",
  durable: true,
  setup: async () => {
    server = await startRedisServer();
    const client = new Redis(server.url);
    const pipeline = client.pipeline();
    for (let i = 0; i < POOL; i++) {
      const prefix = `shard-${randomUUID().slice(0, 8)}`;
      prefixes.push(prefix);
      pipeline.hset(`{${prefix}}:partitions`, PARTITIONS);
    }
    await pipeline.exec();
    client.disconnect();
  },
  teardown: async () => {
    await server?.dispose();
  },
  // A fresh prefix per manager (per call): tests never see each other's tasks.
  backend: () => {
    if (server === undefined) throw new Error("the redis-server is not started");
    return {
      type: "redis",
      layout: "sharded",
      url: server.url,
      prefix: prefixes.pop() ?? `shard-${randomUUID().slice(0, 8)}`,
      leaseMs: 2_000,
    };
  },
});
