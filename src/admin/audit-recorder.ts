/**
 * What the admin handler records of a write request: who (the principal), what (the route
 * template, target ids or the selecting filter, dry run or not), the outcome and status, the
 * request id and the client's address. Never a payload or a result: only the fields picked
 * here, by name, leave the request.
 */
import type { IncomingMessage } from "node:http";
import type { AuditEntry, AuditOutcome } from "../audit/types.js";
import type { AdminPrincipal } from "./auth.js";
import type { Route } from "./router.js";

/** What the handler knows of a write request once it has answered. */
export interface AnsweredWrite {
  readonly route: Route;
  readonly req: IncomingMessage;
  readonly requestId: string;
  readonly principal: AdminPrincipal | undefined;
  readonly params: Readonly<Record<string, string>>;
  /** The validated body (`undefined` when the request was refused before it was read). */
  readonly body: unknown;
  readonly status: number;
  /** The reply's JSON body on success (a submit's new task id is taken from it). */
  readonly reply: unknown;
  /** The error code answered, for a 4xx or 5xx. */
  readonly error: string | undefined;
}

/** Whether a route changes anything (and so is audited). */
export function isWriteRoute(route: Route): boolean {
  return route.role === "write" || route.method !== "GET";
}

/** The audit entry of an answered write. */
export function auditEntryOf(write: AnsweredWrite): AuditEntry {
  const body = isObject(write.body) ? write.body : {};
  const dryRun = body.dryRun === true;
  const targets: string[] = [];
  for (const value of Object.values(write.params)) targets.push(value);
  if (Array.isArray(body.ids))
    for (const id of body.ids) if (typeof id === "string") targets.push(id);
  const created =
    isObject(write.reply) && isObject(write.reply.task) ? write.reply.task.id : undefined;
  if (typeof created === "string" && !targets.includes(created)) targets.push(created);
  // The task name a submit names, or the name a DLQ replay/purge selects by: never the payload.
  const filter: Record<string, string> = {};
  for (const key of ["name", "queue"] as const)
    if (typeof body[key] === "string") filter[key] = body[key] as string;
  const outcome: AuditOutcome =
    write.status >= 500
      ? "failed"
      : write.status >= 400
        ? "refused"
        : dryRun
          ? "dry-run"
          : "applied";
  const principal = write.principal;
  return {
    ...(principal === undefined
      ? {}
      : {
          actor:
            principal.name === undefined
              ? { role: principal.role }
              : { name: principal.name, role: principal.role },
        }),
    method: write.route.method,
    route: write.route.path,
    ...(targets.length === 0 ? {} : { targets }),
    ...(Object.keys(filter).length === 0 ? {} : { filter }),
    dryRun,
    outcome,
    status: write.status,
    ...(write.error === undefined ? {} : { error: write.error }),
    requestId: write.requestId,
    ...(write.req.socket.remoteAddress === undefined
      ? {}
      : { client: write.req.socket.remoteAddress }),
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
