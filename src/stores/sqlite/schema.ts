/**
 * Opening the database file: the checks that refuse a file taskmill must not touch, the
 * pragmas every connection sets, and the versioned schema.
 *
 * A taskmill database carries `PRAGMA application_id` {@link APPLICATION_ID}, `PRAGMA
 * user_version` {@link SCHEMA_VERSION} and a `meta` row `format = taskmill`. A file that is not
 * SQLite, or a SQLite database of something else, is refused with `IncompatibleStoreError`
 * ("not-taskmill") before anything is written to it; a taskmill database of a newer schema with
 * "newer-schema". An empty or missing file gets the schema, in one transaction.
 *
 * Durability: WAL journal with `synchronous = FULL`, so a commit returns only after the WAL
 * is fsynced: a submit that resolved survives `kill -9` and a crash of the machine.
 */

import { closeSync, existsSync, openSync, readSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import type BetterSqlite3 from "better-sqlite3";
import { BackendUnavailableError, IncompatibleStoreError } from "../../errors.js";
import { AUDIT_SCHEMA } from "./schema-audit.js";
import { FLOWS_SCHEMA } from "./schema-flows.js";
import { migrateToTotals } from "./totals-schema.js";

export type Database = BetterSqlite3.Database;

/** "tm01": marks a SQLite file as taskmill's. */
export const APPLICATION_ID = 0x746d3031;
/** The schema this version writes and reads. Bump with a migration in {@link migrate}. */
export const SCHEMA_VERSION = 5;

const SQLITE_HEADER = "SQLite format 3\u0000";

export const SCHEMA_V1 = `
CREATE TABLE meta (key TEXT PRIMARY KEY, value) WITHOUT ROWID;
INSERT INTO meta (key, value) VALUES ('format', 'taskmill'), ('schema', 1), ('fence', 0),
  ('seq', 0), ('wake', 0), ('done_count', 0), ('dead_count', 0), ('rate_tokens', NULL),
  ('rate_ts', NULL);
CREATE TABLE tasks (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  queue TEXT NOT NULL,
  status TEXT NOT NULL,
  priority REAL NOT NULL,
  payload TEXT,
  attempts INTEGER NOT NULL DEFAULT 0,
  deliveries INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  run_at INTEGER,
  expires_at INTEGER,
  started_at INTEGER,
  finished_at INTEGER,
  token INTEGER,
  outcome TEXT,
  lease_until INTEGER,
  max_retries INTEGER,
  timeout_ms INTEGER,
  retry TEXT,
  meta TEXT,
  idem TEXT,
  fp TEXT,
  value TEXT,
  progress TEXT,
  error TEXT,
  pos INTEGER,
  ready INTEGER NOT NULL DEFAULT 0,
  due_at INTEGER,
  done_seq INTEGER,
  dead_seq INTEGER
);
CREATE INDEX tasks_ready ON tasks (queue, priority DESC, pos) WHERE ready = 1;
CREATE INDEX tasks_due ON tasks (due_at, id) WHERE due_at IS NOT NULL;
CREATE INDEX tasks_leases ON tasks (lease_until, id) WHERE lease_until IS NOT NULL;
CREATE INDEX tasks_done ON tasks (done_seq) WHERE done_seq IS NOT NULL;
CREATE INDEX tasks_dead ON tasks (dead_seq) WHERE dead_seq IS NOT NULL;
CREATE UNIQUE INDEX tasks_idem ON tasks (idem) WHERE idem IS NOT NULL;
CREATE TABLE queues (name TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE events (
  pos INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL,
  name TEXT NOT NULL,
  queue TEXT NOT NULL,
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  at INTEGER NOT NULL,
  created_at INTEGER,
  started_at INTEGER,
  finished_at INTEGER,
  run_at INTEGER,
  value TEXT,
  error TEXT,
  reason TEXT
);
CREATE TABLE leaders (name TEXT PRIMARY KEY, owner TEXT NOT NULL, expires_at INTEGER NOT NULL)
  WITHOUT ROWID;
`;

/**
 * Version 2 (fleet operations): the worker registry and the shared cron schedules. (Paused
 * queues need no table: they are `meta` rows `paused:<queue>`, see `pause.ts`.)
 */
const FLEET_SCHEMA = `
CREATE TABLE workers (id TEXT PRIMARY KEY, report TEXT NOT NULL, heartbeat_at INTEGER NOT NULL)
  WITHOUT ROWID;
CREATE TABLE schedules (id TEXT PRIMARY KEY, spec TEXT NOT NULL, paused INTEGER NOT NULL DEFAULT 0)
  WITHOUT ROWID;
`;

/** What each version adds to the one before (version 1 is {@link SCHEMA_V1}). */
const MIGRATIONS: Readonly<Record<number, (db: Database) => void>> = {
  2: (db) => db.exec(FLEET_SCHEMA),
  3: (db) => db.exec(AUDIT_SCHEMA),
  4: (db) => db.exec(FLOWS_SCHEMA),
  5: migrateToTotals,
};

/** Settings of {@link openDatabase}. */
export interface OpenSettings {
  readonly path: string;
  readonly busyTimeoutMs: number;
}

/**
 * Opens (creating if needed) the taskmill database at `path`, checked and ready. Throws
 * `IncompatibleStoreError` for a file taskmill must not touch and `BackendUnavailableError`
 * when it cannot be opened for writing (a read-only directory or file, a missing directory).
 */
export function openDatabase(Driver: typeof BetterSqlite3, settings: OpenSettings): Database {
  const path = resolve(settings.path);
  refuseForeignFile(path);
  let db: Database;
  try {
    db = new Driver(path, { timeout: settings.busyTimeoutMs });
  } catch (error) {
    throw unopenable(path, error);
  }
  try {
    checkAndMigrate(db, path);
    // Only now that the file is known to be ours: WAL (readers never block the writer, one
    // fsync per commit) with FULL sync (the commit is on disk before it returns).
    const mode = db.pragma("journal_mode = WAL", { simple: true });
    if (String(mode).toLowerCase() !== "wal")
      throw new BackendUnavailableError(
        `${path}: could not switch to WAL mode (got ${String(mode)}); is the file system local?`,
      );
    db.pragma("synchronous = FULL");
    return db;
  } catch (error) {
    db.close();
    if (error instanceof IncompatibleStoreError || error instanceof BackendUnavailableError)
      throw error;
    throw classify(path, error);
  }
}

/** A file that exists, is not empty and does not start with SQLite's header is not ours. */
function refuseForeignFile(path: string): void {
  if (!existsSync(path)) {
    const dir = dirname(path);
    if (!existsSync(dir))
      throw new BackendUnavailableError(`${path}: the directory ${dir} does not exist`);
    return;
  }
  if (statSync(path).size === 0) return;
  const header = Buffer.alloc(16);
  const fd = openSync(path, "r");
  try {
    readSync(fd, header, 0, 16, 0);
  } finally {
    closeSync(fd);
  }
  if (header.toString("latin1") !== SQLITE_HEADER)
    throw new IncompatibleStoreError(
      path,
      "not-taskmill",
      "is not a SQLite database (taskmill will not touch it; give backend.path a new file)",
    );
}

function checkAndMigrate(db: Database, path: string): void {
  const appId = Number(db.pragma("application_id", { simple: true }));
  const version = Number(db.pragma("user_version", { simple: true }));
  const tables = Number(
    db.prepare("SELECT count(*) FROM sqlite_schema WHERE type = 'table'").pluck().get(),
  );
  if (appId === 0 && tables === 0) {
    // A new (or empty) database: create the schema, unless another process just did.
    db.exec("BEGIN IMMEDIATE");
    try {
      if (Number(db.pragma("application_id", { simple: true })) === 0) {
        db.exec(SCHEMA_V1);
        for (let version = 2; version <= SCHEMA_VERSION; version++) MIGRATIONS[version]?.(db);
        db.pragma(`application_id = ${APPLICATION_ID}`);
        setVersion(db);
      }
      db.exec("COMMIT");
    } catch (error) {
      db.exec("ROLLBACK");
      throw error;
    }
    checkAndMigrate(db, path);
    return;
  }
  if (appId !== APPLICATION_ID)
    throw new IncompatibleStoreError(
      path,
      "not-taskmill",
      "is a SQLite database of another application (taskmill will not touch it; give backend.path a new file)",
    );
  if (version > SCHEMA_VERSION)
    throw new IncompatibleStoreError(
      path,
      "newer-schema",
      `was written by a newer taskmill (schema version ${version}; this version reads up to ${SCHEMA_VERSION}): upgrade taskmill, nothing was changed`,
    );
  const format = db.prepare("SELECT value FROM meta WHERE key = 'format'").pluck().get();
  if (format !== "taskmill")
    throw new IncompatibleStoreError(path, "not-taskmill", "has no taskmill meta table");
  migrate(db, version);
}

/**
 * Brings an older schema up to {@link SCHEMA_VERSION} in one transaction (another process may
 * be doing the same: the version is read again under the write lock).
 */
function migrate(db: Database, version: number): void {
  if (version === SCHEMA_VERSION) return;
  if (!Number.isInteger(version) || version < 1)
    throw new Error(`unknown taskmill schema version ${version}`);
  db.exec("BEGIN IMMEDIATE");
  try {
    const current = Number(db.pragma("user_version", { simple: true }));
    for (let next = current + 1; next <= SCHEMA_VERSION; next++) MIGRATIONS[next]?.(db);
    setVersion(db);
    db.exec("COMMIT");
  } catch (error) {
    db.exec("ROLLBACK");
    throw error;
  }
}

/** Marks the file as {@link SCHEMA_VERSION} (the pragma; the `meta` row for people reading it). */
function setVersion(db: Database): void {
  db.prepare("UPDATE meta SET value = ? WHERE key = 'schema'").run(SCHEMA_VERSION);
  db.pragma(`user_version = ${SCHEMA_VERSION}`);
}

function unopenable(path: string, error: unknown): Error {
  const message = error instanceof Error ? error.message : String(error);
  return new BackendUnavailableError(
    `${path}: cannot open the database for writing (${message}); the file and its directory must be writable`,
    { cause: error },
  );
}

/** SQLite's error codes as typed errors with the file named. */
export function classify(path: string, error: unknown): Error {
  const code = (error as { code?: unknown })?.code;
  const message = error instanceof Error ? error.message : String(error);
  if (code === "SQLITE_NOTADB")
    return new IncompatibleStoreError(path, "not-taskmill", "is not a SQLite database", {
      cause: error,
    });
  if (code === "SQLITE_BUSY" || code === "SQLITE_LOCKED")
    return new BackendUnavailableError(
      `${path}: the database stayed locked by another connection longer than backend.busyTimeoutMs; nothing was written`,
      { cause: error },
    );
  if (
    code === "SQLITE_READONLY" ||
    code === "SQLITE_CANTOPEN" ||
    (typeof code === "string" && code.startsWith("SQLITE_READONLY"))
  )
    return unopenable(path, error);
  if (typeof code === "string" && (code.startsWith("SQLITE_IOERR") || code === "SQLITE_FULL"))
    return new BackendUnavailableError(`${path}: ${message}; nothing was written`, {
      cause: error,
    });
  return error instanceof Error ? error : new Error(message);
}
