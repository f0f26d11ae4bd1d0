/** The admin handler's and server's options, validated and resolved in one place. */
import type { ServerOptions as HttpsServerOptions } from "node:https";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { InvalidOptionError } from "../errors.js";
import { requireInteger } from "../validation.js";
import { type AdminAuth, type Authenticator, createAuthenticator } from "./auth.js";
import { DEFAULT_BODY_LIMIT } from "./body.js";
import type { Exposure, RedactPayload } from "./exposure.js";

/**
 * Where `/metrics` text comes from: a prom-client `Registry` fits as it is (for example the
 * one `taskmill/prometheus` fills).
 */
export interface MetricsSource {
  readonly contentType: string;
  metrics(): Promise<string>;
}

/** What an unexpected (500) error is reported with. */
export interface AdminErrorContext {
  readonly requestId: string;
  readonly method: string;
  readonly path: string;
}

/** Options of `createAdminHandler`. */
export interface AdminHandlerOptions {
  /** Bearer tokens or an authenticate hook. Required unless `insecureNoAuth` is set. */
  readonly auth?: AdminAuth;
  /**
   * Local development only: no authentication, every caller gets the `write` role, but only
   * requests from a loopback address are served (others get 403), and `createAdminServer`
   * refuses to listen on a non-loopback host.
   */
  readonly insecureNoAuth?: "loopback-only";
  /** Largest request body accepted; larger ones get 413. @default 1_048_576 (1 MiB) */
  readonly bodyLimitBytes?: number;
  /** Serves `GET /metrics` from this registry; without it `/metrics` is 404. */
  readonly metrics?: MetricsSource;
  /** How often an idle SSE stream gets a `: ping` comment. @default 15_000 */
  readonly sseHeartbeatMs?: number;
  /**
   * Results an SSE client may fall behind by (its socket not draining) before its stream is
   * ended with a `: fell too far behind; reconnect` comment. Ending beats silently skipping:
   * in durable mode the client reconnects with `Last-Event-ID` and loses nothing.
   * @default 4096
   */
  readonly sseBufferSize?: number;
  /**
   * Directory of the dashboard's files: `index.html` is served at `/`, every file (`.html`,
   * `.js`, `.css`, `.svg`, `.png`; dotfiles and symlinks skipped) at `/assets/<relative path>`.
   * It is listed once, when the handler is created: files added later are not served (edits to
   * listed files are).
   * @default the dashboard shipped with taskmill
   */
  readonly dashboardDir?: string | URL;
  /** Told of every unexpected error (answered 500), for logging. Must not throw. */
  readonly onError?: (error: unknown, context: AdminErrorContext) => void;
  /**
   * Show task payloads and error stack traces to operators: in `GET /v1/tasks/:id`, the
   * dead-letter list (`GET /v1/dlq`), hence in the CLI (`taskmill get`, `taskmill dlq list`)
   * and the dashboard's task detail. Off by default, because payloads may hold personal data
   * or secrets and stacks reveal code paths: give it only to those allowed to read them, and
   * pass `redact` to mask fields. Nothing is logged either way.
   * @default false
   */
  readonly exposePayloads?: boolean;
  /**
   * With `exposePayloads`, called for every payload before it is sent; what it returns is
   * shown instead (return a copy: the argument may be the live payload in memory mode). If it
   * throws, the request fails with 500 and nothing of the payload is sent.
   *
   * ```ts
   * redact: (payload, task) =>
   *   task.name === "card.charge" ? { ...(payload as object), pan: "****" } : payload
   * ```
   */
  readonly redact?: RedactPayload;
}

/** Options of `createAdminServer`: the handler's, plus where and how to listen. */
export interface AdminServerOptions extends AdminHandlerOptions {
  /** @default 0 (a free port) */
  readonly port?: number;
  /** @default "127.0.0.1" */
  readonly host?: string;
  /** Serve HTTPS with these `node:https` options (at least `key` and `cert`). */
  readonly https?: HttpsServerOptions;
}

/** @internal */
export interface ResolvedAdminOptions {
  readonly authenticate: Authenticator;
  /** Whether to refuse callers that are not on loopback (the `insecureNoAuth` mode). */
  readonly loopbackOnly: boolean;
  readonly bodyLimitBytes: number;
  readonly metrics: MetricsSource | undefined;
  readonly sseHeartbeatMs: number;
  readonly sseBufferSize: number;
  readonly dashboardDir: URL;
  readonly onError: ((error: unknown, context: AdminErrorContext) => void) | undefined;
  readonly exposure: Exposure;
}

/** @throws InvalidOptionError naming the first invalid option. */
export function resolveAdminOptions(options: AdminHandlerOptions): ResolvedAdminOptions {
  if (typeof options !== "object" || options === null)
    throw new InvalidOptionError("options", "must be an object", options);
  const authenticate = createAuthenticator(options.auth, options.insecureNoAuth);
  const bodyLimitBytes = options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT;
  requireInteger("bodyLimitBytes", bodyLimitBytes, 1, InvalidOptionError);
  const sseHeartbeatMs = options.sseHeartbeatMs ?? 15_000;
  requireInteger("sseHeartbeatMs", sseHeartbeatMs, 1, InvalidOptionError);
  const sseBufferSize = options.sseBufferSize ?? 4096;
  requireInteger("sseBufferSize", sseBufferSize, 1, InvalidOptionError);
  const metrics = options.metrics;
  if (
    metrics !== undefined &&
    (typeof metrics?.metrics !== "function" || typeof metrics.contentType !== "string")
  )
    throw new InvalidOptionError(
      "metrics",
      "must have a contentType string and a metrics() method (a prom-client Registry)",
      metrics,
    );
  if (options.onError !== undefined && typeof options.onError !== "function")
    throw new InvalidOptionError("onError", "must be a function", options.onError);
  const exposePayloads = options.exposePayloads ?? false;
  if (typeof exposePayloads !== "boolean")
    throw new InvalidOptionError("exposePayloads", "must be a boolean", exposePayloads);
  if (options.redact !== undefined && typeof options.redact !== "function")
    throw new InvalidOptionError("redact", "must be a function", options.redact);
  if (options.redact !== undefined && !exposePayloads)
    throw new InvalidOptionError(
      "redact",
      "has no effect without exposePayloads: true (payloads are not shown at all)",
      options.redact,
    );
  return {
    authenticate,
    loopbackOnly: options.auth === undefined,
    bodyLimitBytes,
    metrics,
    sseHeartbeatMs,
    sseBufferSize,
    dashboardDir: dashboardUrl(options.dashboardDir),
    onError: options.onError,
    exposure: { payloads: exposePayloads, redact: options.redact },
  };
}

function dashboardUrl(dir: string | URL | undefined): URL {
  if (dir === undefined) return new URL("./dashboard/", import.meta.url);
  if (dir instanceof URL) return dir.href.endsWith("/") ? dir : new URL(`${dir.href}/`);
  if (typeof dir !== "string" || dir.length === 0)
    throw new InvalidOptionError("dashboardDir", "must be a directory path or file: URL", dir);
  return pathToFileURL(`${resolve(dir)}/`);
}
