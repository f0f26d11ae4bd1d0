// The baseline every library is measured against: the least work that can enforce a
// concurrency cap (a counter plus a FIFO of waiters). No library can beat it by much, so it
// shows how much of each library's cost is overhead rather than scheduling.
export class Semaphore {
  #free;
  #waiters = [];
  #head = 0; // index of the oldest waiter; Array#shift is O(n) on large queues

  constructor(limit) {
    this.#free = limit;
  }

  async run(fn) {
    if (this.#free > 0) this.#free--;
    else await new Promise((resolve) => this.#waiters.push(resolve));
    try {
      return await fn();
    } finally {
      this.#release();
    }
  }

  #release() {
    if (this.#head === this.#waiters.length) {
      this.#free++;
      return;
    }
    // Hand the slot straight to the next waiter, so a newcomer cannot jump the queue.
    const next = this.#waiters[this.#head];
    this.#waiters[this.#head++] = undefined;
    if (this.#head === this.#waiters.length) {
      this.#waiters.length = 0;
      this.#head = 0;
    }
    next();
  }
}
