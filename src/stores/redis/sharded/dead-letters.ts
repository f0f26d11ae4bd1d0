/**
 * The dead-letter queue over every shard: listing merged by failure time, replay and purge run
 * by each shard on its own dead letters (each shard's script atomic in its slot).
 */
import type {
  DeadLetterListOptions,
  DeadLetterOutcome,
  DeadLetterSelector,
  ReplayOptions,
} from "../../../registry/dead-letters.js";
import type { DeadLetterStore } from "../../durable-store.js";
import type { StoredTaskPage } from "../../durable-types.js";
import { listDeadLetters } from "./list.js";
import type { ShardSet } from "./shard-set.js";

export class ShardedDeadLetters implements DeadLetterStore {
  readonly #shards: ShardSet;

  constructor(shards: ShardSet) {
    this.#shards = shards;
  }

  list(options: DeadLetterListOptions = {}): Promise<StoredTaskPage> {
    return listDeadLetters(this.#shards, options);
  }

  replay(selector: DeadLetterSelector, options: ReplayOptions = {}): Promise<DeadLetterOutcome> {
    return this.#everyShard(selector, (shard) => shard.dlq.replay(selector, options));
  }

  purge(selector?: DeadLetterSelector): Promise<DeadLetterOutcome> {
    return this.#everyShard(selector, (shard) => shard.dlq.purge(selector));
  }

  /** Runs `run` on every shard (control first: it checks the selector) and joins the outcomes. */
  async #everyShard(
    selector: DeadLetterSelector | undefined,
    run: (shard: ShardSet["control"]) => Promise<DeadLetterOutcome>,
  ): Promise<DeadLetterOutcome> {
    const first = await run(this.#shards.control);
    const outcomes = [first, ...(await Promise.all((await this.#shards.all()).map(run)))];
    const ids = outcomes.flatMap((outcome) => outcome.ids);
    const skipped = outcomes.flatMap((outcome) => outcome.skipped);
    // Ids in the order the selector gave them.
    if (selector !== undefined && "ids" in selector && Array.isArray(selector.ids)) {
      const rank = new Map(selector.ids.map((id, i) => [id, i]));
      const byRank = (a: string, b: string) => (rank.get(a) ?? 0) - (rank.get(b) ?? 0);
      ids.sort(byRank);
      skipped.sort(byRank);
    }
    return { ...first, ids, skipped };
  }
}
