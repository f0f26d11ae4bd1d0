/**
 * Request ids for the worker's claims, and the receipts of claims whose reply never arrived.
 * Each claim carries an id (worker id + sequence); a claim whose reply is lost (the connection
 * dropped after the store ran it) gets its leases back on the next claim, which lists the ids
 * still unanswered, without counting another delivery. Receipts expire with their leases.
 */
import { randomUUID } from "node:crypto";

export class ClaimReceipts {
  readonly #workerId = randomUUID().slice(0, 13);
  #sequence = 0;
  /** Request ids of claims whose reply never arrived: the next claim recovers their leases. */
  #unanswered: Array<{ readonly id: string; readonly sentAt: number }> = [];

  /** A new claim's request id. */
  nextId(): string {
    return `${this.#workerId}:${++this.#sequence}`;
  }

  /**
   * The ids of earlier claims still unanswered at `now`, for a claim to ask their leases back
   * (older ones than `leaseMs` have nothing left to give back and are dropped).
   */
  unanswered(now: number, leaseMs: number): string[] {
    if (this.#unanswered.length > 0)
      this.#unanswered = this.#unanswered.filter((earlier) => now - earlier.sentAt < leaseMs);
    return this.#unanswered.map((earlier) => earlier.id);
  }

  /** A claim that listed `ids` was answered: those leases are back. */
  recovered(ids: readonly string[]): void {
    this.#unanswered = this.#unanswered.filter((earlier) => !ids.includes(earlier.id));
  }

  /** The claim `id` sent at `sentAt` got no reply: the store may have run it. */
  lost(id: string, sentAt: number): void {
    this.#unanswered.push({ id, sentAt });
  }
}
