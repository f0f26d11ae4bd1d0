/**
 * How much a worker may claim: the manager's concurrency cap, each queue's own cap, slots
 * reserved by claims in flight, and (without a global rate in the store) tokens of the
 * manager's one bucket. A process never claims more than it has free slots.
 */
import type { Clock } from "../../scheduling/clock.js";
import {
  createBucket,
  msUntilToken,
  refill,
  type TokenBucketConfig,
  type TokenBucketState,
  tryTake,
} from "../../scheduling/token-bucket.js";

export interface ClaimSlotsOptions {
  readonly clock: Clock;
  readonly concurrency: number;
  readonly queueCaps: ReadonlyMap<string, { readonly concurrency: number }>;
  /** The manager's bucket, used when no global rate limits the store's claim instead. */
  readonly rate: TokenBucketConfig | undefined;
  /** The queues this process has handlers for. */
  readonly handlerQueues: () => Iterable<string>;
  readonly isPaused: (queue: string) => boolean;
}

/** What the worker may claim now. */
export interface Claimable {
  /** Tasks to claim (0: none now). */
  readonly max: number;
  readonly queues: string[];
  /** > 0 when the bucket ran dry: ms until its next token. */
  readonly tokenWaitMs: number;
}

export class ClaimSlots {
  readonly #options: ClaimSlotsOptions;
  readonly #bucket: TokenBucketState | undefined;
  readonly #runningPerQueue = new Map<string, number>();
  readonly #reservedPerQueue = new Map<string, number>();
  #reserved = 0;

  constructor(options: ClaimSlotsOptions) {
    this.#options = options;
    this.#bucket =
      options.rate === undefined ? undefined : createBucket(options.rate, options.clock.now());
  }

  /** True when the manager's bucket limits starts here (claims then go one at a time). */
  get localRate(): boolean {
    return this.#bucket !== undefined;
  }

  runningIn(queue: string): number {
    return this.#runningPerQueue.get(queue) ?? 0;
  }

  /** A claimed task started here: it holds a slot of its queue (and takes a local token). */
  started(queue: string): void {
    this.#runningPerQueue.set(queue, this.runningIn(queue) + 1);
    const rate = this.#options.rate;
    if (this.#bucket !== undefined && rate !== undefined)
      tryTake(this.#bucket, rate, this.#options.clock.now());
  }

  /** A handler let go of its slot. */
  ended(queue: string): void {
    this.#runningPerQueue.set(queue, this.runningIn(queue) - 1);
  }

  /** Holds (`slots` > 0) or frees (< 0) slots for a claim in flight. */
  reserve(queues: readonly string[], slots: number): void {
    this.#reserved += slots;
    for (const queue of queues)
      this.#reservedPerQueue.set(queue, (this.#reservedPerQueue.get(queue) ?? 0) + slots);
  }

  /** Queues with a local handler, not paused, with room under their own cap. */
  eligibleQueues(): string[] {
    const queues = new Set(this.#options.handlerQueues());
    return [...queues].filter(
      (queue) => !this.#options.isPaused(queue) && this.#queueFree(queue) > 0,
    );
  }

  /**
   * What one claim call may take: free slots (`busy` counts handlers running and outcomes whose
   * write holds their slot), split over `calls` calls in flight, within the local bucket.
   */
  claimable(busy: number, calls: number): Claimable {
    const { concurrency, clock, rate } = this.#options;
    const queues = this.eligibleQueues();
    if (queues.length === 0) return { max: 0, queues, tokenWaitMs: 0 };
    let free = concurrency - busy - this.#reserved;
    for (const queue of queues) free = Math.min(free, this.#queueFree(queue));
    let tokenWaitMs = 0;
    if (free > 0 && this.#bucket !== undefined && rate !== undefined) {
      const now = clock.now();
      refill(this.#bucket, rate, now);
      const tokens = Math.floor(this.#bucket.tokens + 1e-9);
      if (tokens < 1) tokenWaitMs = msUntilToken(this.#bucket, rate, now);
      free = Math.min(free, tokens);
    }
    free = Math.min(free, Math.ceil(concurrency / calls));
    return { max: Math.max(0, free), queues, tokenWaitMs };
  }

  #queueFree(queue: string): number {
    const cap = this.#options.queueCaps.get(queue)?.concurrency ?? Number.POSITIVE_INFINITY;
    return cap - this.runningIn(queue) - (this.#reservedPerQueue.get(queue) ?? 0);
  }
}
