/**
 * Versioned schema migrations, run at start (or by `taskmill migrate`). All of them run in
 * one transaction that first takes a transaction-scoped advisory lock keyed by the schema:
 * when many processes start at once, one migrates and the others wait for it, then find
 * nothing left to do. A migration is never edited once released; changes come as new ones.
 */
import { BackendUnavailableError } from "../../errors.js";
import { auditV3 } from "./sql/audit-v3.js";
import { fleetV2 } from "./sql/fleet-v2.js";
import { flowsV4 } from "./sql/flows-v4.js";
import { functionsV1 } from "./sql/functions-v1.js";
import { ADVISORY_MIGRATE, type SchemaNames } from "./sql/names.js";
import { schemaV1 } from "./sql/schema-v1.js";
import { totalsV5 } from "./sql/totals-v5.js";

/** One migration: its version (1, 2, ...), a name, and its SQL for a schema. */
export interface Migration {
  readonly version: number;
  readonly name: string;
  sql(names: SchemaNames): string;
}

/** Every migration, in order. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "tasks, events, leaders, rate; functions",
    sql: (names) => schemaV1(names) + functionsV1(names),
  },
  { version: 2, name: "fleet: paused queues, workers, schedules", sql: fleetV2 },
  { version: 3, name: "audit trail", sql: auditV3 },
  { version: 4, name: "flows", sql: flowsV4 },
  { version: 5, name: "store totals (stats-totals)", sql: totalsV5 },
];

/** The schema version this code needs. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/** What `pg` gives us to run statements: a client holding one connection. */
export interface SqlClient {
  query(text: string, values?: unknown[]): Promise<{ rows: Array<Record<string, unknown>> }>;
}

/** What a migration run did. */
export interface MigrateResult {
  readonly from: number;
  readonly to: number;
  readonly applied: readonly number[];
}

/**
 * Brings the schema up to {@link SCHEMA_VERSION} on `client` (one connection, not a pool:
 * the statements must share a transaction). Safe to run from many processes at once.
 */
export async function migrate(client: SqlClient, names: SchemaNames): Promise<MigrateResult> {
  const { s, schema } = names;
  await client.query("BEGIN");
  try {
    await client.query("SELECT pg_advisory_xact_lock($1, hashtext($2))", [
      ADVISORY_MIGRATE,
      schema,
    ]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${s}.migrations (version integer PRIMARY KEY, name text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    const from = await currentVersion(client, names);
    const applied: number[] = [];
    for (const migration of MIGRATIONS) {
      if (migration.version <= from) continue;
      await client.query(migration.sql(names));
      await client.query(`INSERT INTO ${s}.migrations (version, name) VALUES ($1, $2)`, [
        migration.version,
        migration.name,
      ]);
      applied.push(migration.version);
    }
    await client.query("COMMIT");
    return { from, to: Math.max(from, SCHEMA_VERSION), applied };
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  }
}

/** The schema's version (0 when taskmill's tables are not there). */
export async function currentVersion(
  client: SqlClient,
  { s, schema }: SchemaNames,
): Promise<number> {
  const exists = await client.query("SELECT to_regclass($1) AS t", [`${schema}.migrations`]);
  if (exists.rows[0]?.t === null) return 0;
  const { rows } = await client.query(`SELECT coalesce(max(version), 0) AS v FROM ${s}.migrations`);
  return Number(rows[0]?.v ?? 0);
}

/**
 * For `backend.migrate: false`: refuses to start on a schema older (or newer) than this code,
 * naming the command that fixes it.
 */
export async function requireCurrent(client: SqlClient, names: SchemaNames): Promise<void> {
  const version = await currentVersion(client, names);
  if (version !== SCHEMA_VERSION)
    throw new BackendUnavailableError(
      `schema "${names.schema}" is at version ${version}, this taskmill needs ${SCHEMA_VERSION}: run \`taskmill migrate --url <url> --schema ${names.schema}\` as its owner`,
    );
}
