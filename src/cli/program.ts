/**
 * The `taskmill` command tree and the mapping of every outcome to an exit code. Kept apart
 * from `main.ts` so tests can build and run the program without spawning a process.
 */
import { readFileSync } from "node:fs";
import { Command, CommanderError, Option } from "commander";
import { registerAuditCommands } from "./commands/audit.js";
import { registerDlqCommands } from "./commands/dlq.js";
import { registerFlowCommands } from "./commands/flows.js";
import { registerMigrateCommand } from "./commands/migrate.js";
import { registerQueueCommands } from "./commands/queues.js";
import { registerScheduleCommands } from "./commands/schedules.js";
import { registerTailCommand } from "./commands/tail.js";
import { registerTaskCommands } from "./commands/tasks.js";
import { registerWorkersCommand } from "./commands/workers.js";
import { DEFAULT_TIMEOUT_MS, DEFAULT_URL, examples, type Io, intIn } from "./context.js";
import { ApiError, CliError, ExitCode } from "./errors.js";
import { formatApiError } from "./format.js";

/** Exit code of an unexpected error (a bug): EX_SOFTWARE from sysexits.h. */
export const INTERNAL_ERROR_EXIT_CODE = 70;

/** Builds the command tree; output goes to `io`, and nothing calls `process.exit`. */
export function createProgram(io: Io): Command {
  const program = new Command("taskmill")
    .description("Operate a taskmill deployment through its admin HTTP API")
    .version(version(), "-V, --version")
    .addOption(
      new Option("--url <url>", "admin API base URL").env("TASKMILL_URL").default(DEFAULT_URL),
    )
    .addOption(
      new Option(
        "--token <token>",
        "bearer token (prefer the env var: a flag shows in the process list)",
      ).env("TASKMILL_TOKEN"),
    )
    .option("--json", "print JSON (NDJSON for tail) instead of tables")
    .addOption(
      new Option("--timeout-ms <ms>", "per-request timeout")
        .env("TASKMILL_TIMEOUT_MS")
        .default(DEFAULT_TIMEOUT_MS)
        .argParser(intIn(1)),
    )
    // Every subcommand inherits these: commander must throw instead of exiting, so the exit
    // code mapping below stays the only one.
    .exitOverride()
    .configureOutput({
      writeOut: (text) => void io.stdout.write(text),
      writeErr: (text) => void io.stderr.write(text),
    })
    .showHelpAfterError("(add --help for usage)")
    .addHelpText(
      "after",
      `${examples([
        "export TASKMILL_URL=http://127.0.0.1:8080 TASKMILL_TOKEN=...",
        `taskmill submit email.send '{"to":"ada@example.com"}'`,
        "taskmill list --status failed",
        "taskmill dlq replay --name email.send --apply",
        "taskmill tail --json",
        "taskmill migrate --database-url postgres://owner@db/app",
      ])}
Exit codes: 0 ok, 1 the server refused the request, 2 usage error (nothing sent),
3 the server could not be reached, 4 \`audit verify\` found the trail broken.
`,
    );
  registerTaskCommands(program, io);
  registerQueueCommands(program, io);
  registerFlowCommands(program, io);
  registerDlqCommands(program, io);
  registerTailCommand(program, io);
  registerMigrateCommand(program, io);
  registerWorkersCommand(program, io);
  registerScheduleCommands(program, io);
  registerAuditCommands(program, io);
  return program;
}

/** Runs the CLI with `argv` (as in `process.argv`) and resolves with the exit code. */
export async function runCli(argv: readonly string[], io: Io): Promise<number> {
  const program = createProgram(io);
  try {
    await program.parseAsync([...argv]);
    return ExitCode.ok;
  } catch (error) {
    return exitCodeFor(error, io);
  }
}

function exitCodeFor(error: unknown, io: Io): number {
  if (error instanceof CommanderError)
    // Commander already printed its message (or the help/version text).
    return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
  if (error instanceof ApiError) {
    io.stderr.write(`${formatApiError(error)}\n`);
    return error.exitCode;
  }
  if (error instanceof CliError) {
    io.stderr.write(`error: ${error.message}\n`);
    if (error.exitCode === ExitCode.usage) io.stderr.write("(add --help for usage)\n");
    return error.exitCode;
  }
  io.stderr.write(
    `taskmill: internal error, please report it:\n${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  return INTERNAL_ERROR_EXIT_CODE;
}

/** The package's version: src/cli and dist/cli both sit two levels below package.json. */
function version(): string {
  try {
    const text = readFileSync(new URL("../../package.json", import.meta.url), "utf8");
    const { version } = JSON.parse(text) as { version?: unknown };
    return typeof version === "string" ? version : "unknown";
  } catch {
    return "unknown";
  }
}
