/** Flows and batches by id: a flow as its nodes with their statuses, a batch as its progress. */
import { z } from "zod";
import { batchProgress } from "../../flows/batch.js";
import type { FlowSnapshot } from "../../flows/flow-types.js";
import { TASK_STATUSES, TERMINAL_STATUSES } from "../../lifecycle/states.js";
import type { TaskManager } from "../../task-manager.js";
import { HttpError } from "../errors.js";
import { route } from "../router.js";
import { PathParam, parseInput } from "../schemas.js";

const Outcome = z.object({
  status: z.enum(TERMINAL_STATUSES),
  value: z.unknown().optional(),
  error: z
    .object({ name: z.string(), message: z.string(), code: z.string().optional() })
    .optional(),
});

const FlowNodeSchema = z.object({
  ref: z.string(),
  id: z.string().describe("The node's task id (GET /v1/tasks/{id})."),
  name: z.string(),
  status: z.enum(TASK_STATUSES),
  dependsOn: z.array(z.string()),
  onDependencyFailure: z.enum(["cancel", "run"]),
  outcome: Outcome.optional().describe("Present once the node has ended."),
});

const FlowSchema = z.object({
  id: z.string(),
  kind: z.enum(["flow", "batch"]),
  done: z.boolean().describe("True once every node has ended."),
  createdAt: z.number(),
  nodes: z.array(FlowNodeSchema).describe("In the order they were submitted."),
});

const ProgressSchema = z.object({
  total: z.int(),
  succeeded: z.int(),
  failed: z.int(),
  cancelled: z.int(),
  expired: z.int(),
  running: z.int(),
  pending: z.int(),
});

const BatchSchema = z.object({
  id: z.string(),
  done: z.boolean(),
  createdAt: z.number(),
  progress: ProgressSchema.describe("The items' figures (the then task is not counted)."),
  items: z.array(FlowNodeSchema),
  thenTask: FlowNodeSchema.optional().describe("The batch's then task, when it has one."),
});

export const flowRoutes = [
  route({
    method: "GET",
    path: "/v1/flows/:id",
    role: "read",
    doc: {
      summary: "A flow (or batch) with each node's status, dependencies and outcome",
      response: { status: 200, schema: z.object({ flow: FlowSchema }) },
    },
    async handle({ mill, params }) {
      return { status: 200, body: { flow: await requireFlow(mill, params.id) } };
    },
  }),
  route({
    method: "GET",
    path: "/v1/batches/:id",
    role: "read",
    doc: {
      summary: "A batch's progress and each item's status",
      response: { status: 200, schema: z.object({ batch: BatchSchema }) },
    },
    async handle({ mill, params }) {
      const flow = await requireFlow(mill, params.id);
      if (flow.kind !== "batch")
        throw new HttpError("NOT_FOUND", `No batch with id "${flow.id}" (it is a flow)`);
      const then = flow.nodes.find((node) => node.ref === "then");
      const batch = {
        id: flow.id,
        done: flow.done,
        createdAt: flow.createdAt,
        progress: batchProgress(flow),
        items: flow.nodes.filter((node) => node.ref !== "then"),
        ...(then === undefined ? {} : { thenTask: then }),
      };
      return { status: 200, body: { batch } };
    },
  }),
];

async function requireFlow(mill: TaskManager, raw: string | undefined): Promise<FlowSnapshot> {
  const id = parseInput(PathParam, raw, "id");
  const flow = await mill.flows.get(id);
  if (flow === undefined) throw new HttpError("NOT_FOUND", `No flow with id "${id}"`);
  return flow.status();
}
