/**
 * A flow workload run straight against a durable store's port, shared by the stores' own
 * flow tests: every way a node leaves `waiting` (released to queued, released to scheduled,
 * cancelled by a failed dependency and in cascade, cancelled directly), with the outcomes each
 * claimed node carries. Returns what the test checks.
 */
import { randomUUID } from "node:crypto";
import { expect } from "vitest";
import type { FlowInput } from "../../src/stores/durable-flows.js";
import type { DurableStore } from "../../src/stores/durable-store.js";

export async function runFlowWorkload(store: DurableStore): Promise<void> {
  if (store.enqueueFlow === undefined || store.getFlow === undefined)
    throw new Error("the store keeps no flows");
  const id = (ref: string) => `${ref}-${randomUUID()}`;
  const ids = Object.fromEntries(["a", "b", "c", "d", "e", "f", "g"].map((r) => [r, id(r)]));
  const node = (
    ref: string,
    dependsOn: string[],
    dependents: string[],
    policy: "cancel" | "run" = "cancel",
    delayMs?: number,
  ) => ({
    task: {
      id: ids[ref] as string,
      name: "t",
      queue: "default",
      payload: ref,
      ...(delayMs === undefined ? {} : { delayMs }),
    },
    ref,
    dependsOn,
    dependents: dependents.map((r) => ids[r] as string),
    policy,
  });
  // a fails: b (cancel) and, in cascade, c are cancelled; d ("run", delayed) is scheduled.
  // e succeeds: f is queued and claimed with e's outcome. g waits on f and is cancelled.
  const flow: FlowInput = {
    id: `flow-${randomUUID()}`,
    kind: "flow",
    nodes: [
      node("a", [], ["b", "d"]),
      node("b", ["a"], ["c"]),
      node("c", ["b"], []),
      node("d", ["a"], [], "run", 60_000),
      node("e", [], ["f"]),
      node("f", ["e"], ["g"]),
      node("g", ["f"], [], "run"),
    ],
  };
  await store.enqueueFlow(flow);
  expect((await store.get(ids.b as string))?.status).toBe("waiting");
  const first = (await store.step([], ["default"], 10)).tasks;
  expect(first.map((t) => t.payload).sort()).toEqual(["a", "e"]);
  const a = first.find((t) => t.payload === "a");
  const e = first.find((t) => t.payload === "e");
  if (a === undefined || e === undefined) throw new Error("a and e were not claimed");
  await store.fail(a.id, a.token, new Error("a broke"));
  expect((await store.get(ids.b as string))?.status).toBe("cancelled");
  expect((await store.get(ids.c as string))?.status).toBe("cancelled");
  expect((await store.get(ids.d as string))?.status).toBe("scheduled");
  await store.ack(e.id, e.token, { made: "e" });
  const second = (await store.step([], ["default"], 10)).tasks;
  expect(second.map((t) => t.payload)).toEqual(["f"]);
  expect(second[0]?.dependencies).toEqual({ e: { status: "succeeded", value: { made: "e" } } });
  expect((await store.cancel(ids.g as string)).cancelled).toBe(true);
  await store.ack(second[0]?.id as string, second[0]?.token as string);
  const stored = await store.getFlow(flow.id);
  expect(stored?.done).toBe(false); // d is still scheduled
  expect(Object.fromEntries(stored?.nodes.map((n) => [n.ref, n.status]) ?? [])).toEqual({
    a: "failed",
    b: "cancelled",
    c: "cancelled",
    d: "scheduled",
    e: "succeeded",
    f: "succeeded",
    g: "cancelled",
  });
  expect(stored?.nodes.find((n) => n.ref === "b")?.outcome?.error?.message).toContain('"a"');
  await store.cancel(ids.d as string);
  expect((await store.getFlow(flow.id))?.done).toBe(true);
}

/** The moves a flow must make: every way out of `waiting`, and in. */
export const FLOW_MOVES = [
  "waiting -> cancelled",
  "waiting -> queued",
  "waiting -> scheduled",
] as const;

/** A flow of one node, run to its end; resolves with the flow's id. */
async function oneNodeFlow(store: DurableStore): Promise<string> {
  const flowId = `flow-${randomUUID()}`;
  await store.enqueueFlow?.({
    id: flowId,
    kind: "flow",
    nodes: [
      {
        task: { id: randomUUID(), name: "t", queue: "default" },
        ref: "only",
        dependsOn: [],
        dependents: [],
        policy: "cancel",
      },
    ],
  });
  const [task] = (await store.step([], ["default"], 1)).tasks;
  if (task === undefined) throw new Error("the flow's node was not claimed");
  await store.ack(task.id, task.token);
  return flowId;
}

/**
 * Retention of ended flows: with `retention.ttlMs` 1, a flow that ended is deleted when a later
 * flow ends (the store must have been opened with that retention). A store whose flows expire
 * by the server's own timer (Redis PEXPIRE) is opened with a longer ttlMs, so the first read
 * cannot race the expiry, and passes a wait (waitMs) longer than it.
 */
export async function checkFlowRetention(store: DurableStore, waitMs = 20): Promise<void> {
  const first = await oneNodeFlow(store);
  expect((await store.getFlow?.(first))?.done).toBe(true);
  await new Promise((resolve) => setTimeout(resolve, waitMs));
  const second = await oneNodeFlow(store);
  expect(await store.getFlow?.(first)).toBeUndefined();
  expect((await store.getFlow?.(second))?.done).toBe(true);
}
