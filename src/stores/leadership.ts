/**
 * What the leader locks of every store share: how long a held lock is surely ours, and how a
 * change of leadership is reported.
 */

/**
 * How every store's leader lock reports a change of leadership: one log line (a loss is a
 * warning unless the lock was stopped on purpose) and the `onChange` listener, whose throw is
 * logged and never breaks the lock.
 */
import { type Logger, safeLog } from "../observability/logger.js";
import type { Clock, TimerHandle } from "../scheduling/clock.js";
import type { LeadershipChange } from "./durable-store.js";

/** Logs the change of leadership of lock `lock` and tells `onChange`. */
export function announceLeadership(
  logger: Logger,
  lock: string,
  leading: boolean,
  reason: LeadershipChange,
  error: unknown,
  onChange: (leading: boolean, reason: LeadershipChange) => void,
): void {
  const quiet = leading || reason === "stopped";
  safeLog(
    logger,
    quiet ? "info" : "warn",
    { lock, reason, ...(error === undefined ? {} : { err: error }) },
    leading ? "taskmill became leader" : "taskmill stopped being leader",
  );
  try {
    onChange(leading, reason);
  } catch (listenerError) {
    safeLog(
      logger,
      "error",
      { err: listenerError, lock },
      "taskmill leader lock: onChange listener threw",
    );
  }
}

/**
 * How long a held leader lock is surely ours: until the send time of the last confirmed
 * acquire or renewal plus the TTL, minus a safety margin. Past that instant without a newer
 * confirmation (the store slow or unreachable) `onLapse` runs: the key may be gone, so the
 * holder must stop acting as leader.
 */
export class LockValidity {
  readonly #clock: Clock;
  readonly #onLapse: () => void;
  #until = 0;
  #timer: TimerHandle | undefined;

  constructor(clock: Clock, onLapse: () => void) {
    this.#clock = clock;
    this.#onLapse = onLapse;
  }

  /** Whether the lock still surely holds now. */
  holds(): boolean {
    return this.#clock.now() < this.#until;
  }

  /** A confirmed acquire or renewal: the lock holds until `until` (clock ms). */
  confirm(until: number): void {
    this.#until = until;
    this.#arm();
  }

  /** Not held any more (stepped down, stopped). */
  clear(): void {
    this.#until = 0;
    this.#cancelTimer();
  }

  #arm(): void {
    this.#cancelTimer();
    this.#timer = this.#clock.setTimer(
      () => {
        this.#timer = undefined;
        // Node's timers run on the loop's millisecond time and may fire up to a millisecond
        // before `now()` reaches the deadline: wait out the rest instead of missing the lapse.
        if (this.#clock.now() >= this.#until) this.#onLapse();
        else this.#arm();
      },
      Math.max(1, Math.ceil(this.#until - this.#clock.now())),
      true,
    );
  }

  #cancelTimer(): void {
    if (this.#timer !== undefined) this.#clock.clearTimer(this.#timer);
    this.#timer = undefined;
  }
}
