/**
 * The admin API's one error shape. Route code throws {@link HttpError}; taskmill errors are
 * mapped to HTTP in exactly one place, {@link toHttpError}, so every client can branch on
 * `error.code` whatever produced it.
 */
import {
  BackendUnavailableError,
  HandlerNotFoundError,
  IdempotencyConflictError,
  InvalidArgumentError,
  InvalidOptionError,
  NotFoundError,
  ShuttingDownError,
  UnsupportedError,
} from "../errors.js";

/** Stable codes of the admin API's error envelope. */
export type AdminErrorCode =
  | "BAD_REQUEST"
  | "UNAUTHORIZED"
  | "FORBIDDEN"
  | "NOT_FOUND"
  | "PAYLOAD_TOO_LARGE"
  | "METHOD_NOT_ALLOWED"
  | "UNSUPPORTED_MEDIA_TYPE"
  | "CONFLICT"
  | "UNAVAILABLE"
  | "INTERNAL";

/** The body of every admin API error response. */
export interface AdminErrorBody {
  readonly error: {
    readonly code: AdminErrorCode;
    readonly message: string;
    /** For 400s: the offending field, e.g. `"options.priority"` or `"limit"`. */
    readonly field?: string;
    /** The request's `x-request-id`, to find it in logs. */
    readonly requestId: string;
  };
}

const STATUS: Readonly<Record<AdminErrorCode, number>> = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  INTERNAL: 500,
  UNAVAILABLE: 503,
};

/** An error that is already an HTTP answer. */
export class HttpError extends Error {
  readonly status: number;
  readonly code: AdminErrorCode;
  readonly field: string | undefined;
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    code: AdminErrorCode,
    message: string,
    options: { readonly field?: string; readonly headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.name = "HttpError";
    this.code = code;
    this.status = STATUS[code];
    this.field = options.field;
    this.headers = options.headers ?? {};
  }
}

/** Maps anything thrown by a route to its HTTP answer; unknown errors become a bare 500. */
export function toHttpError(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  if (error instanceof InvalidArgumentError)
    return new HttpError("BAD_REQUEST", error.message, { field: error.argument });
  if (error instanceof InvalidOptionError)
    return new HttpError("BAD_REQUEST", error.message, { field: error.option });
  if (error instanceof HandlerNotFoundError)
    return new HttpError("BAD_REQUEST", error.message, { field: "name" });
  if (error instanceof UnsupportedError) return new HttpError("BAD_REQUEST", error.message);
  if (error instanceof NotFoundError) return new HttpError("NOT_FOUND", error.message);
  if (error instanceof IdempotencyConflictError)
    return new HttpError("CONFLICT", error.message, { field: "options.idempotencyKey" });
  if (error instanceof ShuttingDownError || error instanceof BackendUnavailableError)
    return new HttpError("UNAVAILABLE", error.message, { headers: { "retry-after": "1" } });
  // The cause stays in the server's logs (`onError`): internals are not a client's business.
  return new HttpError("INTERNAL", "Internal error");
}
