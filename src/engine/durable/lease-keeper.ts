/**
 * Keeps the leases of running handlers alive: every `intervalMs` (a third of the lease by
 * default) it renews all held leases in one round trip. A lease the store refuses to renew
 * (reclaimed, claimed by another worker, cancelled, gone) is reported once through `onLost`,
 * and so is a lease whose local deadline passes while the store is unreachable: the caller aborts
 * that handler's signal, because its ack would be refused anyway.
 */

import { StaleLeaseError } from "../../errors.js";
import { type Clock, systemClock, type TimerHandle } from "../../scheduling/clock.js";
import type { DurableStore } from "../../stores/durable-store.js";

/** Options of {@link LeaseKeeper}. */
export interface LeaseKeeperOptions {
  /** Lease length each renewal asks for. @default the store's leaseMs */
  readonly leaseMs?: number;
  /** Time between renewal rounds. @default leaseMs / 3 */
  readonly intervalMs?: number;
  /** @default the system clock */
  readonly clock?: Clock;
  /** Called once per lost lease (a `StaleLeaseError`); the lease is no longer held. */
  readonly onLost: (id: string, error: StaleLeaseError) => void;
  /** A renewal round failed as a whole (e.g. connection lost); leases are kept meanwhile. */
  readonly onError?: (error: unknown) => void;
}

interface HeldLease {
  readonly token: string;
  /** Local time until which the lease surely holds: request sent + leaseMs. */
  deadline: number;
}

/** Renews held leases periodically; unref'd timer, so it never keeps a process alive. */
export class LeaseKeeper {
  readonly #store: DurableStore;
  readonly #clock: Clock;
  readonly #leaseMs: number;
  readonly #intervalMs: number;
  readonly #onLost: LeaseKeeperOptions["onLost"];
  readonly #onError: (error: unknown) => void;
  readonly #held = new Map<string, HeldLease>();
  #timer: TimerHandle | undefined;
  #renewing: Promise<void> | undefined;
  #stopped = false;

  constructor(store: DurableStore, options: LeaseKeeperOptions) {
    this.#store = store;
    this.#clock = options.clock ?? systemClock;
    this.#leaseMs = options.leaseMs ?? store.leaseMs;
    this.#intervalMs = options.intervalMs ?? Math.max(1, Math.floor(this.#leaseMs / 3));
    this.#onLost = options.onLost;
    this.#onError = options.onError ?? (() => {});
  }

  /** Leases currently held. */
  get size(): number {
    return this.#held.size;
  }

  /**
   * Starts renewing a just-claimed task's lease. `claimedAt` is the local time the claim
   * request was sent (default: now), which bounds how long the lease surely lasts.
   */
  hold(task: { readonly id: string; readonly token: string }, claimedAt?: number): void {
    if (this.#stopped) return;
    const sentAt = claimedAt ?? this.#clock.now();
    this.#held.set(task.id, { token: task.token, deadline: sentAt + this.#leaseMs });
    this.#arm();
  }

  /**
   * Stops renewing (after ack, nack or fail). Unknown ids are ignored. The timer stays armed
   * when nothing is left (it is unref'd, and a round with nothing held renews nothing and does
   * not re-arm): at concurrency 1 every task would otherwise cost a timer set and cleared.
   */
  release(id: string): void {
    this.#held.delete(id);
  }

  /** Renews every held lease now; resolves when the round is done. */
  renewNow(): Promise<void> {
    this.#renewing ??= this.#renewAll().finally(() => {
      this.#renewing = undefined;
    });
    return this.#renewing;
  }

  /** Stops renewing everything (the leases then lapse in the store). Idempotent. */
  stop(): void {
    this.#stopped = true;
    this.#held.clear();
    this.#disarm();
  }

  #arm(): void {
    if (this.#timer !== undefined || this.#stopped) return;
    this.#timer = this.#clock.setTimer(
      () => {
        this.#timer = undefined;
        void this.renewNow().finally(() => {
          if (this.#held.size > 0) this.#arm();
        });
      },
      this.#intervalMs,
      true,
    );
  }

  #disarm(): void {
    if (this.#timer === undefined) return;
    this.#clock.clearTimer(this.#timer);
    this.#timer = undefined;
  }

  async #renewAll(): Promise<void> {
    const batch = [...this.#held].map(([id, lease]) => ({ id, token: lease.token }));
    if (batch.length === 0) return;
    const sentAt = this.#clock.now();
    let results: Array<number | Error>;
    try {
      results = await this.#store.renewMany(batch, this.#leaseMs);
    } catch (error) {
      this.#onError(error);
      this.#expireOverdue();
      return;
    }
    batch.forEach(({ id, token }, i) => {
      const lease = this.#held.get(id);
      // Released (or re-held under a new token) while the round was in flight.
      if (lease === undefined || lease.token !== token) return;
      const result = results[i];
      if (typeof result === "number") lease.deadline = sentAt + this.#leaseMs;
      else if (result instanceof StaleLeaseError) this.#lose(id, result);
      else this.#onError(result);
    });
    this.#expireOverdue();
  }

  #expireOverdue(): void {
    const now = this.#clock.now();
    for (const [id, lease] of this.#held)
      if (lease.deadline <= now) this.#lose(id, new StaleLeaseError(id, lease.token, "expired"));
  }

  #lose(id: string, error: StaleLeaseError): void {
    this.release(id);
    this.#onLost(id, error);
  }
}
