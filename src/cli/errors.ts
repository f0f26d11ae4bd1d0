/**
 * The failures the CLI expects, each tied to its exit code. `main.ts` prints their message and
 * exits with their code; anything else is a bug and keeps its stack trace.
 */

/** Process exit codes of the `taskmill` binary. */
export const ExitCode = {
  ok: 0,
  /** The server refused the request (a 4xx or 5xx answer). */
  refused: 1,
  /** Bad flags, arguments or payload, found before any request was sent. */
  usage: 2,
  /** The server could not be reached (connection refused, DNS, TLS, timeout). */
  unreachable: 3,
  /** `audit verify` recomputed the hash chain and found a record altered, removed or reordered. */
  auditBroken: 4,
} as const;

/** One of the {@link ExitCode} values. */
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** Base class of the failures the CLI reports without a stack trace. */
export class CliError extends Error {
  readonly exitCode: ExitCode;

  constructor(exitCode: ExitCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.exitCode = exitCode;
    this.name = new.target.name;
  }
}

/** A flag, argument or payload is invalid; nothing was sent. Exit code 2. */
export class UsageError extends CliError {
  constructor(message: string) {
    super(ExitCode.usage, message);
  }
}

/** The admin API answered with an error. Exit code 1. */
export class ApiError extends CliError {
  /** HTTP status of the answer. */
  readonly status: number;
  /** The envelope's `code` (e.g. `NOT_FOUND`), or `HTTP_<status>` when the body had none. */
  readonly code: string;
  /** The request field the server blamed, for 400s. */
  readonly field: string | undefined;
  /** The server's request id, to find the request in its logs. */
  readonly requestId: string | undefined;

  constructor(init: {
    status: number;
    code: string;
    message: string;
    field?: string | undefined;
    requestId?: string | undefined;
  }) {
    super(ExitCode.refused, init.message);
    this.status = init.status;
    this.code = init.code;
    this.field = init.field;
    this.requestId = init.requestId;
  }
}

/** The server could not be reached or did not answer in time. Exit code 3. */
export class UnreachableError extends CliError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ExitCode.unreachable, message, options);
  }
}
