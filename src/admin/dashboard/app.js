// taskmill dashboard, the entry module: the session (sign in, sign out, the loops that run
// while signed in) and the wiring of the views. ES modules, no framework, no build step.
// Everything it shows comes from the admin API (/v1) with the bearer token the user typed.
import { api, onAuthFailure } from "./api.js";
import { $, show } from "./dom.js";
import { liveLoop, setLiveState } from "./live.js";
import { clearNotice, markReadOnly } from "./notice.js";
import { cancelDebounced, repeat } from "./schedule.js";
import { LIST_REFRESH_MS, POLL_MS, state, TOKEN_KEY } from "./state.js";
import { refreshView, showView, viewFromHash, wireTabs } from "./tabs.js";
import { clearAudit, wireAudit } from "./views/audit.js";
import { clearDeadLetters, wireDeadLetters } from "./views/dead-letters.js";
import { wireFlows } from "./views/flows.js";
import { clearQueues } from "./views/queues.js";
import { clearResults, onResult, wireResults } from "./views/results.js";
import { clearSchedules, wireScheduleForm } from "./views/schedules.js";
import { closeDetail, wireDetail } from "./views/task-detail.js";
import { clearTasks, wireTasks } from "./views/tasks.js";
import { clearTotals, refreshOverview } from "./views/totals.js";
import { clearWorkers } from "./views/workers.js";

function showLogin(message) {
  show($("app"), false);
  show($("session"), false);
  show($("login"), true);
  const error = $("login-error");
  error.textContent = message ?? "";
  show(error, Boolean(message));
  const input = $("token-input");
  input.value = "";
  input.focus();
}

function signOut(reason) {
  state.session?.abort();
  state.session = null;
  state.token = null;
  sessionStorage.removeItem(TOKEN_KEY);
  closeDetail();
  clearNotice();
  setLiveState("closed");
  forgetData();
  showLogin(reason === "unauthorized" ? "The token was rejected or revoked. Sign in again." : "");
}

/** Drops everything the last session read, so the next token starts from a clean page. */
function forgetData() {
  cancelDebounced();
  clearTotals();
  clearQueues();
  clearTasks();
  clearDeadLetters();
  clearResults();
  clearWorkers();
  clearSchedules();
  clearAudit();
}

async function signIn(event) {
  event.preventDefault();
  const token = $("token-input").value.trim();
  const error = $("login-error");
  if (token === "") {
    error.textContent = "Enter a token.";
    show(error, true);
    return;
  }
  const button = $("login-submit");
  button.disabled = true;
  try {
    await api("v1/stats", { token, signal: AbortSignal.timeout(10_000) });
    sessionStorage.setItem(TOKEN_KEY, token);
    state.token = token;
    start();
  } catch (failure) {
    error.textContent =
      failure?.status === 401 ? "That token was not accepted." : `Could not sign in: ${failure}`;
    show(error, true);
  } finally {
    button.disabled = false;
  }
}

function start() {
  state.session = new AbortController();
  const { signal } = state.session;
  state.readOnly = false;
  document.body.classList.remove("read-only");
  show($("role-badge"), false);
  show($("login"), false);
  show($("app"), true);
  show($("session"), true);
  showView(viewFromHash(), { focus: false });
  repeat(POLL_MS, signal, refreshOverview);
  // showView() above loaded the current view; this keeps it fresh.
  repeat(LIST_REFRESH_MS, signal, () => refreshView(false), { immediate: false });
  liveLoop(signal, { onResult, onUnauthorized: () => signOut("unauthorized") });
}

function wire() {
  onAuthFailure({ unauthorized: () => signOut("unauthorized"), forbidden: markReadOnly });
  $("login-form").addEventListener("submit", signIn);
  $("logout").addEventListener("click", () => signOut("user"));
  $("notice")
    .querySelector(".notice-close")
    .addEventListener("click", () => clearNotice());
  wireTabs();
  wireFlows();
  wireDetail();
  wireTasks();
  wireDeadLetters();
  wireResults();
  wireScheduleForm();
  wireAudit();
}

wire();
if (state.token) start();
else showLogin();
