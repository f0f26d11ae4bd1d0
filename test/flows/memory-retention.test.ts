/**
 * Memory mode's retention of flows: a finished node of an unfinished flow is never evicted
 * (its records enter retention only when the whole flow has ended), and ended flows are
 * evicted by `retention.maxEntries` like task records.
 */
import { type TaskContext, TaskManager } from "taskmill";
import { afterEach, describe, expect, it } from "vitest";

const mills: TaskManager[] = [];
afterEach(async () => {
  await Promise.all(mills.splice(0).map((mill) => mill.stopNow()));
});

function manager(maxEntries: number): TaskManager {
  const mill = new TaskManager({
    retry: { maxRetries: 0 },
    retention: { ttlMs: 60_000, maxEntries },
  });
  mills.push(mill);
  return mill;
}

describe("memory mode: retention of flows", () => {
  it("keeps a finished node of an unfinished flow whatever else finishes; evicts it once the flow ended", async () => {
    const mill = manager(2);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    mill.register("quick", () => "q");
    mill.register("slow", async () => {
      await gate;
      return "s";
    });
    mill.register("see", (_p: unknown, ctx: TaskContext) => ctx.dependencies);
    const flow = await mill.submitFlow([
      { ref: "a", name: "quick" },
      { ref: "b", name: "slow" },
      { ref: "c", name: "see", dependsOn: ["a", "b"] },
    ]);
    const a = flow.tasks.a?.id as string;
    await flow.tasks.a?.result();
    // Five unrelated tasks end: with maxEntries 2 they evict each other, never "a".
    for (let i = 0; i < 5; i++) await (await mill.submit("quick")).result();
    expect((await mill.get(a))?.status).toBe("succeeded");
    release();
    expect(await flow.tasks.c?.result()).toEqual({
      a: { status: "succeeded", value: "q" },
      b: { status: "succeeded", value: "s" },
    });
    await flow.result();
    // The flow ended: its records are ordinary retained records now.
    for (let i = 0; i < 5; i++) await (await mill.submit("quick")).result();
    expect(await mill.get(a)).toBeUndefined();
  });

  it("evicts ended flows beyond retention.maxEntries, oldest first", async () => {
    const mill = manager(2);
    mill.register("quick", () => "q");
    const flows = [];
    for (let i = 0; i < 4; i++) {
      const flow = await mill.submitFlow([{ ref: "x", name: "quick" }]);
      await flow.result();
      flows.push(flow.id);
    }
    expect(await mill.flows.get(flows[0] as string)).toBeUndefined();
    expect(await mill.flows.get(flows[1] as string)).toBeUndefined();
    expect(await mill.flows.get(flows[3] as string)).toBeDefined();
  });
});
