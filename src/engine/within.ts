import type { Clock } from "../scheduling/clock.js";

/** How a bounded wait ended: the promise's value, or the bound. */
export type Within<T> = { readonly done: true; readonly value: T } | { readonly done: false };

/**
 * Waits for `promise` at most `ms` on `clock`, for the steps of a stop that must end on time
 * whatever the store does. A rejection counts as done (the caller only needs to know it ended).
 */
export function within<T>(
  promise: Promise<T>,
  ms: number,
  clock: Clock,
): Promise<Within<T | undefined>> {
  let timer: unknown;
  const bound = new Promise<Within<T | undefined>>((resolve) => {
    timer = clock.setTimer(() => resolve({ done: false }), Math.max(0, ms));
  });
  const settled = promise.then(
    (value): Within<T | undefined> => ({ done: true, value }),
    (): Within<T | undefined> => ({ done: true, value: undefined }),
  );
  return Promise.race([settled, bound]).finally(() => clock.clearTimer(timer));
}
