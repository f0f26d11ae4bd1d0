/**
 * `schedule create | delete | pause | resume`: managing cron schedules over the admin API
 * (listing them is `taskmill schedules`). In durable mode the schedule is stored and fired by
 * the cron leader, whichever process that is.
 */
import type { Command } from "commander";
import type { ScheduleInfo } from "../../scheduling/cron.js";
import { Context, examples, type Io } from "../context.js";
import { UsageError } from "../errors.js";
import { formatSchedules } from "../format.js";

interface CreateFlags {
  readonly timezone?: string;
  readonly queue?: string;
}

/** Adds the `schedule` command and its subcommands to `program`. */
export function registerScheduleCommands(program: Command, io: Io): void {
  const schedule = program
    .command("schedule")
    .description("Create, delete, pause or resume a cron schedule (list them with `schedules`)");

  schedule
    .command("create")
    .description("Create or replace a cron schedule; each tick submits the task once")
    .argument("<id>", "the schedule's id (an existing one is replaced)")
    .argument("<cron>", 'cron pattern, seconds optional, e.g. "0 3 * * *"')
    .argument("<task>", "the task name each tick submits")
    .argument("[payload-json]", "the payload as a JSON text")
    .option("--timezone <zone>", 'IANA time zone, e.g. "Europe/Berlin"')
    .option("--queue <queue>", "the queue of the tasks (default: the handler's)")
    .addHelpText(
      "after",
      examples([
        `taskmill schedule create nightly-report "0 3 * * *" report.build '{"kind":"daily"}'`,
        `taskmill schedule create berlin "0 9 * * 1-5" standup --timezone Europe/Berlin`,
      ]),
    )
    .action(
      async (
        id: string,
        cron: string,
        task: string,
        payloadJson: string | undefined,
        flags: CreateFlags,
        cmd,
      ) => {
        const ctx = Context.of(cmd, io);
        const body: Record<string, unknown> = { id, cron, taskName: task };
        if (payloadJson !== undefined) body.payload = parseJson(payloadJson);
        if (flags.timezone !== undefined) body.timezone = flags.timezone;
        if (flags.queue !== undefined) body.queue = flags.queue;
        const answer = await ctx.client.request<{ schedule: ScheduleInfo }>(
          "POST",
          "v1/schedules",
          { body },
        );
        ctx.print(
          answer,
          () => `Scheduled ${id}.\n${formatSchedules([answer.schedule], ctx.style)}`,
        );
      },
    );

  schedule
    .command("delete")
    .description("Delete a cron schedule (every process stops firing it)")
    .argument("<id>", "the schedule's id")
    .addHelpText("after", examples(["taskmill schedule delete nightly-report"]))
    .action(async (id: string, _flags: unknown, cmd) => {
      const ctx = Context.of(cmd, io);
      const answer = await ctx.client.request<{ deleted: boolean }>(
        "POST",
        `v1/schedules/${encodeURIComponent(id)}/delete`,
      );
      ctx.print(answer, () => `Deleted schedule ${id}.`);
    });

  for (const paused of [true, false]) {
    const verb = paused ? "pause" : "resume";
    schedule
      .command(verb)
      .description(
        paused
          ? "Pause a cron schedule: its ticks pass without firing"
          : "Resume a paused cron schedule from its next tick",
      )
      .argument("<id>", "the schedule's id")
      .addHelpText("after", examples([`taskmill schedule ${verb} nightly-report`]))
      .action(async (id: string, _flags: unknown, cmd) => {
        const ctx = Context.of(cmd, io);
        const answer = await ctx.client.request<{ schedule: ScheduleInfo }>(
          "POST",
          `v1/schedules/${encodeURIComponent(id)}/${verb}`,
        );
        ctx.print(
          answer,
          () =>
            `${paused ? "Paused" : "Resumed"} schedule ${id}.\n${formatSchedules([answer.schedule], ctx.style)}`,
        );
      });
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new UsageError(`the payload is not valid JSON: ${(error as Error).message}`);
  }
}
