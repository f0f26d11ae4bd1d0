/** What a ready queue reads and stamps on a task. A task record fits as it is. */
export interface ReadyEntry {
  readonly priority: number;
  /** FIFO order inside a priority, stamped on each push. */
  readySeq: number;
  /** True while this entry is live (false once it was shifted or discarded). */
  inReady: boolean;
}

interface Level<T> {
  readonly priority: number;
  items: T[];
  head: number;
}

/**
 * Tasks ready to start in one named queue: higher priority first, FIFO within a priority.
 * Each priority is a FIFO array, so the usual case (one priority) is O(1) per push and pop.
 *
 * Cancelled or expired tasks are not spliced out (that is O(n)); their entry goes stale
 * (`record.inReady` false) and is skipped. Stale entries are compacted away once they
 * outnumber live ones, so memory stays proportional to the live depth.
 */
export class ReadyQueue<T extends ReadyEntry> {
  /** Priority levels, highest first. */
  readonly #levels: Level<T>[] = [];
  /** The level `peek` last found the head in; valid until the queue changes. */
  #headLevel: Level<T> | undefined;
  #live = 0;
  #stale = 0;

  /** Tasks ready to start. */
  get depth(): number {
    return this.#live;
  }

  push(record: T, seq: number): void {
    record.readySeq = seq;
    record.inReady = true;
    this.#levelFor(record.priority).items.push(record);
    this.#live++;
  }

  /** The next task to start, without removing it. */
  peek(): T | undefined {
    const levels = this.#levels;
    for (let i = 0; i < levels.length; i++) {
      const level = levels[i]!;
      while (level.head < level.items.length) {
        const record = level.items[level.head]!;
        if (record.inReady) {
          this.#headLevel = level;
          return record;
        }
        this.#advance(level);
        this.#stale--;
      }
      // Drop emptied levels so a burst of one-off priorities does not slow every peek.
      levels.splice(i--, 1);
    }
    return undefined;
  }

  /** Removes and returns the next task to start. */
  shift(): T | undefined {
    const record = this.peek();
    if (record === undefined) return undefined;
    this.#advance(this.#headLevel!);
    record.inReady = false;
    this.#live--;
    return record;
  }

  /** Marks a queued task's entry stale (it was cancelled or expired). */
  discard(record: T): void {
    if (!record.inReady) return;
    record.inReady = false;
    this.#live--;
    this.#stale++;
    if (this.#stale > 1024 && this.#stale > this.#live) this.#compact();
  }

  /** Removes every live task, in start order. */
  drain(): T[] {
    const records: T[] = [];
    for (let record = this.shift(); record !== undefined; record = this.shift())
      records.push(record);
    this.#levels.length = 0;
    this.#stale = 0;
    return records;
  }

  #levelFor(priority: number): Level<T> {
    const levels = this.#levels;
    let i = 0;
    while (i < levels.length && levels[i]!.priority > priority) i++;
    const found = levels[i];
    if (found !== undefined && found.priority === priority) return found;
    const level: Level<T> = { priority, items: [], head: 0 };
    levels.splice(i, 0, level);
    return level;
  }

  #advance(level: Level<T>): void {
    level.items[level.head] = undefined as unknown as T;
    level.head++;
    if (level.head === level.items.length) {
      level.items.length = 0;
      level.head = 0;
    } else if (level.head > 4096 && level.head * 2 > level.items.length) {
      level.items.splice(0, level.head);
      level.head = 0;
    }
  }

  #compact(): void {
    for (const level of this.#levels) {
      level.items = level.items.slice(level.head).filter((record) => record.inReady);
      level.head = 0;
    }
    this.#stale = 0;
  }
}
