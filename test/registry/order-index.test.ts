import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { OrderIndex } from "../../src/registry/order-index.js";

describe("OrderIndex", () => {
  it("behaves like a Map kept in key order, under random sets and deletes", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), fc.nat({ max: 5_000 })), { maxLength: 400 }),
        (ops) => {
          const index = new OrderIndex<string>();
          const model = new Map<number, string>();
          for (const [isSet, key] of ops) {
            if (isSet) {
              index.set(key, `v${key}`);
              model.set(key, `v${key}`);
            } else {
              expect(index.delete(key)).toBe(model.delete(key));
            }
            expect(index.size).toBe(model.size);
            expect(index.get(key)).toBe(model.get(key));
          }
          expect([...index.values()]).toEqual(
            [...model.keys()].sort((a, b) => a - b).map((k) => `v${k}`),
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  it("frees chunks as they empty, so a sliding window stays small", () => {
    const index = new OrderIndex<number>();
    for (let key = 0; key < 100_000; key++) {
      index.set(key, key);
      if (key >= 100) index.delete(key - 100);
    }
    expect(index.size).toBe(100);
    expect(index.get(99_950)).toBe(99_950);
    expect(index.get(10)).toBeUndefined();
    expect([...index.values()]).toHaveLength(100);
  });

  it("accepts a key below everything it holds (a replayed old record)", () => {
    const index = new OrderIndex<string>();
    index.set(50_000, "new");
    index.set(3, "old");
    expect([...index.values()]).toEqual(["old", "new"]);
    expect(index.delete(50_000)).toBe(true);
    expect(index.get(3)).toBe("old");
  });
});
