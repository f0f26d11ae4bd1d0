/** `dlq list`, `dlq replay` and `dlq purge`. Changing commands are dry runs unless --apply. */
import type { Command } from "commander";
import type { TaskSnapshot } from "../../types.js";
import type { AdminClient, DeadLetterResult, DeadLetterTarget } from "../client.js";
import { Context, commaList, examples, type Io, intIn, nonEmpty } from "../context.js";
import { UsageError } from "../errors.js";
import { formatOutcome, formatTaskTable } from "../format.js";

interface ListFlags {
  name?: string;
  limit?: number;
  cursor?: string;
  oldest?: boolean;
}

interface TargetFlags {
  ids?: string[];
  name?: string;
  apply?: boolean;
  resetAttempts?: boolean;
}

/** Adds `dlq` and its subcommands to `program`. */
export function registerDlqCommands(program: Command, io: Io): void {
  const dlq = program
    .command("dlq")
    .description("Inspect, replay or purge the dead-letter queue (tasks that failed for good)")
    .addHelpText(
      "after",
      examples(["taskmill dlq list", "taskmill dlq replay --name email.send --apply"]),
    );

  dlq
    .command("list")
    .description("List dead letters, newest failure first")
    .option("--name <name>", "only this task name", nonEmpty)
    .option("--limit <n>", "entries per page, 1 to 1000 (server default 50)", intIn(1, 1000))
    .option("--cursor <cursor>", "continue from a previous page's next cursor", nonEmpty)
    .option("--oldest", "oldest failure first (default: newest); give it again with --cursor")
    .addHelpText(
      "after",
      examples(["taskmill dlq list --name email.send", "taskmill dlq list --limit 100 --json"]),
    )
    .action(async (flags: ListFlags, cmd) => {
      const ctx = Context.of(cmd, io);
      const page = await ctx.client.listDeadLetters({
        name: flags.name,
        limit: flags.limit,
        cursor: flags.cursor,
        order: flags.oldest === true ? "oldest" : "newest",
      });
      ctx.print(page, () => formatTaskTable(page.tasks, ctx.style));
      if (!ctx.json && page.nextCursor !== null)
        ctx.note(
          `More entries: add --cursor ${page.nextCursor}${flags.oldest === true ? " --oldest" : ""}.`,
        );
    });

  targetOptions(
    dlq
      .command("replay")
      .description(
        "Put dead letters back in their queue under the same id. Dry run unless --apply",
      ),
  )
    .option("--apply", "replay for real (without it, only show what would be replayed)")
    .option("--reset-attempts", "give replayed tasks their full retry budget (server default)")
    .option("--no-reset-attempts", "keep the attempts already used")
    .addHelpText(
      "after",
      examples([
        "taskmill dlq replay --name email.send            # dry run: what would be replayed",
        "taskmill dlq replay --name email.send --apply",
        "taskmill dlq replay --ids 01JD3M4Z8Q,01JD3M5A2K --apply --no-reset-attempts",
      ]),
    )
    .action(async (flags: TargetFlags, cmd) => {
      const target = targetOf(flags);
      const ctx = Context.of(cmd, io);
      const outcome = await ctx.client.replayDeadLetters(target, {
        dryRun: flags.apply !== true,
        resetAttempts: flags.resetAttempts,
      });
      ctx.print(outcome, () => formatOutcome("replay", outcome, ctx.style, flags.ids));
    });

  targetOptions(
    dlq.command("purge").description("Delete dead letters for good. Dry run unless --apply"),
  )
    .option("--apply", "purge for real (without it, only show what would be purged)")
    .addHelpText(
      "after",
      examples([
        "taskmill dlq purge --name report.build           # dry run: what would be purged",
        "taskmill dlq purge --ids 01JD3M4Z8Q --apply",
      ]),
    )
    .action(async (flags: TargetFlags, cmd) => {
      const target = targetOf(flags);
      const ctx = Context.of(cmd, io);
      // The purge route has no dry run: list what it would select instead.
      const outcome =
        flags.apply === true
          ? await ctx.client.purgeDeadLetters(target)
          : await previewPurge(ctx.client, target);
      ctx.print(outcome, () => formatOutcome("purge", outcome, ctx.style, flags.ids));
    });
}

function targetOptions(command: Command): Command {
  return command
    .option("--ids <ids>", "comma list of task ids", commaList())
    .option("--name <name>", "every dead letter of this task name", nonEmpty);
}

function targetOf(flags: TargetFlags): DeadLetterTarget {
  if ((flags.ids === undefined) === (flags.name === undefined))
    throw new UsageError("give exactly one of --ids or --name");
  return flags.ids !== undefined ? { ids: flags.ids } : { name: flags.name as string };
}

/** What `POST /v1/dlq/purge` would delete: the listed entries the target selects. */
async function previewPurge(
  client: AdminClient,
  target: DeadLetterTarget,
): Promise<DeadLetterResult> {
  const wanted = "ids" in target ? new Set(target.ids) : undefined;
  const name = "name" in target ? target.name : undefined;
  const found: TaskSnapshot[] = [];
  let cursor: string | undefined;
  const seen = new Set<string>();
  do {
    const page = await client.listDeadLetters({ name, limit: 1000, cursor });
    for (const task of page.tasks)
      if (wanted === undefined || wanted.has(task.id)) found.push(task);
    cursor = page.nextCursor ?? undefined;
    if (cursor !== undefined && seen.has(cursor)) break;
    if (cursor !== undefined) seen.add(cursor);
    // With ids, stop as soon as all are found instead of reading the whole queue.
  } while (cursor !== undefined && (wanted === undefined || found.length < wanted.size));
  return { ids: found.map((task) => task.id), skipped: [], dryRun: true };
}
