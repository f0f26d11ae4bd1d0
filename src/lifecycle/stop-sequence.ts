/**
 * The stop sequence behind `stopGraceful` and `stopNow`: refuse new work, stop cron ticks,
 * drain (or abort and hand back) through the backend, close its connections, release every
 * timer and listener, and report. Both stops always resolve, whatever the store does: each
 * step after the deadline waits at most {@link STOP_GRACE_MS} for it.
 */
import type { Backend } from "../engine/backend.js";
import { within } from "../engine/within.js";
import { safeLog } from "../observability/logger.js";
import type { Observability } from "../observability/setup.js";
import { DEFAULTS, type ResolvedOptions } from "../options.js";
import type { ResultBroadcaster } from "../results/broadcaster.js";
import type { Clock } from "../scheduling/clock.js";
import type { CronScheduler } from "../scheduling/cron.js";
import type { StopGracefulOptions, StopReport } from "../types.js";
import type { ShutdownTracker } from "./shutdown.js";

/**
 * Longest each step after a stop's deadline may wait for the store: handing running tasks
 * back, then closing the connections (dropped after that). Both stops resolve within about
 * twice this past their deadline, whatever the store does (down, restarting, frozen).
 */
export const STOP_GRACE_MS = 150;

/** What stopping needs from the manager. */
export interface StopSequenceDeps {
  readonly options: ResolvedOptions;
  readonly shutdown: ShutdownTracker;
  readonly cron: CronScheduler;
  readonly backend: Backend;
  readonly results: ResultBroadcaster;
  readonly observability: Observability;
}

export class StopSequence {
  readonly #deps: StopSequenceDeps;

  constructor(deps: StopSequenceDeps) {
    this.#deps = deps;
  }

  /** `stopGraceful`: repeated calls (and a later `stopNow`) share one stop. */
  graceful(options: StopGracefulOptions): Promise<StopReport> {
    const { shutdown } = this.#deps;
    if (shutdown.now !== undefined) return shutdown.now;
    shutdown.graceful ??= this.#drain(options);
    return shutdown.graceful;
  }

  /** `stopNow`: repeated calls share one stop. */
  now(): Promise<StopReport> {
    this.#deps.shutdown.now ??= this.#abortAll(false);
    return this.#deps.shutdown.now;
  }

  async #drain(options: StopGracefulOptions): Promise<StopReport> {
    // A stop must never throw: null options or a non-AbortSignal `signal` are ignored.
    const timeoutMs = validStopTimeout(options?.timeoutMs, this.#deps.options);
    const signal = options?.signal instanceof AbortSignal ? options.signal : undefined;
    this.#deps.shutdown.begin();
    this.#deps.cron.stop();
    const deadline = stopDeadline(this.#deps.options.clock, timeoutMs, signal);
    const drained = await this.#deps.backend.drain(
      deadline.reached,
      this.#deps.options.clock.now() + timeoutMs,
    );
    deadline.cancel();
    if (this.#deps.shutdown.now !== undefined) return this.#deps.shutdown.now;
    if (!drained) {
      this.#deps.shutdown.now = this.#abortAll(true);
      return this.#deps.shutdown.now;
    }
    await this.#closeWithin(STOP_GRACE_MS);
    this.#release();
    const report = this.#deps.shutdown.report(this.#deps.backend.unsettled(), false);
    // The manager is fully stopped: a later stopNow() returns this report instead of stopping again.
    this.#deps.shutdown.now = Promise.resolve(report);
    return report;
  }

  async #abortAll(escalated: boolean): Promise<StopReport> {
    this.#deps.shutdown.begin();
    this.#deps.cron.stop();
    const { abandoned, requeued, unwritten } = await this.#deps.backend.abort(STOP_GRACE_MS);
    await this.#closeWithin(STOP_GRACE_MS);
    this.#release();
    return this.#deps.shutdown.report(abandoned, escalated, requeued, unwritten);
  }

  /** Closes the backend, or drops its connections if the store does not answer in time. */
  async #closeWithin(ms: number): Promise<void> {
    const closed = await within(this.#deps.backend.close(), ms, this.#deps.options.clock);
    if (!closed.done) this.#deps.backend.destroy();
  }

  /** Drops every timer and listener of ours so the process can exit. */
  #release(): void {
    this.#deps.results.closeAll();
    this.#deps.observability.close(this.#deps.options.clock.now());
    const { running, queued, waiting, live, retained, deadLetters, ...counters } =
      this.#deps.backend.stats();
    safeLog(this.#deps.options.logger, "info", counters, "taskmill stopped");
  }
}

/** The moment a graceful stop gives up waiting: its timeout or its signal, whichever first. */
function stopDeadline(
  clock: Clock,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): { readonly reached: Promise<void>; cancel(): void } {
  let timer: unknown;
  let onAbort: (() => void) | undefined;
  const reached = new Promise<void>((resolve) => {
    timer = clock.setTimer(resolve, timeoutMs);
    onAbort = () => resolve();
    if (signal?.aborted) resolve();
    else signal?.addEventListener("abort", onAbort, { once: true });
  });
  return {
    reached,
    cancel() {
      clock.clearTimer(timer);
      if (onAbort !== undefined) signal?.removeEventListener("abort", onAbort);
    },
  };
}

function validStopTimeout(timeoutMs: number | undefined, options: ResolvedOptions): number {
  if (timeoutMs === undefined) return DEFAULTS.stopTimeoutMs;
  if (typeof timeoutMs === "number" && Number.isFinite(timeoutMs) && timeoutMs >= 0)
    return timeoutMs;
  // A stop must never throw: a bad deadline falls back to the default, loudly.
  safeLog(
    options.logger,
    "warn",
    { timeoutMs },
    "taskmill stopGraceful: invalid timeoutMs, using 30000",
  );
  return DEFAULTS.stopTimeoutMs;
}
