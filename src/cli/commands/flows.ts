/** `flow get`: a flow (or batch) as its nodes, each with its status and dependencies. */
import type { Command } from "commander";
import type { FlowSnapshot } from "../../flows/flow-types.js";
import { Context, examples, type Io } from "../context.js";
import { type Style, table } from "../format.js";

/** Adds `flow get <id>` to `program`. */
export function registerFlowCommands(program: Command, io: Io): void {
  const flow = program.command("flow").description("Inspect flows and batches");
  flow
    .command("get")
    .description("Show a flow or batch: each node's status, dependencies and outcome")
    .argument("<id>", "flow (or batch) id")
    .addHelpText(
      "after",
      examples(["taskmill flow get flow-3f2a…", "taskmill flow get flow-3f2a… --json"]),
    )
    .action(async (id: string, _flags: unknown, cmd) => {
      const ctx = Context.of(cmd, io);
      const answer = await ctx.client.request<{ flow: FlowSnapshot }>(
        "GET",
        `v1/flows/${encodeURIComponent(id)}`,
      );
      ctx.print(answer, () => formatFlow(answer.flow, ctx.style));
    });
}

/** The flow's header line, then one row per node in submission order. */
export function formatFlow(flow: FlowSnapshot, style: Style): string {
  const ended = flow.nodes.filter((node) => node.outcome !== undefined).length;
  const header = `${style.bold(`${flow.kind} ${flow.id}`)}  ${flow.done ? "done" : "running"}  ${ended}/${flow.nodes.length} ended`;
  const rows = table(
    [
      { header: "REF", value: (node) => node.ref },
      {
        header: "STATUS",
        value: (node) => node.status,
        paint: (text, node) => style.status(node.status, text),
      },
      { header: "NAME", value: (node) => node.name },
      {
        header: "DEPENDS ON",
        value: (node) => (node.dependsOn.length === 0 ? "-" : node.dependsOn.join(",")),
      },
      {
        header: "ON FAILURE",
        value: (node) => (node.dependsOn.length === 0 ? "-" : node.onDependencyFailure),
      },
      { header: "ID", value: (node) => node.id },
      { header: "ERROR", value: (node) => node.outcome?.error?.message ?? "" },
    ],
    flow.nodes,
    style,
  );
  return `${header}\n${rows}`;
}
