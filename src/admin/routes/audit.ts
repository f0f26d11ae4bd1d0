/** The audit trail: every admin write, hash-chained, newest first. */
import { z } from "zod";
import { route } from "../router.js";
import { adminSchemas, namedSchemas } from "../schemas.js";

function named<S extends z.ZodType>(schema: S, id: string): S {
  adminSchemas.add(schema as z.ZodType, { id });
  namedSchemas.push({ schema, id });
  return schema;
}

const seq = z
  .string()
  .regex(/^\d{1,15}$/, "must be an integer")
  .transform(Number)
  .pipe(z.int().min(0));

/** Query of `GET /v1/audit`. */
export const ListAuditQuery = named(
  z
    .strictObject({
      before: seq
        .optional()
        .describe("Records older than this seq, newest first (a page's `next`)."),
      after: seq.optional().describe("Records newer than this seq, oldest first."),
      limit: z
        .string()
        .regex(/^\d{1,10}$/, "must be an integer")
        .transform(Number)
        .pipe(z.int().min(1).max(1000))
        .default(50)
        .describe("Page size, 1 to 1000. Default 50."),
    })
    .refine((query) => query.before === undefined || query.after === undefined, {
      message: "give at most one of before and after",
      path: ["after"],
    }),
  "ListAuditQuery",
);

const link = z.object({ seq: z.int(), hash: z.string() });

/** One record of the trail. */
export const AuditRecordSchema = named(
  z.object({
    seq: z.int(),
    at: z.int().describe("When the store recorded it, epoch ms (the store's clock)."),
    actor: z
      .object({ name: z.string().optional(), role: z.enum(["read", "write"]) })
      .optional()
      .describe("Absent when the request carried no valid credentials."),
    method: z.string(),
    route: z.string().describe("The route template, e.g. /v1/tasks/:id/cancel."),
    targets: z.array(z.string()).optional(),
    filter: z.record(z.string(), z.string()).optional(),
    dryRun: z.boolean(),
    outcome: z.enum(["applied", "dry-run", "refused", "failed"]),
    status: z.int(),
    error: z.string().optional(),
    requestId: z.string(),
    client: z.string().optional(),
    prev: z.string().describe("The hash of the record before (sha256, hex)."),
    hash: z.string().describe("sha256 over the record's canonical encoding, hash left out."),
  }),
  "AuditRecord",
);

const AuditPageSchema = z.object({
  records: z.array(AuditRecordSchema),
  next: z.int().optional().describe("Pass as `before` (or `after`) for the next page."),
  anchor: link.describe("The link before the oldest record kept."),
  head: link.describe("The newest record's link."),
});

const VerificationSchema = z.object({
  ok: z.boolean(),
  records: z.int(),
  anchor: link,
  head: link,
  seq: z.int().optional().describe("The first bad record (for `removed`: the first missing)."),
  problem: z.enum(["altered", "removed", "reordered"]).optional(),
  message: z.string().optional(),
});

export const auditRoutes = [
  route({
    method: "GET",
    path: "/v1/audit",
    role: "read",
    query: ListAuditQuery,
    doc: {
      summary: "The audit trail of admin writes, newest first (paged by seq)",
      response: { status: 200, schema: AuditPageSchema },
    },
    async handle({ mill, query }) {
      return { status: 200, body: await mill.audit.list(query) };
    },
  }),
  route({
    method: "GET",
    path: "/v1/audit/verify",
    role: "read",
    doc: {
      summary:
        "Recompute the audit trail's hash chain; names the first record altered, removed or reordered",
      response: { status: 200, schema: VerificationSchema },
    },
    async handle({ mill }) {
      return { status: 200, body: await mill.audit.verify() };
    },
  }),
];
