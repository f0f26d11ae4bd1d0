import { TaskManager } from "taskmill";
import { describe, expect, it } from "vitest";

describe("smoke", () => {
  it("runs a task and returns its result", async () => {
    const mill = new TaskManager();
    mill.register("add", async (p: { a: number; b: number }) => p.a + p.b);
    const task = await mill.submit<number>("add", { a: 1, b: 2 });
    expect(await task.result()).toBe(3);
    await mill.stopGraceful();
  });
});
