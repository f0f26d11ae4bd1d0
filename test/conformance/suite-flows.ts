/**
 * Flows and batches (SPEC "Flows and batches"): nodes wait for their dependencies, see their
 * outcomes in `ctx.dependencies`, are cancelled or run per `onDependencyFailure`, a bad graph
 * creates nothing, `cancel(flow.id)` ends every live node, and a batch's `then` runs once.
 */
import {
  CancelledError,
  type DependencyOutcome,
  type FlowNode,
  InvalidArgumentError,
  type TaskContext,
} from "taskmill";
import { describe, expect, it } from "vitest";
import {
  listAll,
  rejectionOf,
  type SuiteContext,
  statusOf,
  waitFor,
  waitForStatus,
} from "./support.js";

/** What a handler of these tests is told to do, by payload. */
interface Step {
  readonly label: string;
  readonly fail?: boolean;
}

export function flowsSuite(ctx: SuiteContext): void {
  describe("flows and batches", () => {
    /** A manager whose "step" handler records what it saw and fails when told to. */
    function millWithSteps(concurrency = 4) {
      const mill = ctx.manager({ concurrency });
      const seen = new Map<string, Readonly<Record<string, DependencyOutcome>>>();
      const order: string[] = [];
      mill.register("step", async (step: Step, c: TaskContext) => {
        order.push(step.label);
        seen.set(step.label, c.dependencies);
        if (step.fail === true) throw new Error(`${step.label} failed`);
        return `${step.label}:done`;
      });
      return { mill, seen, order };
    }

    const node = (ref: string, extra: Partial<FlowNode> & { fail?: boolean } = {}): FlowNode => {
      const { fail, ...rest } = extra;
      return { ref, name: "step", payload: { label: ref, fail }, ...rest };
    };

    it("runs a node only after all its dependencies ended, with their outcomes in ctx.dependencies", async () => {
      const { mill, seen, order } = millWithSteps();
      const flow = await mill.submitFlow([
        node("fetch"),
        node("thumb", { dependsOn: ["fetch"] }),
        node("large", { dependsOn: ["fetch"] }),
        node("notify", { dependsOn: ["thumb", "large"], onDependencyFailure: "run" }),
      ]);
      expect(Object.keys(flow.tasks).sort()).toEqual(["fetch", "large", "notify", "thumb"]);
      const result = await flow.result();
      expect(result).toEqual({
        fetch: { status: "succeeded", value: "fetch:done" },
        thumb: { status: "succeeded", value: "thumb:done" },
        large: { status: "succeeded", value: "large:done" },
        notify: { status: "succeeded", value: "notify:done" },
      });
      expect(order[0]).toBe("fetch");
      expect(order[3]).toBe("notify");
      expect(seen.get("fetch")).toEqual({});
      expect(seen.get("thumb")).toEqual({ fetch: { status: "succeeded", value: "fetch:done" } });
      expect(seen.get("notify")).toEqual({
        thumb: { status: "succeeded", value: "thumb:done" },
        large: { status: "succeeded", value: "large:done" },
      });
      expect(await flow.tasks.notify?.result()).toBe("notify:done");
    });

    it("a node waits in status waiting until its dependency ended", async () => {
      const mill = ctx.manager({ concurrency: 2 });
      const gate = ctx.gate();
      mill.register("slow", async () => {
        await gate.promise;
        return 1;
      });
      mill.register("after", async (_p: unknown, c: TaskContext) => c.dependencies);
      const flow = await mill.submitFlow([
        { ref: "a", name: "slow" },
        { ref: "b", name: "after", dependsOn: ["a"] },
      ]);
      const a = flow.tasks.a?.id as string;
      const b = flow.tasks.b?.id as string;
      await waitForStatus(mill, a, "running");
      expect(await statusOf(mill, b)).toBe("waiting");
      expect((await flow.status()).done).toBe(false);
      gate.resolve();
      expect(await flow.tasks.b?.result()).toEqual({ a: { status: "succeeded", value: 1 } });
      const status = await flow.status();
      expect(status.done).toBe(true);
      expect(status.nodes.map((n) => [n.ref, n.status])).toEqual([
        ["a", "succeeded"],
        ["b", "succeeded"],
      ]);
    });

    it('a "cancel" dependent of a failed node ends cancelled naming it, and never runs; "run" dependents run and see the failure', async () => {
      const { mill, seen, order } = millWithSteps();
      const flow = await mill.submitFlow([
        node("a", { fail: true }),
        node("b", { dependsOn: ["a"] }), // default "cancel"
        node("c", { dependsOn: ["b"] }), // cancelled in turn
        node("d", { dependsOn: ["c"], onDependencyFailure: "run" }), // runs, sees c cancelled
        node("e", { dependsOn: ["a"], onDependencyFailure: "run" }),
      ]);
      const result = await flow.result();
      expect(result.a?.status).toBe("failed");
      expect(result.a?.error?.message).toBe("a failed");
      expect(result.b?.status).toBe("cancelled");
      expect(result.b?.error?.message).toContain('"a"');
      expect(result.c?.status).toBe("cancelled");
      expect(result.c?.error?.message).toContain('"b"');
      expect(result.d).toEqual({ status: "succeeded", value: "d:done" });
      expect(result.e).toEqual({ status: "succeeded", value: "e:done" });
      expect(order.sort()).toEqual(["a", "d", "e"]);
      expect(seen.get("d")?.c?.status).toBe("cancelled");
      expect(seen.get("e")?.a?.status).toBe("failed");
      expect(seen.get("e")?.a?.error?.message).toBe("a failed");
      const rejection = await rejectionOf(flow.tasks.b?.result() as Promise<unknown>);
      if (ctx.differences.failureRejection === "thrown-error") {
        expect(rejection).toBeInstanceOf(CancelledError);
        expect((rejection as CancelledError).reason).toBe("dependency");
      }
    });

    it("an unknown ref, a duplicate ref or a cycle is an InvalidArgumentError naming it, and creates nothing", async () => {
      const { mill } = millWithSteps();
      const unknown = await rejectionOf(
        mill.submitFlow([node("a"), node("b", { dependsOn: ["nope"] })]),
      );
      expect(unknown).toBeInstanceOf(InvalidArgumentError);
      expect((unknown as Error).message).toContain('"nope"');
      expect((unknown as InvalidArgumentError).argument).toBe("nodes[1].dependsOn");
      const duplicate = await rejectionOf(mill.submitFlow([node("a"), node("a")]));
      expect(duplicate).toBeInstanceOf(InvalidArgumentError);
      expect((duplicate as Error).message).toContain('"a"');
      const cycle = await rejectionOf(
        mill.submitFlow([
          node("x"),
          node("a", { dependsOn: ["c", "x"] }),
          node("b", { dependsOn: ["a"] }),
          node("c", { dependsOn: ["b"] }),
        ]),
      );
      expect(cycle).toBeInstanceOf(InvalidArgumentError);
      expect((cycle as Error).message).toContain("a -> b -> c -> a");
      const self = await rejectionOf(mill.submitFlow([node("s", { dependsOn: ["s"] })]));
      expect((self as Error).message).toContain("s -> s");
      expect(await listAll(mill)).toEqual([]);
    });

    it("cancel(flow.id) cancels every node not yet ended, running ones included", async () => {
      const mill = ctx.manager({ concurrency: 2 });
      const started = ctx.gate();
      mill.register("hang", (_p: unknown, c: TaskContext) => {
        started.resolve();
        return new Promise((_resolve, reject) => {
          c.signal.addEventListener("abort", () => reject(c.signal.reason), { once: true });
        });
      });
      mill.register("quick", () => "ok");
      const flow = await mill.submitFlow([
        { ref: "q", name: "quick" },
        { ref: "h", name: "hang", dependsOn: ["q"] },
        { ref: "w1", name: "quick", dependsOn: ["h"], onDependencyFailure: "run" },
        { ref: "w2", name: "quick", dependsOn: ["w1"] },
      ]);
      await started.promise;
      await waitForStatus(mill, flow.tasks.h?.id as string, "running");
      expect(await mill.cancel(flow.id)).toBe(true);
      const result = await flow.result();
      expect(result.q).toEqual({ status: "succeeded", value: "ok" });
      expect(result.h?.status).toBe("cancelled");
      expect(result.w1?.status).toBe("cancelled");
      expect(result.w2?.status).toBe("cancelled");
      expect(await mill.cancel(flow.id)).toBe(false);
    });

    it("cancelling a waiting node cancels its cancel-dependents and releases its run-dependents", async () => {
      const mill = ctx.manager({ concurrency: 2 });
      const gate = ctx.gate();
      mill.register("slow", async () => {
        await gate.promise;
        return "slow";
      });
      mill.register("see", (_p: unknown, c: TaskContext) => Object.keys(c.dependencies));
      const flow = await mill.submitFlow([
        { ref: "a", name: "slow" },
        { ref: "b", name: "see", dependsOn: ["a"] },
        { ref: "c", name: "see", dependsOn: ["b"] },
        { ref: "d", name: "see", dependsOn: ["b"], onDependencyFailure: "run" },
      ]);
      await waitForStatus(mill, flow.tasks.b?.id as string, "waiting");
      expect(await mill.cancel(flow.tasks.b?.id as string)).toBe(true);
      gate.resolve();
      const result = await flow.result();
      expect(result.a?.status).toBe("succeeded");
      expect(result.b?.status).toBe("cancelled");
      expect(result.c?.status).toBe("cancelled");
      expect(result.d).toEqual({ status: "succeeded", value: ["b"] });
    });

    it("mill.flows.get(id) finds a flow; unknown ids give undefined", async () => {
      const { mill } = millWithSteps();
      const flow = await mill.submitFlow([node("one"), node("two", { dependsOn: ["one"] })]);
      await flow.result();
      const found = await mill.flows.get(flow.id);
      expect(found?.id).toBe(flow.id);
      const status = await found?.status();
      expect(status?.kind).toBe("flow");
      expect(status?.done).toBe(true);
      expect(status?.nodes.map((n) => [n.ref, n.status, n.dependsOn])).toEqual([
        ["one", "succeeded", []],
        ["two", "succeeded", ["one"]],
      ]);
      expect(await found?.result()).toEqual(await flow.result());
      expect(await mill.flows.get("flow-unknown")).toBeUndefined();
    });

    it("a batch reports progress, never rejects on partial failure, and runs then once with every outcome", async () => {
      const { mill, seen, order } = millWithSteps();
      const batch = await mill.submitBatch(
        [
          { name: "step", payload: { label: "i0" } },
          { name: "step", payload: { label: "i1", fail: true } },
          { name: "step", payload: { label: "i2" } },
        ],
        // biome-ignore lint/suspicious/noThenProperty: the SPEC's name for a batch's last task
        { then: { name: "step", payload: { label: "report" } } },
      );
      expect(batch.tasks).toHaveLength(3);
      const result = await batch.result();
      expect(result.items.map((item) => item.status)).toEqual(["succeeded", "failed", "succeeded"]);
      expect(result.then).toEqual({ status: "succeeded", value: "report:done" });
      expect(order.filter((label) => label === "report")).toHaveLength(1);
      expect(Object.keys(seen.get("report") ?? {}).sort()).toEqual(["0", "1", "2"]);
      expect(seen.get("report")?.["1"]?.status).toBe("failed");
      expect(await batch.progress()).toEqual({
        total: 3,
        succeeded: 2,
        failed: 1,
        cancelled: 0,
        expired: 0,
        running: 0,
        pending: 0,
      });
      expect(await batch.thenTask?.result()).toBe("report:done");
      expect((await (await mill.flows.get(batch.id))?.status())?.kind).toBe("batch");
    });

    it("a batch without then resolves with each item's outcome in order; a bad item creates nothing", async () => {
      const { mill } = millWithSteps();
      const bad = await rejectionOf(
        mill.submitBatch([{ name: "step", payload: { label: "ok" } }, { name: "" }]),
      );
      expect(bad).toBeInstanceOf(InvalidArgumentError);
      expect((bad as InvalidArgumentError).argument).toBe("items[1].name");
      expect(await listAll(mill)).toEqual([]);
      const batch = await mill.submitBatch([
        { name: "step", payload: { label: "x" } },
        { name: "step", payload: { label: "y", fail: true } },
      ]);
      const result = await batch.result();
      expect(result.then).toBeUndefined();
      expect(result.items.map((item) => item.status)).toEqual(["succeeded", "failed"]);
      await waitFor(async () => (await batch.progress()).failed === 1);
    });
  });
}
