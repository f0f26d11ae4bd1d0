/** Argument checks shared by the store's methods; each names the argument it refuses. */
import { InvalidArgumentError } from "../../errors.js";

/** A non-empty string (ids, names, queues, keys). */
export function isName(value: unknown): value is string {
  return typeof value === "string" && value.length > 0;
}

export function requireInteger(name: string, value: unknown, min: number): void {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min)
    throw new InvalidArgumentError(name, `must be an integer >= ${min}`, value);
}

export function requireNumber(name: string, value: unknown, min: number): void {
  if (typeof value !== "number" || !Number.isFinite(value) || value < min)
    throw new InvalidArgumentError(
      name,
      min === Number.NEGATIVE_INFINITY
        ? "must be a finite number"
        : `must be a finite number >= ${min}`,
      value,
    );
}
