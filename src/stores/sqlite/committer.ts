/**
 * Group commit: every write of the store is an operation queued here; all operations queued
 * in the same turn of the event loop run in ONE transaction (`BEGIN IMMEDIATE` ... `COMMIT`),
 * so they share one fsync. Each operation runs inside its own savepoint: one that throws (a
 * refused idempotency key, a bug) is rolled back alone and rejects alone, the others commit.
 * Nothing resolves before the COMMIT returned, i.e. before the WAL is on disk.
 *
 * better-sqlite3 is synchronous: a transaction blocks the event loop while it runs, so every
 * operation stays short (bounded batches) and waiting for another process's lock is bounded
 * by `busyTimeoutMs`.
 */
import type { Statement } from "better-sqlite3";
import type { Database } from "./schema.js";
import { classify } from "./schema.js";

/** Prepared statements by text, prepared once per connection. */
export class Sql {
  readonly db: Database;
  readonly #cache = new Map<string, Statement>();

  constructor(db: Database) {
    this.db = db;
  }

  /** The prepared statement for `text`. */
  q(text: string): Statement {
    let statement = this.#cache.get(text);
    if (statement === undefined) {
      statement = this.db.prepare(text);
      this.#cache.set(text, statement);
    }
    return statement;
  }

  /**
   * Counter rows of `meta` (fence, seq, set sizes, wake) as read and changed by the running
   * transaction: read once, changed in memory, written once before COMMIT. The transaction
   * holds the write lock (BEGIN IMMEDIATE), so no other connection changes them meanwhile.
   */
  #counters: Map<string, number> | undefined;
  #dirty = new Set<string>();

  /** The value of counter `key`, as the running transaction sees it. */
  counter(key: string): number {
    const cached = this.#counters?.get(key);
    if (cached !== undefined) return cached;
    const value = Number(this.q("SELECT value FROM meta WHERE key = ?").pluck().get(key) ?? 0);
    this.#counters?.set(key, value);
    return value;
  }

  /** Adds `delta` to counter `key` (inside a transaction of the committer). */
  add(key: string, delta: number): number {
    if (this.#counters === undefined) throw new Error("counters change only inside a transaction");
    const value = this.counter(key) + delta;
    this.#counters.set(key, value);
    this.#dirty.add(key);
    return value;
  }

  /** Reserves `n` consecutive values of counter `key`; returns the first. */
  next(key: "fence" | "seq", n = 1): number {
    return this.add(key, n) - n + 1;
  }

  /** A transaction begins: counters are read afresh. */
  begin(): void {
    this.#counters = new Map();
    this.#dirty.clear();
  }

  /** The counters now, to restore when an operation's savepoint rolls back. */
  snapshot(): { readonly values: Map<string, number>; readonly dirty: Set<string> } {
    return { values: new Map(this.#counters), dirty: new Set(this.#dirty) };
  }

  restore(snapshot: { readonly values: Map<string, number>; readonly dirty: Set<string> }): void {
    this.#counters = new Map(snapshot.values);
    this.#dirty = new Set(snapshot.dirty);
  }

  /** Writes the changed counters (before COMMIT). */
  writeCounters(): void {
    const write = this.q("UPDATE meta SET value = ? WHERE key = ?");
    for (const key of this.#dirty) write.run(this.#counters?.get(key), key);
  }

  /** The transaction ended (committed or rolled back). */
  end(): void {
    this.#counters = undefined;
    this.#dirty.clear();
  }
}

/** What an operation sees of the transaction it runs in. */
export interface Tx {
  readonly sql: Sql;
  /** The store's clock for the whole transaction (epoch ms; see `SqliteStore.time`). */
  readonly now: number;
  /** Work may be ready: wake waiting workers (here at once, in other processes on their poll). */
  wake(): void;
  /** An event was appended to the feed. */
  evented(): void;
}

/** A synchronous 1 ms pause (the transaction path is synchronous anyway). */
const PAUSE = new Int32Array(new SharedArrayBuffer(4));

/** A queued operation. */
type Op<T> = (tx: Tx) => T;

interface Pending {
  readonly op: Op<unknown>;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

/** What the committer tells the store after a commit. */
export interface CommitListener {
  /** Committed with wakes (`woke`, with the wake counter written) and/or new events. */
  committed(woke: boolean, evented: boolean, wakeCounter?: number): void;
}

export class Committer {
  readonly #sql: Sql;
  readonly #path: string;
  readonly #listener: CommitListener;
  readonly #eventsMaxLen: number;
  readonly #busyTimeoutMs: number;
  #queue: Pending[] = [];
  #scheduled = false;
  #closed = false;
  /** Transactions committed so far (tests and benchmarks count them). */
  commits = 0;
  /** Operations committed so far. */
  operations = 0;

  constructor(
    sql: Sql,
    path: string,
    eventsMaxLen: number,
    listener: CommitListener,
    busyTimeoutMs = 0,
  ) {
    this.#sql = sql;
    this.#busyTimeoutMs = busyTimeoutMs;
    this.#path = path;
    this.#eventsMaxLen = eventsMaxLen;
    this.#listener = listener;
  }

  /** Runs `op` in the next group transaction; resolves once that transaction is on disk. */
  run<T>(op: Op<T>): Promise<T> {
    if (this.#closed) return Promise.reject(new Error("the SQLite store is closed"));
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ op, resolve: resolve as (value: unknown) => void, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        // setImmediate, not a microtask: callers that start in the same turn (64 concurrent
        // submitters resolving one after another) all join this transaction.
        setImmediate(() => this.#flush());
      }
    });
  }

  /** Commits what is queued, then refuses new operations. */
  close(): void {
    if (this.#queue.length > 0) this.#flush();
    this.#closed = true;
  }

  /**
   * `BEGIN IMMEDIATE`, waiting for another connection's write lock in steps of 1 ms up to the
   * busy timeout. SQLite's own busy handler backs off to 100 ms between tries, so a process
   * that commits back to back kept the lock from the others for long stretches; short steps
   * give every process a turn soon after each commit.
   */
  #begin(): void {
    const sql = this.#sql;
    const begin = sql.q("BEGIN IMMEDIATE");
    sql.q("PRAGMA busy_timeout = 0").run();
    try {
      const deadline = Date.now() + this.#busyTimeoutMs;
      for (;;) {
        try {
          begin.run();
          return;
        } catch (error) {
          if ((error as { code?: unknown }).code !== "SQLITE_BUSY" || Date.now() >= deadline)
            throw error;
        }
        Atomics.wait(PAUSE, 0, 0, 1);
      }
    } finally {
      // Reads keep SQLite's own busy handler (in WAL mode they wait only in rare cases).
      sql.q(`PRAGMA busy_timeout = ${this.#busyTimeoutMs}`).run();
    }
  }

  #flush(): void {
    this.#scheduled = false;
    const batch = this.#queue;
    this.#queue = [];
    if (batch.length === 0) return;
    const sql = this.#sql;
    let woke = false;
    let evented = false;
    let wakeCounter: number | undefined;
    const results: Array<{ ok: boolean; value: unknown }> = [];
    try {
      this.#begin();
      sql.begin();
    } catch (error) {
      const failure = classify(this.#path, error);
      for (const pending of batch) pending.reject(failure);
      return;
    }
    try {
      const tx: Tx = {
        sql,
        now: Date.now(),
        wake: () => {
          woke = true;
        },
        evented: () => {
          evented = true;
        },
      };
      for (const pending of batch) {
        sql.q("SAVEPOINT op").run();
        const counters = sql.snapshot();
        try {
          results.push({ ok: true, value: pending.op(tx) });
          sql.q("RELEASE op").run();
        } catch (error) {
          sql.q("ROLLBACK TO op").run();
          sql.q("RELEASE op").run();
          sql.restore(counters);
          results.push({ ok: false, value: error });
        }
      }
      // Other processes notice the wake-up on their poll (see `ChangeWatcher`).
      if (woke) wakeCounter = sql.add("wake", 1);
      sql.writeCounters();
      if (evented)
        sql
          .q("DELETE FROM events WHERE pos <= (SELECT max(pos) FROM events) - ?")
          .run(this.#eventsMaxLen);
      sql.q("COMMIT").run();
      sql.end();
    } catch (error) {
      sql.end();
      if (this.#sql.db.inTransaction) sql.q("ROLLBACK").run();
      const failure = classify(this.#path, error);
      for (const pending of batch) pending.reject(failure);
      return;
    }
    this.commits++;
    this.operations += batch.length;
    batch.forEach((pending, i) => {
      const result = results[i] as { ok: boolean; value: unknown };
      if (result.ok) pending.resolve(result.value);
      else pending.reject(result.value);
    });
    if (woke || evented) this.#listener.committed(woke, evented, wakeCounter);
  }
}
