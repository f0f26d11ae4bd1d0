/**
 * Items oldest first, with O(1) push, peek-oldest and delete. A JS Map would keep the order,
 * but reading its oldest entry after many deletions scans the holes they leave, which turns a
 * steady stream of evictions quadratic. Here a deletion only invalidates the entry's stamp and
 * stale entries are skipped and compacted away.
 */
export class AgeQueue<T> {
  #items: T[] = [];
  #stamps: number[] = [];
  #head = 0;
  #nextStamp = 1;
  #size = 0;

  /** `stampOf`/`setStamp` keep each item's current stamp on the item itself (0 = absent). */
  constructor(
    private readonly stampOf: (item: T) => number,
    private readonly setStamp: (item: T, stamp: number) => void,
  ) {}

  get size(): number {
    return this.#size;
  }

  has(item: T): boolean {
    return this.stampOf(item) !== 0;
  }

  /** Appends `item` as the newest (moving it to the back if it was present). */
  push(item: T): void {
    if (this.has(item)) this.#size--;
    const stamp = this.#nextStamp++;
    this.setStamp(item, stamp);
    this.#items.push(item);
    this.#stamps.push(stamp);
    this.#size++;
  }

  delete(item: T): boolean {
    if (!this.has(item)) return false;
    this.setStamp(item, 0);
    this.#size--;
    return true;
  }

  oldest(): T | undefined {
    while (this.#head < this.#items.length) {
      const item = this.#items[this.#head] as T;
      if (this.stampOf(item) === this.#stamps[this.#head]) return item;
      this.#advance();
    }
    return undefined;
  }

  /** Removes and returns the oldest item. */
  shift(): T | undefined {
    const item = this.oldest();
    if (item !== undefined) {
      this.setStamp(item, 0);
      this.#size--;
      this.#advance();
    }
    return item;
  }

  /** Live items, newest first. */
  *valuesNewestFirst(): IterableIterator<T> {
    for (let i = this.#items.length - 1; i >= this.#head; i--) {
      const item = this.#items[i] as T;
      if (this.stampOf(item) === this.#stamps[i]) yield item;
    }
  }

  /** Live items, oldest first. */
  *values(): IterableIterator<T> {
    for (let i = this.#head; i < this.#items.length; i++) {
      const item = this.#items[i] as T;
      if (this.stampOf(item) === this.#stamps[i]) yield item;
    }
  }

  #advance(): void {
    this.#items[this.#head] = undefined as T;
    this.#head++;
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#stamps = [];
      this.#head = 0;
    } else if (this.#head > 4096 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#stamps = this.#stamps.slice(this.#head);
      this.#head = 0;
    }
  }
}
