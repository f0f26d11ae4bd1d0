/**
 * What only the Redis store's flow encoding has: a flow's nodes travel to enqueue-flow as one
 * JSON argument (cjson-decoded in the script), and a node's `flow` field packs the flow id,
 * its dependents and its ref (lua/includes/flow.lua). Both against a real redis-server.
 */
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { FlowInput } from "../../../src/stores/durable-flows.js";
import { useRedis } from "./fixture.js";

const redis = useRedis();

/** A two-node flow a -> b with the given refs, name and payload. */
function twoNodes(refA: string, refB: string, name: string, payload: unknown) {
  const a = randomUUID();
  const b = randomUUID();
  const flow: FlowInput = {
    id: `flow-${randomUUID()}`,
    kind: "flow",
    nodes: [
      {
        task: { id: a, name, queue: "default", payload },
        ref: refA,
        dependsOn: [],
        dependents: [b],
        policy: "cancel",
      },
      {
        task: { id: b, name, queue: "default", payload },
        ref: refB,
        dependsOn: [refA],
        dependents: [],
        policy: "cancel",
      },
    ],
  };
  return { flow, a, b };
}

describe("Redis store: flow encoding", () => {
  it("keeps refs, names and payloads beyond ASCII through the JSON of a flow's nodes", async () => {
    const store = redis.store();
    const refA = 'é "quoted" \\ ref\u0000 😀';
    const { flow, b } = twoNodes(refA, "b ✓", "naïve-名前", { text: "ü 😀 \n\t" });
    await store.enqueueFlow(flow);
    const [first] = (await store.step([], ["default"], 1)).tasks;
    expect(first?.name).toBe("naïve-名前");
    expect(first?.payload).toEqual({ text: "ü 😀 \n\t" });
    await store.ack(first?.id as string, first?.token as string, { done: "ß" });
    const [second] = (await store.step([], ["default"], 1)).tasks;
    expect(second?.id).toBe(b);
    expect(second?.dependencies).toEqual({ [refA]: { status: "succeeded", value: { done: "ß" } } });
    const stored = await store.getFlow(flow.id);
    expect(stored?.nodes.map((n) => [n.ref, n.status])).toEqual([
      [refA, "succeeded"],
      ["b ✓", "running"],
    ]);
  });

  it("stores a lone surrogate in a ref as U+FFFD, as a separate argument would have", async () => {
    const store = redis.store();
    const { flow } = twoNodes("lone \ud800", "b", "t", null);
    await store.enqueueFlow(flow);
    const [first] = (await store.step([], ["default"], 1)).tasks;
    await store.ack(first?.id as string, first?.token as string);
    const [second] = (await store.step([], ["default"], 1)).tasks;
    expect(second?.dependencies).toEqual({ "lone \ufffd": { status: "succeeded" } });
    // The snapshot's ref is the one given; its outcome is found under the same bytes.
    const stored = await store.getFlow(flow.id);
    expect(stored?.nodes[0]?.status).toBe("succeeded");
  });

  it("resolves a flow stored by an earlier version (flow id alone, counted down by remaining)", async () => {
    const store = redis.store();
    const client = redis.client();
    const { flow, a, b } = twoNodes("a", "b", "t", null);
    await store.enqueueFlow(flow);
    // The earlier layout: the nodes' flow, ref and dependents fields, the flow's counter.
    const stem = ((await client.keys(`*:t:${a}`))[0] as string).slice(0, -a.length - 2);
    await client.hset(`${stem}t:${a}`, "flow", flow.id, "ref", "a", "dependents", b);
    await client.hset(`${stem}t:${b}`, "flow", flow.id, "ref", "b", "dependents", "");
    await client.hset(`${stem}f:${flow.id}`, "remaining", 2);
    const [first] = (await store.step([], ["default"], 1)).tasks;
    await store.ack(first?.id as string, first?.token as string, 7);
    const [second] = (await store.step([], ["default"], 1)).tasks;
    expect(second?.id).toBe(b);
    expect(second?.dependencies).toEqual({ a: { status: "succeeded", value: 7 } });
    expect((await store.getFlow(flow.id))?.done).toBe(false);
    await store.ack(second?.id as string, second?.token as string);
    expect((await store.getFlow(flow.id))?.done).toBe(true);
    expect(await client.hget(`${stem}f:${flow.id}`, "remaining")).toBe("0");
  });

  it("counts a flow done by its outcomes: not before its last node ended, then at once", async () => {
    const store = redis.store();
    const { flow } = twoNodes("a", "b", "t", null);
    await store.enqueueFlow(flow);
    const [first] = (await store.step([], ["default"], 1)).tasks;
    await store.ack(first?.id as string, first?.token as string);
    expect((await store.getFlow(flow.id))?.done).toBe(false);
    const [second] = (await store.step([], ["default"], 1)).tasks;
    await store.ack(second?.id as string, second?.token as string);
    expect((await store.getFlow(flow.id))?.done).toBe(true);
  });

  it("refuses a flow id or task id with a NUL character unless the engine made the ids", async () => {
    const store = redis.store();
    const { flow } = twoNodes("a", "b", "t", null);
    await expect(store.enqueueFlow({ ...flow, id: "flow\u0000x" })).rejects.toThrow(/NUL/);
    expect(await store.getFlow(flow.id)).toBeUndefined();
  });
});
