// The task detail dialog: fields, error and value, the timeline, and cancel. Polls while the
// task can still change.
import { api, isAbort } from "../api.js";
import { $, h, show } from "../dom.js";
import { fmtTime, json, oneLine } from "../format.js";
import { debounce } from "../schedule.js";
import { POLL_MS, state, TERMINAL } from "../state.js";
import { loadTasks } from "./tasks.js";
import { renderTimeline } from "./timeline.js";

const FIELD_ORDER = [
  ["name", "Name"],
  ["queue", "Queue"],
  ["status", "Status"],
  ["priority", "Priority"],
  ["attempts", "Attempts"],
  ["maxRetries", "Max retries"],
  ["createdAt", "Created"],
  ["runAt", "Run at"],
  ["expiresAt", "Expires at"],
  ["startedAt", "Started"],
  ["finishedAt", "Finished"],
  ["idempotencyKey", "Idempotency key"],
  ["progress", "Progress"],
];

/** Opens the dialog for task `id`; `opener` gets the focus back when it closes. */
export async function openDetail(id, opener) {
  const dialog = $("task-detail");
  state.detail = { id, task: null, timer: 0, opener };
  $("detail-id").textContent = id;
  $("detail-status").textContent = "loading";
  $("detail-status").className = "badge";
  $("detail-message").textContent = "";
  for (const part of ["task-timeline", "detail-fields", "timeline-bar"]) $(part).replaceChildren();
  for (const part of ["detail-error-block", "detail-value-block", "detail-payload-block"])
    show($(part), false);
  show($("detail-payload-hidden"), false);
  show($("task-cancel"), false);
  if (!dialog.open) dialog.showModal();
  await refreshDetail();
}

export async function refreshDetail() {
  const { id } = state.detail;
  if (id === null) return;
  clearTimeout(state.detail.timer);
  try {
    const body = await api(`v1/tasks/${encodeURIComponent(id)}`);
    if (state.detail.id !== id) return;
    renderDetail(body.task);
  } catch (error) {
    if (state.detail.id !== id || isAbort(error)) return;
    if (error.status === 404) {
      $("detail-message").textContent = "This task is no longer known (evicted or never existed).";
      return;
    }
    $("detail-message").textContent = `${error.message}`;
  }
  // Poll while it can still change.
  if (state.detail.id === id && !TERMINAL.has(state.detail.task?.status))
    state.detail.timer = setTimeout(refreshDetail, POLL_MS);
}

export function closeDetail() {
  clearTimeout(state.detail.timer);
  const opener = state.detail.opener;
  state.detail = { id: null, task: null, timer: 0 };
  const dialog = $("task-detail");
  if (dialog.open) dialog.close();
  if (opener?.isConnected) opener.focus();
}

function renderDetail(task) {
  state.detail.task = task;
  const status = $("detail-status");
  status.textContent = task.status;
  status.className = `badge status-${task.status}`;
  const finished = TERMINAL.has(task.status);
  show($("task-cancel"), !finished && !state.readOnly);

  const known = new Set(
    FIELD_ORDER.map(([key]) => key).concat(["id", "value", "error", "payload"]),
  );
  const entries = FIELD_ORDER.filter(([key]) => task[key] !== undefined).concat(
    Object.keys(task)
      .filter((key) => !known.has(key))
      .map((key) => [key, key]),
  );
  const fields = entries.map(([key, label]) => {
    const value = task[key];
    const time = key.endsWith("At") && typeof value === "number";
    const text = time
      ? fmtTime(value)
      : typeof value === "object"
        ? oneLine(value, 400)
        : String(value);
    return h(
      "div",
      { className: "field" },
      h("dt", { text: label }),
      h("dd", {
        "data-testid": `detail-field-${key}`,
        title: time ? new Date(value).toISOString() : undefined,
        text,
      }),
    );
  });
  $("detail-fields").replaceChildren(...fields);

  // The stack (present only with the server's exposePayloads) gets its own block, unescaped.
  const { stack, ...error } = task.error ?? {};
  show($("detail-error-block"), task.error !== undefined);
  $("detail-error").textContent = task.error === undefined ? "" : json(error);
  show($("detail-stack"), typeof stack === "string");
  $("detail-stack").textContent = typeof stack === "string" ? stack : "";
  show($("detail-payload-block"), task.payload !== undefined);
  $("detail-payload").textContent = task.payload === undefined ? "" : json(task.payload);
  show($("detail-payload-hidden"), task.payload === undefined && typeof stack !== "string");
  show($("detail-value-block"), task.value !== undefined);
  $("detail-value").textContent = task.value === undefined ? "" : json(task.value);
  renderTimeline(task);
}

async function cancelTask() {
  const { id } = state.detail;
  const button = $("task-cancel");
  button.disabled = true;
  try {
    const body = await api(`v1/tasks/${encodeURIComponent(id)}/cancel`, { method: "POST" });
    $("detail-message").textContent = body.cancelled
      ? "Cancelled."
      : "Not cancelled: the task had already finished.";
    if (body.task && state.detail.id === id) renderDetail(body.task);
    else await refreshDetail();
    debounce("tasks", 0, () => loadTasks("refresh"));
  } catch (error) {
    $("detail-message").textContent = `Cancel failed: ${error.message}`;
  } finally {
    button.disabled = false;
  }
}

export function wireDetail() {
  const dialog = $("task-detail");
  $("detail-close").addEventListener("click", closeDetail);
  $("task-cancel").addEventListener("click", cancelTask);
  dialog.addEventListener("close", () => {
    if (state.detail.id !== null) closeDetail();
  });
  dialog.addEventListener("click", (event) => {
    if (event.target === dialog) closeDetail(); // a click on the backdrop
  });
  // Any task id button (tasks, DLQ, live) opens the detail; so does a click on a task row.
  document.addEventListener("click", (event) => {
    const target = event.target instanceof Element ? event.target : null;
    const button = target?.closest("[data-open-task]");
    const row = target?.closest(".clickable tr[data-task-id]");
    if (button) openDetail(button.getAttribute("data-open-task"), button);
    else if (row && !target.closest("button, input, a"))
      openDetail(row.getAttribute("data-task-id"), row.querySelector("[data-open-task]"));
  });
}
