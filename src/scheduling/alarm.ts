import type { Clock, TimerHandle } from "./clock.js";

/**
 * One timer that can be asked to fire "no later than" a time. Components that keep many due
 * times (delayed tasks, attempt deadlines, token refills) each hold one Alarm armed for their
 * earliest time, instead of one timer per task.
 */
export class Alarm {
  readonly #clock: Clock;
  readonly #onFire: (now: number) => void;
  readonly #unref: boolean;
  #handle: TimerHandle | undefined;
  #armedAt = Number.POSITIVE_INFINITY;

  constructor(clock: Clock, onFire: (now: number) => void, unref = false) {
    this.#clock = clock;
    this.#onFire = onFire;
    this.#unref = unref;
  }

  /** Ensures the alarm fires at or before `at` (epoch ms). A later request never delays it. */
  armAt(at: number): void {
    if (this.#handle !== undefined && this.#armedAt <= at) return;
    this.cancel();
    this.#armedAt = at;
    this.#handle = this.#clock.setTimer(
      () => {
        this.#handle = undefined;
        this.#armedAt = Number.POSITIVE_INFINITY;
        this.#onFire(this.#clock.now());
      },
      // Timers can fire a fraction early: every owner re-checks its due times and re-arms.
      Math.ceil(at - this.#clock.now()),
      this.#unref,
    );
  }

  get armed(): boolean {
    return this.#handle !== undefined;
  }

  cancel(): void {
    if (this.#handle === undefined) return;
    this.#clock.clearTimer(this.#handle);
    this.#handle = undefined;
    this.#armedAt = Number.POSITIVE_INFINITY;
  }
}
