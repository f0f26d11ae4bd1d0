/**
 * `queued` before `started`, always, in the process that submitted a task. A submit announces
 * `queued` when the store's reply arrives; a worker of the same process can claim the task
 * before that reply is read: on Postgres a claim that waited on the enqueue's lock answers in
 * the same instant as the enqueue, and the two replies (two connections) land in one poll
 * phase in either order. So the submitter notes each announcement before its store call, and
 * a worker about to start a task delivers that task's pending announcement first.
 */
export class PendingAnnouncements {
  readonly #pending = new Map<string, () => void>();

  /** Before the store call: what announcing `id` will do. */
  expect(id: string, announce: () => void): void {
    this.#pending.set(id, announce);
  }

  /** The store answered for `id`: announce it now unless a worker already did (or it was not created). */
  settle(id: string, created: boolean): void {
    const announce = this.#pending.get(id);
    if (announce === undefined) return;
    this.#pending.delete(id);
    if (created) announce();
  }

  /** The store call failed: nothing is announced here (as for any submit that did not answer). */
  forget(id: string): void {
    this.#pending.delete(id);
  }

  /** A worker starts `id`: the announcement of its submit first, if it is still pending. */
  deliver(id: string): void {
    if (this.#pending.size === 0) return;
    const announce = this.#pending.get(id);
    if (announce === undefined) return;
    this.#pending.delete(id);
    announce();
  }
}
