/**
 * A leader lock as a row of `leaders` (name, owner, expiry on the store clock): taken when
 * absent, expired or already ours; renewed and released only by its owner (compare-and-set on
 * the owner token, in one transaction), so an owner whose lock lapsed never touches its
 * successor's. As with the Redis lock, the local view never outlives the row: leadership is
 * believed only until `sentAt + ttl - margin` on the local clock, and checked on every read of
 * {@link SqliteLeaderLock.isLeader}.
 */
import { randomUUID } from "node:crypto";
import { type Logger, safeLog, silentLogger } from "../../observability/logger.js";
import { type Clock, systemClock, type TimerHandle } from "../../scheduling/clock.js";
import type { LeaderLockHandle, LeaderLockSettings, LeadershipChange } from "../durable-store.js";
import { announceLeadership, LockValidity } from "../leadership.js";
import type { Committer } from "./committer.js";

export class SqliteLeaderLock implements LeaderLockHandle {
  readonly #committer: Committer;
  readonly #name: string;
  readonly #token = randomUUID();
  readonly #ttlMs: number;
  readonly #marginMs: number;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #onChange: (leading: boolean, reason: LeadershipChange) => void;
  #running = false;
  #leading = false;
  readonly #validity: LockValidity;
  #generation = 0;
  #timer: TimerHandle | undefined;

  constructor(committer: Committer, name: string, settings: LeaderLockSettings) {
    if (!Number.isInteger(settings.ttlMs) || settings.ttlMs < 10)
      throw new RangeError(`LeaderLock ttlMs must be an integer >= 10, got ${settings.ttlMs}`);
    this.#committer = committer;
    this.#name = name;
    this.#ttlMs = settings.ttlMs;
    this.#marginMs = Math.floor(settings.ttlMs * 0.01) + 2;
    this.#clock = settings.clock ?? systemClock;
    this.#logger = settings.logger ?? silentLogger;
    this.#onChange = settings.onChange ?? (() => {});
    this.#validity = new LockValidity(this.#clock, () => {
      if (this.#leading) this.#stepDown("expired-locally");
    });
  }

  get isLeader(): boolean {
    return this.#leading && this.#validity.holds();
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    void this.#attempt(++this.#generation);
  }

  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    this.#generation++;
    this.#clearTimers();
    if (this.#leading) this.#change(false, "stopped");
    try {
      await this.#committer.run((tx) =>
        tx.sql.q("DELETE FROM leaders WHERE name = ? AND owner = ?").run(this.#name, this.#token),
      );
    } catch (error) {
      safeLog(
        this.#logger,
        "warn",
        { err: error, lock: this.#name },
        "taskmill could not release the leader lock; it expires on its own",
      );
    }
  }

  async #attempt(generation: number): Promise<void> {
    this.#timer = undefined;
    if (generation !== this.#generation) return;
    const sentAt = this.#clock.now();
    let held: boolean | undefined;
    try {
      held = await this.#committer.run((tx) => {
        const row = tx.sql
          .q("SELECT owner, expires_at FROM leaders WHERE name = ?")
          .get(this.#name) as { owner: string; expires_at: number } | undefined;
        if (row !== undefined && row.owner !== this.#token && row.expires_at > tx.now) return false;
        tx.sql
          .q("INSERT OR REPLACE INTO leaders (name, owner, expires_at) VALUES (?, ?, ?)")
          .run(this.#name, this.#token, tx.now + this.#ttlMs);
        return true;
      });
    } catch (error) {
      if (generation === this.#generation && this.#leading) this.#stepDown("renewal-failed", error);
    }
    if (generation !== this.#generation) return;
    if (held === true && sentAt + this.#ttlMs - this.#marginMs > this.#clock.now()) {
      this.#validity.confirm(sentAt + this.#ttlMs - this.#marginMs);
      if (!this.#leading) {
        this.#leading = true;
        this.#change(true, "acquired");
      }
    } else if (held === false && this.#leading) this.#stepDown("refused");
    this.#timer = this.#clock.setTimer(
      () => void this.#attempt(generation),
      Math.max(1, Math.floor(this.#ttlMs / 3)),
      true,
    );
  }

  #stepDown(reason: LeadershipChange, error?: unknown): void {
    if (!this.#leading) return;
    this.#change(false, reason, error);
  }

  #change(leading: boolean, reason: LeadershipChange, error?: unknown): void {
    this.#leading = leading;
    if (!leading) this.#validity.clear();
    announceLeadership(this.#logger, this.#name, leading, reason, error, this.#onChange);
  }

  #clearTimers(): void {
    if (this.#timer !== undefined) this.#clock.clearTimer(this.#timer);
    this.#timer = undefined;
  }
}
