/** The worker registry: every manager with handlers sharing the store. */
import { z } from "zod";
import { route } from "../router.js";

const WorkerInfoSchema = z.object({
  id: z.string(),
  host: z.string(),
  pid: z.number(),
  startedAt: z.number(),
  lastHeartbeatAt: z.number(),
  version: z.string(),
  concurrency: z.number(),
  running: z.number(),
  processed: z.number(),
  failed: z.number(),
  queues: z.array(z.string()),
  state: z.enum(["alive", "lost"]),
});

export const workerRoutes = [
  route({
    method: "GET",
    path: "/v1/workers",
    role: "read",
    doc: {
      summary:
        "Worker processes with their last heartbeat and figures; a silent one is shown lost, then dropped",
      response: { status: 200, schema: z.object({ workers: z.array(WorkerInfoSchema) }) },
    },
    async handle({ mill }) {
      return { status: 200, body: { workers: await mill.workers() } };
    },
  }),
];
