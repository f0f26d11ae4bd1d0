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
import { importPeer } from "../peer.js";
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
  return new SqliteConnection(
    new SqliteStore(db, sqliteStoreOptions(backend, options)),
    backend.path,
  );
}

/**
 * `better-sqlite3`'s constructor, or `MissingPeerError` when the package is not installed
 * (version 12: 13 needs Node.js 22 and crashes on 20).
 */
export async function loadDriver(): Promise<typeof BetterSqlite3> {
  const driver = await importPeer<{ default: typeof BetterSqlite3 }>(
    "better-sqlite3",
    "sqlite",
    "better-sqlite3@12",
  );
  return driver.default;
}

class SqliteConnection implements StoreConnection {
  readonly store: SqliteStore;
  readonly target: string;
  #closed = false;

  constructor(store: SqliteStore, path: string) {
    this.store = store;
    this.target = path;
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
