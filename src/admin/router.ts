/**
 * The route table's types and its matcher. Routes are data (method, path pattern, role, the
 * schemas they read): the handler enforces auth and validation from them, and the OpenAPI
 * document is generated from the same table, so the two cannot drift.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { z } from "zod";
import type { TaskManager } from "../task-manager.js";
import type { AdminPrincipal, AdminRole } from "./auth.js";
import type { ResolvedAdminOptions } from "./options.js";
import type { SseStreams } from "./sse.js";
import type { DashboardFiles } from "./static.js";

/** What a route handler gets. */
export interface RouteContext<Q = unknown, B = unknown> {
  readonly mill: TaskManager;
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly params: Readonly<Record<string, string>>;
  /** The validated query (`{}` for routes without a query schema). */
  readonly query: Q;
  /** The validated body (`undefined` for routes without a body schema). */
  readonly body: B;
  readonly requestId: string;
  readonly principal: AdminPrincipal | undefined;
  readonly options: ResolvedAdminOptions;
  readonly streams: SseStreams;
  /** The dashboard's files, listed when the handler was created. */
  readonly dashboard: DashboardFiles;
}

/** A JSON answer, or `"sent"` when the route wrote the response itself (SSE, static files). */
export type RouteReply = { readonly status: number; readonly body: unknown } | "sent";

/** Documentation of a route, for the OpenAPI document. */
export interface RouteDoc {
  readonly summary: string;
  /** The success status and its schema (`undefined`: not JSON). */
  readonly response?: { readonly status: number; readonly schema?: z.ZodType };
  /** Non-JSON success content type, e.g. `text/event-stream`. */
  readonly produces?: string;
}

export interface Route {
  readonly method: "GET" | "POST";
  /** e.g. `/v1/tasks/:id/cancel`, or `/assets/*path` for the rest of the path */
  readonly path: string;
  /** `none` for probes and the dashboard's static shell. */
  readonly role: AdminRole | "none";
  readonly query?: z.ZodType;
  readonly body?: z.ZodType;
  readonly doc: RouteDoc;
  handle(ctx: RouteContext<never, never>): Promise<RouteReply>;
}

/** Declares a route with its handler typed by its own schemas. */
export function route<Q extends z.ZodType | undefined, B extends z.ZodType | undefined>(
  definition: Omit<Route, "handle" | "query" | "body"> & {
    readonly query?: Q;
    readonly body?: B;
    handle(
      ctx: RouteContext<
        Q extends z.ZodType ? z.output<Q> : Record<string, never>,
        B extends z.ZodType ? z.output<B> : undefined
      >,
    ): Promise<RouteReply>;
  },
): Route {
  return definition as unknown as Route;
}

/** What a path resolves to: the route for the method, or the methods it does allow. */
export type Match =
  | { readonly kind: "found"; readonly route: Route; readonly params: Record<string, string> }
  | { readonly kind: "method"; readonly allow: readonly string[] }
  | { readonly kind: "none" };

interface Compiled {
  readonly route: Route;
  readonly segments: readonly string[];
}

/**
 * Matches paths against a fixed table; a segment `:name` captures one path segment, a last
 * segment `*name` captures the rest of the path (one segment or more, `/`-joined).
 */
export class Router {
  readonly #routes: readonly Compiled[];

  constructor(routes: readonly Route[]) {
    this.#routes = routes.map((route) => ({ route, segments: split(route.path) }));
  }

  get routes(): readonly Route[] {
    return this.#routes.map((compiled) => compiled.route);
  }

  /** @throws URIError for a malformed percent-encoding in a captured segment. */
  match(method: string, path: string): Match {
    const parts = split(path);
    const allow: string[] = [];
    for (const compiled of this.#routes) {
      const params = capture(compiled.segments, parts);
      if (params === undefined) continue;
      if (compiled.route.method === method) return { kind: "found", route: compiled.route, params };
      allow.push(compiled.route.method);
    }
    return allow.length > 0 ? { kind: "method", allow } : { kind: "none" };
  }
}

function split(path: string): string[] {
  return path === "/" ? [""] : path.replace(/\/+$/, "").split("/").slice(1);
}

function capture(
  pattern: readonly string[],
  parts: readonly string[],
): Record<string, string> | undefined {
  const rest = pattern.at(-1)?.startsWith("*") === true;
  if (rest ? parts.length < pattern.length : pattern.length !== parts.length) return undefined;
  const params: Record<string, string> = Object.create(null);
  for (let i = 0; i < pattern.length; i++) {
    const expected = pattern[i] as string;
    const actual = parts[i] as string;
    if (expected.startsWith("*")) {
      const tail = parts.slice(i);
      if (tail.some((part) => part.length === 0)) return undefined;
      params[expected.slice(1)] = tail.map((part) => decodeURIComponent(part)).join("/");
    } else if (expected.startsWith(":")) {
      if (actual.length === 0) return undefined;
      params[expected.slice(1)] = decodeURIComponent(actual);
    } else if (expected !== actual) return undefined;
  }
  return params;
}
