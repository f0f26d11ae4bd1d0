/**
 * Whether the store can be reached, from its client's own connection events: the most recent
 * failure (so a call can fail fast with its cause instead of waiting out its deadline, and say
 * why), and one report per outage (an `error` event; one process warning per manager when no
 * logger is set, so a broken backend is never silent).
 */
import { BackendUnavailableError, type TaskmillError } from "../../errors.js";

/** What to do when an outage begins. */
export interface ReachabilityReports {
  /** The store: "redis", "sqlite", ... */
  readonly storeName: string;
  /** Where it is, without credentials (e.g. `redis://127.0.0.1:6379/0`), if known. */
  readonly target: () => string | undefined;
  /** Once per outage: the first failure after the store was reached (or since the start). */
  readonly onOutage: (error: TaskmillError, first: boolean) => void;
}

export class Reachability {
  readonly #reports: ReachabilityReports;
  #lastError: Error | undefined;
  #inOutage = false;
  #outages = 0;
  readonly #waiters = new Set<(error: BackendUnavailableError) => void>();

  constructor(reports: ReachabilityReports) {
    this.#reports = reports;
  }

  /** The store's client failed to reach it (refused, unresolvable, dropped, timed out). */
  failed(cause: unknown): void {
    const error = cause instanceof Error ? cause : new Error(String(cause));
    this.#lastError = error;
    const unreachable = this.#unreachable(error);
    for (const waiter of this.#waiters) waiter(unreachable);
    this.#waiters.clear();
    if (this.#inOutage) return;
    this.#inOutage = true;
    this.#reports.onOutage(unreachable, this.#outages++ === 0);
  }

  /** The store can never be used as configured (a missing package, a refused option). */
  fatal(error: TaskmillError): void {
    this.#inOutage = true;
    this.#reports.onOutage(error, this.#outages++ === 0);
  }

  /** The store answered: the outage (if any) is over. */
  reached(): void {
    this.#lastError = undefined;
    this.#inOutage = false;
  }

  /** The most recent failure as the error a call rejects with, while the store is not reached again. */
  failure(): BackendUnavailableError | undefined {
    return this.#lastError === undefined ? undefined : this.#unreachable(this.#lastError);
  }

  /** Resolves with the next failure; `cancel()` stops waiting. */
  nextFailure(): { readonly failure: Promise<BackendUnavailableError>; cancel(): void } {
    let waiter: ((error: BackendUnavailableError) => void) | undefined;
    const failure = new Promise<BackendUnavailableError>((resolve) => {
      waiter = resolve;
      this.#waiters.add(resolve);
    });
    return { failure, cancel: () => waiter !== undefined && this.#waiters.delete(waiter) };
  }

  /** `BackendUnavailableError` naming the store, where it is, and the cause. */
  #unreachable(cause: Error): BackendUnavailableError {
    const target = this.#reports.target();
    const where = target === undefined ? "" : ` at ${target}`;
    return new BackendUnavailableError(
      `cannot reach ${this.#reports.storeName}${where}: ${cause.message}`,
      { cause },
    );
  }
}
