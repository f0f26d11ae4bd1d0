/**
 * Postgres store totals (migration 5): a schema at version 4 with history is migrated, its
 * totals started from the outcomes it holds, and counted from then on by the trigger on
 * `events`, the same from every manager on the schema.
 */
import pg from "pg";
import { describe, expect, it } from "vitest";
import { MIGRATIONS, migrate, SCHEMA_VERSION } from "../../../src/stores/postgres/migrations.js";
import { schemaNames } from "../../../src/stores/postgres/sql/names.js";
import { usePostgres } from "./fixture.js";

const pgf = usePostgres();

describe("Postgres store totals", () => {
  it("migration 5 on a version-4 schema with history: totals start from its outcomes, then count", async () => {
    const schema = pgf.schema();
    const names = schemaNames(schema);
    const first = pgf.manager({ retry: { maxRetries: 0 }, backend: pgf.backend(schema) });
    first.register("ok", () => "ok");
    first.register("bad", () => {
      throw new Error("bad");
    });
    for (const name of ["ok", "ok", "bad"])
      await (await first.submit(name)).result().catch(() => {});
    await first.stopGraceful();

    const client = new pg.Client(pgf.server().url);
    await client.connect();
    try {
      // Back to version 4, as an older taskmill left it.
      await client.query(`DROP TRIGGER events_totals ON ${names.s}.events`);
      await client.query(`DROP FUNCTION ${names.s}.count_events()`);
      await client.query(`DROP TABLE ${names.s}.totals`);
      await client.query(`DELETE FROM ${names.s}.migrations WHERE version >= 5`);
      const result = await migrate(client, names);
      expect(result).toMatchObject({ from: 4, to: SCHEMA_VERSION, applied: [5] });
      expect(MIGRATIONS[4]?.name).toContain("totals");
    } finally {
      await client.end();
    }
    const again = pgf.manager({ retry: { maxRetries: 0 }, backend: pgf.backend(schema) });
    again.register("ok", () => "ok");
    await (await again.submit("ok")).result();
    const reader = pgf.manager({ backend: pgf.backend(schema) });
    await expect(reader.sharedStats()).resolves.toMatchObject({ succeeded: 3, failed: 1 });
    await expect(again.sharedStats()).resolves.toMatchObject({ succeeded: 3, failed: 1 });
  });
});
