/**
 * The OpenAPI 3.1 document, generated from the route table and the zod schemas the routes
 * validate with: what the document says is what the server enforces.
 */
import { z } from "zod";
import type { Route } from "./router.js";
import { adminSchemas, namedSchemas } from "./schemas.js";

type Json = Record<string, unknown>;

const COMPONENT = (id: string) => `#/components/schemas/${id}`;
const INLINE = "__inline";

const ERROR_STATUSES: Readonly<Record<string, string>> = {
  "400": "Invalid input; `error.field` names the offending field",
  "401": "Missing or invalid bearer token",
  "403": "The token's role may not call this route",
  "404": "Not found",
  "405": "Method not allowed on this path",
  "409": "Idempotency key held by a different task",
  "413": "Request body too large",
  "415": "Request body is not application/json",
  "503": "The manager is stopping or Redis is unreachable",
};

/** Builds the document for `routes` (served at `/v1/openapi.json`). */
export function buildOpenApi(routes: readonly Route[], version: string): Json {
  const registered = z.toJSONSchema(adminSchemas, { io: "input", uri: COMPONENT }) as {
    schemas: Record<string, Json>;
  };
  const components: Record<string, Json> = {};
  for (const [id, schema] of Object.entries(registered.schemas)) components[id] = strip(schema);
  const paths: Record<string, Record<string, Json>> = {};
  for (const route of routes) {
    const path = route.path.replace(/[:*](\w+)/g, "{$1}");
    paths[path] ??= {};
    (paths[path] as Record<string, Json>)[route.method.toLowerCase()] = operation(
      route,
      components,
    );
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "taskmill admin API",
      version,
      description:
        "Operate a taskmill TaskManager: submit, inspect and cancel tasks, pause queues, work the dead-letter queue, stream results. Every error is `{ error: { code, message, field?, requestId } }`.",
    },
    components: {
      schemas: components,
      securitySchemes: { bearer: { type: "http", scheme: "bearer" } },
    },
    paths,
  };
}

function operation(route: Route, components: Readonly<Record<string, Json>>): Json {
  const parameters: Json[] = [];
  for (const match of route.path.matchAll(/[:*](\w+)/g))
    parameters.push({ name: match[1], in: "path", required: true, schema: { type: "string" } });
  if (route.query !== undefined) {
    // Query parameters are listed one by one, so the registered object is unpacked.
    const id = adminSchemas.get(route.query)?.id;
    const query = id === undefined ? inline(route.query) : (components[id] ?? {});
    const properties = (query.properties ?? {}) as Record<string, Json>;
    for (const [name, schema] of Object.entries(properties)) {
      const { description, ...rest } = schema;
      parameters.push({
        name,
        in: "query",
        required: false,
        schema: rest,
        ...(description === undefined ? {} : { description }),
      });
    }
  }
  if (route.path === "/v1/results")
    parameters.push({
      name: "Last-Event-ID",
      in: "header",
      required: false,
      description: "Durable mode: resume after this event id.",
      schema: { type: "string" },
    });
  const success = route.doc.response ?? { status: 200 };
  const content =
    success.schema !== undefined
      ? { "application/json": { schema: inline(success.schema) } }
      : { [route.doc.produces ?? "application/json"]: {} };
  const responses: Record<string, Json> = {
    [String(success.status)]: { description: "OK", content },
  };
  const errorContent = { "application/json": { schema: { $ref: COMPONENT("Error") } } };
  for (const [status, description] of Object.entries(ERROR_STATUSES)) {
    if (!applies(route, status)) continue;
    responses[status] = { description, content: errorContent };
  }
  return {
    summary: route.doc.summary,
    security: route.role === "none" ? [] : [{ bearer: [] }],
    "x-taskmill-role": route.role,
    ...(parameters.length === 0 ? {} : { parameters }),
    ...(route.body === undefined
      ? {}
      : {
          requestBody: {
            required: true,
            content: { "application/json": { schema: inline(route.body) } },
          },
        }),
    responses,
  };
}

function applies(route: Route, status: string): boolean {
  switch (status) {
    case "401":
      return route.role !== "none";
    case "403":
      return route.role === "write";
    case "409":
      return route.path === "/v1/tasks" && route.method === "POST";
    case "413":
    case "415":
      return route.method === "POST";
    default:
      return true;
  }
}

/** A schema as JSON Schema, referring to registered components instead of repeating them. */
function inline(schema: z.ZodType): Json {
  const id = adminSchemas.get(schema)?.id;
  if (id !== undefined) return { $ref: COMPONENT(id) };
  // Converted next to the named schemas, so it refers to them rather than repeating them.
  const scratch = z.registry<{ id: string }>();
  for (const entry of namedSchemas) scratch.add(entry.schema, { id: entry.id });
  scratch.add(schema, { id: INLINE });
  const { schemas } = z.toJSONSchema(scratch, { io: "output", uri: COMPONENT }) as {
    schemas: Record<string, Json>;
  };
  return strip(schemas[INLINE] ?? {});
}

function strip(schema: Json): Json {
  const { $schema: _schema, $defs: _defs, $id: _id, id: _legacyId, ...rest } = schema;
  return rest;
}
