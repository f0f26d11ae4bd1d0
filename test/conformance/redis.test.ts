/** The conformance suite against a real redis-server (durable mode), started for this file. */
import { randomUUID } from "node:crypto";
import { type RedisServer, startRedisServer } from "../support/redis-server.js";
import { runConformanceSuite } from "./suite.js";

let server: RedisServer | undefined;

runConformanceSuite({
  name: "redis",
  durable: true,
  setup: async () => {
    server = await startRedisServer();
  },
  teardown: async () => {
    await server?.dispose();
  },
  // A fresh prefix per manager (per call): tests never see each other's tasks.
  backend: () => {
    if (server === undefined) throw new Error("the redis-server is not started");
    return {
      type: "redis",
      url: server.url,
      prefix: `conf-${randomUUID().slice(0, 8)}`,
      leaseMs: 2_000,
    };
  },
});
