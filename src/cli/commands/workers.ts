/** `workers`: the worker registry (`GET /v1/workers`). */
import type { Command } from "commander";
import type { WorkerInfo } from "../../fleet.js";
import { Context, examples, type Io } from "../context.js";
import { formatTime, type Style, table } from "../format.js";

/** Adds the `workers` command to `program`. */
export function registerWorkersCommand(program: Command, io: Io): void {
  program
    .command("workers")
    .description(
      "List worker processes: host, pid, state (alive or lost), last heartbeat, running and processed",
    )
    .addHelpText("after", examples(["taskmill workers", "taskmill workers --json"]))
    .action(async (_flags: unknown, cmd) => {
      const ctx = Context.of(cmd, io);
      const answer = await ctx.client.request<{ workers: WorkerInfo[] }>("GET", "v1/workers");
      ctx.print(answer, () => formatWorkers(answer.workers, ctx.style));
    });
}

/** The worker table; lost workers stand out. */
export function formatWorkers(workers: readonly WorkerInfo[], style: Style): string {
  if (workers.length === 0) return "No workers.";
  return table<WorkerInfo>(
    [
      { header: "HOST", value: (w) => w.host },
      { header: "PID", value: (w) => String(w.pid), align: "right" },
      {
        header: "STATE",
        value: (w) => w.state,
        paint: (text, w) => (w.state === "lost" ? style.status("failed", text) : text),
      },
      { header: "LAST HEARTBEAT", value: (w) => formatTime(w.lastHeartbeatAt) },
      { header: "STARTED", value: (w) => formatTime(w.startedAt) },
      { header: "RUNNING", value: (w) => `${w.running}/${w.concurrency}`, align: "right" },
      { header: "PROCESSED", value: (w) => String(w.processed), align: "right" },
      { header: "FAILED", value: (w) => String(w.failed), align: "right" },
      { header: "QUEUES", value: (w) => w.queues.join(",") },
      { header: "VERSION", value: (w) => w.version },
    ],
    workers,
    style,
  );
}
