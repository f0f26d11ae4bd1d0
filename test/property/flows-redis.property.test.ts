/** The flow property (flow-property.ts) over a real redis-server (durable mode). */
import { randomUUID } from "node:crypto";
import fc from "fast-check";
import { TaskManager } from "taskmill";
import { afterAll, beforeAll, describe, it } from "vitest";
import { type RedisServer, startRedisServer } from "../support/redis-server.js";
import { checkFlow, dagArb } from "./flow-property.js";

let server: RedisServer | undefined;
beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(async () => {
  await server?.dispose();
});

describe("flows: random DAGs in Redis", () => {
  it("every node ends; none starts early; cancel dependents of failures never run; ctx.dependencies is exact", async () => {
    await fc.assert(
      fc.asyncProperty(dagArb, fc.integer({ min: 1, max: 8 }), async (specs, concurrency) => {
        const mill = new TaskManager({
          concurrency,
          retry: { maxRetries: 0 },
          backend: {
            type: "redis",
            url: (server as RedisServer).url,
            prefix: `fp-${randomUUID().slice(0, 8)}`,
          },
        });
        try {
          await checkFlow(mill, specs);
        } finally {
          await mill.stopNow();
        }
      }),
      { numRuns: 25 },
    );
  }, 120_000);
});
