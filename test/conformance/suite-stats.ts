/**
 * `sharedStats()`: the store's figures, in every store. Outcome totals count each outcome once
 * (retries separately), and the dead letters and waiting tasks are what the store holds.
 */
import { describe, expect, it } from "vitest";
import { type SuiteContext, waitFor, waitForStatus } from "./support.js";

export function statsSuite(ctx: SuiteContext): void {
  describe("shared stats", () => {
    it("sharedStats() counts outcomes once each and shows the store's dead letters and delayed tasks", async () => {
      const mill = ctx.manager();
      mill.register("ok", (n: number) => n);
      mill.register("bad", () => {
        throw new Error("bad");
      });
      let flaky = 0;
      mill.register(
        "flaky",
        () => {
          flaky++;
          if (flaky === 1) throw new Error("once");
          return "ok";
        },
        { retry: { maxRetries: 1, backoff: "fixed", baseDelayMs: 10, jitter: "none" } },
      );
      const ok = [await mill.submit("ok", 1), await mill.submit("ok", 2)];
      const bad = await mill.submit("bad");
      const retried = await mill.submit("flaky");
      for (const task of ok) await waitForStatus(mill, task.id, "succeeded");
      await waitForStatus(mill, bad.id, "failed");
      await waitForStatus(mill, retried.id, "succeeded");
      await mill.submit("ok", 3, { delayMs: 60_000 });
      // Durable outcomes are written by the outcome writer: wait until the store has them all.
      await waitFor(async () => (await mill.sharedStats()).succeeded === 3, 5_000, "3 succeeded");
      const stats = await mill.sharedStats();
      expect(stats).toMatchObject({
        succeeded: 3,
        failed: 1,
        cancelled: 0,
        expired: 0,
        retried: 1,
        deadLetters: 1,
        waiting: 1,
        running: 0,
        queued: 0,
      });
      expect(stats.deadLetters).toBe((await mill.dlq.list()).tasks.length);
    });
  });
}
