/**
 * The durable worker's blocking wait for new work, when a claim found nothing: the store's
 * waiter blocks on the queues eligible when it began, until work arrives, the timeout (the next
 * delayed task falls due), a stop, or an interrupt (a queue resumed, a handler registered: their
 * queues were not in the wait). No claims are sent while it blocks.
 */
import { type Logger, safeLog } from "../../observability/logger.js";
import type { WorkWaiter } from "../../stores/durable-store.js";

/** What the wait needs from the worker. */
export interface WorkWaitDeps {
  readonly waiter: WorkWaiter;
  readonly logger: Logger;
  /** Aborted when the worker stops claiming: the wait ends, and a failure is not reported. */
  readonly stopped: AbortSignal;
  /** The wait failed (connection trouble): pause before the next claim. */
  readonly failed: () => void;
  /** The wait ended, however: claims may go out again. */
  readonly ended: () => void;
}

export class WorkWait {
  readonly #deps: WorkWaitDeps;
  /** Blocked on the queue markers (no claims until it ends). */
  #waiting = false;
  /** Ends the blocking wait early (`interrupt()`). */
  #interruptWait: AbortController | undefined;

  constructor(deps: WorkWaitDeps) {
    this.#deps = deps;
  }

  get waiting(): boolean {
    return this.#waiting;
  }

  /** Ends the wait now, if one blocks. */
  interrupt(): void {
    this.#interruptWait?.abort();
  }

  /** Blocks until work may be in `queues`, for at most `timeoutMs`. */
  begin(queues: string[], timeoutMs: number): void {
    const deps = this.#deps;
    this.#waiting = true;
    const interrupt = new AbortController();
    this.#interruptWait = interrupt;
    void deps.waiter
      .wait(queues, timeoutMs, AbortSignal.any([deps.stopped, interrupt.signal]))
      .then(
        () => undefined,
        (error: unknown) => {
          if (deps.stopped.aborted) return;
          safeLog(deps.logger, "warn", { err: error }, "taskmill wait for work failed; retrying");
          deps.failed();
        },
      )
      .finally(() => {
        this.#waiting = false;
        if (this.#interruptWait === interrupt) this.#interruptWait = undefined;
        deps.ended();
      });
  }
}
