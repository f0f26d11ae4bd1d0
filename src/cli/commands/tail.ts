/** `tail`: follow the results stream (Server-Sent Events), reconnecting when it drops. */
import type { Command } from "commander";
import { TERMINAL_STATUSES } from "../../lifecycle/states.js";
import type { TaskResult } from "../../types.js";
import { Context, commaList, examples, type Io, intIn, nonEmpty } from "../context.js";
import { formatResultLine } from "../format.js";
import { followEvents } from "../sse.js";

interface TailFlags {
  name?: string;
  status?: string[];
  count?: number;
}

/** Adds `tail` to `program`. */
export function registerTailCommand(program: Command, io: Io): void {
  program
    .command("tail")
    .description(
      "Follow task results as they finish (one line each; NDJSON with --json). Ctrl-C ends it",
    )
    .option("--name <name>", "only results of this task name", nonEmpty)
    .option(
      "--status <list>",
      `comma list of result statuses (${TERMINAL_STATUSES.join(", ")})`,
      commaList(TERMINAL_STATUSES),
    )
    .option("--count <n>", "exit after this many (matching) results", intIn(1))
    .addHelpText(
      "after",
      examples([
        "taskmill tail",
        "taskmill tail --status failed --name email.send",
        "taskmill tail --count 10 --json | jq .value",
      ]),
    )
    .action(async (flags: TailFlags, cmd) => {
      const ctx = Context.of(cmd, io);
      const stop = new AbortController();
      // Ctrl-C (or a service manager's TERM) ends the stream cleanly with exit code 0.
      const onSignal = () => stop.abort();
      process.once("SIGINT", onSignal);
      process.once("SIGTERM", onSignal);
      let printed = 0;
      try {
        await followEvents({
          client: ctx.client,
          path: "v1/results",
          signal: stop.signal,
          onOpen: () => {
            if (io.stderr.isTTY === true && !ctx.json)
              ctx.note(
                ctx.errStyle.dim(
                  `Following results from ${ctx.client.baseUrl.origin} (Ctrl-C to stop)`,
                ),
              );
          },
          onReconnect: ({ delayMs, lastEventId, reason }) => {
            const resume = lastEventId === "" ? "" : ` from event ${lastEventId}`;
            ctx.note(`connection lost (${reason}); reconnecting in ${delayMs} ms${resume}`);
          },
          onEvent: (event) => {
            if (event.event !== "result") return undefined;
            let result: TaskResult;
            try {
              result = JSON.parse(event.data) as TaskResult;
            } catch {
              ctx.note(`warning: skipped a result event whose data is not JSON (id ${event.id})`);
              return undefined;
            }
            if (flags.name !== undefined && result.name !== flags.name) return undefined;
            if (flags.status !== undefined && !flags.status.includes(result.status))
              return undefined;
            io.stdout.write(
              ctx.json ? `${JSON.stringify(result)}\n` : `${formatResultLine(result, ctx.style)}\n`,
            );
            printed++;
            return flags.count !== undefined && printed >= flags.count ? "stop" : undefined;
          },
        });
      } finally {
        process.off("SIGINT", onSignal);
        process.off("SIGTERM", onSignal);
      }
    });
}
