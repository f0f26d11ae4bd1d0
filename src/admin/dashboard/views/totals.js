// The totals bar (counts, backend, completed/failed per second), polled with the queues.
import { api } from "../api.js";
import { $ } from "../dom.js";
import { fmtRate } from "../format.js";
import { clearNotice, reportError } from "../notice.js";
import { RATE_WINDOW_MS, state } from "../state.js";
import { renderQueues } from "./queues.js";

const COUNTS = ["running", "queued", "waiting", "succeeded", "failed", "deadLetters"];

/** Reads stats and queues (one poll every 2 s) and renders both. */
export async function refreshOverview() {
  try {
    const [statsBody, queuesBody] = await Promise.all([api("v1/stats"), api("v1/queues")]);
    renderStats(statsBody);
    state.queues = queuesBody.queues ?? [];
    renderQueues();
    clearNotice("poll");
  } catch (error) {
    reportError(error, "poll");
  }
}

function renderStats({ stats = {}, health = {} }) {
  for (const key of COUNTS) {
    const value = stats[key];
    $(`stat-${key}`).textContent = typeof value === "number" ? value.toLocaleString() : "–";
  }
  $("dlq-count").textContent = stats.deadLetters ? String(stats.deadLetters) : "";
  $("stat-backend").textContent =
    [health.backend, health.status].filter(Boolean).join(" · ") || "–";

  // Rates: the change of the cumulative counters over the last RATE_WINDOW_MS.
  const now = performance.now();
  const samples = state.stats.samples;
  const last = samples.at(-1);
  if (last && (stats.succeeded < last.succeeded || stats.failed < last.failed)) samples.length = 0;
  samples.push({ at: now, succeeded: stats.succeeded ?? 0, failed: stats.failed ?? 0 });
  while (samples.length > 2 && now - samples[1].at >= RATE_WINDOW_MS) samples.shift();
  const first = samples[0];
  const seconds = (now - first.at) / 1000;
  const rate = (key) => (seconds > 0 ? (stats[key] - first[key]) / seconds : Number.NaN);
  $("stat-rate-completed").textContent = fmtRate(rate("succeeded"));
  $("stat-rate-failed").textContent = fmtRate(rate("failed"));
}

/** Blanks the totals (signed out). */
export function clearTotals() {
  state.stats.samples = [];
  for (const stat of document.querySelectorAll(".stat dd")) stat.textContent = "–";
}
