/**
 * Pause and resume in durable mode: state in the store, shared by every process (the store's
 * claim leaves paused queues out in the step that would lease their tasks). This process also
 * stops claiming from a queue the moment `pause` is called, before the store has answered, so
 * a pause followed at once by a submit or a replay holds here whatever order the store's
 * connections deliver them in. Once the store answered, the store alone decides: a resume from
 * another process is obeyed here too.
 */
import type { StoreCalls } from "./store-calls.js";

export class SharedPause {
  readonly #calls: StoreCalls;
  readonly #resumed: () => void;
  /** The latest state asked for per queue, while its write is in flight. */
  readonly #pending = new Map<string, { paused: boolean; writes: number }>();

  /**
   * @param resumed called once a resume is in the store (wake this process's worker: the
   *   store woke the others)
   */
  constructor(calls: StoreCalls, resumed: () => void) {
    this.#calls = calls;
    this.#resumed = resumed;
  }

  /** Whether this process must not claim from `queue` while a pause of it is being written. */
  isPausing(queue: string): boolean {
    return this.#pending.get(queue)?.paused === true;
  }

  /** Writes the state; resolves once the store holds it (every process then obeys it). */
  async set(queue: string, paused: boolean): Promise<void> {
    const entry = this.#pending.get(queue) ?? { paused, writes: 0 };
    entry.paused = paused;
    entry.writes++;
    this.#pending.set(queue, entry);
    try {
      await this.#calls.read(paused ? "pauseQueue" : "resumeQueue", (store) =>
        store.setPaused(queue, paused),
      );
    } finally {
      if (--entry.writes === 0) this.#pending.delete(queue);
    }
    if (!paused) this.#resumed();
  }

  /** The paused queues: the store's (`stored`), with the writes in flight applied over them. */
  overlay(stored: readonly string[]): Set<string> {
    const paused = new Set(stored);
    for (const [queue, entry] of this.#pending) {
      if (entry.paused) paused.add(queue);
      else paused.delete(queue);
    }
    return paused;
  }
}
