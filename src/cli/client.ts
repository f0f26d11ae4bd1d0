/**
 * A small fetch-based client of the taskmill admin API (`/v1`). It turns the API's error
 * envelope into {@link ApiError} and transport failures into {@link UnreachableError}, so
 * commands only deal with typed results.
 */

import type { ManagerStats } from "../engine/backend.js";
import type { DeadLetterOutcome } from "../registry/dead-letters.js";
import type { ScheduleInfo } from "../scheduling/cron.js";
import type { QueueInfo, TaskSnapshot } from "../types.js";
import { ApiError, UnreachableError, UsageError } from "./errors.js";

/** How to reach the admin API. */
export interface ClientOptions {
  /** Base URL of the admin API, e.g. `http://127.0.0.1:8080` or `https://ops.example/admin`. */
  readonly url: string;
  /** Bearer token; omitted from requests when undefined or empty. */
  readonly token?: string | undefined;
  /** Deadline of each request, from sending it to reading the whole answer. */
  readonly timeoutMs: number;
}

/** Query parameters; undefined values are left out. */
export type Query = Readonly<Record<string, string | number | undefined>>;

/** Options of one request. */
export interface RequestOptions {
  readonly query?: Query;
  /** Sent as JSON. */
  readonly body?: unknown;
  /** Aborts the request (in addition to the client's timeout). */
  readonly signal?: AbortSignal;
}

/** The body of `POST /v1/tasks`. */
export interface SubmitRequest {
  readonly name: string;
  readonly payload?: unknown;
  readonly options?: {
    readonly idempotencyKey?: string;
    readonly priority?: number;
    readonly delayMs?: number;
    readonly queue?: string;
  };
}

/** One page of `GET /v1/tasks` or `GET /v1/dlq`. */
export interface TaskPage {
  readonly tasks: TaskSnapshot[];
  readonly nextCursor: string | null;
}

/** The answer of `POST /v1/tasks/:id/cancel`. */
export interface CancelResponse {
  readonly cancelled: boolean;
  readonly task?: TaskSnapshot;
}

/** The answer of `GET /v1/stats`. */
export interface StatsResponse {
  readonly stats: ManagerStats;
  readonly health: { readonly backend: string; readonly status: string } & Record<string, unknown>;
}

/** Which dead letters `replay`/`purge` target: explicit ids or every entry of a task name. */
export type DeadLetterTarget = { readonly ids: readonly string[] } | { readonly name: string };

/** The answer of `POST /v1/dlq/replay` and `POST /v1/dlq/purge`. */
export type DeadLetterResult = DeadLetterOutcome;

/** A typed client of the admin API. Every method rejects with a `CliError` subclass. */
export class AdminClient {
  readonly baseUrl: URL;
  readonly #token: string | undefined;
  readonly #timeoutMs: number;

  constructor(options: ClientOptions) {
    this.baseUrl = parseBaseUrl(options.url);
    const token = options.token === "" ? undefined : options.token;
    // fetch would reject such a header with a vague TypeError, reported as "cannot reach".
    if (token !== undefined && !/^[\x21-\x7e]+$/.test(token))
      throw new UsageError("the token must be printable ASCII without spaces or line breaks");
    this.#token = token;
    this.#timeoutMs = options.timeoutMs;
  }

  /** Sends one request and returns its parsed JSON answer. */
  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const url = this.url(path, options.query);
    const timeout = AbortSignal.timeout(this.#timeoutMs);
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    const headers: Record<string, string> = { accept: "application/json", ...this.#auth() };
    let body: string | undefined;
    if (options.body !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(options.body);
    }
    let response: Response;
    let text: string;
    try {
      response = await fetch(url, { method, headers, body, signal });
      text = await response.text();
    } catch (error) {
      throw this.#transportError(error, timeout);
    }
    if (!response.ok) throw toApiError(response, text);
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new ApiError({
        status: response.status,
        code: "BAD_RESPONSE",
        message: `the server answered ${method} ${url.pathname} with a body that is not JSON`,
        requestId: response.headers.get("x-request-id") ?? undefined,
      });
    }
  }

  /**
   * Opens a streaming GET (Server-Sent Events) and returns the response once its headers are in.
   * The timeout covers only the wait for the headers: a stream may stay quiet for long.
   */
  async openStream(
    path: string,
    options: { headers?: Record<string, string>; signal?: AbortSignal } = {},
  ): Promise<Response> {
    const url = this.url(path);
    const timeout = new AbortController();
    const timer = setTimeout(
      () => timeout.abort(new DOMException("timed out", "TimeoutError")),
      this.#timeoutMs,
    );
    const signal = options.signal
      ? AbortSignal.any([options.signal, timeout.signal])
      : timeout.signal;
    let response: Response;
    try {
      response = await fetch(url, {
        headers: { accept: "text/event-stream", ...this.#auth(), ...options.headers },
        signal,
      });
    } catch (error) {
      throw this.#transportError(error, timeout.signal);
    } finally {
      clearTimeout(timer);
    }
    if (!response.ok) {
      const text = await response.text().catch(() => "");
      throw toApiError(response, text);
    }
    return response;
  }

  /** `POST /v1/tasks`. */
  submit(request: SubmitRequest): Promise<{ task: TaskSnapshot }> {
    return this.request("POST", "v1/tasks", { body: request });
  }

  /** `GET /v1/tasks/:id`. */
  getTask(id: string): Promise<{ task: TaskSnapshot }> {
    return this.request("GET", `v1/tasks/${encodeURIComponent(id)}`);
  }

  /** `GET /v1/tasks` (one page). */
  listTasks(query: Query): Promise<TaskPage> {
    return this.request("GET", "v1/tasks", { query });
  }

  /** `POST /v1/tasks/:id/cancel`. */
  cancel(id: string): Promise<CancelResponse> {
    return this.request("POST", `v1/tasks/${encodeURIComponent(id)}/cancel`);
  }

  /** `GET /v1/queues`. */
  queues(): Promise<{ queues: QueueInfo[] }> {
    return this.request("GET", "v1/queues");
  }

  /** `POST /v1/queues/:name/pause` or `.../resume`. */
  setPaused(name: string, paused: boolean): Promise<{ queue: QueueInfo }> {
    const action = paused ? "pause" : "resume";
    return this.request("POST", `v1/queues/${encodeURIComponent(name)}/${action}`);
  }

  /** `GET /v1/dlq` (one page). */
  listDeadLetters(query: Query): Promise<TaskPage> {
    return this.request("GET", "v1/dlq", { query });
  }

  /** `POST /v1/dlq/replay`. */
  replayDeadLetters(
    target: DeadLetterTarget,
    options: { dryRun: boolean; resetAttempts?: boolean | undefined },
  ): Promise<DeadLetterResult> {
    return this.request("POST", "v1/dlq/replay", { body: { ...target, ...options } });
  }

  /** `POST /v1/dlq/purge`. */
  purgeDeadLetters(target: DeadLetterTarget): Promise<DeadLetterResult> {
    return this.request("POST", "v1/dlq/purge", { body: target });
  }

  /** `GET /v1/stats`. */
  stats(): Promise<StatsResponse> {
    return this.request("GET", "v1/stats");
  }

  /** `GET /v1/schedules`. */
  schedules(): Promise<{ schedules: ScheduleInfo[] }> {
    return this.request("GET", "v1/schedules");
  }

  /** Resolves a path relative to the base URL, so a base mounted under a prefix keeps it. */
  url(path: string, query?: Query): URL {
    const url = new URL(path, this.baseUrl);
    for (const [key, value] of Object.entries(query ?? {}))
      if (value !== undefined) url.searchParams.set(key, String(value));
    return url;
  }

  #auth(): Record<string, string> {
    return this.#token === undefined ? {} : { authorization: `Bearer ${this.#token}` };
  }

  #transportError(error: unknown, timeout: AbortSignal): Error {
    // The caller's own abort (Ctrl-C in `tail`) is not a failure to reach the server.
    if (timeout.aborted && isAbort(error))
      return new UnreachableError(
        `no answer from ${this.baseUrl.origin} within ${this.#timeoutMs} ms (--timeout-ms)`,
        { cause: error },
      );
    if (isAbort(error)) return error as Error;
    return new UnreachableError(`cannot reach ${this.baseUrl.origin}: ${describeCause(error)}`, {
      cause: error,
    });
  }
}

/** Validates `--url`; a trailing slash is added so relative paths keep a mount prefix. */
export function parseBaseUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`--url must be an absolute http(s) URL (got "${raw}")`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new UsageError(`--url must use http or https (got "${url.protocol}")`);
  if (url.search !== "" || url.hash !== "")
    throw new UsageError(`--url must not have a query or fragment (got "${raw}")`);
  if (!url.pathname.endsWith("/")) url.pathname += "/";
  return url;
}

/** Builds an {@link ApiError} from a non-2xx answer, with or without the JSON envelope. */
export function toApiError(response: Response, text: string): ApiError {
  const headerId = response.headers.get("x-request-id") ?? undefined;
  const envelope = parseEnvelope(text);
  if (envelope !== undefined)
    return new ApiError({
      status: response.status,
      code: envelope.code,
      message: envelope.message,
      field: envelope.field,
      requestId: envelope.requestId ?? headerId,
    });
  // A proxy or an older server may answer without the envelope; keep its text short.
  const snippet = text.trim().slice(0, 200);
  return new ApiError({
    status: response.status,
    code: `HTTP_${response.status}`,
    message: snippet || response.statusText || `HTTP ${response.status}`,
    requestId: headerId,
  });
}

interface Envelope {
  code: string;
  message: string;
  field?: string;
  requestId?: string;
}

function parseEnvelope(text: string): Envelope | undefined {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof body !== "object" || body === null) return undefined;
  const error = (body as { error?: unknown }).error;
  if (typeof error !== "object" || error === null) return undefined;
  const { code, message, field, requestId } = error as Record<string, unknown>;
  if (typeof code !== "string" || typeof message !== "string") return undefined;
  return {
    code,
    message,
    ...(typeof field === "string" ? { field } : {}),
    ...(typeof requestId === "string" ? { requestId } : {}),
  };
}

function isAbort(error: unknown): boolean {
  return error instanceof Error && (error.name === "AbortError" || error.name === "TimeoutError");
}

/** undici hides the useful part ("connect ECONNREFUSED ...") in `cause`. */
function describeCause(error: unknown): string {
  let current: unknown = error;
  let message = error instanceof Error ? error.message : String(error);
  for (let depth = 0; depth < 4 && current instanceof Error && current.cause; depth++) {
    current = current.cause;
    if (current instanceof Error && current.message) message = current.message;
    else if (typeof current === "object" && current !== null && "code" in current)
      message = String((current as { code: unknown }).code);
  }
  return message;
}
