/**
 * Flows in the Postgres store: every status a flow writes (its trigger's cascade included) is
 * an edge of the transition table, recorded by a trigger on the real table, and a claimed node
 * carries its dependencies' outcomes.
 */
import { describe, expect, it } from "vitest";
import { ALLOWED_TRANSITIONS, type TaskStatus } from "../../../src/lifecycle/states.js";
import { checkFlowRetention, FLOW_MOVES, runFlowWorkload } from "../flow-workload.js";
import { usePostgres } from "./fixture.js";

const pgf = usePostgres();

describe("Postgres store: flows", () => {
  it("releases and cancels dependents in the transaction that ends a node, along allowed edges only", async () => {
    const store = await pgf.store();
    const { s } = store.names;
    const pool = pgf.pool();
    await pool.query(`CREATE TABLE ${s}.edges (old text, new text)`);
    await pool.query(`CREATE FUNCTION ${s}.record_edge() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF OLD.status IS DISTINCT FROM NEW.status THEN
          INSERT INTO ${s}.edges VALUES (OLD.status, NEW.status);
        END IF;
        RETURN NEW;
      END $$`);
    await pool.query(`CREATE TRIGGER edges AFTER UPDATE ON ${s}.tasks
      FOR EACH ROW EXECUTE FUNCTION ${s}.record_edge()`);
    await runFlowWorkload(store);
    const { rows } = await pool.query(`SELECT old, new FROM ${s}.edges`);
    for (const row of rows)
      expect(ALLOWED_TRANSITIONS[row.old as TaskStatus], `${row.old} -> ${row.new}`).toContain(
        row.new,
      );
    const seen = new Set(rows.map((row) => `${row.old} -> ${row.new}`));
    for (const move of FLOW_MOVES) expect(seen.has(move), move).toBe(true);
  });

  it("deletes a flow's rows retention.ttlMs after it ended", async () => {
    await checkFlowRetention(await pgf.store({ retention: { ttlMs: 1 } }));
  });
});
