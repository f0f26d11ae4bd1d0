/**
 * The flow property, shared by the memory and Redis property tests: random DAGs of up to 50
 * nodes whose handlers succeed, fail, time out or cancel themselves, checked against the
 * invariants of the issue "Flows and batches":
 * - every node reaches a terminal state (the flow's result resolves);
 * - no node starts before all its dependencies have ended;
 * - a "cancel" dependent of a node that did not succeed ends cancelled and never runs;
 * - ctx.dependencies holds exactly the node's dependencies, with their final outcomes.
 */
import fc from "fast-check";
import type { DependencyOutcome, FlowNode, TaskContext, TaskManager, TaskSnapshot } from "taskmill";
import { expect } from "vitest";

export type Behaviour = "ok" | "fail" | "timeout" | "cancel";

export interface NodeSpec {
  readonly dependsOn: readonly number[];
  readonly behaviour: Behaviour;
  readonly policy: "cancel" | "run";
}

/** Random DAGs: node i may depend on nodes after it in the list (the order given is shuffled). */
export const dagArb: fc.Arbitrary<NodeSpec[]> = fc
  .integer({ min: 1, max: 50 })
  .chain((n) =>
    fc.tuple(
      fc.array(
        fc.record({
          deps: fc.uniqueArray(fc.integer({ min: 0, max: n - 1 }), { maxLength: 4 }),
          behaviour: fc.constantFrom<Behaviour>("ok", "ok", "ok", "fail", "timeout", "cancel"),
          policy: fc.constantFrom<"cancel" | "run">("cancel", "run"),
        }),
        { minLength: n, maxLength: n },
      ),
    ),
  )
  .map(([raw]) =>
    raw.map((node, i) => ({
      // Only later nodes: always acyclic; listed in reverse, so dependents come first.
      dependsOn: node.deps.filter((d) => d > i),
      behaviour: node.behaviour,
      policy: node.policy,
    })),
  );

const TERMINAL = new Set(["succeeded", "failed", "cancelled", "expired"]);

/**
 * Registers the "node" handler on `mill`, submits `specs` as one flow and checks the
 * invariants. `mill` must allow retries of at most 0 (a timeout or failure is final).
 */
export async function checkFlow(mill: TaskManager, specs: readonly NodeSpec[]): Promise<void> {
  const ended = new Map<string, string>(); // task id -> terminal status, from events
  const started: string[] = [];
  const violations: string[] = [];
  const seen = new Map<string, Readonly<Record<string, DependencyOutcome>>>();

  for (const event of ["succeeded", "failed", "cancelled", "expired"] as const)
    mill.on(event, ({ task }) => ended.set(task.id, event));
  mill.register(
    "node",
    async (payload: { ref: string; behaviour: Behaviour; deps: string[] }, ctx: TaskContext) => {
      started.push(payload.ref);
      seen.set(payload.ref, ctx.dependencies);
      if (payload.behaviour === "fail") throw new Error(`${payload.ref} failed`);
      if (payload.behaviour === "timeout" || payload.behaviour === "cancel") {
        if (payload.behaviour === "cancel") void mill.cancel(ctx.taskId);
        await new Promise((_resolve, reject) => {
          if (ctx.signal.aborted) reject(ctx.signal.reason);
          ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason), { once: true });
        });
      }
      return payload.ref;
    },
    { timeoutMs: 10_000 },
  );
  const nodes: FlowNode[] = specs.map((spec, i) => ({
    ref: `n${i}`,
    name: "node",
    payload: {
      ref: `n${i}`,
      behaviour: spec.behaviour,
      deps: spec.dependsOn.map((d) => `n${d}`),
    },
    dependsOn: spec.dependsOn.map((d) => `n${d}`),
    onDependencyFailure: spec.policy,
    options: spec.behaviour === "timeout" ? { timeoutMs: 20 } : undefined,
  }));
  const flow = await mill.submitFlow(nodes);
  const result = await flow.result();
  // The store's own times: a node's first start is not before any dependency's end.
  const snapshots = new Map<string, TaskSnapshot>();
  for (const [ref, handle] of Object.entries(flow.tasks)) {
    const snapshot = await mill.get(handle.id);
    if (snapshot !== undefined) snapshots.set(ref, snapshot);
  }
  specs.forEach((spec, i) => {
    const startedAt = snapshots.get(`n${i}`)?.startedAt;
    if (startedAt === undefined) return;
    for (const dep of spec.dependsOn) {
      const finishedAt = snapshots.get(`n${dep}`)?.finishedAt;
      if (finishedAt === undefined || startedAt < finishedAt)
        violations.push(`n${i} started (${startedAt}) before n${dep} ended (${finishedAt})`);
    }
  });
  expect(violations).toEqual([]);
  specs.forEach((spec, i) => {
    const ref = `n${i}`;
    const outcome = result[ref];
    expect(outcome, ref).toBeDefined();
    expect(TERMINAL.has(outcome?.status as string), ref).toBe(true);
    const failedDeps = spec.dependsOn.filter((d) => result[`n${d}`]?.status !== "succeeded");
    const ran = started.includes(ref);
    if (spec.policy === "cancel" && failedDeps.length > 0) {
      expect(outcome?.status, `${ref} (a dependency failed)`).toBe("cancelled");
      expect(ran, `${ref} must never run`).toBe(false);
    }
    if (ran) {
      const deps = seen.get(ref) ?? {};
      expect(Object.keys(deps).sort(), ref).toEqual(spec.dependsOn.map((d) => `n${d}`).sort());
      for (const d of spec.dependsOn) expect(deps[`n${d}`], ref).toEqual(result[`n${d}`]);
      const expected =
        spec.behaviour === "ok"
          ? "succeeded"
          : spec.behaviour === "cancel"
            ? "cancelled"
            : "failed";
      expect(outcome?.status, ref).toBe(expected);
    }
  });
  // Every node ended exactly once, as the events saw it too.
  for (const [ref, handle] of Object.entries(flow.tasks))
    expect(ended.get(handle.id), ref).toBe(result[ref]?.status);
  expect(started.length).toBe(new Set(started).size);
}
