/**
 * `backend.globalRate` in the sharded layout: the bucket lives in the control shard and is
 * taken from in its own small script (`lua/rate-take-1.lua`) BEFORE a step claims from the task
 * shards, so no script spans two slots. A step claims at most the tokens it took; what it did
 * not use is given back at once, so the bucket admits exactly the claims made.
 */
import type { TokenBucketConfig } from "../../../scheduling/token-bucket.js";
import type { StepResult } from "../../durable-types.js";
import { UnexpectedReplyError } from "../errors.js";
import type { RedisStore } from "../redis-store.js";
import { runScript } from "../scripts.js";

export class GlobalRate {
  readonly #control: RedisStore;
  readonly #rate: TokenBucketConfig;
  readonly #now: (() => number) | undefined;

  /** @param now the bucket's clock in ms (tests); Redis time when absent */
  constructor(control: RedisStore, rate: TokenBucketConfig, now?: () => number) {
    this.#control = control;
    this.#rate = rate;
    this.#now = now;
  }

  /** Takes up to `want` tokens: how many it got, and ms until the next one when short. */
  async take(want: number): Promise<{ readonly taken: number; readonly waitMs: number }> {
    const [taken, waitMs] = await this.#call(want, "take");
    return { taken, waitMs };
  }

  /** Puts `count` unused tokens back (never above the burst). */
  async give(count: number): Promise<void> {
    if (count > 0) await this.#call(count, "give");
  }

  /** Takes tokens for up to `max` claims, runs the step with them, gives back the rest. */
  async around(max: number, run: (take: number) => Promise<StepResult>): Promise<StepResult> {
    const { taken, waitMs } = await this.take(max);
    let result: StepResult;
    try {
      result = await run(taken);
    } catch (error) {
      await this.give(taken).catch(() => {});
      throw error;
    }
    await this.give(taken - result.tasks.length);
    // Cut short by the bucket: tell the worker when the next token comes.
    const short = taken < max && result.tasks.length === taken;
    return short ? { ...result, rateWaitMs: Math.max(result.rateWaitMs, waitMs) } : result;
  }

  async #call(count: number, mode: "take" | "give"): Promise<[number, number]> {
    const reply = await runScript(
      this.#control.redis,
      "rateTake",
      [this.#control.keys.rate],
      [count, this.#rate.perSecond, this.#rate.burst, mode, this.#now?.() ?? ""],
    );
    if (!Array.isArray(reply) || reply.length !== 2)
      throw new UnexpectedReplyError("rateTake", reply);
    return [Number(reply[0]), Number(reply[1])];
  }
}
