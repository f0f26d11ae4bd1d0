import type { QueueInfo } from "../types.js";
import { Alarm } from "./alarm.js";
import type { Clock } from "./clock.js";
import { IndexedHeap } from "./indexed-heap.js";
import { type ReadyEntry, ReadyQueue } from "./ready-queue.js";
import {
  createBucket,
  msUntilToken,
  type TokenBucketConfig,
  type TokenBucketState,
  tryTake,
} from "./token-bucket.js";

/**
 * What the dispatcher reads and stamps on a task. A task record fits as it is; the dispatcher
 * never looks at a status (the lifecycle's business: see `DispatcherDeps.onDue`).
 */
export interface DispatchTask extends ReadyEntry {
  readonly queue: string;
  /** Submission order: breaks ties between equal due times. */
  readonly order: number;
  /** When a delayed task or a retry becomes due; cleared when it enters its ready queue. */
  runAt: number | undefined;
  /** Position in the delay heap (-1 when absent). */
  delayIndex: number;
}

interface QueueState<T extends DispatchTask> {
  readonly name: string;
  readonly ready: ReadyQueue<T>;
  readonly concurrency: number;
  running: number;
  /** Delayed tasks and retries waiting for their backoff. */
  waiting: number;
  paused: boolean;
}

/** What the dispatcher needs from the rest of the engine. */
export interface DispatcherDeps<T extends DispatchTask> {
  readonly clock: Clock;
  readonly concurrency: number;
  readonly rate: TokenBucketConfig | undefined;
  readonly queueSettings: ReadonlyMap<string, { readonly concurrency: number }>;
  /** Runs an attempt of a task that just took a slot and a token. */
  readonly start: (task: T) => void;
  /**
   * A task that had a due time (a delayed task or a retry) reached it and enters its ready
   * queue now: the lifecycle moves a `scheduled` task to `queued` here.
   */
  readonly onDue: (task: T, now: number) => void;
  /** True while dispatch must wait (a `block` result subscriber is full). */
  readonly isHeld: () => boolean;
}

/**
 * The one scheduling path. Every start — first attempt, retry, delayed task, replay — leaves
 * from `pump()`, which takes exactly one concurrency slot (global and per queue) and one token
 * from the one bucket. Nothing else starts a handler and nothing else limits starts.
 *
 * Delayed tasks and waiting retries sit in one heap with one timer armed for the earliest.
 * Waiting holds no slot and no token.
 */
export class Dispatcher<T extends DispatchTask> {
  /** Attempts holding a slot (including aborted handlers that have not settled yet). */
  running = 0;
  readonly #deps: DispatcherDeps<T>;
  readonly #queues = new Map<string, QueueState<T>>();
  readonly #queueList: QueueState<T>[] = [];
  readonly #delayed = new IndexedHeap<T>(
    (a, b) =>
      (a.runAt as number) < (b.runAt as number) || (a.runAt === b.runAt && a.order < b.order),
    (record, index) => {
      record.delayIndex = index;
    },
    (record) => record.delayIndex,
  );
  readonly #delayAlarm: Alarm;
  readonly #bucket: TokenBucketState | undefined;
  readonly #bucketAlarm: Alarm;
  #seq = 0;
  #pumping = false;
  #closed = false;

  constructor(deps: DispatcherDeps<T>) {
    this.#deps = deps;
    this.#delayAlarm = new Alarm(deps.clock, (now) => this.#promoteDue(now));
    this.#bucketAlarm = new Alarm(deps.clock, () => this.pump());
    this.#bucket = deps.rate === undefined ? undefined : createBucket(deps.rate, deps.clock.now());
  }

  /** Accepts a task (ready now, or waiting for its `runAt`) and starts what it can. */
  enqueue(record: T): void {
    if (this.#closed) return;
    const queue = this.#queue(record.queue);
    const runAt = record.runAt;
    if (runAt !== undefined) {
      const now = this.#deps.clock.now();
      if (runAt > now) {
        queue.waiting++;
        this.#delayed.push(record);
        if (this.#delayed.peek() === record) this.#delayAlarm.armAt(runAt);
        return;
      }
      this.#deps.onDue(record, now);
      record.runAt = undefined;
    }
    queue.ready.push(record, this.#seq++);
    this.pump();
  }

  /** Takes a waiting task out (it was cancelled or expired). */
  remove(record: T): void {
    const queue = this.#queues.get(record.queue);
    if (queue === undefined) return;
    if (this.#delayed.remove(record)) {
      queue.waiting--;
      // An armed timer with nothing left to wait for would keep an idle process alive.
      if (this.#delayed.size === 0) this.#delayAlarm.cancel();
    } else queue.ready.discard(record);
  }

  /** An attempt settled: frees its slot and starts what can start. */
  release(record: T): void {
    this.running--;
    const queue = this.#queues.get(record.queue);
    if (queue !== undefined) queue.running--;
    this.pump();
  }

  /** Starts tasks while a slot, a token and a ready task are all available. */
  pump(): void {
    if (this.#pumping || this.#closed) return;
    this.#pumping = true;
    try {
      while (this.running < this.#deps.concurrency && !this.#deps.isHeld()) {
        const queue = this.#nextQueue();
        if (queue === undefined) break;
        if (this.#bucket !== undefined && !this.#takeToken(this.#bucket)) break;
        const record = queue.ready.shift() as T;
        this.running++;
        queue.running++;
        this.#deps.start(record);
      }
    } finally {
      this.#pumping = false;
    }
  }

  pause(name: string): void {
    this.#queue(name).paused = true;
  }

  resume(name: string): void {
    this.#queue(name).paused = false;
    this.pump();
  }

  isPaused(name: string): boolean {
    return this.#queues.get(name)?.paused ?? false;
  }

  /** Tasks ready to start plus tasks waiting for a delay, over all queues. */
  get pending(): number {
    let pending = 0;
    for (const queue of this.#queueList) pending += queue.ready.depth + queue.waiting;
    return pending;
  }

  queueInfo(): QueueInfo[] {
    return this.#queueList.map((queue) => ({
      name: queue.name,
      depth: queue.ready.depth,
      waiting: queue.waiting,
      running: queue.running,
      paused: queue.paused,
      concurrency: Number.isFinite(queue.concurrency) ? queue.concurrency : undefined,
    }));
  }

  /** Stops all dispatch and timers; returns every task that was waiting or ready. */
  close(): T[] {
    this.#closed = true;
    this.#delayAlarm.cancel();
    this.#bucketAlarm.cancel();
    const records = this.#delayed.drain();
    for (const queue of this.#queueList) {
      queue.waiting = 0;
      records.push(...queue.ready.drain());
    }
    return records;
  }

  #queue(name: string): QueueState<T> {
    let queue = this.#queues.get(name);
    if (queue === undefined) {
      queue = {
        name,
        ready: new ReadyQueue(),
        concurrency: this.#deps.queueSettings.get(name)?.concurrency ?? Number.POSITIVE_INFINITY,
        running: 0,
        waiting: 0,
        paused: false,
      };
      this.#queues.set(name, queue);
      this.#queueList.push(queue);
    }
    return queue;
  }

  /** The eligible queue whose head goes first: higher priority, then earlier. */
  #nextQueue(): QueueState<T> | undefined {
    let best: QueueState<T> | undefined;
    let bestHead: T | undefined;
    for (const queue of this.#queueList) {
      if (queue.paused || queue.running >= queue.concurrency) continue;
      const head = queue.ready.peek();
      if (head === undefined) continue;
      if (
        bestHead === undefined ||
        head.priority > bestHead.priority ||
        (head.priority === bestHead.priority && head.readySeq < bestHead.readySeq)
      ) {
        best = queue;
        bestHead = head;
      }
    }
    return best;
  }

  #takeToken(bucket: TokenBucketState): boolean {
    const rate = this.#deps.rate as TokenBucketConfig;
    const now = this.#deps.clock.now();
    if (tryTake(bucket, rate, now)) return true;
    this.#bucketAlarm.armAt(now + msUntilToken(bucket, rate, now));
    return false;
  }

  #promoteDue(now: number): void {
    for (let next = this.#delayed.peek(); next !== undefined; next = this.#delayed.peek()) {
      if ((next.runAt as number) > now) {
        this.#delayAlarm.armAt(next.runAt as number);
        break;
      }
      this.#delayed.pop();
      const queue = this.#queue(next.queue);
      queue.waiting--;
      this.#deps.onDue(next, now);
      next.runAt = undefined;
      queue.ready.push(next, this.#seq++);
    }
    this.pump();
  }
}
