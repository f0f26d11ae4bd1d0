/** Liveness, readiness, Prometheus metrics and the dashboard's files: the routes outside `/v1`. */
import { z } from "zod";
import { HttpError } from "../errors.js";
import { route } from "../router.js";
import { IgnoredQuery } from "../schemas.js";
import { trailingSlashRedirect } from "../static.js";

export const probeRoutes = [
  route({
    method: "GET",
    path: "/healthz",
    role: "none",
    doc: {
      summary: "Liveness: the process answers",
      response: { status: 200, schema: z.object({ status: z.literal("ok") }) },
    },
    async handle() {
      return { status: 200, body: { status: "ok" } };
    },
  }),
  route({
    method: "GET",
    path: "/readyz",
    role: "none",
    doc: {
      summary: "Readiness: 503 while the manager is stopping or its backend is unreachable",
      response: {
        status: 200,
        schema: z.object({
          status: z.literal("ready"),
          backend: z.enum(["memory", "redis", "postgres", "sqlite"]),
        }),
      },
    },
    async handle({ mill }) {
      const health = mill.health();
      if (health.stopping)
        return { status: 503, body: { status: "stopping", backend: health.backend } };
      if (health.status !== "connected")
        return {
          status: 503,
          body: { status: "unavailable", backend: health.backend, connection: health.status },
        };
      return { status: 200, body: { status: "ready", backend: health.backend } };
    },
  }),
  route({
    method: "GET",
    path: "/metrics",
    role: "read",
    doc: {
      summary: "Prometheus text exposition",
      response: { status: 200 },
      produces: "text/plain",
    },
    async handle({ res, options }) {
      const source = options.metrics;
      if (source === undefined)
        throw new HttpError("NOT_FOUND", "Metrics are not enabled (no `metrics` option given)");
      const text = await source.metrics();
      res.writeHead(200, {
        "content-type": source.contentType,
        "content-length": String(Buffer.byteLength(text)),
        "cache-control": "no-store",
      });
      res.end(text);
      return "sent";
    },
  }),
  route({
    method: "GET",
    path: "/",
    role: "none",
    query: IgnoredQuery,
    doc: {
      summary:
        "The dashboard (no data). Mounted under a prefix and asked for without the trailing slash, a 308 to the URL with it",
      response: { status: 200 },
      produces: "text/html",
    },
    async handle({ req, res, dashboard }) {
      const location = trailingSlashRedirect(req);
      if (location !== undefined) {
        res.writeHead(308, { location, "cache-control": "no-cache", "content-length": "0" });
        res.end();
        return "sent";
      }
      await dashboard.send(req, res, "index.html");
      return "sent";
    },
  }),
  route({
    method: "GET",
    path: "/assets/*path",
    role: "none",
    query: IgnoredQuery,
    doc: {
      summary:
        "A file of the dashboard (its scripts, styles, images; no data), with an ETag for If-None-Match",
      response: { status: 200 },
      produces: "text/javascript",
    },
    async handle({ req, res, params, dashboard }) {
      await dashboard.send(req, res, params.path ?? "");
      return "sent";
    },
  }),
];
