/**
 * API being added now (SPEC "One engine, many stores"): `ctx.fence` and `mill.submitMany`.
 * Reached through the typed helpers of support.ts until the types have them.
 */
import { IdempotencyConflictError, InvalidArgumentError } from "taskmill";
import { describe, expect, it } from "vitest";
import { fenceOf, listAll, rejectionOf, type SuiteContext, submitMany } from "./support.js";

export function newApiSuite(ctx: SuiteContext): void {
  describe("ctx.fence", () => {
    it("ctx.fence: a number, strictly increasing across the attempts of one task and distinct between tasks", async () => {
      const mill = ctx.manager();
      const fences = new Map<string, unknown[]>();
      mill.register(
        "fenced",
        (_payload, c) => {
          fences.set(c.taskId, [...(fences.get(c.taskId) ?? []), fenceOf(c)]);
          if (c.attempt < 3) throw new Error(`attempt ${c.attempt}`);
          return c.attempt;
        },
        { retry: { maxRetries: 2, backoff: "fixed", baseDelayMs: 10, jitter: "none" } },
      );
      const a = await mill.submit("fenced");
      const b = await mill.submit("fenced");
      expect(await a.result()).toBe(3);
      expect(await b.result()).toBe(3);
      const all: unknown[] = [];
      for (const task of [a, b]) {
        const seen = fences.get(task.id) ?? [];
        expect(seen).toHaveLength(3);
        for (const fence of seen) expect(typeof fence).toBe("number");
        const numbers = seen as number[];
        for (let i = 1; i < numbers.length; i++)
          expect(numbers[i]).toBeGreaterThan(numbers[i - 1] as number);
        all.push(...numbers);
      }
      expect(new Set(all).size).toBe(all.length);
    });
  });

  describe("submitMany", () => {
    it("submitMany: returns the handles in order and each result is right", async () => {
      const mill = ctx.manager();
      mill.register("double", (n: number) => n * 2);
      mill.register("echo", (s: string) => s, { queue: "echoes" });
      const handles = await submitMany(mill, [
        { name: "double", payload: 1 },
        { name: "echo", payload: "x", options: { priority: 5 } },
        { name: "double", payload: 21, options: { idempotencyKey: "many:3" } },
      ]);
      expect(handles.map((handle) => handle.name)).toEqual(["double", "echo", "double"]);
      expect(handles[1]?.queue).toBe("echoes");
      expect(await Promise.all(handles.map((handle) => handle.result()))).toEqual([2, "x", 42]);
      expect(new Set(handles.map((handle) => handle.id)).size).toBe(3);
      expect((await mill.get(handles[1]?.id as string))?.priority).toBe(5);
      expect((await mill.get(handles[2]?.id as string))?.idempotencyKey).toBe("many:3");
      expect((await listAll(mill)).map((task) => task.id).sort()).toEqual(
        handles.map((handle) => handle.id).sort(),
      );
    });

    it("submitMany: all or nothing: an invalid item rejects with InvalidArgumentError and creates no task of the call", async () => {
      const mill = ctx.manager();
      let calls = 0;
      mill.register("job", () => {
        calls++;
      });
      const error = await rejectionOf(
        submitMany(mill, [
          { name: "job", payload: 1 },
          { name: "job", payload: 2, options: { priority: "x" } },
          { name: "job", payload: 3 },
        ]),
      );
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect(await listAll(mill)).toEqual([]);
      expect(calls).toBe(0);
    });

    it("submitMany: all or nothing: an idempotency conflict rejects and creates no task of the call", async () => {
      const mill = ctx.manager();
      mill.register("job", (n: number) => n);
      const holder = await mill.submit("job", 1, { idempotencyKey: "held", delayMs: 60_000 });
      const error = await rejectionOf(
        submitMany(mill, [
          { name: "job", payload: 10 },
          { name: "job", payload: 2, options: { idempotencyKey: "held" } },
          { name: "job", payload: 11, options: { delayMs: 60_000 } },
        ]),
      );
      expect(error).toBeInstanceOf(IdempotencyConflictError);
      expect((await listAll(mill)).map((task) => task.id)).toEqual([holder.id]);
    });
  });
}
