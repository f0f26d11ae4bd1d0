/** GET /v1/flows/:id and GET /v1/batches/:id against a real memory-mode manager over sockets. */
import { describe, expect, it } from "vitest";
import { start } from "./support.js";

describe("flows and batches", () => {
  it("GET /v1/flows/:id answers the flow's nodes with statuses, dependencies and outcomes", async () => {
    const { call, mill } = await start();
    const flow = await mill.submitFlow([
      { ref: "a", name: "echo", payload: 1 },
      { ref: "b", name: "echo", payload: 2, dependsOn: ["a"], onDependencyFailure: "run" },
    ]);
    await flow.result();
    const reply = await call("GET", `/v1/flows/${flow.id}`);
    expect(reply.status).toBe(200);
    expect(reply.json.flow).toMatchObject({
      id: flow.id,
      kind: "flow",
      done: true,
      nodes: [
        { ref: "a", id: flow.tasks.a?.id, status: "succeeded", dependsOn: [] },
        {
          ref: "b",
          status: "succeeded",
          dependsOn: ["a"],
          onDependencyFailure: "run",
          outcome: { status: "succeeded", value: 2 },
        },
      ],
    });
    expect((await call("GET", "/v1/flows/flow-nope")).status).toBe(404);
  });

  it("GET /v1/batches/:id answers the progress and the items; a flow's id is not a batch", async () => {
    const { call, mill } = await start();
    const batch = await mill.submitBatch([
      { name: "echo", payload: 1 },
      { name: "echo", payload: 2 },
    ]);
    await batch.result();
    const reply = await call("GET", `/v1/batches/${batch.id}`);
    expect(reply.status).toBe(200);
    expect(reply.json.batch.progress).toEqual({
      total: 2,
      succeeded: 2,
      failed: 0,
      cancelled: 0,
      expired: 0,
      running: 0,
      pending: 0,
    });
    expect(reply.json.batch.items).toHaveLength(2);
    const flow = await mill.submitFlow([{ ref: "x", name: "echo", payload: 0 }]);
    expect((await call("GET", `/v1/batches/${flow.id}`)).status).toBe(404);
    const doc = await call("GET", "/v1/openapi.json");
    expect(Object.keys(doc.json.paths)).toEqual(
      expect.arrayContaining(["/v1/flows/{id}", "/v1/batches/{id}"]),
    );
  });
});
