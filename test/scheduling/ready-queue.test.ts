import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { TaskRecord } from "../../src/lifecycle/task-record.js";
import { ReadyQueue } from "../../src/scheduling/ready-queue.js";
import { record } from "../support/record.js";

describe("ReadyQueue", () => {
  it("gives higher priority first and FIFO within a priority", () => {
    const queue = new ReadyQueue();
    const a = record({ priority: 0 });
    const b = record({ priority: 5 });
    const c = record({ priority: 0 });
    const d = record({ priority: 5 });
    const e = record({ priority: -1 });
    for (const [i, r] of [a, b, c, d, e].entries()) queue.push(r, i);
    expect(queue.depth).toBe(5);
    expect(queue.drain()).toEqual([b, d, a, c, e]);
    expect(queue.depth).toBe(0);
  });

  it("skips discarded (cancelled) entries and keeps depth exact", () => {
    const queue = new ReadyQueue();
    const records = [record(), record(), record()];
    for (const [i, r] of records.entries()) queue.push(r, i);
    queue.discard(records[0] as TaskRecord);
    queue.discard(records[0] as TaskRecord); // twice is harmless
    expect(queue.depth).toBe(2);
    expect(queue.peek()).toBe(records[1]);
    expect(queue.shift()).toBe(records[1]);
    expect(queue.shift()).toBe(records[2]);
    expect(queue.shift()).toBeUndefined();
  });

  it("stays correct through compaction of many discarded entries", () => {
    const queue = new ReadyQueue();
    const records = Array.from({ length: 5_000 }, (_, i) => record({ priority: i % 3 }));
    for (const [i, r] of records.entries()) queue.push(r, i);
    const kept = records.filter((_, i) => i % 5 === 0);
    for (const [i, r] of records.entries()) if (i % 5 !== 0) queue.discard(r);
    expect(queue.depth).toBe(kept.length);
    const expected = [...kept].sort((x, y) => y.priority - x.priority || x.readySeq - y.readySeq);
    expect(queue.drain()).toEqual(expected);
  });

  it("behaves like a sorted list under any mix of push, shift and discard", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.record({
              op: fc.constant("push" as const),
              priority: fc.integer({ min: -2, max: 2 }),
            }),
            fc.record({ op: fc.constant("shift" as const) }),
            fc.record({ op: fc.constant("discard" as const), pick: fc.nat() }),
          ),
          { maxLength: 200 },
        ),
        (ops) => {
          const queue = new ReadyQueue();
          let model: TaskRecord[] = [];
          let seq = 0;
          for (const step of ops) {
            if (step.op === "push") {
              const r = record({ priority: step.priority });
              queue.push(r, seq++);
              model.push(r);
              model.sort((x, y) => y.priority - x.priority || x.readySeq - y.readySeq);
            } else if (step.op === "shift") {
              expect(queue.shift()).toBe(model.shift());
            } else if (model.length > 0) {
              const victim = model[step.pick % model.length] as TaskRecord;
              queue.discard(victim);
              model = model.filter((r) => r !== victim);
            }
            expect(queue.depth).toBe(model.length);
            expect(queue.peek()).toBe(model[0]);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
