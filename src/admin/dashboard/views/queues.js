// The Queues view: depth, state and per-queue rates, with pause/resume.
import { api } from "../api.js";
import { $, badge, h, show } from "../dom.js";
import { fmtRate } from "../format.js";
import { reportError } from "../notice.js";
import { RATE_WINDOW_MS, state } from "../state.js";

/** Counts a live result towards its queue's completed/failed rates. */
export function recordQueueResult(result) {
  const perQueue = state.queueResults.get(result.queue) ?? [];
  perQueue.push({ at: performance.now(), ok: result.status === "succeeded" });
  state.queueResults.set(result.queue, perQueue);
}

/** Per-queue completed/failed per second from live results of the last RATE_WINDOW_MS. */
function queueRates(name) {
  const now = performance.now();
  const entries = (state.queueResults.get(name) ?? []).filter((e) => now - e.at < RATE_WINDOW_MS);
  state.queueResults.set(name, entries);
  if (!state.live.since) return { ok: Number.NaN, failed: Number.NaN };
  const seconds = Math.max(1, Math.min(RATE_WINDOW_MS, now - state.live.since) / 1000);
  const ok = entries.filter((e) => e.ok).length;
  return { ok: ok / seconds, failed: (entries.length - ok) / seconds };
}

export function renderQueues() {
  const rows = state.queues.map((queue) => {
    const rates = queueRates(queue.name);
    const action = queue.paused ? "resume" : "pause";
    return h(
      "tr",
      { "data-testid": "queue-row", "data-queue": queue.name },
      h("th", { scope: "row", className: "mono", text: queue.name }),
      h("td", { className: "num", text: queue.depth }),
      h("td", { className: "num", text: queue.waiting }),
      h("td", { className: "num", text: queue.running }),
      h("td", { className: "num", text: queue.concurrency ?? "shared" }),
      h("td", {}, badge(queue.paused ? "paused" : "active")),
      h("td", { className: "num", text: fmtRate(rates.ok) }),
      h("td", { className: "num", text: fmtRate(rates.failed) }),
      h(
        "td",
        { className: "actions" },
        h("button", {
          type: "button",
          className: "btn btn-small write-only",
          "data-testid": `queue-${action}`,
          "aria-label": `${action === "pause" ? "Pause" : "Resume"} queue ${queue.name}`,
          text: action === "pause" ? "Pause" : "Resume",
          onclick: (event) => toggleQueue(event.currentTarget, queue.name, action),
        }),
      ),
    );
  });
  // Re-rendered every poll: keep a keyboard user's focus on the same button.
  const focused = document.activeElement;
  const body = $("queues-body");
  const refocus = body.contains(focused)
    ? `[data-queue="${CSS.escape(focused.closest("tr")?.dataset.queue ?? "")}"] .btn`
    : null;
  body.replaceChildren(...rows);
  if (refocus) body.querySelector(refocus)?.focus();
  show($("queues-empty"), rows.length === 0);
  document
    .getElementById("queue-names")
    .replaceChildren(...state.queues.map((q) => h("option", { value: q.name })));
}

async function toggleQueue(button, name, action) {
  button.disabled = true;
  try {
    const body = await api(`v1/queues/${encodeURIComponent(name)}/${action}`, { method: "POST" });
    state.queues = state.queues.map((q) => (q.name === name ? (body.queue ?? q) : q));
    renderQueues();
  } catch (error) {
    reportError(error);
    button.disabled = false;
  }
}

/** Forgets the queues and their rates (signed out). */
export function clearQueues() {
  state.queues = [];
  state.queueResults.clear();
  $("queues-body").replaceChildren();
}
