/**
 * The file system and other processes in the way: a directory the process may not write to
 * (when the tests run as root, the submit runs without the capabilities that let root ignore
 * file permissions: still root, so it reads the checkout wherever it lives, but a 0555
 * directory and a 0444 file are as closed to it as to anyone), and
 * a write lock held by another connection for longer than `busyTimeoutMs`. Both give a clear
 * `BackendUnavailableError` and lose nothing: the tasks already stored are still there.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { BackendUnavailableError } from "taskmill";
import { afterEach, describe, expect, it } from "vitest";
import { useSqlite } from "./fixture.js";

const sqlite = useSqlite();
const SCRIPT = fileURLToPath(new URL("../../support/sqlite-submit-once.mjs", import.meta.url));
const DIST = fileURLToPath(new URL("../../../dist/index.js", import.meta.url));
const cleanups: Array<() => void> = [];

afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

/**
 * Runs the submit script so that a 0555 directory is closed to it. As root: with every
 * capability dropped (no CAP_DAC_OVERRIDE), not as another user, who might not be able to
 * read a checkout under a private directory (mktemp -d, a home directory).
 */
function submitAsUnprivileged(path: string): Record<string, unknown> {
  const root = process.getuid?.() === 0;
  const [command, args] = root
    ? ["setpriv", ["--bounding-set=-all", "--inh-caps=-all", process.execPath, SCRIPT, path]]
    : [process.execPath, [SCRIPT, path]];
  const out = execFileSync(command as string, args as string[], {
    encoding: "utf8",
    timeout: 20_000,
  });
  return JSON.parse(out.trim().split("\n").at(-1) as string) as Record<string, unknown>;
}

/** A directory of the test's own, made read-only by the caller. */
function readOnlyDir(name: string): string {
  const dir = join(sqlite.dir(), name);
  mkdirSync(dir);
  return dir;
}

describe("SQLite store: permissions and locks", () => {
  it("a new file in a read-only directory: BackendUnavailableError naming the file", () => {
    expect(DIST).toBeTruthy();
    const dir = readOnlyDir("ro-new");
    chmodSync(dir, 0o555);
    cleanups.push(() => chmodSync(dir, 0o755));
    const outcome = submitAsUnprivileged(join(dir, "tasks.db"));
    expect(outcome).toMatchObject({ ok: false, name: "BackendUnavailableError" });
    expect(outcome.message).toMatch(/tasks\.db: cannot open the database for writing/);
  });

  it("an existing database in a read-only directory: refused clearly, its tasks kept", async () => {
    const dir = readOnlyDir("ro-existing");
    const path = join(dir, "tasks.db");
    const store = sqlite.open(path);
    await store.enqueue({ name: "job", id: "kept-1" });
    store.close();
    chmodSync(path, 0o444);
    chmodSync(dir, 0o555);
    cleanups.push(() => chmodSync(dir, 0o755));
    const outcome = submitAsUnprivileged(path);
    expect(outcome).toMatchObject({ ok: false, name: "BackendUnavailableError" });
    chmodSync(dir, 0o755);
    chmodSync(path, 0o644);
    const check = new Database(path, { readonly: true });
    expect(check.prepare("SELECT id, status FROM tasks").all()).toEqual([
      { id: "kept-1", status: "queued" },
    ]);
    check.close();
  });

  it("a write lock held longer than busyTimeoutMs: the submit rejects, nothing half-written", async () => {
    const path = sqlite.newPath("locked");
    const store = sqlite.open(path, { busyTimeoutMs: 50 });
    await store.enqueue({ name: "job", id: "before" });
    // Another connection (as another process would) holds the write lock.
    const other = new Database(path);
    other.exec("BEGIN IMMEDIATE");
    cleanups.push(() => {
      if (other.inTransaction) other.exec("ROLLBACK");
      other.close();
    });
    const error = await store.enqueue({ name: "job", id: "during" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BackendUnavailableError);
    expect((error as Error).message).toMatch(
      /locked by another connection longer than backend.busyTimeoutMs/,
    );
    other.exec("ROLLBACK");
    // The lock is gone: the same submit goes through; the refused one left nothing behind.
    expect(await store.get("during")).toBeUndefined();
    await store.enqueue({ name: "job", id: "after" });
    expect((await store.list()).tasks.map((task) => task.id).sort()).toEqual(["after", "before"]);
  });
});
