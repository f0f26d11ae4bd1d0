import { InvalidArgumentError, InvalidOptionError } from "taskmill";
import { describe, expect, it } from "vitest";
import { resolveRate } from "../src/options.js";
import { resolveStoreOptions } from "../src/stores/redis/options.js";
import {
  requireInteger,
  requireIntegerIn,
  requireNonNegative,
  requireNumber,
  requirePositive,
  resolvePageLimit,
} from "../src/validation.js";

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected a throw");
}

describe("value checks", () => {
  it("throw InvalidArgumentError by default and the given error class otherwise", () => {
    const argument = thrown(() => requireInteger("count", 0, 1)) as InvalidArgumentError;
    expect(argument).toBeInstanceOf(InvalidArgumentError);
    expect(argument.argument).toBe("count");
    expect(argument.message).toBe('Argument "count" must be an integer >= 1 (got 0)');
    const option = thrown(() =>
      requireInteger("concurrency", 0, 1, InvalidOptionError),
    ) as InvalidOptionError;
    expect(option).toBeInstanceOf(InvalidOptionError);
    expect(option.option).toBe("concurrency");
    expect(option.requirement).toBe("must be an integer >= 1");
  });

  it.each([
    ["a fraction", 1.5],
    ["NaN", Number.NaN],
    ["Infinity", Number.POSITIVE_INFINITY],
    ["beyond the safe integers", 2 ** 53],
    ["a numeric string", "4"],
    ["below the minimum", -1],
  ])("requireInteger refuses %s", (_, value) => {
    expect(() => requireInteger("n", value, 0)).toThrow(InvalidArgumentError);
  });

  it("word each rule the same way wherever it is used", () => {
    const requirement = (fn: () => void) => (thrown(fn) as InvalidOptionError).requirement;
    const o = InvalidOptionError;
    expect(requirement(() => requireIntegerIn("port", 70_000, 0, 65_535, o))).toBe(
      "must be an integer from 0 to 65535",
    );
    expect(requirement(() => requireNumber("priority", Number.NaN, -Infinity, o))).toBe(
      "must be a finite number",
    );
    expect(requirement(() => requireNumber("n", -1, 0, o))).toBe("must be a finite number >= 0");
    expect(requirement(() => requireNonNegative("delayMs", -1, o))).toBe(
      "must be a finite number >= 0",
    );
    expect(requirement(() => requirePositive("perSecond", 0, o))).toBe(
      "must be a finite number > 0",
    );
  });

  it("accepts what the rules allow", () => {
    expect(() => requireInteger("n", 0, 0)).not.toThrow();
    expect(() => requireIntegerIn("n", 10_000, 1, 10_000)).not.toThrow();
    expect(() => requireNumber("n", -5.5, Number.NEGATIVE_INFINITY)).not.toThrow();
    expect(() => requireNonNegative("n", 0)).not.toThrow();
    expect(() => requirePositive("n", 0.001)).not.toThrow();
  });

  it("resolvePageLimit defaults to 100 and allows 1 to 10000", () => {
    expect(resolvePageLimit(undefined)).toBe(100);
    expect(resolvePageLimit(10_000)).toBe(10_000);
    const error = thrown(() => resolvePageLimit(0)) as InvalidArgumentError;
    expect(error.argument).toBe("limit");
    expect(error.message).toContain("must be an integer from 1 to 10000");
  });
});

describe("rate options: one rule for the manager's rate and the store's globalRate", () => {
  it("names the option path it was given", () => {
    const manager = thrown(() => resolveRate("rate", { perSecond: 0 }, 8)) as InvalidOptionError;
    const store = thrown(() =>
      resolveStoreOptions({ globalRate: { perSecond: 0 } }),
    ) as InvalidOptionError;
    expect(manager.option).toBe("rate.perSecond");
    expect(store.option).toBe("backend.globalRate.perSecond");
    expect(store.requirement).toBe(manager.requirement);
    const burst = thrown(() =>
      resolveStoreOptions({ globalRate: { perSecond: 5, burst: 0 } }),
    ) as InvalidOptionError;
    expect(burst.option).toBe("backend.globalRate.burst");
  });

  it("defaults the burst to min(concurrency, perSecond) for the manager and 1 for the store", () => {
    expect(resolveRate("rate", { perSecond: 10 }, 4)).toEqual({ perSecond: 10, burst: 4 });
    expect(resolveStoreOptions({ globalRate: { perSecond: 10 } }).globalRate).toEqual({
      perSecond: 10,
      burst: 1,
    });
  });

  it("shares the finished-record retention default between the manager and the store", () => {
    expect(resolveStoreOptions().retention).toEqual({ ttlMs: 3_600_000, maxEntries: 10_000 });
  });
});
