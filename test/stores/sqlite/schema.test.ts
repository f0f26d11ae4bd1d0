/**
 * Opening files the store must refuse, through the store and through a manager: a file that is
 * not SQLite, a SQLite database of another application, a taskmill database of a newer schema
 * version, a missing directory. Each gets its typed error and the file is left as it was.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { BackendUnavailableError, IncompatibleStoreError, TaskManager } from "taskmill";
import { afterEach, describe, expect, it } from "vitest";
import { APPLICATION_ID, openDatabase, SCHEMA_VERSION } from "../../../src/stores/sqlite/schema.js";
import { useSqlite } from "./fixture.js";

const sqlite = useSqlite();
const mills: TaskManager[] = [];

afterEach(async () => {
  await Promise.all(mills.splice(0).map((mill) => mill.stopNow()));
});

function open(path: string) {
  return openDatabase(Database, { path, busyTimeoutMs: 100 });
}

/** A manager on `path`; its store opens in the background, the first submit says why not. */
function manager(path: string): TaskManager {
  const mill = new TaskManager({ backend: { type: "sqlite", path, callTimeoutMs: 2_000 } });
  mills.push(mill);
  return mill;
}

describe("SQLite store: opening a file", () => {
  it("creates the schema in a new file, marked as taskmill's, at the current version", () => {
    const path = sqlite.newPath();
    open(path).close();
    const db = new Database(path, { readonly: true });
    expect(db.pragma("application_id", { simple: true })).toBe(APPLICATION_ID);
    expect(db.pragma("user_version", { simple: true })).toBe(SCHEMA_VERSION);
    expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
    db.close();
    // And opens it again as it is.
    const again = open(path);
    expect(again.pragma("synchronous", { simple: true })).toBe(2); // FULL
    again.close();
  });

  it("refuses a file that is not SQLite, and leaves it untouched", async () => {
    const path = join(sqlite.dir(), "notes.txt");
    writeFileSync(path, "these are my notes, not a database\n".repeat(20));
    const before = readFileSync(path);
    expect(() => open(path)).toThrow(IncompatibleStoreError);
    try {
      open(path);
    } catch (error) {
      expect(error).toMatchObject({ reason: "not-taskmill", code: "ERR_INCOMPATIBLE_STORE" });
      expect((error as Error).message).toContain("is not a SQLite database");
    }
    await expect(manager(path).submit("job", {})).rejects.toBeInstanceOf(IncompatibleStoreError);
    expect(readFileSync(path).equals(before)).toBe(true);
  });

  it("refuses a SQLite database of another application, and leaves it untouched", async () => {
    const path = sqlite.newPath("other-app");
    const other = new Database(path);
    other.exec("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)");
    other.prepare("INSERT INTO customers (name) VALUES (?)").run("Ada");
    other.close();
    const before = readFileSync(path);
    expect(() => open(path)).toThrow(/another application/);
    const error = await manager(path)
      .submit("job", {})
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IncompatibleStoreError);
    expect(error).toMatchObject({ reason: "not-taskmill" });
    expect(readFileSync(path).equals(before)).toBe(true);
    const check = new Database(path, { readonly: true });
    expect(check.pragma("journal_mode", { simple: true })).toBe("delete"); // not switched to WAL
    check.close();
  });

  it("refuses a taskmill database of a newer schema version, and changes nothing", async () => {
    const path = sqlite.newPath("newer");
    const store = sqlite.open(path);
    await store.enqueue({ name: "job", id: "kept" });
    store.close();
    const raw = new Database(path);
    raw.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    raw.close();
    expect(() => open(path)).toThrow(IncompatibleStoreError);
    const error = await manager(path)
      .submit("job", {})
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ reason: "newer-schema", code: "ERR_INCOMPATIBLE_STORE" });
    expect((error as Error).message).toContain(`schema version ${SCHEMA_VERSION + 1}`);
    const check = new Database(path, { readonly: true });
    expect(check.prepare("SELECT id FROM tasks").pluck().all()).toEqual(["kept"]);
    check.close();
  });

  it("a missing directory is a clear BackendUnavailableError", async () => {
    const path = join(sqlite.dir(), "no-such-dir", "tasks.db");
    expect(() => open(path)).toThrow(/does not exist/);
    await expect(manager(path).submit("job", {})).rejects.toBeInstanceOf(BackendUnavailableError);
  });

  it("refuses bad backend options in the constructor, before any file is opened", () => {
    expect(() => new TaskManager({ backend: { type: "sqlite", path: "" } })).toThrow(
      /backend.path/,
    );
    expect(() => new TaskManager({ backend: { type: "sqlite", path: ":memory:" } })).toThrow(
      /not durable/,
    );
    expect(
      () => new TaskManager({ backend: { type: "sqlite", path: sqlite.newPath(), leaseMs: 1 } }),
    ).toThrow(/backend.leaseMs/);
  });
});
