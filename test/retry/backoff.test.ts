import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { backoffDelay, type RetryPolicy } from "../../src/retry/backoff.js";

const policy = (overrides: Partial<RetryPolicy>): RetryPolicy => ({
  maxRetries: 10,
  backoff: "exponential",
  baseDelayMs: 100,
  maxDelayMs: 1_000_000,
  jitter: "none",
  ...overrides,
});
const never = () => {
  throw new Error("random must not be called with jitter none");
};

describe("backoffDelay", () => {
  it("fixed waits baseDelayMs every time", () => {
    const p = policy({ backoff: "fixed" });
    expect([1, 2, 3, 10].map((n) => backoffDelay(p, n, never))).toEqual([100, 100, 100, 100]);
  });

  it("linear grows by baseDelayMs per failed attempt", () => {
    const p = policy({ backoff: "linear" });
    expect([1, 2, 3, 4].map((n) => backoffDelay(p, n, never))).toEqual([100, 200, 300, 400]);
  });

  it("exponential doubles from baseDelayMs", () => {
    const p = policy({ backoff: "exponential" });
    expect([1, 2, 3, 4].map((n) => backoffDelay(p, n, never))).toEqual([100, 200, 400, 800]);
  });

  it("a custom function receives the failed attempt number", () => {
    const seen: number[] = [];
    const p = policy({
      backoff: (attempt) => {
        seen.push(attempt);
        return attempt * 7;
      },
    });
    expect([1, 2, 5].map((n) => backoffDelay(p, n, never))).toEqual([7, 14, 35]);
    expect(seen).toEqual([1, 2, 5]);
  });

  it("maxDelayMs caps every curve", () => {
    const cap = 250;
    expect(backoffDelay(policy({ maxDelayMs: cap }), 3, never)).toBe(250);
    expect(backoffDelay(policy({ backoff: "linear", maxDelayMs: cap }), 9, never)).toBe(250);
    expect(backoffDelay(policy({ backoff: () => 10_000, maxDelayMs: cap }), 1, never)).toBe(250);
  });

  it("stays finite and capped for huge attempt numbers", () => {
    expect(backoffDelay(policy({ maxDelayMs: 30_000 }), 5_000, never)).toBe(30_000);
  });

  it("a custom function returning garbage never yields a negative or NaN delay", () => {
    expect(backoffDelay(policy({ backoff: () => -50 }), 1, never)).toBe(0);
    expect(backoffDelay(policy({ backoff: () => Number.NaN, maxDelayMs: 900 }), 1, never)).toBe(
      900,
    );
  });

  it("full jitter picks random * delay", () => {
    const p = policy({ backoff: "fixed", baseDelayMs: 400, jitter: "full" });
    expect(backoffDelay(p, 1, () => 0.5)).toBe(200);
    expect(backoffDelay(p, 1, () => 0)).toBe(0);
    expect(backoffDelay(p, 1, () => 0.25)).toBe(100);
  });

  it("equal jitter picks delay/2 + random * delay/2", () => {
    const p = policy({ backoff: "fixed", baseDelayMs: 400, jitter: "equal" });
    expect(backoffDelay(p, 1, () => 0.5)).toBe(300);
    expect(backoffDelay(p, 1, () => 0)).toBe(200);
  });

  it("jitter applies after the cap, so it never exceeds maxDelayMs", () => {
    fc.assert(
      fc.property(
        fc.constantFrom<RetryPolicy["backoff"]>("fixed", "linear", "exponential"),
        fc.constantFrom<RetryPolicy["jitter"]>("none", "full", "equal"),
        fc.integer({ min: 0, max: 10_000 }),
        fc.integer({ min: 0, max: 50_000 }),
        fc.integer({ min: 1, max: 2_000 }),
        fc.double({ min: 0, max: 0.999_999, noNaN: true }),
        (backoff, jitter, baseDelayMs, maxDelayMs, attempt, r) => {
          const delay = backoffDelay(
            policy({ backoff, jitter, baseDelayMs, maxDelayMs }),
            attempt,
            () => r,
          );
          expect(delay).toBeGreaterThanOrEqual(0);
          expect(delay).toBeLessThanOrEqual(maxDelayMs);
          expect(Number.isFinite(delay)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });
});
