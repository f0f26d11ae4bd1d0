/**
 * The `order` option of `list` and `dlq.list`, checked once for every store, and the error for
 * a cursor used with the other order (a cursor marks a position in one direction of a walk).
 */
import { InvalidArgumentError } from "./errors.js";

const ORDERS: ReadonlySet<unknown> = new Set(["newest", "oldest"]);

/** @throws InvalidArgumentError unless `order` is absent, `"newest"` or `"oldest"`. */
export function checkListOrder(order: unknown): void {
  if (order !== undefined && !ORDERS.has(order))
    throw new InvalidArgumentError("order", 'must be "newest" or "oldest"', order);
}

/** A cursor of a listing in the other order. */
export function wrongOrder(cursor: unknown): InvalidArgumentError {
  return new InvalidArgumentError(
    "cursor",
    "belongs to a listing in the other order (pass the same order with its cursor)",
    cursor,
  );
}
