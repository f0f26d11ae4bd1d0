/**
 * The SQLite side of connecting: loads `better-sqlite3` on first use (an optional peer
 * dependency: memory- and Redis-mode users never need it), opens and checks the file, and
 * wraps the store in the connection the engine holds. There is no network: the "connection"
 * is the open file, connected from the start and closed by `close()`.
 */
import type BetterSqlite3 from "better-sqlite3";
import { BackendUnavailableError } from "../../errors.js";
import type { Logger } from "../../observability/logger.js";
import type { ResolvedOptions } from "../../options.js";
import type { StoreConnection } from "../durable-store.js";
import type { ResolvedSqliteBackend } from "./backend-options.js";
import { sqliteStoreOptions } from "./options.js";
import { openDatabase } from "./schema.js";
import { SqliteStore } from "./sqlite-store.js";

/** Opens the file and creates the store. Throws the typed error of a file it must refuse. */
export async function connectSqlite(
  backend: ResolvedSqliteBackend,
  options: ResolvedOptions,
  _logger: Logger,
): Promise<StoreConnection> {
  const db = openDatabase(await loadDriver(), backend);
  return new SqliteConnection(new SqliteStore(db, sqliteStoreOptions(backend, options)));
}

/** `better-sqlite3`'s constructor, or a clear error when the package is not installed. */
export async function loadDriver(): Promise<typeof BetterSqlite3> {
  try {
    return (await import("better-sqlite3")).default;
  } catch (error) {
    throw new BackendUnavailableError(
      'the sqlite backend needs the "better-sqlite3" package (npm install better-sqlite3@12)',
      { cause: error },
    );
  }
}

class SqliteConnection implements StoreConnection {
  readonly store: SqliteStore;
  #closed = false;

  constructor(store: SqliteStore) {
    this.store = store;
  }

  get status(): StoreConnection["status"] {
    return this.#closed ? "closed" : "connected";
  }

  async ping(): Promise<void> {
    if (this.#closed) throw new BackendUnavailableError("the SQLite store is closed");
    this.store.sql.q("SELECT 1").get();
  }

  /** A lock held too long, an I/O error or a closed store: the call may be retried. */
  isConnectionError(error: unknown): boolean {
    return (
      error instanceof BackendUnavailableError ||
      (error instanceof Error &&
        /SQLite store is closed|database connection is not open/.test(error.message))
    );
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.store.close();
  }

  destroy(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.store.close();
  }
}
