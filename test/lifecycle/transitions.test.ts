import { describe, expect, it } from "vitest";
import { ALLOWED_TRANSITIONS, isTerminal, type TaskStatus } from "../../src/lifecycle/states.js";
import { reopenFailed, transition } from "../../src/lifecycle/transitions.js";
import { record } from "../support/record.js";

const ALL: TaskStatus[] = [
  "waiting",
  "scheduled",
  "queued",
  "running",
  "retrying",
  "succeeded",
  "failed",
  "cancelled",
  "expired",
];
const TERMINAL: TaskStatus[] = ["succeeded", "failed", "cancelled", "expired"];

/**
 * The lifecycle as SPEC.md draws it; the table in states.ts must match it exactly.
 * `queued`/`retrying` -> `failed` is the durable stores' poison rule ("a task delivered too
 * often goes to the dead-letter queue"), dead-lettered at its next claim.
 */
const EXPECTED: Record<TaskStatus, TaskStatus[]> = {
  // A flow node waits for its dependencies; "cancel" dependents of a failed one end cancelled.
  waiting: ["queued", "scheduled", "cancelled", "expired"],
  scheduled: ["queued", "cancelled", "expired"],
  queued: ["running", "cancelled", "expired", "failed"],
  running: ["succeeded", "failed", "retrying", "cancelled"],
  retrying: ["running", "cancelled", "failed"],
  succeeded: [],
  failed: [],
  cancelled: [],
  expired: [],
};

/** A record forced into `status` (tests only; the engine goes through transition()). */
function at(status: TaskStatus) {
  const r = record();
  r.status = status;
  return r;
}

describe("transition table", () => {
  it("matches the lifecycle of the spec, move by move", () => {
    for (const from of ALL)
      for (const to of ALL) {
        const r = at(from);
        const allowed = transition(r, to, 5);
        expect({ from, to, allowed }).toEqual({ from, to, allowed: EXPECTED[from].includes(to) });
        expect(r.status).toBe(allowed ? to : from);
      }
    expect(ALLOWED_TRANSITIONS).toEqual(EXPECTED);
  });

  it("never leaves a terminal state", () => {
    for (const from of TERMINAL) {
      expect(isTerminal(from)).toBe(true);
      for (const to of ALL) {
        const r = at(from);
        r.finishedAt = 42;
        expect(transition(r, to, 100)).toBe(false);
        expect(r.status).toBe(from);
        expect(r.finishedAt).toBe(42);
      }
    }
  });

  it("refuses to start a task twice", () => {
    const r = record();
    expect(r.status).toBe("queued");
    expect(transition(r, "running", 1)).toBe(true);
    expect(transition(r, "running", 2)).toBe(false);
    expect(r.status).toBe("running");
  });

  it("a delayed task is scheduled and must become queued before it can run", () => {
    const r = record({ runAt: 500 });
    expect(r.status).toBe("scheduled");
    expect(transition(r, "running", 500)).toBe(false);
    expect(transition(r, "queued", 500)).toBe(true);
    expect(transition(r, "running", 500)).toBe(true);
  });

  it("allows exactly one terminal transition", () => {
    for (const first of ["succeeded", "failed", "cancelled"] as const) {
      const r = at("running");
      expect(transition(r, first, 10)).toBe(true);
      const refused = TERMINAL.filter((to) => transition(r, to, 20));
      expect(refused).toEqual([]);
      expect(r.status).toBe(first);
    }
  });

  it("stamps finishedAt and clears runAt on a terminal move only", () => {
    const r = record({ runAt: 300 });
    transition(r, "queued", 300);
    expect(r.finishedAt).toBeUndefined();
    r.runAt = 900;
    transition(r, "cancelled", 310);
    expect(r.finishedAt).toBe(310);
    expect(r.runAt).toBeUndefined();
  });

  it("reopenFailed re-opens only a failed task (DLQ replay)", () => {
    for (const status of ALL) {
      const r = at(status);
      r.error = new Error("x");
      const reopened = reopenFailed(r);
      expect(reopened).toBe(status === "failed");
      expect(r.status).toBe(status === "failed" ? "queued" : status);
      if (reopened) expect(r.error).toBeUndefined();
    }
  });
});
