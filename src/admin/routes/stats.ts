/** Schedules and the manager's figures. */
import { z } from "zod";
import { route } from "../router.js";
import { ScheduleInfoSchema } from "../schemas.js";

export const statsRoutes = [
  route({
    method: "GET",
    path: "/v1/schedules",
    role: "read",
    doc: {
      summary: "Cron schedules with their next run",
      response: { status: 200, schema: z.object({ schedules: z.array(ScheduleInfoSchema) }) },
    },
    async handle({ mill }) {
      return { status: 200, body: { schedules: mill.schedules() } };
    },
  }),
  route({
    method: "GET",
    path: "/v1/stats",
    role: "read",
    doc: {
      summary:
        "The figures of the store (the same from every process: `sharedStats()`) and backend health",
      response: {
        status: 200,
        schema: z.object({
          stats: z.record(z.string(), z.number()),
          health: z.object({
            backend: z.enum(["memory", "redis", "postgres", "sqlite"]),
            status: z.enum(["connected", "connecting", "reconnecting", "unresponsive", "closed"]),
            stopping: z.boolean(),
          }),
        }),
      },
    },
    async handle({ mill }) {
      return { status: 200, body: { stats: await mill.sharedStats(), health: mill.health() } };
    },
  }),
];
