// The Tasks view: filtered pages of tasks, newest first, kept fresh by polls and live results.
import { api, query } from "../api.js";
import { $, badge, h, idButton, show, timeCell } from "../dom.js";
import { reportError } from "../notice.js";
import { debounce, renderSoon } from "../schedule.js";
import { LIVE_KEEP, MAX_LIST, PAGE_SIZE, state } from "../state.js";

/** reset: first page for new filters; refresh: re-read what is shown; more: next page. */
export async function loadTasks(mode) {
  const tasks = state.tasks;
  // The newest pages: with thousands retained, the oldest 50 are rarely what an operator wants.
  const base = { ...tasks.filters, order: "newest" };
  let params;
  if (mode === "more") params = { ...base, limit: PAGE_SIZE, cursor: tasks.nextCursor };
  else {
    const shown = mode === "reset" ? 0 : tasks.list.length;
    params = { ...base, limit: Math.min(MAX_LIST, Math.max(PAGE_SIZE, shown)) };
  }
  const filters = tasks.filters;
  try {
    const body = await api(`v1/tasks${query(params)}`);
    if (filters !== tasks.filters) return; // the filters changed while this page was loading
    const page = body.tasks ?? [];
    if (mode === "more") {
      const known = new Set(tasks.list.map((t) => t.id));
      tasks.list = tasks.list.concat(page.filter((t) => !known.has(t.id)));
    } else tasks.list = page;
    tasks.nextCursor = body.nextCursor ?? null;
    renderTasks();
  } catch (error) {
    reportError(error, mode === "refresh" ? "poll" : "action");
  }
}

function renderTasks() {
  const { list, recent, nextCursor } = state.tasks;
  const listed = new Set(list.map((task) => task.id));
  for (const id of recent.keys()) if (listed.has(id)) recent.delete(id);
  // Newest first, whatever order the pages came in.
  const sorted = list
    .concat([...recent.values()])
    .map((task, index) => ({ task, index }))
    .sort((a, b) => b.task.createdAt - a.task.createdAt || b.index - a.index)
    .map((entry) => entry.task);
  const signature = JSON.stringify(sorted) + String(nextCursor);
  if (signature === state.tasks.signature) return; // unchanged: keep focus and selection
  state.tasks.signature = signature;
  const rows = sorted.map((task) =>
    h(
      "tr",
      { "data-testid": "task-row", "data-task-id": task.id, "data-status": task.status },
      h("td", {}, idButton(task.id)),
      h("td", { text: task.name }),
      h("td", { className: "mono", text: task.queue }),
      h("td", {}, badge(task.status)),
      h("td", { className: "num", text: task.attempts }),
      h("td", { className: "num", text: task.priority ?? "–" }),
      timeCell(task.createdAt),
      timeCell(task.finishedAt),
    ),
  );
  $("tasks-body").replaceChildren(...rows);
  show($("tasks-empty"), rows.length === 0);
  show($("tasks-load-more"), nextCursor !== null);
  const live = recent.size ? ` (${recent.size} from live results)` : "";
  $("tasks-summary").textContent =
    `${sorted.length} task${sorted.length === 1 ? "" : "s"} shown${live}${
      nextCursor !== null ? "; more available" : ""
    }`;
}

function applyTaskFilters(event) {
  event?.preventDefault();
  const form = new FormData($("task-filters"));
  const filters = {};
  for (const key of ["status", "queue", "name"]) {
    const value = String(form.get(key) ?? "").trim();
    if (value) filters[key] = value;
  }
  state.tasks.filters = filters;
  state.tasks.list = [];
  state.tasks.recent.clear();
  state.tasks.nextCursor = null;
  state.tasks.signature = "";
  renderTasks();
  loadTasks("reset");
}

function matchesFilters(task) {
  const { status, queue, name } = state.tasks.filters;
  return (
    (!status || status === task.status) &&
    (!queue || queue === task.queue) &&
    (!name || name === task.name)
  );
}

/** A result updates its row at once; a refresh follows for everything else that moved. */
export function taskFromResult(result) {
  const list = state.tasks.list;
  const index = list.findIndex((task) => task.id === result.id);
  if (index >= 0) list[index] = { ...list[index], ...result };
  else if (matchesFilters(result)) {
    const recent = state.tasks.recent;
    recent.delete(result.id);
    recent.set(result.id, { ...result });
    if (recent.size > LIVE_KEEP) recent.delete(recent.keys().next().value);
  }
  if (state.view === "tasks") {
    renderSoon(renderTasks);
    debounce("tasks", 1_000, () => loadTasks("refresh"));
  }
}

/** Forgets the tasks read (signed out); the filters stay. */
export function clearTasks() {
  Object.assign(state.tasks, { list: [], nextCursor: null, signature: "" });
  state.tasks.recent.clear();
  $("tasks-body").replaceChildren();
}

export function wireTasks() {
  $("task-filters").addEventListener("submit", applyTaskFilters);
  $("task-filters").addEventListener("reset", () => setTimeout(applyTaskFilters, 0));
  $("filter-status").addEventListener("change", () => applyTaskFilters());
  $("tasks-load-more").addEventListener("click", () => loadTasks("more"));
}
