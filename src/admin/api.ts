/**
 * The admin API's routes with their schemas (zod) and the OpenAPI document built from them.
 * `createAdminHandler` loads this module with a dynamic import: zod is large (about 6 MB,
 * ~100 ms to load), and `import "taskmill"` in a service that never serves the admin API must
 * not pay for it.
 */

import { INSTRUMENTATION_VERSION } from "../observability/scope.js";
import { HttpError } from "./errors.js";
import { buildOpenApi } from "./openapi.js";
import { type Route, Router, route } from "./router.js";
import { auditRoutes } from "./routes/audit.js";
import { dlqRoutes } from "./routes/dlq.js";
import { flowRoutes } from "./routes/flows.js";
import { probeRoutes } from "./routes/probes.js";
import { queueRoutes } from "./routes/queues.js";
import { resultRoutes } from "./routes/results.js";
import { scheduleRoutes } from "./routes/schedules.js";
import { statsRoutes } from "./routes/stats.js";
import { taskRoutes } from "./routes/tasks.js";
import { workerRoutes } from "./routes/workers.js";
import { IgnoredQuery, NoQuery, parseInput } from "./schemas.js";

/** One handler's routes, and the checks of a request's query and body against them. */
export interface AdminApi {
  readonly router: Router;
  /** The route's query, checked (unknown parameters refused unless the route ignores them). */
  parseQuery(route: Route, query: URLSearchParams): unknown;
  /** The route's JSON body, checked. */
  parseBody(route: Route, body: unknown): unknown;
}

/** The routes of one admin handler. */
export function buildAdminApi(): AdminApi {
  let document: unknown;
  const routes: Route[] = [
    ...taskRoutes,
    ...queueRoutes,
    ...dlqRoutes,
    ...statsRoutes,
    ...resultRoutes,
    ...probeRoutes,
    ...workerRoutes,
    ...scheduleRoutes,
    ...auditRoutes,
    ...flowRoutes,
  ];
  routes.push(
    route({
      method: "GET",
      path: "/v1/openapi.json",
      role: "read",
      doc: { summary: "This document (OpenAPI 3.1)", response: { status: 200 } },
      async handle() {
        document ??= buildOpenApi(routes, INSTRUMENTATION_VERSION);
        return { status: 200, body: document };
      },
    }),
  );
  return {
    router: new Router(routes),
    parseQuery: (matched, query) =>
      matched.query === IgnoredQuery
        ? {}
        : parseInput(matched.query ?? NoQuery, queryObject(query), undefined, true),
    parseBody: (matched, body) =>
      matched.body === undefined ? undefined : parseInput(matched.body, body),
  };
}

/** The query as a plain record, refusing repeated keys (which value would win is a guess). */
function queryObject(params: URLSearchParams): Record<string, string> {
  const query: Record<string, string> = Object.create(null);
  for (const [key, value] of params) {
    if (Object.hasOwn(query, key))
      throw new HttpError("BAD_REQUEST", `Query parameter "${key}" is given more than once`, {
        field: key,
      });
    query[key] = value;
  }
  return query;
}
