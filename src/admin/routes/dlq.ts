/** The dead-letter queue: list, replay, purge. */
import type { DeadLetterSelector } from "../../registry/dead-letters.js";
import { exposedPage } from "../exposure.js";
import { route } from "../router.js";
import {
  DeadLetterOutcomeSchema,
  ListDeadLettersQuery,
  PurgeBody,
  ReplayBody,
  TaskPageSchema,
  toPageBody,
} from "../schemas.js";

export const dlqRoutes = [
  route({
    method: "GET",
    path: "/v1/dlq",
    role: "read",
    query: ListDeadLettersQuery,
    doc: {
      summary: "List dead letters, oldest or newest failure first (`order`)",
      response: { status: 200, schema: TaskPageSchema },
    },
    async handle({ mill, query, options }) {
      const page = await mill.dlq.list(query);
      const tasks = await exposedPage(mill, page.tasks, options.exposure);
      return { status: 200, body: toPageBody({ ...page, tasks }) };
    },
  }),
  route({
    method: "POST",
    path: "/v1/dlq/replay",
    role: "write",
    body: ReplayBody,
    doc: {
      summary: "Replay dead letters by ids or task name (dryRun reports only)",
      response: { status: 200, schema: DeadLetterOutcomeSchema },
    },
    async handle({ mill, body }) {
      const outcome = await mill.dlq.replay(selectorOf(body), {
        dryRun: body.dryRun ?? false,
        ...(body.resetAttempts === undefined ? {} : { resetAttempts: body.resetAttempts }),
      });
      return { status: 200, body: outcome };
    },
  }),
  route({
    method: "POST",
    path: "/v1/dlq/purge",
    role: "write",
    body: PurgeBody,
    doc: {
      summary: "Delete dead letters by ids or task name",
      response: { status: 200, schema: DeadLetterOutcomeSchema },
    },
    async handle({ mill, body }) {
      return { status: 200, body: await mill.dlq.purge(selectorOf(body)) };
    },
  }),
];

/** The schema guarantees exactly one of the two. */
function selectorOf(body: { ids?: string[]; name?: string }): DeadLetterSelector {
  return body.ids !== undefined ? { ids: body.ids } : { name: body.name as string };
}
