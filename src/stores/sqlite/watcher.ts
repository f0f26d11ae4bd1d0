/**
 * Noticing new work and new events without polling an expensive query. Writes of this process
 * are announced by the committer at once. Writes of other processes sharing the file are
 * noticed by polling `PRAGMA data_version` (a counter SQLite keeps in shared memory, changed by
 * every commit of another connection: a few microseconds to read) every `pollMs`, only while
 * someone waits; when it moved, one read of the `wake` counter row tells whether that commit
 * made work ready. Both the {@link SqliteWaiter} and the {@link SqliteFeedReader} wait here.
 */
import { InvalidArgumentError } from "../../errors.js";
import { requireInteger, requirePositive } from "../../validation.js";
import type { EventReader, WaitOutcome, WorkWaiter } from "../durable-store.js";
import type { TaskEvent } from "../durable-types.js";
import { type EventRow, toEvent } from "./codec.js";
import type { Sql } from "./committer.js";

export class ChangeWatcher {
  readonly #sql: Sql;
  readonly #pollMs: number;
  readonly #listeners = new Set<() => void>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #dataVersion = -1;
  #wakeCounter = -1;
  /** Bumped whenever work may have become ready (here or in another process). */
  wakes = 0;
  /** Bumped whenever events may have been appended. */
  events = 0;
  #closed = false;

  constructor(sql: Sql, pollMs: number) {
    this.#sql = sql;
    this.#pollMs = pollMs;
    // The baseline is kept from here on, waiting or not: a wake-up another process left while
    // nobody here waited is seen by the first poll of the next wait (as a Redis marker token
    // left between a claim and a BLPOP is).
    this.#sync();
  }

  /**
   * A commit of this process (see `Committer`), with the wake counter it wrote when it woke:
   * taken as the new baseline (waiters wake now anyway, and claim whatever is ready).
   */
  committed(woke: boolean, evented: boolean, wakeCounter?: number): void {
    if (woke) {
      this.wakes++;
      if (wakeCounter !== undefined) this.#wakeCounter = wakeCounter;
    }
    if (evented) this.events++;
    this.#notify();
  }

  /** Calls `listener` after every change until the returned function is called. */
  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    if (this.#timer === undefined && !this.#closed) {
      this.#timer = setInterval(() => this.#poll(), this.#pollMs);
      // Waiting for work never keeps a process alive by itself.
      this.#timer.unref();
      // What other processes did since the last poll, at once (after the caller has its
      // unsubscribe function).
      queueMicrotask(() => this.#poll());
    }
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0 && this.#timer !== undefined) {
        clearInterval(this.#timer);
        this.#timer = undefined;
      }
    };
  }

  close(): void {
    this.#closed = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#notify();
  }

  get closed(): boolean {
    return this.#closed;
  }

  #sync(): void {
    try {
      this.#dataVersion = Number(this.#sql.q("PRAGMA data_version").pluck().get());
      this.#wakeCounter = this.#readWake();
    } catch {
      // A closed database: the next poll tries again, close() stops it.
    }
  }

  #readWake(): number {
    return Number(this.#sql.q("SELECT value FROM meta WHERE key = 'wake'").pluck().get());
  }

  #poll(): void {
    if (this.#closed) return;
    let changed = false;
    try {
      const version = Number(this.#sql.q("PRAGMA data_version").pluck().get());
      if (version === this.#dataVersion) return;
      this.#dataVersion = version;
      // Another process committed: it may have appended events; it made work ready only if it
      // bumped the wake counter.
      this.events++;
      changed = true;
      const wake = this.#readWake();
      if (wake !== this.#wakeCounter) {
        this.#wakeCounter = wake;
        this.wakes++;
      }
    } catch {
      return;
    }
    if (changed) this.#notify();
  }

  #notify(): void {
    for (const listener of [...this.#listeners]) listener();
  }
}

/**
 * Blocks until work may be ready. Like the Redis marker token, a wake-up that came while no
 * one waited is kept: the next wait returns at once.
 */
export class SqliteWaiter implements WorkWaiter {
  readonly #watcher: ChangeWatcher;
  #seen: number;
  #waiting = false;
  #closed = false;
  #wakeAll: (() => void) | undefined;

  constructor(watcher: ChangeWatcher) {
    this.#watcher = watcher;
    this.#seen = watcher.wakes;
  }

  wait(queues: readonly string[], timeoutMs: number, signal?: AbortSignal): Promise<WaitOutcome> {
    if (!Array.isArray(queues) || queues.length === 0)
      throw new InvalidArgumentError("queues", "must be a non-empty array of queue names", queues);
    requirePositive("timeoutMs", timeoutMs);
    if (this.#closed || this.#watcher.closed) return Promise.resolve("closed");
    if (signal?.aborted) return Promise.resolve("aborted");
    if (this.#waiting) throw new Error("WorkWaiter.wait() is already in progress");
    if (this.#watcher.wakes !== this.#seen) {
      this.#seen = this.#watcher.wakes;
      return Promise.resolve("woken");
    }
    this.#waiting = true;
    return new Promise<WaitOutcome>((resolve) => {
      const finish = (outcome: WaitOutcome) => {
        clearTimeout(timer);
        unsubscribe();
        signal?.removeEventListener("abort", onAbort);
        this.#wakeAll = undefined;
        this.#waiting = false;
        resolve(outcome);
      };
      const onAbort = () => finish("aborted");
      const timer = setTimeout(() => finish("timeout"), Math.max(1, Math.ceil(timeoutMs)));
      const unsubscribe = this.#watcher.subscribe(() => {
        if (this.#watcher.closed) return finish("closed");
        if (this.#watcher.wakes === this.#seen) return;
        this.#seen = this.#watcher.wakes;
        finish("woken");
      });
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#wakeAll = () => finish("closed");
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#wakeAll?.();
  }
}

/** The events feed: rows of `events` after a position (the row id), waiting when none are new. */
export class SqliteFeedReader implements EventReader {
  readonly #sql: Sql;
  readonly #watcher: ChangeWatcher;
  #closed = false;
  #cancel: (() => void) | undefined;

  constructor(sql: Sql, watcher: ChangeWatcher) {
    this.#sql = sql;
    this.#watcher = watcher;
  }

  async end(): Promise<string> {
    if (this.#closed) throw new Error("the feed reader is closed");
    return lastPosition(this.#sql);
  }

  /**
   * Events after `after`; with none yet, waits up to `blockMs` for some (a commit here, or a
   * commit of another process that appended events), as a blocking stream read does.
   */
  async read(after: string, count: number, blockMs: number): Promise<TaskEvent[]> {
    requireInteger("blockMs", blockMs, 0);
    const deadline = Date.now() + blockMs;
    for (;;) {
      const seen = this.#watcher.events;
      const events = readEvents(this.#sql, after, count);
      if (events.length > 0 || blockMs === 0 || this.#closed || this.#watcher.closed) return events;
      const left = deadline - Date.now();
      if (left <= 0) return [];
      await this.#changeAfter(seen, left);
    }
  }

  /** Resolves when the watcher's event count moves past `seen`, after `ms`, or on close. */
  #changeAfter(seen: number, ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        unsubscribe();
        this.#cancel = undefined;
        resolve();
      };
      const timer = setTimeout(finish, ms);
      const unsubscribe = this.#watcher.subscribe(() => {
        if (this.#watcher.events !== seen || this.#watcher.closed) finish();
      });
      this.#cancel = finish;
      if (this.#watcher.events !== seen) finish();
    });
  }

  close(): void {
    this.#closed = true;
    this.#cancel?.();
  }
}

/** The position of the newest event, "0" when there is none. */
export function lastPosition(sql: Sql): string {
  const last = sql.q("SELECT max(pos) FROM events").pluck().get() as number | null;
  return String(last ?? 0);
}

/** Up to `count` events after position `after`. */
export function readEvents(sql: Sql, after: string, count: number): TaskEvent[] {
  requireInteger("count", count, 1);
  if (typeof after !== "string" || !/^\d{1,20}$/.test(after))
    throw new InvalidArgumentError("after", "must be a position of the events feed", after);
  const rows = sql
    .q("SELECT * FROM events WHERE pos > ? ORDER BY pos LIMIT ?")
    .all(Number(after), count) as EventRow[];
  return rows.map(toEvent);
}
