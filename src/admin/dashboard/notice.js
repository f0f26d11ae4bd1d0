// The notice bar: errors of background polls and of actions, and the read-only hint.
import { isAbort } from "./api.js";
import { $, show } from "./dom.js";
import { state } from "./state.js";

let noticeSource = "";

export function notify(message, source = "action") {
  const box = $("notice");
  box.querySelector(".notice-text").textContent = message;
  noticeSource = source;
  show(box, true);
}

/** Hides the notice; with `source`, only if that source raised it. */
export function clearNotice(source) {
  if (source === undefined || noticeSource === source) show($("notice"), false);
}

export function reportError(error, source = "action") {
  if (isAbort(error) || error?.status === 401) return;
  const id = error?.requestId ? ` (request ${error.requestId})` : "";
  notify(`${error?.message ?? error}${id}`, source);
}

export function markReadOnly() {
  if (state.readOnly) return;
  state.readOnly = true;
  document.body.classList.add("read-only");
  show($("role-badge"), true);
  notify("This token is read-only: write actions are hidden.");
}
