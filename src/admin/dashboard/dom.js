// Element helpers. Data from the API (payload values, error messages, names) is untrusted: it
// only ever reaches the page through textContent, attributes and DOM nodes, never innerHTML.
import { fmtTime } from "./format.js";

/** The element with this data-testid (the test ids double as the app's own hooks). */
export const $ = (id, root = document) => root.querySelector(`[data-testid="${id}"]`);

/** Creates an element. Strings become text nodes; `text` sets textContent; `on*` adds listeners. */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "className") el.className = value;
    else if (key === "text") el.textContent = String(value);
    else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) if (child !== undefined && child !== null) el.append(child);
  return el;
}

export function show(el, visible) {
  el.hidden = !visible;
}

/** A table cell with a time, its ISO form as the tooltip. */
export function timeCell(ms) {
  return h("td", {
    className: "time",
    title: typeof ms === "number" ? new Date(ms).toISOString() : undefined,
    text: fmtTime(ms),
  });
}

export function badge(status) {
  return h("span", { className: `badge status-${status}`, text: status });
}

/** A task id that opens the task's detail (see the click delegation in views/task-detail.js). */
export function idButton(id) {
  return h("button", {
    type: "button",
    className: "link mono",
    "data-open-task": id,
    "aria-label": `Show details of task ${id}`,
    text: id,
  });
}
