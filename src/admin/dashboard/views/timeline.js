// A task's timeline in its detail: the steps (submitted, due, started, finished or now) and a
// bar of the time spent waiting and running.
import { $, h } from "../dom.js";
import { fmtDuration, fmtTime } from "../format.js";

export function renderTimeline(task) {
  const created = task.createdAt;
  // The browser's clock may lag the server's (durable mode uses Redis time): never draw "now"
  // before something that already happened.
  const now = Math.max(Date.now(), created, task.startedAt ?? 0, task.runAt ?? 0);
  const steps = timelineSteps(task, now);
  $("task-timeline").replaceChildren(
    ...steps.map((step) =>
      h(
        "li",
        {
          className: `step${step.now ? " step-now" : ""}${step.status ? ` step-${step.status}` : ""}`,
        },
        h("span", {
          className: "step-time",
          title: new Date(step.at).toISOString(),
          text: fmtTime(step.at),
        }),
        h("span", { className: "step-offset", text: `+${fmtDuration(step.at - created)}` }),
        h("span", { className: "step-label", text: step.label }),
        step.note ? h("span", { className: "step-note muted", text: step.note }) : null,
      ),
    ),
  );

  // A bar: waiting (submitted → first start), running (first start → finish or now).
  const end = task.finishedAt ?? now;
  const span = Math.max(1, end - created);
  const started = task.startedAt ?? end;
  const segment = (className, from, to, label) => {
    const el = h("span", {
      className: `segment ${className}`,
      title: `${label}: ${fmtDuration(to - from)}`,
    });
    el.style.width = `${Math.max(0, ((to - from) / span) * 100)}%`; // CSSOM: allowed by the CSP
    return el;
  };
  $("timeline-bar").replaceChildren(
    segment("segment-wait", created, started, "Waiting"),
    segment(`segment-run status-${task.status}`, started, end, "Running"),
  );
}

/** The steps of `task`'s life so far, in time order. */
function timelineSteps(task, now) {
  const created = task.createdAt;
  const steps = [{ at: created, label: "Submitted", note: `queue ${task.queue}` }];
  if (typeof task.runAt === "number") {
    const label = task.status === "retrying" ? "Next attempt due" : "Due";
    steps.push({ at: task.runAt, label, note: task.runAt > now ? "in the future" : "" });
  }
  if (typeof task.expiresAt === "number" && task.startedAt === undefined)
    steps.push({ at: task.expiresAt, label: "Expires unless started" });
  if (typeof task.startedAt === "number")
    steps.push({
      at: task.startedAt,
      label: "First attempt started",
      note: `waited ${fmtDuration(task.startedAt - created)}`,
    });
  const attempts = `${task.attempts} attempt${task.attempts === 1 ? "" : "s"} of at most ${
    (task.maxRetries ?? 0) + 1
  }`;
  if (typeof task.finishedAt === "number") {
    const ran =
      typeof task.startedAt === "number"
        ? `, ${fmtDuration(task.finishedAt - task.startedAt)} after the first start`
        : "";
    steps.push({
      at: task.finishedAt,
      label: `Finished: ${task.status}`,
      note: `${attempts}${ran}`,
      status: task.status,
    });
  } else
    steps.push({
      at: now,
      label: `Now: ${task.status}`,
      note: attempts,
      status: task.status,
      now: true,
    });
  return steps.sort((a, b) => a.at - b.at);
}
