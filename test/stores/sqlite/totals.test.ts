/**
 * SQLite store totals (schema version 5): a version-4 file is migrated when opened, its totals
 * started from the outcomes it holds, and two managers on one file read the same figures.
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
function manager(path: string): TaskManager {
  const mill = new TaskManager({ retry: { maxRetries: 0 }, backend: { type: "sqlite", path } });
  mills.push(mill);
  return mill;
}

describe("SQLite store totals", () => {
  it("a version-4 file is migrated on open: totals start from the outcomes it holds", async () => {
    const path = sqlite.newPath();
    const first = manager(path);
    first.register("ok", () => "ok");
    first.register("bad", () => {
      throw new Error("bad");
    });
    for (const name of ["ok", "ok", "bad"])
      await (await first.submit(name)).result().catch(() => {});
    await first.stopGraceful();
    // Back to version 4, as an older taskmill wrote it.
    const raw = new Database(path);
    raw.exec("DELETE FROM meta WHERE key LIKE 'total_%'");
    raw.pragma("user_version = 4");
    raw.close();

    openDatabase(Database, { path, busyTimeoutMs: 1_000 }).close();
    const db = new Database(path, { readonly: true });
    expect(db.pragma("user_version", { simple: true })).toBe(SCHEMA_VERSION);
    const meta = db.prepare("SELECT key, value FROM meta WHERE key LIKE 'total_%' ORDER BY key");
    expect(meta.all()).toEqual([
      { key: "total_cancelled", value: 0 },
      { key: "total_expired", value: 0 },
      { key: "total_failed", value: 1 },
      { key: "total_queued", value: 0 },
      { key: "total_retrying", value: 0 },
      { key: "total_succeeded", value: 2 },
    ]);
    expect(db.prepare("SELECT value FROM meta WHERE key = 'schema'").pluck().get()).toBe(
      SCHEMA_VERSION,
    );
    db.close();

    const again = manager(path);
    again.register("ok", () => "ok");
    await (await again.submit("ok")).result();
    const reader = manager(path);
    await expect(reader.sharedStats()).resolves.toMatchObject({ succeeded: 3, failed: 1 });
    await expect(again.sharedStats()).resolves.toMatchObject({ succeeded: 3, failed: 1 });
  });
});
