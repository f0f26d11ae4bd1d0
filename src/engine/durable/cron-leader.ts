/**
 * The cron scheduler's gate in durable mode: a {@link LeaderLock} on `{prefix}:leader:cron`,
 * created once the engine is connected and contended for only while this process has
 * schedules. The lock's TTL is the backend's `leaseMs`, so a crashed leader is replaced within
 * about one lease, like a crashed worker's tasks.
 */
import type { Logger } from "../../observability/logger.js";
import type { Clock } from "../../scheduling/clock.js";
import type { CronLeadership } from "../../scheduling/cron.js";
import type { DurableStore, LeaderLockHandle } from "../../stores/durable-store.js";

/** Options of {@link CronLeader}. */
export interface CronLeaderOptions {
  /** Lock TTL (the backend's `leaseMs`). */
  readonly ttlMs: number;
  readonly clock: Clock;
  readonly logger: Logger;
}

/** {@link CronLeadership} over the store's leader lock named "cron". */
export class CronLeader implements CronLeadership {
  readonly #connected: Promise<DurableStore>;
  readonly #options: CronLeaderOptions;
  readonly #listeners: Array<() => void> = [];
  #lock: LeaderLockHandle | undefined;
  #wanted = false;
  #closed = false;
  #stopped: Promise<void> = Promise.resolve();

  /** @param connected the engine's store once connected (a rejection means never: no lock). */
  constructor(connected: Promise<DurableStore>, options: CronLeaderOptions) {
    this.#connected = connected;
    // Most managers never schedule: a failed connect must not surface as an unhandled rejection.
    connected.catch(() => {});
    this.#options = options;
  }

  isLeader(): boolean {
    return this.#lock?.isLeader ?? false;
  }

  /**
   * Twice the TTL: the longest hand-over after a crash is one TTL (the old key running out)
   * plus one retry period (a third of it); the rest is slack for late timers.
   */
  get catchUpWindowMs(): number {
    return 2 * this.#options.ttlMs;
  }

  contend(active: boolean): void {
    if (this.#closed || active === this.#wanted) return;
    this.#wanted = active;
    if (!active) {
      this.#stopped = this.#lock?.stop() ?? this.#stopped;
      return;
    }
    this.#connected.then(
      (store) => {
        if (!this.#wanted || this.#closed) return;
        this.#lock ??= store.createLeaderLock("cron", {
          ttlMs: this.#options.ttlMs,
          clock: this.#options.clock,
          logger: this.#options.logger,
          onChange: (leading) => {
            if (leading) for (const listener of this.#listeners) listener();
          },
        });
        this.#lock.start();
      },
      () => {},
    );
  }

  onGained(listener: () => void): void {
    this.#listeners.push(listener);
  }

  /** Stops contending and releases the lock if held; resolves once done. Idempotent. */
  async close(): Promise<void> {
    this.contend(false);
    this.#closed = true;
    await this.#stopped;
  }
}
