/**
 * SQLite store tests' fixture: a temporary directory per test file, a fresh database file per
 * call of `open()`, and every store opened here closed after each test. Real files, real
 * better-sqlite3: nothing is mocked.
 */
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, afterEach, beforeAll } from "vitest";
import type { SqliteStoreOptions } from "../../../src/stores/sqlite/options.js";
import { openDatabase } from "../../../src/stores/sqlite/schema.js";
import { SqliteStore } from "../../../src/stores/sqlite/sqlite-store.js";

export interface SqliteFixture {
  /** The temporary directory of this test file. */
  dir(): string;
  /** A path for a new database file in it. */
  newPath(name?: string): string;
  /** Opens (creating) the database at `path` (default: a new file) as a store. */
  open(path?: string, options?: SqliteStoreOptions & { busyTimeoutMs?: number }): SqliteStore;
}

export function useSqlite(): SqliteFixture {
  let dir: string | undefined;
  const open: SqliteStore[] = [];
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "taskmill-sqlite-"));
  });
  afterEach(() => {
    for (const store of open.splice(0)) store.close();
  });
  afterAll(() => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });
  const fixture: SqliteFixture = {
    dir: () => {
      if (dir === undefined) throw new Error("the fixture's directory is not made yet");
      return dir;
    },
    newPath: (name = randomUUID().slice(0, 8)) => join(fixture.dir(), `${name}.db`),
    open: (path = fixture.newPath(), options = {}) => {
      const db = openDatabase(Database, { path, busyTimeoutMs: options.busyTimeoutMs ?? 2_000 });
      const store = new SqliteStore(db, { path, ...options });
      open.push(store);
      return store;
    },
  };
  return fixture;
}
