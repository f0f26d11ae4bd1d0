/**
 * What survives the trip through a store, the same in every store: with `payloads: "json"`
 * payloads and results are JSON (a Date arrives as its ISO string), and a failed task's
 * rejection is the taskmill error class the handler threw (`instanceof` holds), with the
 * handler's message and stack.
 */
import { PermanentError, TaskFailedError, TaskmillError, TimeoutError } from "taskmill";
import { describe, expect, it } from "vitest";
import { rejectionOf, type SuiteContext } from "./support.js";

export function roundTripSuite(ctx: SuiteContext): void {
  describe("round trip", () => {
    it('payloads: "json": the handler gets JSON (a Date as its ISO string) and the result is JSON', async () => {
      const mill = ctx.manager({ payloads: "json" });
      const seen: unknown[] = [];
      mill.register("dates", (payload: { at: unknown; nested: { n: number } }) => {
        seen.push(payload);
        return { at: new Date(Date.UTC(2026, 0, 2)), skip: undefined, n: payload.nested.n };
      });
      const task = await mill.submit("dates", { at: new Date(0), nested: { n: 1 } });
      expect(await task.result()).toEqual({ at: "2026-01-02T00:00:00.000Z", n: 1 });
      expect(seen).toEqual([{ at: "1970-01-01T00:00:00.000Z", nested: { n: 1 } }]);
      // Not JSON: refused at submit, nothing created.
      const refused = await rejectionOf(mill.submit("dates", { m: new Map() }));
      expect(refused).toBeInstanceOf(TaskmillError);
      expect((refused as TaskmillError).code).toBe("ERR_INVALID_ARGUMENT");
    });

    it("a PermanentError thrown by a handler rejects result() as a PermanentError, message and stack kept", async () => {
      const mill = ctx.manager();
      mill.register("refuse", function refuseAccount() {
        throw new PermanentError("account closed");
      });
      const task = await mill.submit("refuse");
      const error = await rejectionOf(task.result());
      expect(error).toBeInstanceOf(PermanentError);
      expect(error).toMatchObject({
        name: "PermanentError",
        code: "ERR_PERMANENT",
        message: "account closed",
      });
      expect((error as Error).stack).toContain("refuseAccount");
    });

    it("a timed-out last attempt rejects result() as a TimeoutError", async () => {
      const mill = ctx.manager();
      mill.register(
        "slow",
        (_p, c) =>
          new Promise((_resolve, reject) => {
            c.signal.addEventListener("abort", () => reject(c.signal.reason));
          }),
        { timeoutMs: 30 },
      );
      const error = await rejectionOf((await mill.submit("slow")).result());
      expect(error).toBeInstanceOf(TimeoutError);
      expect(error).toMatchObject({ code: "ERR_TIMEOUT" });
    });

    it("a handler's own error class keeps its name, message and code in every store", async () => {
      class LedgerError extends Error {
        override name = "LedgerError";
        code = "E_LEDGER";
      }
      const mill = ctx.manager();
      mill.register("ledger", () => {
        throw new LedgerError("out of balance");
      });
      const error = await rejectionOf((await mill.submit("ledger")).result());
      expect(error).toBeInstanceOf(Error);
      // In process the error itself; from a store a TaskFailedError (the class stayed behind).
      if (error instanceof TaskFailedError)
        expect(error).toMatchObject({
          errorName: "LedgerError",
          errorCode: "E_LEDGER",
          message: "out of balance",
        });
      else expect(error).toBeInstanceOf(LedgerError);
    });
  });
}
