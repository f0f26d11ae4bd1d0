/**
 * Schema version 2 of the SQLite store (the audit trail): a version-1 file (as the previous
 * release wrote it) is migrated when opened, its tasks kept, and its audit trail then works.
 */
import Database from "better-sqlite3";
import { TaskManager } from "taskmill";
import { afterEach, describe, expect, it } from "vitest";
import { openDatabase, SCHEMA_VERSION } from "../../../src/stores/sqlite/schema.js";
import { useSqlite } from "./fixture.js";

const sqlite = useSqlite();
const mills: TaskManager[] = [];
afterEach(async () => {
  await Promise.all(mills.splice(0).map((mill) => mill.stopNow()));
});

describe("SQLite store: schema version 2 (audit trail)", () => {
  it("migrates a version-1 file: its tasks stay, the audit trail starts at seq 1", async () => {
    const path = sqlite.newPath();
    const first = new TaskManager({ backend: { type: "sqlite", path } });
    mills.push(first);
    const kept = await first.submit("job", { n: 1 });
    await first.stopNow();
    // Roll the file back to what version 1 had.
    const raw = new Database(path);
    raw.exec("DROP TABLE audit; DELETE FROM meta WHERE key LIKE 'audit%'");
    raw.pragma("user_version = 1");
    raw.close();

    openDatabase(Database, { path, busyTimeoutMs: 100 }).close();
    const check = new Database(path, { readonly: true });
    expect(SCHEMA_VERSION).toBe(2);
    expect(check.pragma("user_version", { simple: true })).toBe(2);
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
