/**
 * A binary min-heap whose items remember their position, so any item can be removed in
 * O(log n) (a cancelled delayed task leaves the heap at once instead of lingering).
 */
export class IndexedHeap<T> {
  readonly #items: T[] = [];

  constructor(
    private readonly less: (a: T, b: T) => boolean,
    private readonly setIndex: (item: T, index: number) => void,
    private readonly getIndex: (item: T) => number,
  ) {}

  get size(): number {
    return this.#items.length;
  }

  peek(): T | undefined {
    return this.#items[0];
  }

  push(item: T): void {
    this.#items.push(item);
    this.#up(this.#items.length - 1);
  }

  pop(): T | undefined {
    const top = this.#items[0];
    if (top !== undefined) this.remove(top);
    return top;
  }

  has(item: T): boolean {
    const index = this.getIndex(item);
    return index >= 0 && this.#items[index] === item;
  }

  /** Removes `item` if present; returns whether it was. */
  remove(item: T): boolean {
    if (!this.has(item)) return false;
    const index = this.getIndex(item);
    const last = this.#items.pop() as T;
    this.setIndex(item, -1);
    if (index < this.#items.length) {
      this.#items[index] = last;
      this.setIndex(last, index);
      this.#down(index);
      this.#up(this.getIndex(last));
    }
    return true;
  }

  /** Removes and returns every item, in no particular order. */
  drain(): T[] {
    const items = this.#items.splice(0);
    for (const item of items) this.setIndex(item, -1);
    return items;
  }

  #up(index: number): void {
    const items = this.#items;
    const item = items[index] as T;
    while (index > 0) {
      const parentIndex = (index - 1) >> 1;
      const parent = items[parentIndex] as T;
      if (!this.less(item, parent)) break;
      items[index] = parent;
      this.setIndex(parent, index);
      index = parentIndex;
    }
    items[index] = item;
    this.setIndex(item, index);
  }

  #down(index: number): void {
    const items = this.#items;
    const length = items.length;
    const item = items[index] as T;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= length) break;
      const right = left + 1;
      const child = right < length && this.less(items[right] as T, items[left] as T) ? right : left;
      if (!this.less(items[child] as T, item)) break;
      items[index] = items[child] as T;
      this.setIndex(items[index] as T, index);
      index = child;
    }
    items[index] = item;
    this.setIndex(item, index);
  }
}
