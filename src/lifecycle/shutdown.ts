import { type Logger, safeLog } from "../observability/logger.js";
import type { StopReport } from "../types.js";
import type { TaskStatus } from "./states.js";

/**
 * Collects what happens to tasks while the manager stops, and hands out the one promise per
 * stop kind so that repeated or concurrent calls share it.
 */
export class ShutdownTracker {
  #stopping = false;
  readonly finished: string[] = [];
  readonly cancelled: string[] = [];
  graceful: Promise<StopReport> | undefined;
  now: Promise<StopReport> | undefined;
  /** Resolves `stopGraceful`'s wait when the last live task ends. */
  #onIdle: (() => void) | undefined;

  constructor(private readonly logger: Logger) {}

  /** True from the first stop call on: submissions are refused. */
  get stopping(): boolean {
    return this.#stopping;
  }

  begin(): void {
    if (this.#stopping) return;
    this.#stopping = true;
    safeLog(this.logger, "info", {}, "taskmill stopping: new submissions are refused");
  }

  /**
   * Records a terminal transition that happened during the stop, in every store: `live` is the
   * number of tasks the store still holds live in this process (memory mode waits for 0).
   */
  observe(id: string, status: TaskStatus, live: number): void {
    if (!this.#stopping) return;
    if (status === "cancelled") this.cancelled.push(id);
    else this.finished.push(id);
    if (live === 0) this.#onIdle?.();
  }

  /** Resolves once no task is live. */
  whenIdle(live: number): Promise<void> {
    if (live === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.#onIdle = resolve;
    });
  }

  report(
    abandoned: readonly string[],
    escalated: boolean,
    requeued: readonly string[] = [],
    unwritten: readonly string[] = [],
  ): StopReport {
    return {
      finished: [...this.finished],
      cancelled: [...this.cancelled],
      abandoned: [...abandoned],
      requeued: [...requeued],
      unwritten: [...unwritten],
      escalated,
    };
  }
}
