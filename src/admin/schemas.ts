/**
 * Every request body and query of the admin API as a zod schema: the one definition both the
 * validation (400 naming the field) and the OpenAPI document are made from. The response
 * schemas exist for the document and for tests that hold responses to the contract.
 */
import { z } from "zod";
import { TASK_STATUSES, TERMINAL_STATUSES } from "../lifecycle/states.js";
import type { TaskPage } from "../types.js";
import { HttpError } from "./errors.js";

/** Every named schema, for the OpenAPI document's `components.schemas`. */
export const adminSchemas = z.registry<{ id: string }>();

/** The same schemas as a list, so a document can put them next to unnamed ones. */
export const namedSchemas: Array<{ readonly schema: z.ZodType; readonly id: string }> = [];

function named<S extends z.ZodType>(schema: S, id: string): S {
  adminSchemas.add(schema as z.ZodType, { id });
  namedSchemas.push({ schema, id });
  return schema;
}

const name = z.string().min(1).max(256);
const id = z.string().min(1).max(256);

/** A query-string integer: digits only, then range-checked as a number. */
const queryInt = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d{1,10}$/, "must be an integer")
    .transform(Number)
    .pipe(z.int().min(min).max(max));

const cursor = z.string().min(1).max(512);
const limit = queryInt(1, 1000).default(50).describe("Page size, 1 to 1000. Default 50.");

/** Body of `POST /v1/tasks`. */
export const SubmitTaskBody = named(
  z.strictObject({
    name: name.describe("The registered task name."),
    payload: z.unknown().optional().describe("Any JSON value, given to the handler."),
    options: z
      .strictObject({
        idempotencyKey: z.string().min(1).max(512).optional(),
        priority: z.int().min(-1_000_000).max(1_000_000).optional(),
        delayMs: z.int().min(0).optional(),
        runAt: z
          .union([z.iso.datetime({ offset: true }), z.int().min(0)])
          .optional()
          .describe("ISO 8601 date-time or epoch milliseconds."),
        queue: name.optional(),
        timeoutMs: z.int().positive().optional(),
        ttlMs: z.int().positive().optional(),
      })
      .optional(),
  }),
  "SubmitTaskBody",
);

/** Query of `GET /v1/tasks`. */
/** `order` of a listing; the API's default stays oldest first, as `list()`'s. */
const order = z
  .enum(["newest", "oldest"])
  .describe(
    "`newest` or `oldest` first (default `oldest`); a `cursor` continues in its own order.",
  );

export const ListTasksQuery = named(
  z.strictObject({
    status: z
      .string()
      .transform((text) => text.split(","))
      .pipe(z.array(z.enum(TASK_STATUSES)).min(1))
      .optional()
      .describe(`Comma-separated statuses: ${TASK_STATUSES.join(", ")}.`),
    queue: name.optional(),
    name: name.optional(),
    limit,
    cursor: cursor.optional(),
    order: order.optional(),
  }),
  "ListTasksQuery",
);

/** Query of `GET /v1/dlq`. */
export const ListDeadLettersQuery = named(
  z.strictObject({
    name: name.optional(),
    limit,
    cursor: cursor.optional(),
    order: order.optional(),
  }),
  "ListDeadLettersQuery",
);

/** A query that takes no parameters at all. */
export const NoQuery = z.strictObject({});
/**
 * The dashboard's files: any query is the page's own business (a view to open, a cache
 * buster), never the API's, so it is not read at all (see the handler).
 */
export const IgnoredQuery = z.looseObject({});

const selector = {
  ids: z.array(id).min(1).max(1000).optional(),
  name: name.optional(),
};

function exactlyOneSelector(body: { ids?: unknown; name?: unknown }): boolean {
  return (body.ids === undefined) !== (body.name === undefined);
}

const ONE_SELECTOR = { message: "give exactly one of ids and name", path: ["ids"] };

/** Body of `POST /v1/dlq/replay`. */
export const ReplayBody = named(
  z
    .strictObject({
      ...selector,
      dryRun: z.boolean().optional().describe("Report without replaying. Default false."),
      resetAttempts: z.boolean().optional().describe("Full retry budget again. Default true."),
    })
    .refine(exactlyOneSelector, ONE_SELECTOR),
  "ReplayBody",
);

/** Body of `POST /v1/dlq/purge`. */
export const PurgeBody = named(
  z.strictObject(selector).refine(exactlyOneSelector, ONE_SELECTOR),
  "PurgeBody",
);

/** A path parameter (task id or queue name). */
export const PathParam = id;

// Responses: documentation and tests only; the server sends what the manager returns.

const ErrorInfo = z.object({
  name: z.string(),
  message: z.string(),
  code: z.string().optional(),
  stack: z.string().optional().describe("Only with the handler's `exposePayloads: true`."),
});

export const TaskSnapshotSchema = named(
  z.object({
    id: z.string(),
    name: z.string(),
    queue: z.string(),
    status: z.enum(TASK_STATUSES),
    priority: z.number(),
    attempts: z.int(),
    maxRetries: z.int(),
    createdAt: z.number(),
    runAt: z.number().optional(),
    expiresAt: z.number().optional(),
    startedAt: z.number().optional(),
    finishedAt: z.number().optional(),
    idempotencyKey: z.string().optional(),
    progress: z.unknown().optional(),
    value: z.unknown().optional(),
    error: ErrorInfo.optional(),
    payload: z
      .unknown()
      .optional()
      .describe("Only with the handler's `exposePayloads: true`, after its `redact` hook."),
  }),
  "TaskSnapshot",
);

export const TaskResultSchema = named(
  z.object({
    id: z.string(),
    name: z.string(),
    queue: z.string(),
    status: z.enum(TERMINAL_STATUSES),
    value: z.unknown().optional(),
    error: ErrorInfo.optional(),
    attempts: z.int(),
    createdAt: z.number(),
    startedAt: z.number().optional(),
    finishedAt: z.number(),
    eventId: z.string().optional().describe("Durable mode: the events-stream position."),
  }),
  "TaskResult",
);

export const QueueInfoSchema = named(
  z.object({
    name: z.string(),
    depth: z.int(),
    waiting: z.int(),
    running: z.int(),
    paused: z.boolean(),
    concurrency: z.int().optional(),
  }),
  "QueueInfo",
);

export const TaskPageSchema = named(
  z.object({ tasks: z.array(TaskSnapshotSchema), nextCursor: z.string().nullable() }),
  "TaskPage",
);

/** A page as the API sends it: `nextCursor` is `null` on the last page, never absent. */
export function toPageBody(page: TaskPage): z.infer<typeof TaskPageSchema> {
  return { tasks: [...page.tasks], nextCursor: page.nextCursor ?? null };
}

export const DeadLetterOutcomeSchema = named(
  z.object({ ids: z.array(z.string()), skipped: z.array(z.string()), dryRun: z.boolean() }),
  "DeadLetterOutcome",
);

export const ScheduleInfoSchema = named(
  z.object({
    id: z.string(),
    cron: z.string(),
    taskName: z.string(),
    timezone: z.string().optional(),
    nextRunAt: z.number().optional(),
    paused: z.boolean().optional(),
    leader: z.boolean().optional(),
  }),
  "ScheduleInfo",
);

export const ErrorEnvelopeSchema = named(
  z.object({
    error: z.object({
      code: z.enum([
        "BAD_REQUEST",
        "UNAUTHORIZED",
        "FORBIDDEN",
        "NOT_FOUND",
        "PAYLOAD_TOO_LARGE",
        "METHOD_NOT_ALLOWED",
        "UNSUPPORTED_MEDIA_TYPE",
        "CONFLICT",
        "UNAVAILABLE",
        "INTERNAL",
      ]),
      message: z.string(),
      field: z.string().optional(),
      requestId: z.string(),
    }),
  }),
  "Error",
);

/**
 * Validates `value` against `schema`; a failure is a 400 naming the first offending field
 * (`prefix` is prepended, e.g. `"id"` for a path parameter). With `parameterOnly`, the field is
 * the query parameter itself: `status`, not the list position inside it.
 */
export function parseInput<S extends z.ZodType>(
  schema: S,
  value: unknown,
  prefix?: string,
  parameterOnly = false,
): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path: PropertyKey[] = [...(issue?.path ?? [])];
  if (issue?.code === "unrecognized_keys" && issue.keys[0] !== undefined) path.push(issue.keys[0]);
  if (parameterOnly) path.splice(1);
  const field = fieldName(prefix, path);
  const message =
    issue?.code === "unrecognized_keys"
      ? `Unknown field "${field}"`
      : `Invalid ${field === undefined ? "input" : `"${field}"`}: ${issue?.message ?? "invalid"}`;
  throw new HttpError("BAD_REQUEST", message, { field: field ?? "body" });
}

function fieldName(prefix: string | undefined, path: readonly PropertyKey[]): string | undefined {
  let field = prefix;
  for (const part of path) {
    if (typeof part === "number") field = `${field ?? ""}[${part}]`;
    else field = field === undefined ? String(part) : `${field}.${String(part)}`;
  }
  return field;
}
