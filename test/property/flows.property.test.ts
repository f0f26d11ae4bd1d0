/** The flow property (flow-property.ts) over the in-process store. */
import fc from "fast-check";
import { TaskManager } from "taskmill";
import { describe, it } from "vitest";
import { checkFlow, dagArb } from "./flow-property.js";

describe("flows: random DAGs in memory", () => {
  it("every node ends; none starts early; cancel dependents of failures never run; ctx.dependencies is exact", async () => {
    await fc.assert(
      fc.asyncProperty(dagArb, fc.integer({ min: 1, max: 8 }), async (specs, concurrency) => {
        const mill = new TaskManager({ concurrency, retry: { maxRetries: 0 } });
        try {
          await checkFlow(mill, specs);
        } finally {
          await mill.stopNow();
        }
      }),
      { numRuns: 60 },
    );
  });
});
