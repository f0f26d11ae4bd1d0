/** `submit`, `get`, `list` and `cancel`. */
import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import { TASK_STATUSES } from "../../lifecycle/states.js";
import type { TaskSnapshot } from "../../types.js";
import type { Query, SubmitRequest } from "../client.js";
import {
  anyInt,
  Context,
  commaList,
  examples,
  type Io,
  intIn,
  nonEmpty,
  parsePayload,
} from "../context.js";
import { UsageError } from "../errors.js";
import { formatTask, formatTaskTable } from "../format.js";

interface SubmitFlags {
  payloadFile?: string;
  queue?: string;
  priority?: number;
  delayMs?: number;
  idempotencyKey?: string;
}

interface ListFlags {
  status?: string[];
  queue?: string;
  name?: string;
  limit?: number;
  cursor?: string;
  all?: boolean;
  oldest?: boolean;
}

/** Adds the task commands to `program`. */
export function registerTaskCommands(program: Command, io: Io): void {
  program
    .command("submit")
    .description("Submit a task (the payload is JSON: an argument, a file or stdin)")
    .argument("<name>", "task name (a handler registered on the workers)")
    .argument("[payload-json]", "the payload as a JSON text")
    .option("--payload-file <path>", 'read the JSON payload from a file ("-" for stdin)')
    .option("--queue <queue>", "queue to submit to (default: the handler's queue)", nonEmpty)
    .option("--priority <n>", "higher runs first (integer, default 0)", anyInt)
    .option("--delay-ms <ms>", "start no earlier than this many ms from now", intIn(0))
    .option("--idempotency-key <key>", "submit at most once per key", nonEmpty)
    .addHelpText(
      "after",
      examples([
        `taskmill submit email.send '{"to":"ada@example.com"}'`,
        "taskmill submit report.build --payload-file report.json --queue reports --priority 5",
        `echo '{"id":42}' | taskmill submit invoice.pdf --payload-file - --delay-ms 60000`,
        "taskmill submit cleanup --idempotency-key cleanup-2026-11-23 --json",
      ]),
    )
    .action(async (name: string, payloadJson: string | undefined, flags: SubmitFlags, cmd) => {
      const payload = await readPayload(payloadJson, flags.payloadFile);
      const ctx = Context.of(cmd, io);
      const options: NonNullable<SubmitRequest["options"]> = {
        ...(flags.queue !== undefined ? { queue: flags.queue } : {}),
        ...(flags.priority !== undefined ? { priority: flags.priority } : {}),
        ...(flags.delayMs !== undefined ? { delayMs: flags.delayMs } : {}),
        ...(flags.idempotencyKey !== undefined ? { idempotencyKey: flags.idempotencyKey } : {}),
      };
      const request: SubmitRequest = {
        name,
        ...(payload.given ? { payload: payload.value } : {}),
        ...(Object.keys(options).length > 0 ? { options } : {}),
      };
      const answer = await ctx.client.submit(request);
      ctx.print(answer, () => `Submitted.\n${formatTask(answer.task, ctx.style)}`);
    });

  program
    .command("get")
    .description("Show one task: status, attempts, times, value or error")
    .argument("<id>", "task id")
    .addHelpText("after", examples(["taskmill get 01JD3M4Z8Q", "taskmill get 01JD3M4Z8Q --json"]))
    .action(async (id: string, _flags: unknown, cmd) => {
      const ctx = Context.of(cmd, io);
      const answer = await ctx.client.getTask(id);
      ctx.print(answer, () => formatTask(answer.task, ctx.style));
    });

  program
    .command("list")
    .description("List tasks matching the filters (one page unless --all)")
    .option(
      "--status <list>",
      `comma list of statuses (${TASK_STATUSES.join(", ")})`,
      commaList(TASK_STATUSES),
    )
    .option("--queue <queue>", "only this queue", nonEmpty)
    .option("--name <name>", "only this task name", nonEmpty)
    .option("--limit <n>", "tasks per page, 1 to 1000 (server default 50)", intIn(1, 1000))
    .option("--cursor <cursor>", "continue from a previous page's next cursor", nonEmpty)
    .option("--all", "follow the cursors and print every page")
    .option("--oldest", "oldest first (default: newest first); give it again with --cursor")
    .addHelpText(
      "after",
      examples([
        "taskmill list --status failed,retrying",
        "taskmill list --queue emails --name email.send --limit 20",
        "taskmill list --status succeeded --all --json",
      ]),
    )
    .action(async (flags: ListFlags, cmd) => {
      const ctx = Context.of(cmd, io);
      const query: Query = {
        status: flags.status?.join(","),
        queue: flags.queue,
        name: flags.name,
        limit: flags.limit,
        // Newest first: an operator looks for what just happened, not the oldest retained.
        order: flags.oldest === true ? "oldest" : "newest",
      };
      const tasks: TaskSnapshot[] = [];
      let cursor = flags.cursor;
      const seen = new Set<string>();
      for (;;) {
        const page = await ctx.client.listTasks({ ...query, cursor });
        tasks.push(...page.tasks);
        cursor = page.nextCursor ?? undefined;
        // A cursor seen before would loop forever; a correct server never sends one.
        if (!flags.all || cursor === undefined || seen.has(cursor)) break;
        seen.add(cursor);
      }
      const nextCursor = flags.all ? null : (cursor ?? null);
      ctx.print({ tasks, nextCursor }, () => formatTaskTable(tasks, ctx.style));
      if (!ctx.json && nextCursor !== null)
        ctx.note(
          `More tasks: add --cursor ${nextCursor}${flags.oldest === true ? " --oldest" : ""} (or --all).`,
        );
    });

  program
    .command("cancel")
    .description("Cancel a task that has not finished (a running one is aborted)")
    .argument("<id>", "task id")
    .addHelpText("after", examples(["taskmill cancel 01JD3M4Z8Q"]))
    .action(async (id: string, _flags: unknown, cmd) => {
      const ctx = Context.of(cmd, io);
      const answer = await ctx.client.cancel(id);
      ctx.print(answer, () => {
        const head = answer.cancelled
          ? `Cancelled ${id}.`
          : `Not cancelled: ${id} had already finished${answer.task ? ` (${answer.task.status})` : ""}.`;
        return answer.task ? `${head}\n${formatTask(answer.task, ctx.style)}` : head;
      });
    });
}

/** The payload from the argument or `--payload-file`; "given" tells an absent one from null. */
async function readPayload(
  argument: string | undefined,
  file: string | undefined,
): Promise<{ given: boolean; value?: unknown }> {
  if (argument !== undefined && file !== undefined)
    throw new UsageError("give the payload either as an argument or with --payload-file, not both");
  if (argument !== undefined) return { given: true, value: parsePayload(argument, "payload") };
  if (file === undefined) return { given: false };
  let text: string;
  try {
    text = file === "-" ? await readStdin() : await readFile(file, "utf8");
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new UsageError(`cannot read --payload-file ${file}: ${reason}`);
  }
  return { given: true, value: parsePayload(text, file === "-" ? "stdin" : file) };
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
