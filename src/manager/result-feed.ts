/**
 * The results side of the facade: subscriptions (with their backfill from a position), the
 * deprecated `getResults()` warning, and the per-process result figures added to the stats.
 */
import { checkSubscribeOptions } from "../argument-checks.js";
import type { Backend, BackendStats, ManagerStats } from "../engine/backend.js";
import type { ResultBroadcaster } from "../results/broadcaster.js";
import type { ResultSubscription, SubscribeOptions } from "../results/subscription.js";

export class ResultFeed {
  #deprecationWarned = false;

  constructor(
    private readonly backend: Backend,
    private readonly results: ResultBroadcaster,
  ) {}

  subscribe<R>(options: SubscribeOptions<R> | undefined): ResultSubscription<R> {
    checkSubscribeOptions(options);
    const after = options?.after;
    // Validated before subscribing, so a bad position leaves no subscription behind.
    const backfill = after === undefined ? undefined : this.backend.backfill(after);
    const subscription = this.results.subscribe(options);
    if (backfill !== undefined) subscription.resume(after as string, backfill);
    this.backend.wantEvents();
    return subscription;
  }

  /** Once per manager: a loop calling `getResults()` must not flood the warnings. */
  warnGetResultsDeprecated(): void {
    if (this.#deprecationWarned) return;
    this.#deprecationWarned = true;
    process.emitWarning("getResults() is deprecated; use subscribeResults()", {
      type: "DeprecationWarning",
      code: "TASKMILL_GET_RESULTS",
    });
  }

  /** The backend's figures with this process's subscriptions and dropped results. */
  withResultFigures(stats: BackendStats): ManagerStats {
    return {
      ...stats,
      subscribers: this.results.size,
      resultsDropped: this.results.droppedTotal,
    };
  }
}
