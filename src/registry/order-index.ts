/**
 * Items keyed by a non-negative integer that mostly grows (a submission order), stored in
 * fixed-size chunks of a plain array. Setting and deleting are array stores, with no hashing and
 * no rehashing of a big table; iteration is in key order. A chunk is freed when its last item
 * goes, so memory follows the items kept, at worst one chunk per item for scattered
 * survivors.
 */
const CHUNK_SIZE = 1024;

interface Chunk<T> {
  readonly items: (T | undefined)[];
  count: number;
}

export class OrderIndex<T> {
  /** `#chunks[i]` holds keys from `(#firstChunk + i) * CHUNK_SIZE`. */
  #chunks: (Chunk<T> | undefined)[] = [];
  #firstChunk = 0;
  #size = 0;

  get size(): number {
    return this.#size;
  }

  get(key: number): T | undefined {
    return this.#chunks[Math.floor(key / CHUNK_SIZE) - this.#firstChunk]?.items[key % CHUNK_SIZE];
  }

  set(key: number, item: T): void {
    const chunk = this.#chunkFor(Math.floor(key / CHUNK_SIZE));
    const slot = key % CHUNK_SIZE;
    if (chunk.items[slot] === undefined) {
      chunk.count++;
      this.#size++;
    }
    chunk.items[slot] = item;
  }

  delete(key: number): boolean {
    const index = Math.floor(key / CHUNK_SIZE) - this.#firstChunk;
    const chunk = this.#chunks[index];
    const slot = key % CHUNK_SIZE;
    if (chunk === undefined || chunk.items[slot] === undefined) return false;
    chunk.items[slot] = undefined;
    chunk.count--;
    this.#size--;
    if (chunk.count === 0) this.#free(index);
    return true;
  }

  /** Items in key order. */
  *values(): IterableIterator<T> {
    for (const chunk of this.#chunks) {
      if (chunk === undefined) continue;
      for (const item of chunk.items) if (item !== undefined) yield item;
    }
  }

  /** Items in descending key order. */
  *valuesDescending(): IterableIterator<T> {
    for (let c = this.#chunks.length - 1; c >= 0; c--) {
      const chunk = this.#chunks[c];
      if (chunk === undefined) continue;
      for (let i = chunk.items.length - 1; i >= 0; i--) {
        const item = chunk.items[i];
        if (item !== undefined) yield item;
      }
    }
  }

  #chunkFor(chunkNumber: number): Chunk<T> {
    if (this.#chunks.length === 0) this.#firstChunk = chunkNumber;
    while (chunkNumber < this.#firstChunk) {
      // A key below the first chunk (a replayed old record): grow at the front.
      this.#chunks.unshift(undefined);
      this.#firstChunk--;
    }
    const index = chunkNumber - this.#firstChunk;
    let chunk = this.#chunks[index];
    if (chunk === undefined) {
      chunk = { items: new Array<T | undefined>(CHUNK_SIZE).fill(undefined), count: 0 };
      while (this.#chunks.length < index) this.#chunks.push(undefined);
      this.#chunks[index] = chunk;
    }
    return chunk;
  }

  #free(index: number): void {
    this.#chunks[index] = undefined;
    if (index === 0) {
      let empty = 0;
      while (empty < this.#chunks.length && this.#chunks[empty] === undefined) empty++;
      this.#chunks.splice(0, empty);
      this.#firstChunk += empty;
    }
    while (this.#chunks.length > 0 && this.#chunks[this.#chunks.length - 1] === undefined)
      this.#chunks.pop();
    if (this.#chunks.length === 0) this.#firstChunk = 0;
  }
}
