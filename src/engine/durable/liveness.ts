/**
 * Tells a frozen store from a live one. A connection can look healthy (open socket, "ready")
 * while nothing answers: the store paused (SIGSTOP, a VM pause) or the path black-holed. Every
 * second a ping goes out, one at a time; a ping unanswered for longer than `timeoutMs` marks
 * the store unresponsive until one is answered again. `health()` reports it, and readiness
 * follows. The timer is unref'd: it never keeps a process alive.
 */
import type { Clock, TimerHandle } from "../../scheduling/clock.js";
import type { StoreConnection } from "../../stores/durable-store.js";

/** Time between pings. */
const PROBE_EVERY_MS = 1_000;

export class Liveness {
  readonly #connection: StoreConnection;
  readonly #clock: Clock;
  readonly #timeoutMs: number;
  #timer: TimerHandle | undefined;
  /** When the ping in flight was sent (undefined: none in flight). */
  #sentAt: number | undefined;
  #stopped = false;

  constructor(connection: StoreConnection, clock: Clock, timeoutMs: number) {
    this.#connection = connection;
    this.#clock = clock;
    this.#timeoutMs = timeoutMs;
    this.#arm();
  }

  /** True while a ping has gone unanswered for longer than the timeout. */
  get unresponsive(): boolean {
    return this.#sentAt !== undefined && this.#clock.now() - this.#sentAt > this.#timeoutMs;
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) this.#clock.clearTimer(this.#timer);
    this.#timer = undefined;
  }

  #arm(): void {
    if (this.#stopped) return;
    this.#timer = this.#clock.setTimer(() => this.#probe(), PROBE_EVERY_MS, true);
  }

  #probe(): void {
    this.#timer = undefined;
    // One ping at a time: an unanswered one keeps counting; the next goes out after it settles.
    if (this.#sentAt === undefined) {
      this.#sentAt = this.#clock.now();
      this.#connection.ping().then(
        () => {
          this.#sentAt = undefined;
        },
        () => {
          // A refused connection is reported by its status; only silence is this probe's news.
          this.#sentAt = undefined;
        },
      );
    }
    this.#arm();
  }
}
