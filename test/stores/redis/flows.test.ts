/**
 * Flows in the Redis store, against a real redis-server: the Lua that ends a node releases
 * and cancels its dependents in the same script (the statuses are checked statically by
 * lua-transitions.test.ts), and a claimed node carries its dependencies' outcomes.
 */
import { describe, it } from "vitest";
import { checkFlowRetention, runFlowWorkload } from "../flow-workload.js";
import { useRedis } from "./fixture.js";

const redis = useRedis();

describe("Redis store: flows", () => {
  it("releases and cancels dependents in the script that ends a node", async () => {
    await runFlowWorkload(redis.store());
  });

  it("lets a flow's hash expire retention.ttlMs after it ended", async () => {
    // The flow hash expires by PEXPIRE, in real time: 1 ms raced the read right after the ack.
    await checkFlowRetention(redis.store({ retention: { ttlMs: 250 } }), 400);
  });
});
