/**
 * `backend.globalRate` in the sharded layout: tokens are taken from the control shard's bucket
 * in their own script before the task shards are claimed from, and unused ones given back. With
 * an injected clock, the claims over a simulated run stay within 1% of the rate (plus burst).
 */
import { describe, expect, it } from "vitest";
import { GlobalRate } from "../../../../src/stores/redis/sharded/global-rate.js";
import { useRedis } from "../fixture.js";
import { shardedStore } from "./fixture.js";

const redis = useRedis();

describe("Redis sharded layout: the global rate", () => {
  it("admits perSecond * seconds + burst tokens over a simulated run, within 1%", async () => {
    const store = shardedStore(redis);
    let now = 1_000_000;
    const rate = new GlobalRate(store.control, { perSecond: 200, burst: 10 }, () => now);
    let taken = 0;
    // 10 simulated seconds, four workers asking for 8 each every 7 ms, some giving one back.
    for (let tick = 0; tick < 10_000 / 7; tick++) {
      now += 7;
      for (let worker = 0; worker < 4; worker++) {
        const got = (await rate.take(8)).taken;
        const unused = got > 0 && worker % 2 === 0 ? 1 : 0;
        await rate.give(unused);
        taken += got - unused;
      }
    }
    const expected = 200 * 10 + 10;
    expect(Math.abs(taken - expected) / expected).toBeLessThan(0.01);
  });

  it("caps a step's claims by the tokens taken and gives the unused back", async () => {
    const store = shardedStore(redis, { globalRate: { perSecond: 0.1, burst: 3 } });
    for (let n = 0; n < 2; n++) await store.enqueue({ name: "job", queue: "q", payload: n });
    // Two tasks ready, three tokens: two claimed, one given back.
    expect((await store.step([], ["q"], 5)).tasks).toHaveLength(2);
    for (let n = 0; n < 5; n++) await store.enqueue({ name: "job", queue: "q", payload: n });
    const next = await store.step([], ["q"], 5);
    expect(next.tasks).toHaveLength(1);
    expect(next.rateWaitMs).toBeGreaterThan(0);
    expect((await store.step([], ["q"], 5)).tasks).toHaveLength(0);
  });
});
