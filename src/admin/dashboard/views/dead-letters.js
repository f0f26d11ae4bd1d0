// The Dead letters view (newest failure first): list, select, and replay in two steps (a dry run, then confirm).
import { api, query } from "../api.js";
import { $, h, idButton, show, timeCell } from "../dom.js";
import { errorText, oneLine } from "../format.js";
import { reportError } from "../notice.js";
import { MAX_LIST, PAGE_SIZE, state } from "../state.js";
import { refreshOverview } from "./totals.js";

/** reset: first page for a new filter; refresh: re-read what is shown; more: next page. */
export async function loadDlq(mode) {
  const dlq = state.dlq;
  const name = dlq.name;
  const params =
    mode === "more"
      ? { name, order: "newest", limit: PAGE_SIZE, cursor: dlq.nextCursor }
      : {
          name,
          order: "newest",
          limit: Math.min(MAX_LIST, Math.max(PAGE_SIZE, mode === "reset" ? 0 : dlq.list.length)),
        };
  try {
    const body = await api(`v1/dlq${query(params)}`);
    if (name !== dlq.name) return;
    const page = body.tasks ?? [];
    if (mode === "more") {
      const known = new Set(dlq.list.map((t) => t.id));
      dlq.list = dlq.list.concat(page.filter((t) => !known.has(t.id)));
    } else dlq.list = page;
    dlq.nextCursor = body.nextCursor ?? null;
    const present = new Set(dlq.list.map((t) => t.id));
    for (const id of dlq.selected) if (!present.has(id)) dlq.selected.delete(id);
    renderDlq();
  } catch (error) {
    reportError(error, mode === "refresh" ? "poll" : "action");
  }
}

function renderDlq() {
  const { list, selected, nextCursor } = state.dlq;
  const signature = JSON.stringify(list) + [...selected].join() + String(nextCursor);
  if (signature !== state.dlq.signature) {
    state.dlq.signature = signature;
    $("dlq-body").replaceChildren(...list.map((task) => dlqRow(task, selected)));
  }
  show($("dlq-empty"), list.length === 0);
  show($("dlq-load-more"), nextCursor !== null);
  const all = $("dlq-select-all");
  all.checked = list.length > 0 && list.every((t) => selected.has(t.id));
  all.indeterminate = !all.checked && list.some((t) => selected.has(t.id));
  $("dlq-replay").disabled = selected.size === 0;
  $("dlq-replay").textContent = selected.size
    ? `Replay ${selected.size} selected…`
    : "Replay selected…";
  $("dlq-summary").textContent = `${list.length} dead letter${list.length === 1 ? "" : "s"} shown${
    nextCursor !== null ? ", more available" : ""
  }`;
}

function dlqRow(task, selected) {
  return h(
    "tr",
    {
      "data-testid": "dlq-row",
      "data-task-id": task.id,
      className: selected.has(task.id) ? "selected" : "",
    },
    h(
      "td",
      { className: "check" },
      h("input", {
        type: "checkbox",
        "data-testid": "dlq-select",
        "aria-label": `Select task ${task.id}`,
        checked: selected.has(task.id),
        onchange: (event) => {
          if (event.currentTarget.checked) selected.add(task.id);
          else selected.delete(task.id);
          hidePreview();
          renderDlq();
        },
      }),
    ),
    h("td", {}, idButton(task.id)),
    h("td", { text: task.name }),
    h("td", { className: "mono", text: task.queue }),
    h("td", { className: "num", text: task.attempts }),
    h("td", {
      className: "error-cell",
      title: errorText(task.error),
      text: oneLine(errorText(task.error), 90),
    }),
    timeCell(task.finishedAt),
  );
}

function hidePreview() {
  state.dlq.preview = null;
  show($("dlq-preview"), false);
}

/** `POST /v1/dlq/replay` in batches of the API's largest id list, outcomes merged. */
async function replay(ids, dryRun) {
  const merged = { ids: [], skipped: [], dryRun };
  for (let start = 0; start < ids.length; start += MAX_LIST) {
    const body = { ids: ids.slice(start, start + MAX_LIST), dryRun };
    const outcome = await api("v1/dlq/replay", { method: "POST", body });
    merged.ids.push(...outcome.ids);
    merged.skipped.push(...outcome.skipped);
  }
  return merged;
}

/** Step 1: a dry run shows exactly what would be replayed. */
async function previewReplay() {
  const ids = [...state.dlq.selected];
  if (ids.length === 0) return;
  const button = $("dlq-replay");
  button.disabled = true;
  $("dlq-message").textContent = "";
  try {
    const outcome = await replay(ids, true);
    state.dlq.preview = outcome;
    const names = new Map(state.dlq.list.map((t) => [t.id, t.name]));
    const count = outcome.ids.length;
    let text = `${count} task${count === 1 ? "" : "s"} would be replayed (same id, back to queued).`;
    if (outcome.skipped.length)
      text += ` ${outcome.skipped.length} would be skipped: a timed-out handler still runs.`;
    $("dlq-preview-text").textContent = text;
    const shown = outcome.ids.slice(0, 100);
    $("dlq-preview-ids").replaceChildren(
      ...shown.map((id) =>
        h("li", {}, h("code", { text: id }), names.has(id) ? ` ${names.get(id)}` : ""),
      ),
      count > shown.length ? h("li", { text: `and ${count - shown.length} more` }) : null,
    );
    $("dlq-confirm").disabled = count === 0;
    show($("dlq-preview"), true);
    $("dlq-confirm").focus();
  } catch (error) {
    $("dlq-message").textContent = `Dry run failed: ${error.message}`;
  } finally {
    button.disabled = state.dlq.selected.size === 0;
  }
}

/** Step 2: replay the ids the dry run listed. */
async function confirmReplay() {
  const preview = state.dlq.preview;
  if (!preview || preview.ids.length === 0) return;
  const button = $("dlq-confirm");
  button.disabled = true;
  try {
    const outcome = await replay(preview.ids, false);
    const count = outcome.ids.length;
    let text = `Replayed ${count} task${count === 1 ? "" : "s"}.`;
    if (outcome.skipped.length) text += ` Skipped ${outcome.skipped.length}.`;
    $("dlq-message").textContent = text;
    state.dlq.selected.clear();
    hidePreview();
    await Promise.all([loadDlq("refresh"), refreshOverview()]);
  } catch (error) {
    $("dlq-message").textContent = `Replay failed: ${error.message}`;
  } finally {
    button.disabled = false;
  }
}

/** Forgets the dead letters read (signed out); the name filter stays. */
export function clearDeadLetters() {
  Object.assign(state.dlq, { list: [], nextCursor: null, preview: null, signature: "" });
  state.dlq.selected.clear();
  $("dlq-body").replaceChildren();
  hidePreview();
}

export function wireDeadLetters() {
  $("dlq-filters").addEventListener("submit", (event) => {
    event.preventDefault();
    state.dlq.name = $("dlq-filter-name").value.trim();
    state.dlq.selected.clear();
    state.dlq.list = [];
    hidePreview();
    loadDlq("reset");
  });
  $("dlq-load-more").addEventListener("click", () => loadDlq("more"));
  $("dlq-select-all").addEventListener("change", (event) => {
    const { selected, list } = state.dlq;
    for (const task of list)
      if (event.currentTarget.checked) selected.add(task.id);
      else selected.delete(task.id);
    hidePreview();
    renderDlq();
  });
  $("dlq-replay").addEventListener("click", previewReplay);
  $("dlq-confirm").addEventListener("click", confirmReplay);
  $("dlq-abort").addEventListener("click", () => {
    hidePreview();
    $("dlq-replay").focus();
  });
}
