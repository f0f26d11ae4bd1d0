// The Flows view: a flow (or batch) opened by id, drawn as its graph: one column per depth
// (a node sits right of every node it depends on), each node a card with its status; a batch
// also shows its progress bar. Polls while the flow has nodes not yet ended.
import { api, isAbort } from "../api.js";
import { $, badge, h, show } from "../dom.js";
import { POLL_MS, TERMINAL } from "../state.js";

const view = { id: "", timer: 0 };

/** Depth of each node: 0 without dependencies, else one more than its deepest dependency. */
function depths(nodes) {
  const byRef = new Map(nodes.map((node) => [node.ref, node]));
  const depth = new Map();
  const of = (node, seen = new Set()) => {
    if (depth.has(node.ref)) return depth.get(node.ref);
    if (seen.has(node.ref)) return 0; // not a DAG: the API never answers one
    seen.add(node.ref);
    let d = 0;
    for (const ref of node.dependsOn) {
      const dependency = byRef.get(ref);
      if (dependency) d = Math.max(d, of(dependency, seen) + 1);
    }
    depth.set(node.ref, d);
    return d;
  };
  for (const node of nodes) of(node);
  return depth;
}

function nodeCard(node) {
  const error = node.outcome?.error?.message;
  return h(
    "li",
    {
      className: `flow-node status-${node.status}`,
      "data-testid": "flow-node",
      "data-ref": node.ref,
    },
    h("div", { className: "flow-node-head" }, h("strong", { text: node.ref }), badge(node.status)),
    h("div", { className: "muted mono", text: node.name }),
    node.dependsOn.length > 0
      ? h("div", {
          className: "muted",
          text: `after ${node.dependsOn.join(", ")}${node.onDependencyFailure === "run" ? " (runs on failure)" : ""}`,
        })
      : null,
    error ? h("div", { className: "flow-node-error", text: error }) : null,
    // Opens the task detail dialog (its click delegation in task-detail.js).
    h("button", {
      type: "button",
      className: "link mono",
      "data-open-task": node.id,
      "aria-label": `Show details of task ${node.ref}`,
      text: "details",
    }),
  );
}

function progressBar(flow) {
  const items = flow.nodes.filter((node) => node.ref !== "then");
  const count = (status) => items.filter((node) => node.status === status).length;
  const parts = ["succeeded", "failed", "cancelled", "expired", "running"].map((status) => ({
    status,
    n: count(status),
  }));
  const ended = items.filter((node) => TERMINAL.has(node.status)).length;
  return h(
    "div",
    { className: "flow-progress", "data-testid": "batch-progress" },
    h("div", {
      className: "muted",
      text: `${ended} of ${items.length} items ended · ${parts.map((p) => `${p.n} ${p.status}`).join(" · ")}`,
    }),
    h(
      "div",
      {
        className: "flow-progress-bar",
        role: "img",
        "aria-label": `${ended} of ${items.length} ended`,
      },
      ...parts
        .filter((p) => p.n > 0)
        .map((p) =>
          h("span", {
            className: `status-${p.status}`,
            style: `width: ${(100 * p.n) / Math.max(1, items.length)}%`,
          }),
        ),
    ),
  );
}

export function renderFlow(flow) {
  const depth = depths(flow.nodes);
  const columns = [];
  for (const node of flow.nodes) {
    const d = depth.get(node.ref) ?? 0;
    columns[d] ??= [];
    columns[d].push(node);
  }
  $("flow-summary").replaceChildren(
    h("strong", { text: `${flow.kind} ` }),
    h("code", { text: flow.id }),
    " ",
    badge(flow.done ? "done" : "running"),
  );
  $("flow-graph").replaceChildren(
    flow.kind === "batch" ? progressBar(flow) : "",
    h(
      "div",
      { className: "flow-columns" },
      ...columns.map((nodes, d) =>
        h("ol", { className: "flow-column", "aria-label": `Depth ${d}` }, ...nodes.map(nodeCard)),
      ),
    ),
  );
}

export async function loadFlow(id = view.id) {
  clearTimeout(view.timer);
  view.id = id.trim();
  if (view.id === "") return;
  const message = $("flow-message");
  try {
    const body = await api(`v1/flows/${encodeURIComponent(view.id)}`);
    message.textContent = "";
    renderFlow(body.flow);
    if (!body.flow.done) view.timer = setTimeout(() => loadFlow(), POLL_MS);
  } catch (error) {
    if (isAbort(error)) return;
    $("flow-graph").replaceChildren();
    message.textContent =
      error.status === 404 ? `No flow or batch with id "${view.id}".` : `${error.message}`;
  }
}

export function wireFlows() {
  $("flow-form").addEventListener("submit", (event) => {
    event.preventDefault();
    loadFlow($("flow-id").value);
  });
  show($("flow-message"), true);
}
