/**
 * Checks of option values that are not numbers or names (those are in `validation.ts`):
 * booleans, functions and objects with methods. Each throws `InvalidOptionError` naming the
 * option at `path`, so the resolvers of every option group report errors the same way.
 */
import { InvalidOptionError } from "./errors.js";

export function requireBoolean(path: string, value: unknown): boolean {
  if (typeof value !== "boolean") throw new InvalidOptionError(path, "must be a boolean", value);
  return value;
}

export function requireFunction<F>(path: string, value: F): F {
  if (typeof value !== "function") throw new InvalidOptionError(path, "must be a function", value);
  return value;
}

export function requireMethods<T extends object>(
  path: string,
  value: T,
  methods: readonly string[],
): T {
  for (const method of methods) {
    if (typeof (value as Record<string, unknown>)[method] !== "function")
      throw new InvalidOptionError(`${path}.${method}`, "must be a function", undefined);
  }
  return value;
}
