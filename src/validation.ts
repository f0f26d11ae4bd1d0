/**
 * The value rules behind option and argument checks, each written once with its wording. A
 * check names the option or argument it refuses and echoes the bad value. It throws
 * `InvalidArgumentError` (method arguments), or the error class given as its last parameter:
 * `InvalidOptionError` for constructor, `register` and store options.
 */
import { InvalidArgumentError, type TaskmillError } from "./errors.js";

/** The error a failed check throws: `InvalidArgumentError` or `InvalidOptionError`. */
export type ValueError = new (name: string, requirement: string, value: unknown) => TaskmillError;

/** A non-empty string (ids, names, queues, keys). */
export function isName(value: unknown): value is string {
  return typeof value === "string" && value.length > 0;
}

/** A non-empty string. */
export function requireName(
  name: string,
  value: unknown,
  error: ValueError = InvalidArgumentError,
): asserts value is string {
  if (!isName(value)) throw new error(name, "must be a non-empty string", value);
}

/** A safe integer >= `min`. */
export function requireInteger(
  name: string,
  value: unknown,
  min: number,
  error: ValueError = InvalidArgumentError,
): asserts value is number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min)
    throw new error(name, `must be an integer >= ${min}`, value);
}

/** A safe integer from `min` to `max`. */
export function requireIntegerIn(
  name: string,
  value: unknown,
  min: number,
  max: number,
  error: ValueError = InvalidArgumentError,
): asserts value is number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min || value > max)
    throw new error(name, `must be an integer from ${min} to ${max}`, value);
}

/** A finite number >= `min`; any finite number when `min` is `-Infinity`. */
export function requireNumber(
  name: string,
  value: unknown,
  min: number,
  error: ValueError = InvalidArgumentError,
): asserts value is number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < min)
    throw new error(
      name,
      min === Number.NEGATIVE_INFINITY
        ? "must be a finite number"
        : `must be a finite number >= ${min}`,
      value,
    );
}

/** A finite number >= 0 (delays, timeouts, ages). */
export function requireNonNegative(
  name: string,
  value: unknown,
  error: ValueError = InvalidArgumentError,
): asserts value is number {
  requireNumber(name, value, 0, error);
}

/** A finite number > 0 (rates, waits). */
export function requirePositive(
  name: string,
  value: unknown,
  error: ValueError = InvalidArgumentError,
): asserts value is number {
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0)
    throw new error(name, "must be a finite number > 0", value);
}

/** A `limit` of a list call: an integer from 1 to 10,000, 100 when absent. */
export function resolvePageLimit(limit: number | undefined): number {
  const value = limit ?? 100;
  requireIntegerIn("limit", value, 1, 10_000);
  return value;
}

/**
 * Refuses keys of `value` that `known` does not name: a misspelt option (`concurrancy`,
 * `maxRetry`) would otherwise be ignored and its default used without a word. The message
 * names the nearest known key when one is close.
 */
export function requireKnownKeys(
  path: string,
  value: object,
  known: ReadonlySet<string>,
  error: ValueError = InvalidArgumentError,
): void {
  for (const key in value) {
    if (known.has(key)) continue;
    const nearest = nearestKey(key, known);
    const hint = nearest === undefined ? "" : `did you mean "${nearest}"? `;
    throw new error(
      path === "" ? key : `${path}.${key}`,
      `is not a known option (${hint}known: ${[...known].join(", ")})`,
      (value as Record<string, unknown>)[key],
    );
  }
}

/** The known key closest to `key` by edit distance (case-insensitive), if close enough. */
export function nearestKey(key: string, known: ReadonlySet<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.ceil(key.length / 3)) + 1;
  for (const candidate of known) {
    const distance = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** Levenshtein distance (two rows): option names are short, this runs only on a refusal. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min(
        (previous[j] as number) + 1,
        (current[j - 1] as number) + 1,
        substitution,
      );
    }
    previous = current;
  }
  return previous[b.length] as number;
}
