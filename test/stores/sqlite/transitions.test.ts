/**
 * Every status the SQLite store writes is an edge of the lifecycle's transition table
 * (`ALLOWED_TRANSITIONS`, plus the DLQ replay's failed -> queued, see `reopenFailed`). A
 * trigger on the real `tasks` table records every status change while a workload exercises
 * every write: enqueue (ready and delayed), promote, claim, ack, nack, fail, poison, reclaim,
 * expire, cancel (waiting and running), replay.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ALLOWED_TRANSITIONS, type TaskStatus } from "../../../src/lifecycle/states.js";
import type { SqliteStore } from "../../../src/stores/sqlite/sqlite-store.js";
import { useSqlite } from "./fixture.js";

const sqlite = useSqlite();
const LEASE = 1_000;

beforeEach(() => {
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(1_800_000_000_000);
});
afterEach(() => {
  vi.useRealTimers();
});

function record(store: SqliteStore): () => Array<[string, string]> {
  const db = store.sql.db;
  db.exec(`
    CREATE TEMP TABLE moves (old TEXT, new TEXT);
    CREATE TEMP TRIGGER status_moves AFTER UPDATE OF status ON main.tasks
      WHEN old.status IS NOT new.status
      BEGIN INSERT INTO moves VALUES (old.status, new.status); END;`);
  return () => db.prepare("SELECT old, new FROM moves").raw().all() as Array<[string, string]>;
}

async function claim(store: SqliteStore, n = 1) {
  return (await store.step([], ["default"], n)).tasks;
}

describe("SQLite store: status writes", () => {
  it("every status change is an allowed edge, and the workload made every kind", async () => {
    const store = sqlite.open(undefined, { leaseMs: LEASE, maxDeliveries: 1 });
    const moves = record(store);
    const advance = (ms: number) => vi.setSystemTime(Date.now() + ms);

    await store.enqueue({ name: "job", id: "ack" });
    let [t] = await claim(store);
    await store.ack("ack", t?.token as string, 1);

    await store.enqueue({ name: "job", id: "nack" });
    [t] = await claim(store);
    await store.nack("nack", t?.token as string, { delayMs: 10 }, new Error("again"));
    advance(11);
    [t] = await claim(store);
    await store.fail("nack", t?.token as string, new Error("for good"));
    await store.dlq.replay({ ids: ["nack"] });

    await store.enqueue({ name: "job", id: "delayed", delayMs: 50 });
    advance(51);
    [t] = await claim(store, 2);
    await store.cancel("delayed");

    await store.enqueue({ name: "job", id: "lapse" });
    await claim(store);
    advance(LEASE + 1);
    await store.reclaim(); // maxDeliveries 1: straight to the DLQ as poison

    await store.enqueue({ name: "job", id: "retry-lapse" });
    [t] = await claim(store);
    await store.nack("retry-lapse", t?.token as string, { delayMs: 0 }, new Error("x"));
    await claim(store);
    advance(LEASE + 1);
    await store.reclaim();

    await store.enqueue({ name: "job", id: "ttl", ttlMs: 5 });
    await store.enqueue({ name: "job", id: "waiting" });
    await store.enqueue({ name: "job", id: "scheduled", delayMs: 10_000 });
    await store.cancel("waiting");
    await store.cancel("scheduled");
    advance(6);
    await claim(store, 5);

    const seen = moves();
    for (const [from, to] of seen) {
      const allowed =
        ALLOWED_TRANSITIONS[from as TaskStatus]?.includes(to as TaskStatus) ||
        (from === "failed" && to === "queued");
      expect(allowed, `${from} -> ${to}`).toBe(true);
    }
    const kinds = new Set(seen.map(([from, to]) => `${from}->${to}`));
    for (const edge of [
      "queued->running",
      "running->succeeded",
      "running->retrying",
      "retrying->running",
      "running->failed",
      "failed->queued",
      "scheduled->queued",
      "running->cancelled",
      "queued->cancelled",
      "scheduled->cancelled",
      "queued->expired",
    ])
      expect(kinds, edge).toContain(edge);
  });
});
