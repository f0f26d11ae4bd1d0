/**
 * `taskmill migrate`: brings a Postgres schema up to this version of taskmill, for teams whose
 * application user may not run DDL (`backend.migrate: false`). Talks to the database, not to
 * the admin API; `pg` is loaded only here.
 */
import { type Command, Option } from "commander";
import { examples, type Io } from "../context.js";
import { CliError, ExitCode } from "../errors.js";

/** Adds `migrate` to `program`. */
export function registerMigrateCommand(program: Command, io: Io): void {
  program
    .command("migrate")
    .description("Create or upgrade taskmill's Postgres schema (run as the schema's owner)")
    .addOption(
      new Option("--database-url <url>", "postgres:// connection string")
        .env("TASKMILL_DATABASE_URL")
        .makeOptionMandatory(),
    )
    .addOption(
      new Option("--schema <name>", "schema holding taskmill's tables").default("taskmill"),
    )
    .option("--status", "only print the schema's version and the version this taskmill needs")
    .addHelpText(
      "after",
      examples([
        "TASKMILL_DATABASE_URL=postgres://owner@db/app taskmill migrate",
        "taskmill migrate --database-url postgres://owner@db/app --schema jobs --status",
      ]),
    )
    .action(async (flags: { databaseUrl: string; schema: string; status?: boolean }) => {
      const { resolvePostgresBackend } = await import("../../stores/postgres/backend-options.js");
      try {
        resolvePostgresBackend(
          { type: "postgres", url: flags.databaseUrl, schema: flags.schema },
          { callTimeoutMs: 5_000, maxPendingCalls: 1 },
        );
      } catch (error) {
        throw new CliError(ExitCode.usage, (error as Error).message);
      }
      const { currentVersion, migrate, SCHEMA_VERSION } = await import(
        "../../stores/postgres/migrations.js"
      );
      const { schemaNames } = await import("../../stores/postgres/sql/names.js");
      const { default: pg } = await import("pg");
      const names = schemaNames(flags.schema);
      const client = new pg.Client({ connectionString: flags.databaseUrl });
      client.on("error", () => {});
      try {
        await client.connect();
      } catch (error) {
        throw new CliError(
          ExitCode.unreachable,
          `cannot reach the database: ${(error as Error).message}`,
        );
      }
      try {
        if (flags.status) {
          const version = await currentVersion(client, names);
          io.stdout.write(
            `schema ${flags.schema}: version ${version}, this taskmill needs ${SCHEMA_VERSION}\n`,
          );
          return;
        }
        const result = await migrate(client, names);
        io.stdout.write(
          result.applied.length === 0
            ? `schema ${flags.schema} is up to date (version ${result.to})\n`
            : `schema ${flags.schema}: version ${result.from} -> ${result.to} (applied ${result.applied.join(", ")})\n`,
        );
      } catch (error) {
        throw new CliError(ExitCode.refused, `migration failed: ${(error as Error).message}`);
      } finally {
        await client.end().catch(() => {});
      }
    });
}
