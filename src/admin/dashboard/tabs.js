// The tabs: which view shows (kept in the URL hash), arrow-key moves, and loading the view
// that just became visible.
import { $, show } from "./dom.js";
import { state } from "./state.js";
import { loadAudit } from "./views/audit.js";
import { loadDlq } from "./views/dead-letters.js";
import { loadFlow } from "./views/flows.js";
import { renderLive } from "./views/results.js";
import { loadSchedules } from "./views/schedules.js";
import { loadTasks } from "./views/tasks.js";
import { loadWorkers } from "./views/workers.js";

const VIEWS = ["queues", "tasks", "dlq", "live", "flows", "workers", "schedules", "audit"];

export function viewFromHash() {
  const name = location.hash.slice(1);
  return VIEWS.includes(name) ? name : state.view;
}

export function showView(name, { focus = true } = {}) {
  state.view = name;
  for (const view of VIEWS) {
    const tab = $(`tab-${view}`);
    const selected = view === name;
    tab.setAttribute("aria-selected", String(selected));
    tab.tabIndex = selected ? 0 : -1;
    show($(`view-${view}`), selected);
    if (selected && focus) tab.focus();
  }
  if (location.hash !== `#${name}`) history.replaceState(null, "", `#${name}`);
  if (state.session) refreshView(true).catch(() => {});
}

function onTabKey(event) {
  const index = VIEWS.indexOf(state.view);
  const moves = { ArrowRight: 1, ArrowLeft: -1, Home: -index, End: VIEWS.length - 1 - index };
  const move = moves[event.key];
  if (move === undefined) return;
  event.preventDefault();
  showView(VIEWS[(index + move + VIEWS.length) % VIEWS.length]);
}

/** Re-reads the visible view: `reset` from its first page, otherwise what it shows. */
export async function refreshView(reset) {
  if (state.view === "tasks") await loadTasks(reset ? "reset" : "refresh");
  else if (state.view === "dlq") await loadDlq(reset ? "reset" : "refresh");
  else if (state.view === "live") renderLive();
  else if (state.view === "workers") await loadWorkers();
  else if (state.view === "schedules") await loadSchedules();
  else if (state.view === "audit") await loadAudit(reset ? "reset" : "refresh");
  else if (state.view === "flows") await loadFlow();
}

export function wireTabs() {
  for (const view of VIEWS) {
    const tab = $(`tab-${view}`);
    tab.addEventListener("click", () => showView(view));
    tab.addEventListener("keydown", onTabKey);
  }
  window.addEventListener("hashchange", () => {
    const name = location.hash.slice(1);
    if (VIEWS.includes(name) && name !== state.view) showView(name, { focus: false });
  });
}
