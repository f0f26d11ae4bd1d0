// The Workers view: every manager with handlers sharing the store (`GET /v1/workers`), with
// its last heartbeat; a worker whose heartbeats stopped shows "lost" until the store drops it.
import { api } from "../api.js";
import { $, h, show, timeCell } from "../dom.js";
import { reportError } from "../notice.js";

/** The worker's state as a badge: alive (green) or lost (red). */
function stateBadge(worker) {
  const css = worker.state === "alive" ? "status-active" : "status-failed";
  return h("span", { className: `badge ${css}`, text: worker.state });
}

export function renderWorkers(workers) {
  const rows = workers.map((w) =>
    h(
      "tr",
      { "data-testid": "worker-row", "data-worker": w.id, "data-state": w.state },
      h("th", { scope: "row", className: "mono", text: w.host }),
      h("td", { className: "num mono", text: w.pid }),
      h("td", {}, stateBadge(w)),
      timeCell(w.lastHeartbeatAt),
      timeCell(w.startedAt),
      h("td", { className: "num", text: `${w.running}/${w.concurrency}` }),
      h("td", { className: "num", text: w.processed }),
      h("td", { className: "num", text: w.failed }),
      h("td", { className: "mono", text: w.queues.join(", ") }),
      h("td", { className: "mono", text: w.version }),
    ),
  );
  $("workers-body").replaceChildren(...rows);
  show($("workers-empty"), rows.length === 0);
  const lost = workers.filter((w) => w.state === "lost").length;
  $("workers-summary").textContent =
    `${workers.length} worker${workers.length === 1 ? "" : "s"}` +
    (lost > 0 ? `, ${lost} lost` : "");
}

export async function loadWorkers() {
  try {
    const body = await api("v1/workers");
    renderWorkers(body.workers ?? []);
  } catch (error) {
    reportError(error, "workers");
  }
}

/** Forgets what was shown (signed out). */
export function clearWorkers() {
  $("workers-body").replaceChildren();
}
