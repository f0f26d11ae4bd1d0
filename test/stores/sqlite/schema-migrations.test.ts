/**
 * Schema migrations of the SQLite store: a version-1 file (as the first release wrote it) is
 * migrated to the current version when opened, its tasks kept, and what the later versions
 * added (the audit trail, the worker registry, ...) then works.
 */
import Database from "better-sqlite3";
import { TaskManager } from "taskmill";
import { afterEach, describe, expect, it } from "vitest";
import { openDatabase, SCHEMA_V1, SCHEMA_VERSION } from "../../../src/stores/sqlite/schema.js";
import { useSqlite } from "./fixture.js";

const sqlite = useSqlite();
const mills: TaskManager[] = [];
afterEach(async () => {
  await Promise.all(mills.splice(0).map((mill) => mill.stopNow()));
});

describe("SQLite store: schema migrations", () => {
  it("migrates a version-1 file: its tasks stay, the audit trail starts at seq 1", async () => {
    const path = sqlite.newPath();
    const first = new TaskManager({ backend: { type: "sqlite", path } });
    mills.push(first);
    const kept = await first.submit("job", { n: 1 });
    await first.stopNow();
    // Roll the file back to what version 1 had: drop the tables and meta rows it did not have.
    const v1 = new Database(":memory:");
    v1.exec(SCHEMA_V1);
    const v1Tables = new Set(
      v1.prepare("SELECT name FROM sqlite_schema WHERE type = 'table'").pluck().all(),
    );
    const v1Meta = new Set(v1.prepare("SELECT key FROM meta").pluck().all());
    const raw = new Database(path);
    const tables = raw.prepare("SELECT name FROM sqlite_schema WHERE type = 'table'").pluck().all();
    const added = tables.filter((name) => !v1Tables.has(name));
    expect(added).toContain("audit");
    for (const name of added) raw.exec(`DROP TABLE "${String(name)}"`);
    const columns = (db: Database.Database, table: unknown) =>
      db
        .prepare(`SELECT name FROM pragma_table_info('${String(table)}')`)
        .pluck()
        .all();
    const v1Columns = new Map([...v1Tables].map((table) => [table, new Set(columns(v1, table))]));
    for (const table of v1Tables)
      for (const column of columns(raw, table))
        if (!v1Columns.get(table)?.has(column))
          raw.exec(`ALTER TABLE "${String(table)}" DROP COLUMN "${String(column)}"`);
    const drop = raw.prepare("DELETE FROM meta WHERE key = ?");
    for (const key of raw.prepare("SELECT key FROM meta").pluck().all())
      if (!v1Meta.has(key)) drop.run(key);
    raw.pragma("user_version = 1");
    raw.close();
    v1.close();

    openDatabase(Database, { path, busyTimeoutMs: 100 }).close();
    const check = new Database(path, { readonly: true });
    expect(check.pragma("user_version", { simple: true })).toBe(SCHEMA_VERSION);
    expect(check.prepare("SELECT count(*) FROM audit").pluck().get()).toBe(0);
    check.close();

    const mill = new TaskManager({ backend: { type: "sqlite", path } });
    mills.push(mill);
    expect((await mill.get(kept.id))?.name).toBe("job");
    const record = await mill.audit.record({
      method: "POST",
      route: "/v1/queues/:name/pause",
      dryRun: false,
      outcome: "applied",
      status: 200,
      requestId: "r1",
    });
    expect(record.seq).toBe(1);
    expect(await mill.audit.verify()).toMatchObject({ ok: true, records: 1 });
  });
});
