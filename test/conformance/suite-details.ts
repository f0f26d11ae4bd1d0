/**
 * What `get()` shows of one task, the same in every store: its payload and its last error's
 * stack (for code and, behind the admin opt-in, operators); lists leave both out.
 */
import { describe, expect, it } from "vitest";
import { type SuiteContext, snapshotOf, waitForStatus } from "./support.js";

export function detailsSuite(ctx: SuiteContext): void {
  describe("task details", () => {
    it("get() returns the payload and the error's stack; list() and dlq.list() do not", async () => {
      const mill = ctx.manager();
      mill.register("charge", (payload: { amount: number }) => {
        throw new Error(`declined ${payload.amount}`);
      });
      const task = await mill.submit("charge", { amount: 42, card: { last4: "4242" } });
      await waitForStatus(mill, task.id, "failed");
      const snapshot = await snapshotOf(mill, task.id);
      expect(snapshot.payload).toEqual({ amount: 42, card: { last4: "4242" } });
      expect(snapshot.error).toMatchObject({ name: "Error", message: "declined 42" });
      // The stack names the frame that threw: it was recorded where the handler ran.
      expect(snapshot.error?.stack).toMatch(/^Error: declined 42\n\s+at /);
      const listed = (await mill.list({ name: "charge" })).tasks.find((t) => t.id === task.id);
      expect(listed?.status).toBe("failed");
      expect(listed).not.toHaveProperty("payload");
      expect(listed?.error).not.toHaveProperty("stack");
      const dead = (await mill.dlq.list({ name: "charge" })).tasks.find((t) => t.id === task.id);
      expect(dead).toBeDefined();
      expect(dead).not.toHaveProperty("payload");
      expect(dead?.error).not.toHaveProperty("stack");
    });

    it("results and events carry no stack (they reach every subscriber)", async () => {
      const mill = ctx.manager();
      mill.register("boom", () => {
        throw new Error("boom");
      });
      const failed: unknown[] = [];
      mill.on("failed", (event) => failed.push(event.error));
      const sub = mill.subscribeResults();
      const task = await mill.submit("boom", { secret: "s3cr3t" });
      for await (const result of sub) {
        if (result.id !== task.id) continue;
        expect(result.error).toMatchObject({ message: "boom" });
        expect(result.error).not.toHaveProperty("stack");
        expect(JSON.stringify(result)).not.toContain("s3cr3t");
        break;
      }
      sub.unsubscribe();
      await waitForStatus(mill, task.id, "failed");
      expect(failed).toHaveLength(1);
      expect(failed[0]).not.toHaveProperty("stack");
    });
  });
}
