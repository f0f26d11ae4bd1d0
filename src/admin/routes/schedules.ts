/**
 * Managing cron schedules: create (or replace), delete, pause and resume. In durable mode a
 * schedule lives in the store, so the process serving the API need not run its tasks: the cron
 * leader fires it, whichever process that is. (Listing is `GET /v1/schedules`, in stats.ts.)
 */
import { z } from "zod";
import type { TaskManager } from "../../task-manager.js";
import { HttpError } from "../errors.js";
import { route } from "../router.js";
import { PathParam, parseInput, ScheduleInfoSchema } from "../schemas.js";

const ScheduleBody = z.strictObject({
  id: z.string().min(1).max(256).describe("The schedule's id; an existing one is replaced."),
  cron: z.string().min(1).max(256).describe('A cron pattern, seconds optional: "0 3 * * *".'),
  taskName: z.string().min(1).max(256).describe("The task each tick submits."),
  payload: z.unknown().optional().describe("JSON data submitted at each tick."),
  timezone: z.string().min(1).max(64).optional().describe('IANA time zone, e.g. "Europe/Berlin".'),
  queue: z.string().min(1).max(256).optional().describe("The queue of the tasks it submits."),
});

const ScheduleReply = z.object({ schedule: ScheduleInfoSchema });

export const scheduleRoutes = [
  route({
    method: "POST",
    path: "/v1/schedules",
    role: "write",
    body: ScheduleBody,
    doc: {
      summary: "Create or replace a cron schedule (stored and shared in durable mode)",
      response: { status: 201, schema: ScheduleReply },
    },
    async handle({ mill, body }) {
      const { id, cron, taskName, payload, timezone, queue } = body;
      const options = {
        ...(timezone === undefined ? {} : { timezone }),
        ...(queue === undefined ? {} : { queue }),
      };
      const schedule = mill.schedule(id, cron, taskName, payload, options);
      return { status: 201, body: { schedule } };
    },
  }),
  route({
    method: "POST",
    path: "/v1/schedules/:id/delete",
    role: "write",
    doc: {
      summary: "Delete a cron schedule (every process stops firing it)",
      response: { status: 200, schema: z.object({ deleted: z.literal(true) }) },
    },
    async handle({ mill, params }) {
      const id = parseInput(PathParam, params.id, "id");
      requireSchedule(mill, id);
      mill.unschedule(id);
      return { status: 200, body: { deleted: true } };
    },
  }),
  ...[true, false].map((paused) =>
    route({
      method: "POST",
      path: `/v1/schedules/:id/${paused ? "pause" : "resume"}`,
      role: "write",
      doc: {
        summary: paused
          ? "Pause a cron schedule: its ticks pass without firing"
          : "Resume a paused cron schedule from its next tick",
        response: { status: 200, schema: ScheduleReply },
      },
      async handle({ mill, params }) {
        const id = parseInput(PathParam, params.id, "id");
        requireSchedule(mill, id);
        const found = paused ? await mill.pauseSchedule(id) : await mill.resumeSchedule(id);
        if (!found) throw new HttpError("NOT_FOUND", `No schedule with id "${id}"`);
        return { status: 200, body: { schedule: requireSchedule(mill, id) } };
      },
    }),
  ),
];

function requireSchedule(mill: TaskManager, id: string) {
  const schedule = mill.schedules().find((s) => s.id === id);
  if (schedule === undefined) throw new HttpError("NOT_FOUND", `No schedule with id "${id}"`);
  return schedule;
}
