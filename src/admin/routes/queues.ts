/** Queue figures, pause and resume. */
import { z } from "zod";
import type { TaskManager } from "../../task-manager.js";
import type { QueueInfo } from "../../types.js";
import { route } from "../router.js";
import { PathParam, parseInput, QueueInfoSchema } from "../schemas.js";

const QueueReply = z.object({ queue: QueueInfoSchema });

export const queueRoutes = [
  route({
    method: "GET",
    path: "/v1/queues",
    role: "read",
    doc: {
      summary: "Depth, waiting, running and paused, per queue",
      response: { status: 200, schema: z.object({ queues: z.array(QueueInfoSchema) }) },
    },
    async handle({ mill }) {
      return { status: 200, body: { queues: await mill.queues() } };
    },
  }),
  route({
    method: "POST",
    path: "/v1/queues/:name/pause",
    role: "write",
    doc: {
      summary: "Stop starting tasks of a queue (in every process sharing a durable store)",
      response: { status: 200, schema: QueueReply },
    },
    async handle({ mill, params }) {
      const name = parseInput(PathParam, params.name, "name");
      await mill.pauseQueue(name);
      return { status: 200, body: { queue: await queueInfo(mill, name, true) } };
    },
  }),
  route({
    method: "POST",
    path: "/v1/queues/:name/resume",
    role: "write",
    doc: {
      summary: "Let a paused queue start tasks again",
      response: { status: 200, schema: QueueReply },
    },
    async handle({ mill, params }) {
      const name = parseInput(PathParam, params.name, "name");
      await mill.resumeQueue(name);
      return { status: 200, body: { queue: await queueInfo(mill, name, false) } };
    },
  }),
];

/** The queue's figures; a queue that never saw a task is reported empty. */
async function queueInfo(mill: TaskManager, name: string, paused: boolean): Promise<QueueInfo> {
  const found = (await mill.queues()).find((queue) => queue.name === name);
  return found ?? { name, depth: 0, waiting: 0, running: 0, paused };
}
