// The Schedules view: cron schedules with their next run (`GET /v1/schedules`), paused or
// active, with pause/resume/delete and a form to create one (write tokens). In durable mode
// schedules live in the store: the cron leader fires each one, whichever process made it.
import { api } from "../api.js";
import { $, badge, h, show, timeCell } from "../dom.js";
import { notify, reportError } from "../notice.js";

export function renderSchedules(schedules) {
  const rows = schedules.map((s) => {
    const action = s.paused ? "resume" : "pause";
    return h(
      "tr",
      { "data-testid": "schedule-row", "data-schedule": s.id },
      h("th", { scope: "row", className: "mono", text: s.id }),
      h("td", { className: "mono", text: s.cron }),
      h("td", { className: "mono", text: s.taskName }),
      h("td", { text: s.timezone ?? "local" }),
      timeCell(s.paused ? undefined : s.nextRunAt),
      h("td", {}, badge(s.paused ? "paused" : "active")),
      h(
        "td",
        { className: "actions" },
        h("button", {
          type: "button",
          className: "btn btn-small write-only",
          "data-testid": `schedule-${action}`,
          "aria-label": `${action === "pause" ? "Pause" : "Resume"} schedule ${s.id}`,
          text: action === "pause" ? "Pause" : "Resume",
          onclick: (event) => act(event.currentTarget, s.id, action),
        }),
        h("button", {
          type: "button",
          className: "btn btn-small btn-ghost write-only",
          "data-testid": "schedule-delete",
          "aria-label": `Delete schedule ${s.id}`,
          text: "Delete",
          onclick: (event) => act(event.currentTarget, s.id, "delete"),
        }),
      ),
    );
  });
  $("schedules-body").replaceChildren(...rows);
  show($("schedules-empty"), rows.length === 0);
}

export async function loadSchedules() {
  try {
    const body = await api("v1/schedules");
    renderSchedules(body.schedules ?? []);
  } catch (error) {
    reportError(error, "schedules");
  }
}

async function act(button, id, action) {
  button.disabled = true;
  try {
    await api(`v1/schedules/${encodeURIComponent(id)}/${action}`, { method: "POST" });
    await loadSchedules();
  } catch (error) {
    reportError(error);
    button.disabled = false;
  }
}

/** The create form: id, cron, task, optional JSON payload and time zone. */
export function wireScheduleForm() {
  const form = $("schedule-form");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const body = {
      id: String(data.get("id") ?? "").trim(),
      cron: String(data.get("cron") ?? "").trim(),
      taskName: String(data.get("taskName") ?? "").trim(),
    };
    const payload = String(data.get("payload") ?? "").trim();
    const timezone = String(data.get("timezone") ?? "").trim();
    try {
      if (payload !== "") body.payload = JSON.parse(payload);
    } catch {
      notify("The payload is not valid JSON.");
      return;
    }
    if (timezone !== "") body.timezone = timezone;
    try {
      await api("v1/schedules", { method: "POST", body });
      form.reset();
      await loadSchedules();
    } catch (error) {
      reportError(error);
    }
  });
}

/** Forgets what was shown (signed out). */
export function clearSchedules() {
  $("schedules-body").replaceChildren();
}
