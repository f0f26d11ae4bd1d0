/**
 * Runs `reclaim()` and `trim()`: at the moment the earliest lease held runs out (so a crashed
 * or stalled worker's task returns to its queue at its lease's expiry), and at least every
 * interval, so retention applies even when no task finishes. Every worker process runs one; the scripts are atomic, so several reapers on one
 * prefix never double a reclaim.
 */
import { type Clock, systemClock, type TimerHandle } from "../../scheduling/clock.js";
import type { DurableStore } from "../../stores/durable-store.js";
import type { ReclaimResult, TrimResult } from "../../stores/durable-types.js";

/** Past a lease's expiry before the pass that reclaims it (timers may fire a little early). */
const EXPIRY_MARGIN_MS = 20;
/** Fewest ms between passes, so leases renewed just in time cannot make the reaper spin. */
const MIN_PASS_GAP_MS = 50;

/** Options of {@link Reaper}. */
export interface ReaperOptions {
  /** Time between passes. @default half the store's leaseMs */
  readonly intervalMs?: number;
  /** @default the system clock */
  readonly clock?: Clock;
  /** Called after each pass that changed something. */
  readonly onPass?: (result: ReclaimResult & { readonly trimmed: TrimResult }) => void;
  /** A pass failed (e.g. connection lost); the next one runs on schedule. */
  readonly onError?: (error: unknown) => void;
}

/** Periodic reclaim + trim; unref'd timer, stoppable, safe to start and stop twice. */
export class Reaper {
  readonly #store: DurableStore;
  readonly #clock: Clock;
  readonly #intervalMs: number;
  readonly #onPass: NonNullable<ReaperOptions["onPass"]>;
  readonly #onError: (error: unknown) => void;
  #timer: TimerHandle | undefined;
  #running = false;
  #pass: Promise<void> | undefined;
  /** From the last pass: when the earliest lease held expires. */
  #nextExpiryInMs: number | undefined;

  constructor(store: DurableStore, options: ReaperOptions = {}) {
    this.#store = store;
    this.#clock = options.clock ?? systemClock;
    this.#intervalMs = options.intervalMs ?? Math.max(1, Math.floor(store.leaseMs / 2));
    this.#onPass = options.onPass ?? (() => {});
    this.#onError = options.onError ?? (() => {});
  }

  /** Starts the periodic passes (the first after one interval). */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#arm();
  }

  /** Stops the passes; resolves once a pass in flight has finished. Idempotent. */
  async stop(): Promise<void> {
    this.#running = false;
    if (this.#timer !== undefined) this.#clock.clearTimer(this.#timer);
    this.#timer = undefined;
    await this.#pass;
  }

  /** Runs one pass now (also while stopped); errors go to `onError`. */
  runOnce(): Promise<void> {
    this.#pass ??= this.#runPass().finally(() => {
      this.#pass = undefined;
    });
    return this.#pass;
  }

  #arm(delayMs: number = this.#intervalMs): void {
    this.#timer = this.#clock.setTimer(
      () => {
        this.#timer = undefined;
        void this.runOnce().finally(() => {
          if (this.#running) this.#arm(this.#nextDelay());
        });
      },
      delayMs,
      true,
    );
  }

  /**
   * Back when the earliest lease runs out (a crashed worker's task is reclaimed at its expiry,
   * not up to an interval later), and at least every interval for retention.
   */
  #nextDelay(): number {
    const expiry = this.#nextExpiryInMs;
    if (expiry === undefined) return this.#intervalMs;
    return Math.max(MIN_PASS_GAP_MS, Math.min(this.#intervalMs, expiry + EXPIRY_MARGIN_MS));
  }

  async #runPass(): Promise<void> {
    try {
      const reclaimed = await this.#store.reclaim();
      this.#nextExpiryInMs = reclaimed.nextExpiryInMs;
      const trimmed = await this.#store.trim();
      if (reclaimed.reclaimed + reclaimed.poisoned + trimmed.finished + trimmed.deadLetters > 0)
        this.#onPass({ ...reclaimed, trimmed });
    } catch (error) {
      this.#onError(error);
    }
  }
}
