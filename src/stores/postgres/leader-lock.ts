/**
 * A leader lock as a lease row (`<schema>.leaders`): at most one owner at a time among all
 * processes. Acquire and renew are one upsert that succeeds only if the row is free, expired
 * (by the database clock) or already ours; release deletes our row. A row, not a session-level
 * advisory lock: it survives a pooled connection's reuse and needs no connection held open.
 *
 * Safety rests on the local view never outliving the row, as with the Redis lock: each acquire
 * or renewal notes the local time it was *sent*; the database starts the lease when it runs
 * the statement, which is later. The owner believes it leads only until
 * `sentAt + ttl - margin` on its own clock (margin: 1% of the TTL plus 2 ms for clock-rate
 * drift): past that instant without a newer confirmation (the database slow or unreachable) it
 * steps down with "expired-locally", as the Redis and SQLite locks do. It renews every third
 * of the TTL and steps down at once when a renewal is refused or fails.
 */
import { randomUUID } from "node:crypto";
import { type Logger, silentLogger } from "../../observability/logger.js";
import { type Clock, systemClock, type TimerHandle } from "../../scheduling/clock.js";
import type { LeaderLockHandle, LeaderLockSettings, LeadershipChange } from "../durable-store.js";
import { announceLeadership, LockValidity } from "../leadership.js";
import type { Query } from "./queries.js";
import type { SchemaNames } from "./sql/names.js";

export class PostgresLeaderLock implements LeaderLockHandle {
  readonly #query: Query;
  readonly #s: string;
  readonly #name: string;
  readonly #owner = randomUUID();
  readonly #ttlMs: number;
  readonly #marginMs: number;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #onChange: (leading: boolean, reason: LeadershipChange) => void;
  #generation = 0;
  #running = false;
  #leading = false;
  readonly #validity: LockValidity;
  #timer: TimerHandle | undefined;
  #inFlight: Promise<void> | undefined;

  constructor(query: Query, names: SchemaNames, name: string, settings: LeaderLockSettings) {
    const { ttlMs } = settings;
    if (!Number.isInteger(ttlMs) || ttlMs < 10)
      throw new RangeError(`LeaderLock ttlMs must be an integer >= 10, got ${ttlMs}`);
    this.#query = query;
    this.#s = names.s;
    this.#name = name;
    this.#ttlMs = ttlMs;
    this.#marginMs = Math.floor(ttlMs * 0.01) + 2;
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
    const generation = ++this.#generation;
    void (this.#inFlight ?? Promise.resolve()).then(() => {
      if (this.#generation === generation) this.#attempt(generation);
    });
  }

  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    this.#generation++;
    if (this.#timer !== undefined) this.#clock.clearTimer(this.#timer);
    this.#timer = undefined;
    // Step down before the row is released, never after: once it is deleted another process
    // may lead, and two announced leaders at once is what the lock exists to prevent.
    if (this.#leading) this.#stepDown("stopped");
    await this.#inFlight?.catch(() => {});
    try {
      await this.#query(`DELETE FROM ${this.#s}.leaders WHERE name = $1 AND owner = $2`, [
        this.#name,
        this.#owner,
      ]);
    } catch {
      // Unreachable: the row simply expires.
    }
  }

  #attempt(generation: number): void {
    const sentAt = this.#clock.now();
    const op = this.#query(
      `INSERT INTO ${this.#s}.leaders AS l (name, owner, until_ms)
       VALUES ($1, $2, ${this.#s}.now_ms() + $3)
       ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, until_ms = excluded.until_ms
       WHERE l.owner = excluded.owner OR l.until_ms <= ${this.#s}.now_ms()
       RETURNING owner`,
      [this.#name, this.#owner, this.#ttlMs],
    ).then(
      ({ rows }) => {
        if (this.#generation !== generation) return;
        if (rows.length > 0) this.#held(sentAt);
        else if (this.#leading) this.#stepDown("refused");
      },
      (error: unknown) => {
        if (this.#generation !== generation) return;
        if (this.#leading) this.#stepDown("renewal-failed", error);
      },
    );
    this.#inFlight = op;
    void op.finally(() => {
      if (this.#generation !== generation || !this.#running) return;
      this.#timer = this.#clock.setTimer(
        () => this.#attempt(generation),
        Math.max(1, Math.floor(this.#ttlMs / 3)),
        true,
      );
    });
  }

  #held(sentAt: number): void {
    this.#validity.confirm(sentAt + this.#ttlMs - this.#marginMs);
    if (this.#leading) return;
    this.#leading = true;
    announceLeadership(this.#logger, this.#name, true, "acquired", undefined, this.#onChange);
  }

  #stepDown(reason: LeadershipChange, error?: unknown): void {
    this.#leading = false;
    this.#validity.clear();
    announceLeadership(this.#logger, this.#name, false, reason, error, this.#onChange);
  }
}
