import { InvalidArgumentError, ResultBufferOverflowError } from "../errors.js";
import type { TaskResult } from "../types.js";
import { requireInteger } from "../validation.js";

/**
 * What a full buffer does with one more result:
 * - `drop-oldest`: discard the oldest buffered result (the default; a live view stays fresh);
 * - `drop-newest`: discard the incoming result;
 * - `block`: keep it and pause task dispatch until this subscriber catches up (nothing is lost,
 *   but one slow subscriber slows the whole manager; the buffer may exceed `buffer` by the
 *   number of tasks that were already running);
 * - `error`: close the subscription; the iterator yields what it holds, then throws
 *   `ResultBufferOverflowError`.
 */
export type OverflowPolicy = "drop-oldest" | "drop-newest" | "block" | "error";

/** Options of `subscribeResults`. */
export interface SubscribeOptions<R = unknown> {
  /** Results held for a consumer that is behind. @default 1024 */
  readonly buffer?: number;
  /** @default "drop-oldest" */
  readonly overflow?: OverflowPolicy;
  /** Only results for which this returns true are delivered (and count toward the buffer). */
  readonly filter?: (result: TaskResult<R>) => boolean;
  /** Aborting it ends the subscription. */
  readonly signal?: AbortSignal;
  /**
   * Durable mode: resume after this position of the events stream (a result's `eventId`). The
   * results recorded after it that the stream still retains are replayed first, read as fast as
   * you consume them, then live results follow, with no gap and no duplicate at the join.
   * Results the stream no longer retains (see the Redis backend's retention) are gone. A replay
   * that cannot read Redis ends the iterator with that error. Ignored in memory mode, which keeps
   * no history: there the subscription starts from now.
   */
  readonly after?: string;
}

/**
 * @internal Where a resumed durable subscription reads the results it missed: up to `count`
 * stream entries after `after`; `last` is the position of the last entry read (the results are
 * the terminal entries among them), `undefined` once nothing follows `after`.
 */
export interface ResultBackfill {
  read(
    after: string,
    count: number,
  ): Promise<{ readonly results: readonly TaskResult[]; readonly last: string | undefined }>;
}

/** A durable resume, from `resume()` until live results are past the join. */
interface Resume<R> {
  after: string;
  readonly source: ResultBackfill;
  /** Live results that arrived during the replay: delivered at the join unless replayed. */
  held: TaskResult<R>[];
  /** Held results were discarded (too many): the replay reads once more before joining. */
  dirty: boolean;
  /** A `next()` is reading a replay page. */
  replaying: boolean;
  /** The replay caught up; live results flow again. */
  joined: boolean;
  /** After the join: live results at or before this position were replayed already. */
  joinAfter: string | undefined;
}

const POLICIES: readonly OverflowPolicy[] = ["drop-oldest", "drop-newest", "block", "error"];

/** Hooks the broadcaster gives each subscription. */
export interface SubscriptionOwner {
  remove(subscription: ResultSubscription<never>): void;
  dropped(
    subscription: ResultSubscription<never>,
    result: TaskResult,
    policy: OverflowPolicy,
  ): void;
  /** A `block` subscriber went back under its buffer size. */
  drained(): void;
}

let nextSubscriptionId = 1;

/**
 * One subscriber's view of the result stream: an async iterable with its own bounded buffer.
 * Breaking out of `for await`, calling `unsubscribe()` or aborting its signal removes it.
 *
 * @example
 * ```ts
 * const sub = mill.subscribeResults({ buffer: 256, overflow: "drop-oldest" });
 * for await (const result of sub) console.log(result.id, result.status);
 * ```
 */
export class ResultSubscription<R = unknown> implements AsyncIterableIterator<TaskResult<R>> {
  /** Unique per process, reported in `dropped` events. */
  readonly id = nextSubscriptionId++;
  readonly capacity: number;
  readonly policy: OverflowPolicy;
  #dropped = 0;
  #items: TaskResult<R>[] = [];
  #head = 0;
  #waiter: ((result: IteratorResult<TaskResult<R>>) => void) | undefined;
  #waiterReject: ((error: Error) => void) | undefined;
  #closed = false;
  #failure: Error | undefined;
  readonly #filter: ((result: TaskResult<R>) => boolean) | undefined;
  readonly #owner: SubscriptionOwner;
  /** The caller's signal and our listener on it, in one field for the same reason as `#resume`. */
  readonly #abort: { readonly signal: AbortSignal; readonly listener: () => void } | undefined;
  /**
   * A durable resume in progress. One field, not several: this class sits at the edge of what
   * V8 keeps fast, and four more fields cost every subscriber dearly (measured: three `block`
   * subscribers went from 0.90x to 0.67x of none).
   */
  #resume: Resume<R> | undefined;

  constructor(owner: SubscriptionOwner, options: SubscribeOptions<R> = {}) {
    const capacity = options.buffer ?? 1024;
    requireInteger("buffer", capacity, 1);
    const policy = options.overflow ?? "drop-oldest";
    if (!POLICIES.includes(policy))
      throw new InvalidArgumentError("overflow", `must be one of ${POLICIES.join(", ")}`, policy);
    if (options.filter !== undefined && typeof options.filter !== "function")
      throw new InvalidArgumentError("filter", "must be a function", options.filter);
    this.capacity = capacity;
    this.policy = policy;
    this.#filter = options.filter;
    this.#owner = owner;
    const signal = options.signal;
    if (signal?.aborted) this.#closed = true;
    else if (signal !== undefined) {
      this.#abort = { signal, listener: () => this.unsubscribe() };
      signal.addEventListener("abort", this.#abort.listener, { once: true });
    }
  }

  /** Results this subscription dropped because its buffer was full. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Results waiting to be read. */
  get buffered(): number {
    return this.#items.length - this.#head;
  }

  /** True once unsubscribed, aborted, overflowed (`error`) or the manager stopped. */
  get closed(): boolean {
    return this.#closed;
  }

  /** True while a `block` subscriber holds a full buffer (dispatch must wait). */
  get full(): boolean {
    return this.policy === "block" && !this.#closed && this.buffered >= this.capacity;
  }

  /** @internal Offers one result; applies the filter and the overflow policy. */
  offer(result: TaskResult<R>): void {
    if (this.#closed) return;
    // One flag on the hot path: the resume logic lives out of line, so `offer` stays small.
    if (this.#resume !== undefined && this.#intercepted(this.#resume, result)) return;
    if (this.#filter !== undefined && !this.#safeFilter(result)) return;
    const waiter = this.#waiter;
    if (waiter !== undefined) {
      this.#clearWaiter();
      waiter({ value: result, done: false });
      return;
    }
    if (this.buffered < this.capacity || this.policy === "block") {
      this.#items.push(result);
      return;
    }
    switch (this.policy) {
      case "drop-oldest": {
        const oldest = this.#shift() as TaskResult<R>;
        this.#items.push(result);
        this.#drop(oldest);
        return;
      }
      case "drop-newest":
        this.#drop(result);
        return;
      case "error":
        this.#drop(result);
        this.#failure = new ResultBufferOverflowError(this.capacity);
        this.#close();
        return;
    }
  }

  next(): Promise<IteratorResult<TaskResult<R>>> {
    if (this.buffered > 0) {
      const wasFull = this.full;
      const value = this.#shift() as TaskResult<R>;
      if (wasFull && !this.full) this.#owner.drained();
      return Promise.resolve({ value, done: false });
    }
    if (this.#failure !== undefined) {
      const failure = this.#failure;
      this.#failure = undefined;
      return Promise.reject(failure);
    }
    if (this.#closed) return Promise.resolve({ value: undefined, done: true });
    const resume = this.#resume;
    if (this.#waiter !== undefined || resume?.replaying === true)
      return Promise.reject(
        new InvalidArgumentError(
          "next",
          "must not be called again before it settles",
          "concurrent next()",
        ),
      );
    if (resume !== undefined && !resume.joined) return this.#replay(resume);
    return new Promise((resolve, reject) => {
      this.#waiter = resolve;
      this.#waiterReject = reject;
    });
  }

  /**
   * @internal Durable resume: from now on live results are held while `next()` replays what
   * `source` has after `after`; the two join without a gap or a duplicate.
   */
  resume(after: string, source: ResultBackfill): void {
    if (this.#closed) return;
    this.#resume = {
      after,
      source,
      held: [],
      dirty: false,
      replaying: false,
      joined: false,
      joinAfter: undefined,
    };
  }

  /** Called by `for await` on `break`: removes the subscription. */
  return(): Promise<IteratorResult<TaskResult<R>>> {
    this.unsubscribe();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** Stops receiving results and frees the buffer. Safe to call more than once. */
  unsubscribe(): void {
    this.#items = [];
    this.#head = 0;
    this.#failure = undefined;
    this.#close();
  }

  /** @internal The manager stopped: deliver what is buffered, then end. */
  end(): void {
    this.#close();
  }

  #close(): void {
    this.#resume = undefined;
    if (this.#closed && this.#waiter === undefined) return;
    const wasFull = this.policy === "block";
    this.#closed = true;
    this.#abort?.signal.removeEventListener("abort", this.#abort.listener);
    this.#owner.remove(this as unknown as ResultSubscription<never>);
    const waiter = this.#waiter;
    const reject = this.#waiterReject;
    this.#clearWaiter();
    if (this.#failure !== undefined && reject !== undefined) {
      const failure = this.#failure;
      this.#failure = undefined;
      reject(failure);
    } else waiter?.({ value: undefined, done: true });
    if (wasFull) this.#owner.drained();
  }

  /** Reads replay pages (one page per call at most, paced by the consumer) until the join. */
  async #replay(resume: Resume<R>): Promise<IteratorResult<TaskResult<R>>> {
    resume.replaying = true;
    try {
      while (this.#resume === resume && !resume.joined) {
        resume.dirty = false;
        const page = await resume.source.read(resume.after, this.capacity);
        if (this.#resume !== resume) break;
        if (page.last === undefined) {
          // Caught up; but if held results were discarded meanwhile, they must be re-read.
          if (resume.dirty) continue;
          this.#join(resume);
          break;
        }
        resume.after = page.last;
        for (const result of page.results as readonly TaskResult<R>[])
          if (this.#filter === undefined || this.#safeFilter(result)) this.#items.push(result);
        if (this.buffered > 0) break;
      }
    } catch (error) {
      this.#failure = error instanceof Error ? error : new Error(String(error));
      this.#close();
    } finally {
      resume.replaying = false;
    }
    return this.next();
  }

  #join(resume: Resume<R>): void {
    resume.joined = true;
    resume.joinAfter = resume.after;
    const held = resume.held;
    resume.held = [];
    for (const result of held) this.offer(result);
  }

  /**
   * During a resume: holds live results while the replay runs; after the join, drops the ones
   * the replay delivered already. Returns whether `result` was taken care of here.
   */
  #intercepted(resume: Resume<R>, result: TaskResult<R>): boolean {
    if (!resume.joined) {
      this.#hold(resume, result);
      return true;
    }
    const joinAfter = resume.joinAfter;
    if (joinAfter !== undefined) {
      if (result.eventId !== undefined && !isLaterPosition(result.eventId, joinAfter)) return true;
      // The feed delivers in stream order: once past the join, nothing older can follow.
      resume.joinAfter = undefined;
    }
    this.#resume = undefined;
    return false;
  }

  #hold(resume: Resume<R>, result: TaskResult<R>): void {
    // Bounded: every held result is also in the stream, so dropping them only costs a re-read.
    if (resume.held.length >= this.capacity) {
      resume.held = [];
      resume.dirty = true;
    }
    resume.held.push(result);
  }

  #drop(result: TaskResult<R>): void {
    this.#dropped++;
    this.#owner.dropped(
      this as unknown as ResultSubscription<never>,
      result as TaskResult,
      this.policy,
    );
  }

  #shift(): TaskResult<R> | undefined {
    const value = this.#items[this.#head];
    this.#items[this.#head] = undefined as unknown as TaskResult<R>;
    this.#head++;
    if (this.#head === this.#items.length) {
      this.#items.length = 0;
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items.splice(0, this.#head);
      this.#head = 0;
    }
    return value;
  }

  #safeFilter(result: TaskResult<R>): boolean {
    try {
      return this.#filter?.(result) === true;
    } catch {
      // A throwing filter must not break publishing for other subscribers: skip the result.
      return false;
    }
  }

  #clearWaiter(): void {
    this.#waiter = undefined;
    this.#waiterReject = undefined;
  }
}

/** Whether events-stream position `id` ("ms-seq") comes after `than`. */
function isLaterPosition(id: string, than: string): boolean {
  const [ms, seq] = splitPosition(id);
  const [thanMs, thanSeq] = splitPosition(than);
  return ms > thanMs || (ms === thanMs && seq > thanSeq);
}

function splitPosition(id: string): [bigint, bigint] {
  const [ms = "0", seq = "0"] = id.split("-");
  try {
    return [BigInt(ms), BigInt(seq)];
  } catch {
    return [0n, 0n];
  }
}
