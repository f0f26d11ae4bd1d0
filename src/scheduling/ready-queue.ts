import type { TaskRecord } from "../lifecycle/task-record.js";

interface Level {
  readonly priority: number;
  items: TaskRecord[];
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
export class ReadyQueue {
  /** Priority levels, highest first. */
  readonly #levels: Level[] = [];
  /** The level `peek` last found the head in; valid until the queue changes. */
  #headLevel: Level | undefined;
  #live = 0;
  #stale = 0;

  /** Tasks ready to start. */
  get depth(): number {
    return this.#live;
  }

  push(record: TaskRecord, seq: number): void {
    record.readySeq = seq;
    record.inReady = true;
    this.#levelFor(record.priority).items.push(record);
    this.#live++;
  }

  /** The next task to start, without removing it. */
  peek(): TaskRecord | undefined {
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
  shift(): TaskRecord | undefined {
    const record = this.peek();
    if (record === undefined) return undefined;
    this.#advance(this.#headLevel!);
    record.inReady = false;
    this.#live--;
    return record;
  }

  /** Marks a queued task's entry stale (it was cancelled or expired). */
  discard(record: TaskRecord): void {
    if (!record.inReady) return;
    record.inReady = false;
    this.#live--;
    this.#stale++;
    if (this.#stale > 1024 && this.#stale > this.#live) this.#compact();
  }

  /** Removes every live task, in start order. */
  drain(): TaskRecord[] {
    const records: TaskRecord[] = [];
    for (let record = this.shift(); record !== undefined; record = this.shift())
      records.push(record);
    this.#levels.length = 0;
    this.#stale = 0;
    return records;
  }

  #levelFor(priority: number): Level {
    const levels = this.#levels;
    let i = 0;
    while (i < levels.length && levels[i]!.priority > priority) i++;
    const found = levels[i];
    if (found !== undefined && found.priority === priority) return found;
    const level: Level = { priority, items: [], head: 0 };
    levels.splice(i, 0, level);
    return level;
  }

  #advance(level: Level): void {
    level.items[level.head] = undefined as unknown as TaskRecord;
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
