import type { TaskResult } from "../types.js";
import {
  type OverflowPolicy,
  ResultSubscription,
  type SubscribeOptions,
  type SubscriptionOwner,
} from "./subscription.js";

/**
 * Fans every result out to every subscription. A subscriber never takes a result from another;
 * each has its own buffer, so a slow one only affects itself (except `block`, which holds
 * dispatch through `blocked`).
 */
export class ResultBroadcaster implements SubscriptionOwner {
  readonly #subscriptions = new Set<ResultSubscription<never>>();
  #blocking = 0;
  #droppedTotal = 0;
  /** Set by `closeAll()`: the manager stopped and no result will ever come. */
  #closed = false;

  constructor(
    private readonly onDropped: (
      subscription: number,
      result: TaskResult,
      policy: OverflowPolicy,
    ) => void,
    private readonly onDrained: () => void,
  ) {}

  /** Results dropped by all subscriptions, ever. */
  get droppedTotal(): number {
    return this.#droppedTotal;
  }

  get size(): number {
    return this.#subscriptions.size;
  }

  /** True while some `block` subscriber has a full buffer: dispatch must wait. */
  get blocked(): boolean {
    if (this.#blocking === 0) return false;
    for (const subscription of this.#subscriptions) if (subscription.full) return true;
    return false;
  }

  subscribe<R>(options?: SubscribeOptions<R>): ResultSubscription<R> {
    const subscription = new ResultSubscription<R>(this, options);
    // After a stop, a new subscription ends at once instead of waiting forever.
    if (this.#closed) subscription.end();
    else if (!subscription.closed) {
      this.#subscriptions.add(subscription as unknown as ResultSubscription<never>);
      if (subscription.policy === "block") this.#blocking++;
    }
    return subscription;
  }

  publish(result: TaskResult): void {
    for (const subscription of this.#subscriptions) subscription.offer(result as never);
  }

  /** Ends every subscription: each yields what it holds, then completes. */
  closeAll(): void {
    this.#closed = true;
    for (const subscription of [...this.#subscriptions]) subscription.end();
  }

  remove(subscription: ResultSubscription<never>): void {
    if (this.#subscriptions.delete(subscription) && subscription.policy === "block")
      this.#blocking--;
  }

  dropped(
    subscription: ResultSubscription<never>,
    result: TaskResult,
    policy: OverflowPolicy,
  ): void {
    this.#droppedTotal++;
    this.onDropped(subscription.id, result, policy);
  }

  drained(): void {
    this.onDrained();
  }
}
