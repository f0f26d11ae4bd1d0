/**
 * Results across processes: `task.result()` for a task any process runs, `subscribeResults({
 * after })` replays, and the store's events relayed to this process's subscribers and
 * listeners (a `cancelled` event also aborts the task's attempt if it runs here).
 */
import { InvalidArgumentError } from "../../errors.js";
import { isTerminal } from "../../lifecycle/states.js";
import { isStreamId } from "../../results/stream-id.js";
import type { ResultBackfill } from "../../results/subscription.js";
import type { TaskEvent } from "../../stores/durable-types.js";
import {
  missingEvent,
  outcomeOf,
  type RelayTargets,
  relayEvent,
  storedEvent,
} from "./event-relay.js";
import { readResultsAfter } from "./result-feed.js";
import { type StoreSession, unavailableOnConnectionError } from "./store-session.js";

/** How often a waiting `result()` re-reads its task, in case its event was trimmed away. */
const RESULT_RECHECK_MS = 5_000;

export interface DurableResultsDeps extends RelayTargets {
  /** How long a read waits for the store (`backend.callTimeoutMs`). */
  readonly callTimeoutMs: number;
  /** Aborts the attempt of task `id` if it runs in this process (it was cancelled). */
  readonly abortLocal: (id: string) => void;
}

export class DurableResults {
  readonly #session: () => StoreSession;
  readonly #deps: DurableResultsDeps;

  constructor(session: () => StoreSession, deps: DurableResultsDeps) {
    this.#session = session;
    this.#deps = deps;
  }

  /** The outcome of task `id`, whichever process runs it. */
  async result(id: string): Promise<unknown> {
    const { store, feed } = await this.#session().connected(this.#deps.callTimeoutMs);
    const waiting = feed.waitFor(id);
    await feed.ensureLive();
    let timer: ReturnType<typeof setInterval> | undefined;
    const check = async () => {
      // A failed read (connection trouble) proves nothing: the next check reads again.
      const task = await store.get(id).then(
        (found) => found ?? missingEvent(id),
        () => undefined,
      );
      if (task === undefined) return;
      if ("reason" in task) feed.settle(task);
      else if (isTerminal(task.status)) feed.settle(storedEvent(task));
    };
    try {
      await check();
      timer = setInterval(() => void check(), RESULT_RECHECK_MS);
      timer.unref();
      const event = await waiting.promise;
      return outcomeOf(event);
    } finally {
      clearInterval(timer);
      waiting.cancel();
    }
  }

  /**
   * For `subscribeResults({ after })`: reads what the events feed retains after a position.
   * Each read first waits for the live reader to fix its starting point, so the replay's last
   * read ends past it and the subscription's join has no gap.
   *
   * @throws InvalidArgumentError if `after` is not a position of the feed.
   */
  backfill(after: string): ResultBackfill {
    const store = this.#session().current?.store;
    if (!(store?.isFeedPosition(after) ?? isStreamId(after)))
      throw new InvalidArgumentError(
        "after",
        'must be a result\'s eventId (an events-stream id such as "1700000000000-0")',
        after,
      );
    return {
      read: async (from, count) => {
        const { connection, store, feed } = await this.#session().connected(
          this.#deps.callTimeoutMs,
        );
        await feed.ensureLive();
        // One read per page: a large subscriber buffer must not become one huge reply.
        return unavailableOnConnectionError(connection, () =>
          readResultsAfter(store, from, Math.min(count, 1_000)),
        );
      },
    };
  }

  /** Whether anyone here needs the feed now (subscribers, listeners of relayed events). */
  needsEvents(): boolean {
    const { events, results } = this.#deps;
    return (
      results.size > 0 ||
      events.wants("succeeded") ||
      events.wants("failed") ||
      events.wants("cancelled") ||
      events.wants("expired") ||
      events.wants("retrying")
    );
  }

  /** One event of the feed. */
  relay(event: TaskEvent): void {
    if (event.status === "cancelled") this.#deps.abortLocal(event.id);
    relayEvent(event, this.#deps);
  }
}
