/**
 * `submitMany`'s checks that do not depend on the store: the shape of every item, its options,
 * and idempotency keys repeated inside the batch. They run before anything is stored, so a bad
 * item anywhere means no task of the call exists.
 */
import { IdempotencyConflictError, InvalidArgumentError } from "../errors.js";
import { fingerprint } from "../registry/fingerprint.js";
import { NO_SUBMIT_OPTIONS, validateSubmitOptions } from "../submit-options.js";
import type { SubmitOptions, TransactionClient } from "../types.js";

/** One task of `mill.submitMany(items)`. */
export interface SubmitManyItem<P = unknown> {
  /** The registered task name. */
  readonly name: string;
  readonly payload?: P;
  readonly options?: SubmitOptions;
}

/** Options of `mill.submitMany(items, options)`. */
export interface SubmitManyOptions {
  /**
   * Postgres: store the whole batch inside this open transaction (a `pg` client after
   * `BEGIN`): the tasks exist if and only if it commits.
   */
  readonly tx?: TransactionClient;
}

/** Most items one `submitMany` call accepts (one atomic store operation must stay bounded). */
export const SUBMIT_MANY_MAX = 20_000;

/**
 * Validates every item. Throws `InvalidArgumentError` naming the item (`items[3].options.priority`)
 * or `IdempotencyConflictError` when two items share a key with different names or payloads.
 */
export function validateSubmitMany(items: readonly SubmitManyItem[]): void {
  if (!Array.isArray(items)) throw new InvalidArgumentError("items", "must be an array", items);
  if (items.length > SUBMIT_MANY_MAX)
    throw new InvalidArgumentError(
      "items",
      `must hold at most ${SUBMIT_MANY_MAX} items (split larger batches)`,
      items.length,
    );
  const keys = new Map<string, { readonly name: string; readonly payload: unknown }>();
  items.forEach((item, i) => {
    if (typeof item !== "object" || item === null)
      throw new InvalidArgumentError(`items[${i}]`, "must be an object", item);
    if (typeof item.name !== "string" || item.name.length === 0)
      throw new InvalidArgumentError(`items[${i}].name`, "must be a non-empty string", item.name);
    const options = item.options ?? NO_SUBMIT_OPTIONS;
    try {
      if (options !== NO_SUBMIT_OPTIONS) validateSubmitOptions(options);
    } catch (error) {
      if (!(error instanceof InvalidArgumentError)) throw error;
      const argument =
        error.argument === "options"
          ? `items[${i}].options`
          : `items[${i}].options.${error.argument}`;
      throw new InvalidArgumentError(argument, error.requirement, error.value);
    }
    const key = options.idempotencyKey;
    if (key === undefined) return;
    const earlier = keys.get(key);
    if (earlier === undefined) keys.set(key, { name: item.name, payload: item.payload });
    else if (earlier.name !== item.name || !samePayload(earlier.payload, item.payload))
      throw new IdempotencyConflictError(key, `items[${i}]`);
  });
}

/** The idempotency comparison of the registry: canonical JSON, else identity. */
function samePayload(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  const print = fingerprint(a);
  return print !== undefined && print === fingerprint(b);
}
