import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  createBucket,
  msUntilToken,
  refill,
  type TokenBucketConfig,
  tryTake,
} from "../../src/scheduling/token-bucket.js";

/** Takes every whole token available at `now`; returns how many. */
function drain(state: ReturnType<typeof createBucket>, config: TokenBucketConfig, now: number) {
  let taken = 0;
  while (tryTake(state, config, now)) taken++;
  return taken;
}

describe("token bucket", () => {
  it("starts full: exactly `burst` tokens at once", () => {
    const config = { perSecond: 10, burst: 3 };
    const bucket = createBucket(config, 1_000);
    expect(drain(bucket, config, 1_000)).toBe(3);
    expect(tryTake(bucket, config, 1_000)).toBe(false);
  });

  it("refills at perSecond", () => {
    const config = { perSecond: 4, burst: 1 };
    const bucket = createBucket(config, 0);
    expect(tryTake(bucket, config, 0)).toBe(true);
    expect(tryTake(bucket, config, 249)).toBe(false);
    expect(tryTake(bucket, config, 250)).toBe(true);
    expect(tryTake(bucket, config, 499)).toBe(false);
    expect(tryTake(bucket, config, 500)).toBe(true);
  });

  it("never holds more than burst, however long it idles", () => {
    const config = { perSecond: 100, burst: 5 };
    const bucket = createBucket(config, 0);
    drain(bucket, config, 0);
    refill(bucket, config, 3_600_000);
    expect(bucket.tokens).toBe(5);
    expect(drain(bucket, config, 3_600_000)).toBe(5);
  });

  it("does not lose tokens when time goes backwards", () => {
    const config = { perSecond: 1, burst: 2 };
    const bucket = createBucket(config, 10_000);
    expect(tryTake(bucket, config, 10_000)).toBe(true);
    expect(tryTake(bucket, config, 9_000)).toBe(true);
    expect(tryTake(bucket, config, 9_000)).toBe(false);
  });

  it("msUntilToken is 0 with a token and the exact wait without", () => {
    const config = { perSecond: 2, burst: 1 };
    const bucket = createBucket(config, 0);
    expect(msUntilToken(bucket, config, 0)).toBe(0);
    tryTake(bucket, config, 0);
    expect(msUntilToken(bucket, config, 0)).toBe(500);
    expect(msUntilToken(bucket, config, 200)).toBeCloseTo(300, 9);
    // Waiting exactly that long yields a token.
    expect(tryTake(bucket, config, 500)).toBe(true);
  });

  it("handles fractional rates: 0.5/s gives a token every 2 s", () => {
    const config = { perSecond: 0.5, burst: 1 };
    const bucket = createBucket(config, 0);
    expect(tryTake(bucket, config, 0)).toBe(true);
    expect(msUntilToken(bucket, config, 0)).toBe(2_000);
    expect(tryTake(bucket, config, 1_999)).toBe(false);
    expect(tryTake(bucket, config, 2_000)).toBe(true);
  });

  it("taking at msUntilToken never fails despite floating-point dust", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1_000 }),
        fc.integer({ min: 1, max: 10 }),
        fc.array(fc.integer({ min: 0, max: 50 }), { maxLength: 30 }),
        (perSecond, burst, gaps) => {
          const config = { perSecond: perSecond / 7, burst };
          const bucket = createBucket(config, 0);
          let now = 0;
          drain(bucket, config, now);
          for (const gap of gaps) {
            now += msUntilToken(bucket, config, now) + gap;
            expect(tryTake(bucket, config, now)).toBe(true);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it("never lets more than burst + perSecond * t / 1000 tokens out in any window", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 1, max: 8 }),
        fc.array(fc.integer({ min: 0, max: 300 }), { minLength: 1, maxLength: 80 }),
        (perSecond, burst, steps) => {
          const config = { perSecond, burst };
          const bucket = createBucket(config, 0);
          const takes: number[] = [];
          let now = 0;
          for (const step of steps) {
            now += step;
            for (let i = drain(bucket, config, now); i > 0; i--) takes.push(now);
          }
          for (let i = 0; i < takes.length; i++)
            for (let j = i; j < takes.length; j++) {
              const window = (takes[j] as number) - (takes[i] as number);
              expect(j - i + 1).toBeLessThanOrEqual(burst + (perSecond * window) / 1000 + 1e-6);
            }
        },
      ),
      { numRuns: 200 },
    );
  });
});
