// The Live results view: the last LIVE_KEEP results from the stream, newest first. A result
// also updates the other views (its task row, an open detail, the dead letters, queue rates).
import { $, badge, h, idButton, show, timeCell } from "../dom.js";
import { errorText, fmtDuration, oneLine } from "../format.js";
import { debounce, renderSoon } from "../schedule.js";
import { LIVE_KEEP, state } from "../state.js";
import { loadDlq } from "./dead-letters.js";
import { recordQueueResult } from "./queues.js";
import { refreshDetail } from "./task-detail.js";
import { taskFromResult } from "./tasks.js";

/** Takes one result from the live stream. */
export function onResult(result) {
  const live = state.live;
  live.results.unshift(result);
  if (live.results.length > LIVE_KEEP) live.results.length = LIVE_KEEP;
  recordQueueResult(result);
  taskFromResult(result);
  if (state.detail.id === result.id) refreshDetail();
  if (result.status === "failed" && state.view === "dlq")
    debounce("dlq", 300, () => loadDlq("refresh"));
  renderSoon(renderLive);
}

export function renderLive() {
  const results = state.live.results;
  $("live-count").textContent = results.length ? String(results.length) : "";
  if (state.view !== "live") return;
  $("live-body").replaceChildren(...results.map(liveRow));
  show($("live-empty"), results.length === 0);
}

function liveRow(r) {
  return h(
    "tr",
    { "data-testid": "live-row", "data-task-id": r.id, "data-status": r.status },
    timeCell(r.finishedAt),
    h("td", {}, idButton(r.id)),
    h("td", { text: r.name }),
    h("td", { className: "mono", text: r.queue }),
    h("td", {}, badge(r.status)),
    h("td", { className: "num", text: r.attempts }),
    h("td", {
      className: "num",
      text: typeof r.startedAt === "number" ? fmtDuration(r.finishedAt - r.startedAt) : "–",
    }),
    r.error
      ? h("td", {
          className: "error-cell",
          title: errorText(r.error),
          text: oneLine(errorText(r.error), 80),
        })
      : h("td", {
          className: "mono value-cell",
          title: oneLine(r.value, 2000),
          text: oneLine(r.value, 80),
        }),
  );
}

/** Forgets the results and where the stream was (signed out). */
export function clearResults() {
  state.live = { results: [], lastEventId: null, since: 0 };
  $("live-body").replaceChildren();
}

export function wireResults() {
  $("live-clear").addEventListener("click", () => {
    state.live.results = [];
    renderLive();
  });
}
