/** Submit, list, get and cancel tasks. */

import { z } from "zod";
import type { TaskManager } from "../../task-manager.js";
import type { SubmitOptions, TaskSnapshot } from "../../types.js";
import { HttpError } from "../errors.js";
import { exposed, HIDDEN } from "../exposure.js";
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
      // Writes answer without payloads: the caller has it, and a failing redact hook must not
      // turn a done write into a 500 (a retried submit or cancel).
      return { status: 201, body: { task: exposed(task as TaskSnapshot, HIDDEN) } };
    },
  }),
  route({
    method: "GET",
    path: "/v1/tasks",
    role: "read",
    query: ListTasksQuery,
    doc: {
      summary: "List tasks oldest or newest first (`order`), filtered by status, queue and name",
      response: { status: 200, schema: TaskPageSchema },
    },
    async handle({ mill, query, options }) {
      const page = await mill.list(query);
      return {
        status: 200,
        body: toPageBody({ ...page, tasks: page.tasks.map((t) => exposed(t, options.exposure)) }),
      };
    },
  }),
  route({
    method: "GET",
    path: "/v1/tasks/:id",
    role: "read",
    doc: { summary: "Get one task", response: { status: 200, schema: TaskReply } },
    async handle({ mill, params, options }) {
      const task = await requireTask(mill, params.id);
      return { status: 200, body: { task: exposed(task, options.exposure) } };
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
      return {
        status: 200,
        body: task === undefined ? { cancelled } : { cancelled, task: exposed(task, HIDDEN) },
      };
    },
  }),
];

async function requireTask(mill: TaskManager, raw: string | undefined): Promise<TaskSnapshot> {
  const id = parseInput(PathParam, raw, "id");
  const task = await mill.get(id);
  if (task === undefined) throw new HttpError("NOT_FOUND", `No task with id "${id}"`);
  return task;
}
