/** Running totals for `stats()`: what this process did, in every store. */
export interface RunnerCounters {
  submitted: number;
  started: number;
  retried: number;
  succeeded: number;
  failed: number;
  cancelled: number;
  expired: number;
  /** Handlers that settled after their attempt was aborted (they ignored `ctx.signal`). */
  lateSettlements: number;
}

/** Counters at zero. */
export function zeroCounters(): RunnerCounters {
  return {
    submitted: 0,
    started: 0,
    retried: 0,
    succeeded: 0,
    failed: 0,
    cancelled: 0,
    expired: 0,
    lateSettlements: 0,
  };
}
