/**
 * The logger interface: pino's method shape, so a pino logger (or anything alike) plugs in.
 * taskmill is silent unless given one.
 */

/** One log method: a structured object first, then a message, as pino takes them. */
export type LogFn = (obj: Record<string, unknown>, msg?: string) => void;

/** A pino-compatible logger. */
export interface Logger {
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
}

const noop: LogFn = () => {};

/** The default: drops everything. */
export const silentLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop };

/** Calls a logger method, swallowing anything the logger itself throws. */
export function safeLog(
  logger: Logger,
  level: keyof Logger,
  obj: Record<string, unknown>,
  msg: string,
): void {
  try {
    logger[level](obj, msg);
  } catch {
    // A broken logger must never break a task; there is nowhere left to report it.
  }
}
