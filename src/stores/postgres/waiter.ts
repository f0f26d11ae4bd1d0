/**
 * Waiting for work without polling: a worker that found nothing to claim waits for a NOTIFY
 * on `<schema>_work`, which enqueue, promotion, retries, reclaims and replays send in the same
 * transaction as their change (delivered when it commits). The connection LISTENs from its
 * first wait on, and a notification that arrived between two waits ends the next one at once,
 * so a task committed between a worker's empty claim and its wait is not missed. The caller
 * bounds each wait by the next due time, as with every store.
 */
import { InvalidArgumentError } from "../../errors.js";
import { requirePositive } from "../../validation.js";
import type { WaitOutcome, WorkWaiter } from "../durable-store.js";
import type { ChannelListener } from "./listener.js";

export class PostgresWorkWaiter implements WorkWaiter {
  readonly #listener: ChannelListener;
  #waiting = false;

  /** @param listener owned: closed by `close()` */
  constructor(listener: ChannelListener) {
    this.#listener = listener;
  }

  async wait(
    queues: readonly string[],
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<WaitOutcome> {
    if (!Array.isArray(queues) || queues.length === 0)
      throw new InvalidArgumentError("queues", "must be a non-empty array of queue names", queues);
    requirePositive("timeoutMs", timeoutMs);
    if (this.#listener.closed) return "closed";
    if (signal?.aborted) return "aborted";
    if (this.#waiting) throw new Error("WorkWaiter.wait() is already in progress");
    this.#waiting = true;
    try {
      // Any queue's notification wakes the worker: a spurious wake costs one empty claim.
      const woken = await this.#listener.next(timeoutMs, signal);
      if (woken) return "woken";
      if (this.#listener.closed) return "closed";
      return signal?.aborted ? "aborted" : "timeout";
    } finally {
      this.#waiting = false;
    }
  }

  async close(): Promise<void> {
    this.#listener.close();
  }
}
