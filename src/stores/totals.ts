/** Store totals from the counts a store keeps per event status. */
import type { StoreTotals } from "./durable-types.js";

/**
 * `StoreTotals` from a count per event status (absent statuses are 0). Events of status
 * `retrying` are the retries; `queued` events (reclaims, replays) are not outcomes.
 */
export function totalsFromCounts(count: (status: string) => number): StoreTotals {
  return {
    succeeded: count("succeeded"),
    failed: count("failed"),
    cancelled: count("cancelled"),
    expired: count("expired"),
    retried: count("retrying"),
  };
}
