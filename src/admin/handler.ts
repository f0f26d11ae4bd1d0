/**
 * `createAdminHandler`: one `(req, res, next?)` function serving the admin API, mountable under
 * plain `node:http`, Express or Fastify. It routes on `req.url` (what Express leaves after
 * stripping its mount path), so it works under any prefix.
 */
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { InvalidArgumentError } from "../errors.js";
import { TaskManager } from "../task-manager.js";
import type { AdminApi } from "./api.js";
import { type AnsweredWrite, auditEntryOf, isWriteRoute } from "./audit-recorder.js";
import { isLoopbackAddress } from "./auth.js";
import { readJsonBody, skipBody } from "./body.js";
import { HttpError, toHttpError } from "./errors.js";
import {
  type AdminHandlerOptions,
  type ResolvedAdminOptions,
  resolveAdminOptions,
} from "./options.js";
import { sendError, sendJson } from "./respond.js";
import type { Route, RouteContext, Router } from "./router.js";
import { SseStreams } from "./sse.js";
import { DashboardFiles } from "./static.js";

/**
 * The admin API as a request listener. `next` (Express, Connect) is called, with no argument,
 * for paths that are not the admin API's, so other middleware may answer them; without `next`
 * such paths get a 404 envelope.
 */
export interface AdminHandler {
  (req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void): void;
  /** Ends every open SSE stream. Call it on shutdown, before closing the HTTP server. */
  close(): void;
}

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/**
 * Creates the admin API handler for `mill`.
 *
 * @example
 * ```ts
 * const admin = createAdminHandler(mill, {
 *   auth: { tokens: [{ token: process.env.TASKMILL_TOKEN!, role: "write" }] },
 * });
 * http.createServer(admin).listen(8080, "127.0.0.1");
 * // Express: app.use("/admin", admin);
 * ```
 * @throws InvalidOptionError when no `auth` is given (unless `insecureNoAuth: "loopback-only"`)
 * or an option is invalid.
 */
export function createAdminHandler(mill: TaskManager, options: AdminHandlerOptions): AdminHandler {
  if (!(mill instanceof TaskManager))
    throw new InvalidArgumentError("mill", "must be a TaskManager", mill);
  const resolved = resolveAdminOptions(options);
  const streams = new SseStreams();
  const dashboard = new DashboardFiles(resolved.dashboardDir);
  // The routes and their schemas (zod) load now, not when "taskmill" is imported: a service
  // that never serves the admin API never loads them. Requests wait for them only at start.
  const api = import("./api.js").then((module) => module.buildAdminApi());
  api.catch(() => {}); // a failed load is answered per request (500), never unhandled
  const handler = ((req, res, next) => {
    void serve(mill, resolved, api, { streams, dashboard }, req, res, next);
  }) as AdminHandler;
  handler.close = () => streams.closeAll();
  return handler;
}

async function serve(
  mill: TaskManager,
  options: ResolvedAdminOptions,
  api: Promise<AdminApi>,
  { streams, dashboard }: { readonly streams: SseStreams; readonly dashboard: DashboardFiles },
  req: IncomingMessage,
  res: ServerResponse,
  next: ((error?: unknown) => void) | undefined,
): Promise<void> {
  const started = performance.now();
  const requestId = requestIdOf(req);
  res.setHeader("x-request-id", requestId);
  const method = req.method ?? "GET";
  let path = "";
  // What the audit record and the request metric need, filled in as the request goes.
  let matched: Route | undefined;
  let principal: RouteContext["principal"];
  let params: Record<string, string> = {};
  let body: unknown;
  let router: Router | undefined;
  try {
    const loaded = await api;
    router = loaded.router;
    const { parseQuery, parseBody } = loaded;
    const url = parseUrl(req.url);
    path = url.pathname;
    if (options.loopbackOnly && !isLoopbackAddress(req.socket.remoteAddress)) {
      matched = foundRoute(router, method, path);
      throw new HttpError(
        "FORBIDDEN",
        "This admin API runs without authentication and only answers loopback callers",
      );
    }
    const match = matchRoute(router, method, path);
    if (match.kind === "none") {
      if (next !== undefined) return next();
      throw new HttpError("NOT_FOUND", `No route for ${path}`);
    }
    if (match.kind === "method")
      throw new HttpError("METHOD_NOT_ALLOWED", `${method} is not allowed on ${path}`, {
        headers: { allow: match.allow.join(", ") },
      });
    matched = match.route;
    params = match.params;
    if (matched.role !== "none") {
      principal = await options.authenticate(req);
      if (principal === undefined)
        throw new HttpError("UNAUTHORIZED", "A valid bearer token is required", {
          headers: { "www-authenticate": 'Bearer realm="taskmill"' },
        });
      if (matched.role === "write" && principal.role !== "write")
        throw new HttpError("FORBIDDEN", "This route needs a token with the write role");
    }
    const query = parseQuery(matched, url.searchParams);
    if (matched.body !== undefined)
      body = parseBody(matched, await readJsonBody(req, res, options.bodyLimitBytes));
    else if (method === "POST") await skipBody(req, res, options.bodyLimitBytes);
    const ctx: RouteContext<unknown, unknown> = {
      mill,
      req,
      res,
      params,
      query,
      body,
      requestId,
      principal,
      options,
      streams,
      dashboard,
    };
    const reply = await matched.handle(ctx as RouteContext<never, never>);
    if (reply === "sent") {
      answered(mill, method, matched, res.statusCode, started);
      return;
    }
    await audit(mill, options, matched, {
      req,
      requestId,
      principal,
      params,
      body,
      status: reply.status,
      reply: reply.body,
      error: undefined,
    });
    sendJson(res, reply.status, reply.body);
    answered(mill, method, matched, reply.status, started);
  } catch (error) {
    const answer = toHttpError(error);
    if (answer.code === "INTERNAL") report(options, error, { requestId, method, path });
    // A refused write is recorded too: who tried what, and why it was refused.
    matched ??= router === undefined ? undefined : foundRoute(router, method, path);
    if (matched !== undefined)
      await audit(mill, options, matched, {
        req,
        requestId,
        principal,
        params,
        body,
        status: answer.status,
        reply: undefined,
        error: answer.code,
      });
    sendError(res, answer, requestId);
    answered(mill, method, matched, answer.status, started);
  }
}

/** Records a write route's request in the audit trail before the answer goes out. */
async function audit(
  mill: TaskManager,
  options: ResolvedAdminOptions,
  route: Route,
  write: Omit<AnsweredWrite, "route">,
): Promise<void> {
  if (!isWriteRoute(route)) return;
  try {
    await mill.audit.record(auditEntryOf({ ...write, route }));
  } catch (error) {
    // The write itself happened (or was refused); a trail the store cannot take is an error
    // the operator must see, not a reason to hide the write's answer from its caller.
    report(options, error, {
      requestId: write.requestId,
      method: route.method,
      path: route.path,
    });
  }
}

/** Counts the request in `admin_request_duration_seconds` under its route template. */
function answered(
  mill: TaskManager,
  method: string,
  route: Route | undefined,
  status: number,
  started: number,
): void {
  mill.adminRequestAnswered(
    route?.method ?? (KNOWN_METHODS.has(method) ? method : "OTHER"),
    route?.path ?? "_other",
    status,
    (performance.now() - started) / 1_000,
  );
}

const KNOWN_METHODS: ReadonlySet<string> = new Set(["GET", "POST", "PUT", "PATCH", "DELETE"]);

/** The route a request was for, if any (for recording a request refused before matching). */
function foundRoute(router: Router, method: string, path: string): Route | undefined {
  try {
    const match = router.match(method, path);
    return match.kind === "found" ? match.route : undefined;
  } catch {
    return undefined;
  }
}

function requestIdOf(req: IncomingMessage): string {
  const incoming = req.headers["x-request-id"];
  return typeof incoming === "string" && REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

function parseUrl(raw: string | undefined): URL {
  try {
    // Prefixing keeps a path like "//host/x" a path, where `new URL(raw, base)` reads a host.
    if (raw === undefined || raw.startsWith("/")) return new URL(`http://admin${raw ?? "/"}`);
    return new URL(raw);
  } catch {
    throw new HttpError("BAD_REQUEST", "The request URL is malformed", { field: "url" });
  }
}

function matchRoute(router: Router, method: string, path: string): ReturnType<Router["match"]> {
  try {
    return router.match(method, path);
  } catch {
    throw new HttpError("BAD_REQUEST", "The request path has a malformed percent-encoding", {
      field: "path",
    });
  }
}

function report(
  options: ResolvedAdminOptions,
  error: unknown,
  context: { requestId: string; method: string; path: string },
): void {
  try {
    options.onError?.(error, context);
  } catch {
    // A throwing error reporter must not turn one failed request into a crashed process.
  }
}
