/** Submit, list, get and cancel tasks. */

import { z } from "zod";
import type { TaskManager } from "../../task-manager.js";
import type { SubmitOptions, TaskSnapshot } from "../../types.js";
import { HttpError } from "../errors.js";
import { route } from "../router.js";
import {
  ListTasksQuery,
  PathParam,
  parseInput,
  SubmitTaskBody,
  TaskPageSchema,
  TaskSnapshotSchema,
  toPageBody,
} from "../schemas.js";

const TaskReply = z.object({ task: TaskSnapshotSchema });

export const taskRoutes = [
  route({
    method: "POST",
    path: "/v1/tasks",
    role: "write",
    body: SubmitTaskBody,
    doc: { summary: "Submit a task", response: { status: 201, schema: TaskReply } },
    async handle({ mill, body }) {
      const { name, payload, options = {} } = body;
      const { runAt, ...rest } = options;
      const submitOptions: SubmitOptions = {
        ...rest,
        ...(runAt === undefined
          ? {}
          : { runAt: typeof runAt === "string" ? Date.parse(runAt) : runAt }),
      };
      const handle = await mill.submit(name, payload, submitOptions);
      const task = (await mill.get(handle.id)) ?? {
        // Only if retention evicted it already: what the handle knows.
        id: handle.id,
        name: handle.name,
        queue: handle.queue,
      };
      return { status: 201, body: { task } };
    },
  }),
  route({
    method: "GET",
    path: "/v1/tasks",
    role: "read",
    query: ListTasksQuery,
    doc: {
      summary: "List tasks in submission order, filtered by status, queue and name",
      response: { status: 200, schema: TaskPageSchema },
    },
    async handle({ mill, query }) {
      return { status: 200, body: toPageBody(await mill.list(query)) };
    },
  }),
  route({
    method: "GET",
    path: "/v1/tasks/:id",
    role: "read",
    doc: { summary: "Get one task", response: { status: 200, schema: TaskReply } },
    async handle({ mill, params }) {
      return { status: 200, body: { task: await requireTask(mill, params.id) } };
    },
  }),
  route({
    method: "POST",
    path: "/v1/tasks/:id/cancel",
    role: "write",
    doc: {
      summary: "Cancel a task (false if it already ended)",
      response: {
        status: 200,
        schema: z.object({ cancelled: z.boolean(), task: TaskSnapshotSchema.optional() }),
      },
    },
    async handle({ mill, params }) {
      const id = (await requireTask(mill, params.id)).id;
      const cancelled = await mill.cancel(id);
      const task = await mill.get(id);
      return { status: 200, body: task === undefined ? { cancelled } : { cancelled, task } };
    },
  }),
];

async function requireTask(mill: TaskManager, raw: string | undefined): Promise<TaskSnapshot> {
  const id = parseInput(PathParam, raw, "id");
  const task = await mill.get(id);
  if (task === undefined) throw new HttpError("NOT_FOUND", `No task with id "${id}"`);
  return task;
}
