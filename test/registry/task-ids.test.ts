import { TaskManager } from "taskmill";
import { describe, expect, it } from "vitest";
import { TaskIdFormat } from "../../src/registry/task-ids.js";

describe("task ids", () => {
  it("are RFC 9562 version-8 UUIDs that round-trip their sequence", () => {
    const ids = new TaskIdFormat();
    for (const sequence of [0, 1, 15, 16, 255, 4096, 2 ** 32 + 7, 2 ** 48 - 1]) {
      const id = ids.format(sequence);
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(ids.parse(id)).toBe(sequence);
    }
  });

  it("differ between formats (managers, processes) and reject foreign ids", () => {
    const a = new TaskIdFormat();
    const b = new TaskIdFormat();
    expect(a.prefix).not.toBe(b.prefix);
    expect(a.parse(b.format(1))).toBe(-1);
    expect(a.parse("not-an-id")).toBe(-1);
    expect(a.parse(`${a.prefix}zzzzzzzzzzzz`)).toBe(-1);
    expect(a.parse(`${a.prefix}-00000000001`)).toBe(-1);
  });

  it("are unique per manager and resolve through get(); foreign ids are unknown", async () => {
    const one = new TaskManager();
    const two = new TaskManager();
    one.register("x", async () => 1);
    two.register("x", async () => 2);
    const a = await one.submit("x");
    const b = await two.submit("x");
    expect(a.id).not.toBe(b.id);
    expect((await one.get(a.id))?.id).toBe(a.id);
    expect(await one.get(b.id)).toBeUndefined();
    expect(await one.cancel(b.id)).toBe(false);
    await Promise.all([one.stopGraceful(), two.stopGraceful()]);
  });

  it("a custom createId is used and looked up as given", async () => {
    let n = 0;
    const mill = new TaskManager({ createId: () => `job-${++n}` });
    mill.register("x", async () => "ok");
    const task = await mill.submit("x");
    expect(task.id).toBe("job-1");
    expect((await mill.get("job-1"))?.status).toBeDefined();
    expect(await mill.get("job-2")).toBeUndefined();
    await mill.stopGraceful();
  });
});
