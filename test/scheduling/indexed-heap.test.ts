import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { IndexedHeap } from "../../src/scheduling/indexed-heap.js";

interface Item {
  key: number;
  index: number;
}

function heap() {
  return new IndexedHeap<Item>(
    (a, b) => a.key < b.key,
    (item, index) => {
      item.index = index;
    },
    (item) => item.index,
  );
}

describe("IndexedHeap", () => {
  it("pops in key order and removes any item by identity", () => {
    const h = heap();
    const items = [5, 1, 4, 2, 3].map((key) => ({ key, index: -1 }));
    for (const item of items) h.push(item);
    expect(h.remove(items[3] as Item)).toBe(true); // key 2
    expect(h.remove(items[3] as Item)).toBe(false);
    expect(h.has(items[3] as Item)).toBe(false);
    const keys: number[] = [];
    for (let item = h.pop(); item !== undefined; item = h.pop()) keys.push(item.key);
    expect(keys).toEqual([1, 3, 4, 5]);
    expect(h.size).toBe(0);
  });

  it("matches a sorted model under random push, pop and remove", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.record({ op: fc.constant("push" as const), key: fc.integer({ min: 0, max: 50 }) }),
            fc.record({ op: fc.constant("pop" as const) }),
            fc.record({ op: fc.constant("remove" as const), pick: fc.nat() }),
          ),
          { maxLength: 200 },
        ),
        (ops) => {
          const h = heap();
          const model: Item[] = [];
          for (const step of ops) {
            if (step.op === "push") {
              const item = { key: step.key, index: -1 };
              h.push(item);
              model.push(item);
            } else if (step.op === "pop") {
              const min = Math.min(...model.map((item) => item.key));
              const popped = h.pop();
              if (model.length === 0) expect(popped).toBeUndefined();
              else {
                expect(popped?.key).toBe(min);
                model.splice(model.indexOf(popped as Item), 1);
              }
            } else if (model.length > 0) {
              const victim = model.splice(step.pick % model.length, 1)[0] as Item;
              expect(h.remove(victim)).toBe(true);
              expect(victim.index).toBe(-1);
            }
            expect(h.size).toBe(model.length);
            for (const item of model) expect(h.has(item)).toBe(true);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
