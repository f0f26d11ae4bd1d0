/**
 * Payloads, results and errors as every durable store keeps them: strict JSON text (nothing
 * `JSON.stringify` would silently change), and errors as `{ name, message, code? }`.
 */
import { InvalidArgumentError } from "../errors.js";
import { errorDetail } from "../lifecycle/task-record.js";
import type { ErrorInfo } from "../types.js";

/**
 * JSON text for `value`, or `""` for `undefined`. Refuses, with `InvalidArgumentError` naming
 * `argument`, anything `JSON.stringify` would silently change or choke on: functions, symbols,
 * BigInt, non-finite numbers, cycles, `undefined` inside arrays, and objects that are neither
 * plain nor `toJSON`-able (Map, Set, class instances). `toJSON` is honoured (a Date becomes
 * its ISO string); `undefined` object properties are dropped, as JSON does.
 */
export function encodeJson(argument: string, value: unknown): string {
  if (value === undefined) return "";
  // The common payload (a scalar, or one flat plain object of scalars) has nothing to refuse:
  // stringified without the checking replacer, which costs a call and a string per key.
  if (isFlatJson(value)) return JSON.stringify(value);
  let problem: string | undefined;
  const replacer = function (this: unknown, key: string, current: unknown): unknown {
    if (problem !== undefined) return undefined;
    const where = key === "" ? "the value" : `key "${key}"`;
    switch (typeof current) {
      case "function":
      case "symbol":
      case "bigint":
        problem = `${where} is a ${typeof current}`;
        return undefined;
      case "number":
        if (!Number.isFinite(current)) problem = `${where} is ${current}`;
        return current;
      case "undefined":
        if (Array.isArray(this)) problem = `an array holds undefined at index ${key}`;
        return current;
      case "object": {
        if (current === null || Array.isArray(current)) return current;
        const proto = Object.getPrototypeOf(current);
        if (proto !== Object.prototype && proto !== null)
          problem = `${where} is a ${proto?.constructor?.name ?? "non-plain object"}`;
        return current;
      }
      default:
        return current;
    }
  };
  let text: string | undefined;
  try {
    text = JSON.stringify(value, replacer);
  } catch (error) {
    // Cycles (and throwing toJSON methods) end up here.
    problem = error instanceof Error ? error.message : String(error);
  }
  if (problem !== undefined || text === undefined)
    throw new InvalidArgumentError(
      argument,
      `must be JSON data (${problem ?? "it has no JSON form"})`,
      value,
    );
  return text;
}

/** Parses JSON written by {@link encodeJson}; absent or `""` is `undefined`. */
export function decodeJson(text: string | undefined): unknown {
  return text === undefined || text === "" ? undefined : JSON.parse(text);
}

/**
 * An error as the JSON the scripts store, with its stack (cut short) so that `get()` can show
 * it from any process.
 */
export function encodeError(error: Error | ErrorInfo): string {
  const info = error instanceof Error ? errorDetail(error) : error;
  return JSON.stringify({
    name: info.name,
    message: info.message,
    ...(info.code === undefined ? {} : { code: info.code }),
    ...(info.stack === undefined ? {} : { stack: info.stack }),
  });
}

/** Parses an error written by {@link encodeError}; absent or `""` is `undefined`. */
export function decodeError(text: string | undefined): ErrorInfo | undefined {
  const parsed = decodeJson(text);
  if (typeof parsed !== "object" || parsed === null) return undefined;
  const { name, message, code, stack } = parsed as Record<string, unknown>;
  return {
    name: typeof name === "string" ? name : "Error",
    message: typeof message === "string" ? message : "",
    ...(typeof code === "string" ? { code } : {}),
    ...(typeof stack === "string" ? { stack } : {}),
  };
}

/**
 * True for a value whose JSON text needs no checks: a string, boolean, null or finite number,
 * or a plain object whose own values are all of those. Anything else (nesting, arrays, Dates,
 * class instances, non-finite numbers, undefined values) takes the checked path.
 */
function isFlatJson(value: unknown): boolean {
  if (isScalar(value)) return true;
  if (typeof value !== "object" || Object.getPrototypeOf(value) !== Object.prototype) return false;
  const object = value as Record<string, unknown>;
  try {
    for (const key in object) if (!isScalar(object[key])) return false;
  } catch {
    // A getter that throws: the checked path reports it as the value's problem.
    return false;
  }
  return true;
}

function isScalar(value: unknown): boolean {
  switch (typeof value) {
    case "string":
    case "boolean":
      return true;
    case "number":
      return Number.isFinite(value);
    default:
      return value === null;
  }
}
