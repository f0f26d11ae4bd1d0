/**
 * A leader lock on one Redis key: at most one owner at a time among all processes that contend
 * for it. Acquire is `SET key token NX PX ttl`; renewal and release are compare-and-set
 * scripts on the owner token (`lua/leader-renew-1.lua`, `lua/leader-release-1.lua`), so an
 * owner whose lock expired can never extend or delete its successor's lock.
 *
 * Safety rests on the local view never outliving the Redis key. Each acquire or renewal notes
 * the local time the request was *sent*; Redis starts the TTL when it *runs* the command, which
 * is later, so the key lives at least until `sentAt + ttl` in real time. The owner believes it
 * leads only until `sentAt + ttl - margin` on its own clock, where the margin (1% of the TTL
 * plus 2 ms) absorbs clock-rate drift between this process and Redis. {@link LeaderLock.isLeader}
 * checks that deadline against the clock on every read, so even a process whose event loop
 * was blocked past its TTL (no timer ran) reads `false` the moment it wakes. Two processes can
 * therefore only both believe they lead if their clocks drift apart faster than the margin
 * allows; callers that act on leadership should still make their actions idempotent (the cron
 * scheduler keeps its per-tick idempotency key for exactly that window).
 *
 * The owner renews every third of the TTL and steps down at once, without waiting for the TTL:
 * - when Redis refuses the renewal (the key expired, was deleted or is held by another token);
 * - when a renewal fails (e.g. the connection dropped) or the connection reports `close`;
 * - when its local deadline passes before a renewal was confirmed.
 *
 * A process that does not lead retries acquisition every third of the TTL. After a step-down
 * on a connection error the key may still hold this owner's token; the next attempt re-enters
 * it with the compare-and-set renewal instead of waiting for it to expire.
 */
import { randomUUID } from "node:crypto";
import { type Logger, safeLog, silentLogger } from "../../observability/logger.js";
import { type Clock, systemClock, type TimerHandle } from "../../scheduling/clock.js";
import type { LeadershipChange } from "../durable-store.js";
import { announceLeadership, LockValidity } from "../leadership.js";
import type { RedisClient } from "./client.js";
import { registerScripts, runScript } from "./scripts.js";

/** Why leadership changed, as given to {@link LeaderLockOptions.onChange} and logged. */
export type { LeadershipChange };

/** Options of {@link LeaderLock}. */
export interface LeaderLockOptions {
  /** Time to live of the lock in Redis; a crashed owner is replaced within about this long. */
  readonly ttlMs: number;
  /** Time between renewals while leading. @default ttlMs / 3 */
  readonly renewEveryMs?: number;
  /** Time between acquisition attempts while not leading. @default ttlMs / 3 */
  readonly retryEveryMs?: number;
  /** Time, timers and the local lease deadline. @default the system clock */
  readonly clock?: Clock;
  /** Leadership changes are logged here (gained at info, lost at warn). @default silent */
  readonly logger?: Logger;
  /** The owner token stored in the key. @default a random UUID */
  readonly token?: string;
  /** Called on every change, after {@link LeaderLock.isLeader} reflects it. */
  readonly onChange?: (leading: boolean, reason: LeadershipChange) => void;
  /** Longest `stop()` waits for Redis to confirm the release. @default 1_000 */
  readonly releaseTimeoutMs?: number;
}

/**
 * Contends for, holds and releases one leader lock. Timers are unref'd: holding the lock never
 * keeps a process alive.
 *
 * @example
 * ```ts
 * const lock = new LeaderLock(redis, keys.leader("cron"), { ttlMs: 10_000 });
 * lock.start();
 * if (lock.isLeader) doLeaderWork();
 * await lock.stop(); // releases it, so another process takes over at its next attempt
 * ```
 */
export class LeaderLock {
  readonly #redis: RedisClient;
  readonly #key: string;
  readonly #token: string;
  readonly #ttlMs: number;
  readonly #renewEveryMs: number;
  readonly #retryEveryMs: number;
  readonly #marginMs: number;
  readonly #releaseTimeoutMs: number;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #onChange: (leading: boolean, reason: LeadershipChange) => void;
  /** Bumped by start/stop: replies of an older generation are ignored. */
  #generation = 0;
  #running = false;
  #leading = false;
  /** Until when the lock surely holds in Redis (see the module comment). */
  readonly #validity: LockValidity;
  /** Redis may still hold our token: set on acquire, cleared on a refusal or a release. */
  #mayHold = false;
  #timer: TimerHandle | undefined;
  /** The acquire or renewal in flight, awaited by `stop()` before it releases. */
  #inFlight: Promise<void> | undefined;
  #stopping: Promise<void> = Promise.resolve();
  readonly #onClose = () => this.#stepDown("connection-lost");

  /**
   * @param redis a client without `keyPrefix`; the lock registers its scripts on it but does
   *   not own it (the caller quits it, after `stop()`).
   * @param key the lock key, e.g. `KeySpace.leader("cron")`.
   */
  constructor(redis: RedisClient, key: string, options: LeaderLockOptions) {
    const ttlMs = options.ttlMs;
    if (!Number.isInteger(ttlMs) || ttlMs < 10)
      throw new RangeError(`LeaderLock ttlMs must be an integer >= 10, got ${ttlMs}`);
    this.#redis = redis;
    this.#key = key;
    this.#token = options.token ?? randomUUID();
    this.#ttlMs = ttlMs;
    this.#renewEveryMs = options.renewEveryMs ?? Math.max(1, Math.floor(ttlMs / 3));
    this.#retryEveryMs = options.retryEveryMs ?? Math.max(1, Math.floor(ttlMs / 3));
    this.#marginMs = Math.floor(ttlMs * 0.01) + 2;
    this.#releaseTimeoutMs = options.releaseTimeoutMs ?? 1_000;
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger ?? silentLogger;
    this.#onChange = options.onChange ?? (() => {});
    // No renewal confirmed in time (Redis slow or unreachable): the key may be gone.
    this.#validity = new LockValidity(this.#clock, () => {
      if (this.#leading) this.#stepDown("expired-locally");
    });
    registerScripts(redis);
  }

  /** True while this process owns the lock and its local deadline has not passed. */
  get isLeader(): boolean {
    return this.#leading && this.#validity.holds();
  }

  /** The owner token this process writes into the key. */
  get token(): string {
    return this.#token;
  }

  /** The lock key. */
  get key(): string {
    return this.#key;
  }

  /** Starts contending (the first attempt at once). Idempotent; may follow `stop()`. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    const generation = ++this.#generation;
    this.#redis.on("close", this.#onClose);
    // A start right after a stop waits for that stop's release: the release must not delete
    // the key this new term is about to acquire (both carry the same token).
    void this.#stopping.then(() => {
      if (this.#generation === generation) this.#attempt(generation);
    });
  }

  /**
   * Stops contending and renewing; if this process may hold the lock, releases it (at most
   * `releaseTimeoutMs`; if Redis is unreachable the key simply expires). Never rejects.
   */
  stop(): Promise<void> {
    if (!this.#running) return this.#stopping;
    this.#running = false;
    this.#generation++;
    this.#redis.off("close", this.#onClose);
    this.#clearTimers();
    if (this.#leading) this.#change(false, "stopped");
    this.#stopping = this.#release();
    return this.#stopping;
  }

  async #release(): Promise<void> {
    // A real timer, not the injected clock: a stop must finish even under a manual test clock.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), this.#releaseTimeoutMs);
      timer.unref();
    });
    try {
      const outcome = await Promise.race([this.#releaseNow(), timedOut]);
      if (outcome === "skipped") return;
      safeLog(
        this.#logger,
        outcome === "timeout" ? "warn" : "info",
        {
          lock: this.#key,
          outcome: outcome === 1 ? "released" : outcome === 0 ? "not-held" : outcome,
        },
        outcome === "timeout"
          ? "taskmill could not release the leader lock in time; it expires on its own"
          : "taskmill released the leader lock",
      );
    } catch (error) {
      safeLog(
        this.#logger,
        "warn",
        { err: error, lock: this.#key },
        "taskmill could not release the leader lock; it expires on its own",
      );
    } finally {
      clearTimeout(timer);
    }
  }

  async #releaseNow(): Promise<unknown> {
    // An acquire in flight may still succeed: wait for it, so its key is released too.
    await this.#inFlight;
    if (!this.#mayHold || this.#redis.status !== "ready") return "skipped";
    const released = await runScript(this.#redis, "leaderRelease", [this.#key], [this.#token]);
    this.#mayHold = false;
    return released;
  }

  #attempt(generation: number): void {
    this.#timer = undefined;
    if (this.#generation !== generation) return;
    const op = this.#leading ? this.#renew(generation) : this.#acquire(generation);
    this.#inFlight = op;
    void op.finally(() => {
      if (this.#inFlight === op) this.#inFlight = undefined;
      if (this.#generation !== generation || this.#timer !== undefined) return;
      this.#timer = this.#clock.setTimer(
        () => this.#attempt(generation),
        this.#leading ? this.#renewEveryMs : this.#retryEveryMs,
        true,
      );
    });
  }

  async #acquire(generation: number): Promise<void> {
    const sentAt = this.#clock.now();
    try {
      let reason: LeadershipChange = "acquired";
      let held = (await this.#redis.set(this.#key, this.#token, "PX", this.#ttlMs, "NX")) === "OK";
      if (held) this.#mayHold = true;
      else if (this.#mayHold) {
        // Stepped down on an error while the key may still be ours: take it back if it is.
        held = (await this.#casRenew()) === 1;
        if (!held) this.#mayHold = false;
        reason = "re-entered";
      }
      if (held && this.#generation === generation) this.#gain(sentAt, reason);
    } catch (error) {
      safeLog(
        this.#logger,
        "debug",
        { err: error, lock: this.#key },
        "taskmill leader lock: acquisition attempt failed; retrying",
      );
    }
  }

  async #renew(generation: number): Promise<void> {
    const sentAt = this.#clock.now();
    let renewed: unknown;
    try {
      renewed = await this.#casRenew();
    } catch (error) {
      if (this.#generation === generation) this.#stepDown("renewal-failed", error);
      return;
    }
    if (renewed !== 1) this.#mayHold = false;
    // A late reply after a local step-down or a stop changes nothing but the bookkeeping above.
    if (this.#generation !== generation || !this.#leading) return;
    if (renewed === 1) this.#extend(sentAt);
    else this.#stepDown("refused");
  }

  #casRenew(): Promise<unknown> {
    return runScript(this.#redis, "leaderRenew", [this.#key], [this.#token, this.#ttlMs]);
  }

  #gain(sentAt: number, reason: LeadershipChange): void {
    // A reply slower than the TTL (e.g. queued while reconnecting) proves nothing about now:
    // stay a follower; the next attempt re-enters the key with a fresh send time.
    if (sentAt + this.#ttlMs - this.#marginMs <= this.#clock.now()) return;
    this.#leading = true;
    this.#extend(sentAt);
    this.#change(true, reason);
  }

  #extend(sentAt: number): void {
    this.#validity.confirm(sentAt + this.#ttlMs - this.#marginMs);
  }

  #stepDown(reason: LeadershipChange, error?: unknown): void {
    if (!this.#leading) return;
    this.#leading = false;
    this.#validity.clear();
    this.#change(false, reason, error);
    // Contend again on the retry period, not the renewal one.
    if (this.#running && this.#timer !== undefined) {
      this.#clock.clearTimer(this.#timer);
      const generation = this.#generation;
      this.#timer = this.#clock.setTimer(() => this.#attempt(generation), this.#retryEveryMs, true);
    }
  }

  #change(leading: boolean, reason: LeadershipChange, error?: unknown): void {
    if (!leading) {
      this.#leading = false;
      this.#validity.clear();
    }
    announceLeadership(this.#logger, this.#key, leading, reason, error, this.#onChange);
  }

  #clearTimers(): void {
    if (this.#timer !== undefined) this.#clock.clearTimer(this.#timer);
    this.#timer = undefined;
  }
}
