/**
 * Flows in the SQLite store: every status a flow writes is an edge of the transition table
 * (recorded by a trigger on the real table), a claimed node carries its dependencies'
 * outcomes, and a cascade of cancellations happens in the transaction that ended the node.
 */
import { describe, expect, it } from "vitest";
import { ALLOWED_TRANSITIONS, type TaskStatus } from "../../../src/lifecycle/states.js";
import { checkFlowRetention, FLOW_MOVES, runFlowWorkload } from "../flow-workload.js";
import { useSqlite } from "./fixture.js";

const sqlite = useSqlite();

describe("SQLite store: flows", () => {
  it("releases and cancels dependents in the step that ends a node, along allowed edges only", async () => {
    const store = sqlite.open();
    const db = store.sql.db;
    db.exec(`
      CREATE TEMP TABLE moves (old TEXT, new TEXT);
      CREATE TEMP TRIGGER status_moves AFTER UPDATE OF status ON main.tasks
        WHEN old.status IS NOT new.status
        BEGIN INSERT INTO moves VALUES (old.status, new.status); END;`);
    await runFlowWorkload(store);
    const moves = db.prepare("SELECT old, new FROM moves").raw().all() as Array<[string, string]>;
    for (const [from, to] of moves)
      expect(ALLOWED_TRANSITIONS[from as TaskStatus], `${from} -> ${to}`).toContain(to);
    const seen = new Set(moves.map(([from, to]) => `${from} -> ${to}`));
    for (const move of FLOW_MOVES) expect(seen.has(move), move).toBe(true);
  });

  it("deletes a flow's rows retention.ttlMs after it ended", async () => {
    await checkFlowRetention(sqlite.open(undefined, { retention: { ttlMs: 1 } }));
  });
});
