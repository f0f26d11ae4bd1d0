/**
 * The only module that touches real timers and the system time. Everything else asks a
 * {@link Clock}, so tests swap in a {@link ManualClock} and scheduling is deterministic.
 */

/** Opaque handle returned by {@link Clock.setTimer}. */
export type TimerHandle = unknown;

/** Time and timers, injectable through the `clock` option. */
export interface Clock {
  /** Milliseconds since the Unix epoch, possibly fractional. */
  now(): number;
  /** Calls `callback` once after `delayMs`. `unref` timers do not keep the process alive. */
  setTimer(callback: () => void, delayMs: number, unref?: boolean): TimerHandle;
  /** Cancels a timer; unknown or fired handles are ignored. */
  clearTimer(handle: TimerHandle): void;
}

/** Longest delay Node's timers accept; longer waits re-arm on wake. */
const MAX_TIMER_DELAY_MS = 2_147_483_647;

/**
 * The real clock. `now()` is `performance.timeOrigin + performance.now()`: epoch milliseconds
 * with sub-millisecond resolution that never jumps backwards with wall-clock adjustments.
 */
const timeOrigin = performance.timeOrigin; // a getter: read once, not on every now()

export const systemClock: Clock = {
  now: () => timeOrigin + performance.now(),
  setTimer(callback, delayMs, unref = false) {
    const timer = setTimeout(callback, Math.min(Math.max(0, delayMs), MAX_TIMER_DELAY_MS));
    if (unref) timer.unref();
    return timer;
  },
  clearTimer(handle) {
    clearTimeout(handle as ReturnType<typeof setTimeout>);
  },
};

interface ManualTimer {
  readonly at: number;
  readonly seq: number;
  readonly callback: () => void;
}

/**
 * A clock that only moves when told to, for deterministic tests of delays, retries, timeouts,
 * rate limits, retention and cron.
 *
 * @example
 * ```ts
 * const clock = new ManualClock(Date.UTC(2026, 0, 1));
 * const mill = new TaskManager({ clock });
 * await clock.advance(1_000); // fires every timer due in the next second, in order
 * ```
 */
export class ManualClock implements Clock {
  #now: number;
  #seq = 0;
  readonly #timers = new Set<ManualTimer>();

  constructor(startMs = 0) {
    this.#now = startMs;
  }

  now(): number {
    return this.#now;
  }

  setTimer(callback: () => void, delayMs: number): TimerHandle {
    const timer: ManualTimer = { at: this.#now + Math.max(0, delayMs), seq: this.#seq++, callback };
    this.#timers.add(timer);
    return timer;
  }

  clearTimer(handle: TimerHandle): void {
    this.#timers.delete(handle as ManualTimer);
  }

  /** Number of timers armed and not yet fired. */
  get pendingTimers(): number {
    return this.#timers.size;
  }

  /**
   * Moves time forward by `ms`, firing each due timer in time order at its own instant and
   * letting promise callbacks settle between timers, so handlers observe a consistent time.
   */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    await flushMicrotasks();
    for (;;) {
      const next = this.#earliest();
      if (next === undefined || next.at > target) break;
      this.#timers.delete(next);
      this.#now = Math.max(this.#now, next.at);
      next.callback();
      await flushMicrotasks();
    }
    this.#now = target;
    await flushMicrotasks();
  }

  #earliest(): ManualTimer | undefined {
    let best: ManualTimer | undefined;
    for (const timer of this.#timers) {
      if (
        best === undefined ||
        timer.at < best.at ||
        (timer.at === best.at && timer.seq < best.seq)
      )
        best = timer;
    }
    return best;
  }
}

/** Lets every queued promise callback run (a macrotask boundary drains the microtask queue). */
export function flushMicrotasks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
