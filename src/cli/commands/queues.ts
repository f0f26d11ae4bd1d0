/** `queues`, `pause`, `resume`, `schedules` and `stats`. */
import type { Command } from "commander";
import { Context, examples, type Io } from "../context.js";
import { formatQueues, formatSchedules, formatStats } from "../format.js";

/** Adds the queue, schedule and stats commands to `program`. */
export function registerQueueCommands(program: Command, io: Io): void {
  program
    .command("queues")
    .description("List queues: depth, delayed, running, concurrency, paused or active")
    .addHelpText("after", examples(["taskmill queues", "taskmill queues --json"]))
    .action(async (_flags: unknown, cmd) => {
      const ctx = Context.of(cmd, io);
      const answer = await ctx.client.queues();
      ctx.print(answer, () => formatQueues(answer.queues, ctx.style));
    });

  for (const paused of [true, false]) {
    const verb = paused ? "pause" : "resume";
    program
      .command(verb)
      .description(
        paused
          ? "Pause a queue: no new task starts from it; running tasks finish"
          : "Resume a paused queue",
      )
      .argument("<queue>", "queue name")
      .addHelpText("after", examples([`taskmill ${verb} emails`]))
      .action(async (name: string, _flags: unknown, cmd) => {
        const ctx = Context.of(cmd, io);
        const answer = await ctx.client.setPaused(name, paused);
        ctx.print(
          answer,
          () =>
            `${paused ? "Paused" : "Resumed"} queue ${name}.\n${formatQueues([answer.queue], ctx.style)}`,
        );
      });
  }

  program
    .command("schedules")
    .description("List cron schedules with their next run (and, in durable mode, the leader)")
    .addHelpText("after", examples(["taskmill schedules", "taskmill schedules --json"]))
    .action(async (_flags: unknown, cmd) => {
      const ctx = Context.of(cmd, io);
      const answer = await ctx.client.schedules();
      ctx.print(answer, () => formatSchedules(answer.schedules, ctx.style));
    });

  program
    .command("stats")
    .description("Show the manager's counters and the backend's health")
    .addHelpText("after", examples(["taskmill stats", "taskmill stats --json"]))
    .action(async (_flags: unknown, cmd) => {
      const ctx = Context.of(cmd, io);
      const answer = await ctx.client.stats();
      ctx.print(answer, () => formatStats(answer, ctx.style));
    });
}
