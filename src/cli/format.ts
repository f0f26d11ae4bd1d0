/**
 * Human output of the CLI: plain aligned columns and key/value blocks, coloured only on a
 * terminal without NO_COLOR. `--json` output bypasses all of this (see `output.ts`).
 */

import type { ManagerStats } from "../engine/backend.js";
import type { ScheduleInfo } from "../scheduling/cron.js";
import type { QueueInfo, TaskResult, TaskSnapshot } from "../types.js";
import type { DeadLetterResult, StatsResponse } from "./client.js";
import type { ApiError } from "./errors.js";

/** Paints text; the identity when colour is off. */
export interface Style {
  readonly color: boolean;
  status(status: string, text?: string): string;
  dim(text: string): string;
  bold(text: string): string;
}

const ANSI = { red: 31, green: 32, yellow: 33, blue: 34, cyan: 36, dim: 2, bold: 1 } as const;

const STATUS_COLOR: Readonly<Record<string, keyof typeof ANSI>> = {
  succeeded: "green",
  failed: "red",
  cancelled: "yellow",
  expired: "yellow",
  running: "cyan",
  retrying: "blue",
};

/**
 * Colour only for a terminal, and never when NO_COLOR is set to a non-empty value
 * (https://no-color.org), so pipes and log files get plain text.
 */
export function shouldUseColor(
  stream: { readonly isTTY?: boolean },
  env: NodeJS.ProcessEnv,
): boolean {
  return stream.isTTY === true && (env.NO_COLOR === undefined || env.NO_COLOR === "");
}

/** A {@link Style} that colours only when `color` is true. */
export function createStyle(color: boolean): Style {
  const paint = (code: number, text: string) => (color ? `\x1b[${code}m${text}\x1b[0m` : text);
  return {
    color,
    status: (status, text = status) => {
      const name = STATUS_COLOR[status];
      return name === undefined ? text : paint(ANSI[name], text);
    },
    dim: (text) => paint(ANSI.dim, text),
    bold: (text) => paint(ANSI.bold, text),
  };
}

/** One column of {@link table}. */
export interface Column<T> {
  readonly header: string;
  readonly value: (row: T) => string;
  /** Paints a cell after padding, so escape codes never skew the alignment. */
  readonly paint?: (text: string, row: T) => string;
  readonly align?: "left" | "right";
}

/**
 * Aligned columns separated by two spaces, a header line first, no trailing blanks.
 * Returns only the header when there are no rows; callers print their own "none" line.
 */
export function table<T>(columns: readonly Column<T>[], rows: readonly T[], style: Style): string {
  const cells = rows.map((row) => columns.map((column) => sanitize(column.value(row))));
  const widths = columns.map((column, i) =>
    Math.max(column.header.length, ...cells.map((line) => (line[i] ?? "").length)),
  );
  const render = (line: readonly string[], row: T | undefined) =>
    line
      .map((text, i) => {
        const column = columns[i] as Column<T>;
        const width = widths[i] as number;
        const last = i === line.length - 1;
        const padded =
          column.align === "right" ? text.padStart(width) : last ? text : text.padEnd(width);
        return row !== undefined && column.paint ? column.paint(padded, row) : padded;
      })
      .join("  ")
      .trimEnd();
  const header = style.bold(
    render(
      columns.map((column) => column.header),
      undefined,
    ),
  );
  return [header, ...cells.map((line, i) => render(line, rows[i]))].join("\n");
}

/** `key: value` lines with the keys aligned. */
export function keyValues(pairs: readonly (readonly [string, string])[], style: Style): string {
  const width = Math.max(0, ...pairs.map(([key]) => key.length));
  return pairs
    .map(([key, value]) => `${style.dim(`${key}:`.padEnd(width + 1))} ${value}`)
    .join("\n");
}

/** Epoch ms as a UTC timestamp to the second, e.g. `2026-11-23 18:40:01Z`. */
export function formatTime(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return "-";
  return new Date(ms)
    .toISOString()
    .replace("T", " ")
    .replace(/\.\d{3}Z$/, "Z");
}

/** Compact JSON for a table cell or a key/value line, cut at `max` characters. */
export function compactJson(value: unknown, max = 60): string {
  if (value === undefined) return "-";
  const text = JSON.stringify(value) ?? String(value);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** The task list table (`list`, `dlq list`). */
export function formatTaskTable(tasks: readonly TaskSnapshot[], style: Style): string {
  if (tasks.length === 0) return "No tasks.";
  return table<TaskSnapshot>(
    [
      { header: "ID", value: (t) => t.id },
      { header: "NAME", value: (t) => t.name },
      { header: "QUEUE", value: (t) => t.queue },
      {
        header: "STATUS",
        value: (t) => t.status,
        paint: (text, t) => style.status(t.status, text),
      },
      { header: "PRIO", value: (t) => String(t.priority), align: "right" },
      { header: "ATTEMPTS", value: (t) => String(t.attempts), align: "right" },
      { header: "CREATED", value: (t) => formatTime(t.createdAt) },
      { header: "DETAIL", value: (t) => detail(t) },
      // Only when the server exposes payloads (its `exposePayloads` option).
      ...(tasks.some((t) => t.payload !== undefined)
        ? [{ header: "PAYLOAD", value: (t: TaskSnapshot) => compactJson(t.payload, 40) }]
        : []),
    ],
    tasks,
    style,
  );
}

/** Every field of one task (`get`, `submit`, `cancel`). */
export function formatTask(task: TaskSnapshot, style: Style): string {
  const pairs: [string, string][] = [
    ["id", sanitize(task.id)],
    ["name", sanitize(task.name)],
    ["queue", sanitize(task.queue)],
    ["status", style.status(task.status)],
    ["priority", String(task.priority)],
    ["attempts", `${task.attempts} (max retries ${task.maxRetries})`],
    ["created", formatTime(task.createdAt)],
  ];
  if (task.runAt !== undefined) pairs.push(["run at", formatTime(task.runAt)]);
  if (task.expiresAt !== undefined) pairs.push(["expires", formatTime(task.expiresAt)]);
  if (task.startedAt !== undefined) pairs.push(["started", formatTime(task.startedAt)]);
  if (task.finishedAt !== undefined) pairs.push(["finished", formatTime(task.finishedAt)]);
  if (task.idempotencyKey !== undefined)
    pairs.push(["idempotency key", sanitize(task.idempotencyKey)]);
  if (task.progress !== undefined) pairs.push(["progress", compactJson(task.progress, 200)]);
  if (task.value !== undefined) pairs.push(["value", compactJson(task.value, 200)]);
  if (task.error !== undefined) pairs.push(["error", describeError(task.error)]);
  // Payload and stack are present only when the server exposes them (`exposePayloads`).
  if (task.payload !== undefined) pairs.push(["payload", compactJson(task.payload, 2000)]);
  const block = keyValues(pairs, style);
  const stack = task.error?.stack;
  if (stack === undefined) return block;
  const lines = stack.split("\n").map((line) => `  ${sanitize(line)}`);
  return `${block}\n${style.dim("stack:")}\n${lines.join("\n")}`;
}

/** The queue table (`queues`, `pause`, `resume`). */
export function formatQueues(queues: readonly QueueInfo[], style: Style): string {
  if (queues.length === 0) return "No queues.";
  return table<QueueInfo>(
    [
      { header: "QUEUE", value: (q) => q.name },
      { header: "DEPTH", value: (q) => String(q.depth), align: "right" },
      { header: "WAITING", value: (q) => String(q.waiting), align: "right" },
      { header: "RUNNING", value: (q) => String(q.running), align: "right" },
      { header: "CONCURRENCY", value: (q) => String(q.concurrency ?? "-"), align: "right" },
      {
        header: "STATE",
        value: (q) => (q.paused ? "paused" : "active"),
        paint: (text, q) => (q.paused ? style.status("cancelled", text) : text),
      },
    ],
    queues,
    style,
  );
}

export function formatSchedules(schedules: readonly ScheduleInfo[], style: Style): string {
  if (schedules.length === 0) return "No schedules.";
  return table<ScheduleInfo>(
    [
      { header: "SCHEDULE", value: (s) => sanitize(s.id) },
      { header: "CRON", value: (s) => sanitize(s.cron) },
      { header: "TASK", value: (s) => sanitize(s.taskName) },
      { header: "TIMEZONE", value: (s) => sanitize(s.timezone ?? "-") },
      { header: "NEXT RUN", value: (s) => formatTime(s.nextRunAt) },
      {
        header: "STATE",
        value: (s) => (s.paused ? "paused" : "active"),
        paint: (text, s) => (s.paused ? style.status("cancelled", text) : text),
      },
      // Durable mode only: the process answering is the cron leader (it fires the ticks).
      { header: "LEADER", value: (s) => (s.leader === undefined ? "-" : s.leader ? "yes" : "no") },
    ],
    schedules,
    style,
  );
}

const STAT_LABELS: readonly (readonly [keyof ManagerStats, string])[] = [
  ["running", "running"],
  ["queued", "queued"],
  ["waiting", "waiting"],
  ["live", "live"],
  ["retained", "retained"],
  ["deadLetters", "dead letters"],
  ["subscribers", "subscribers"],
  ["resultsDropped", "results dropped"],
  ["submitted", "submitted"],
  ["started", "started"],
  ["retried", "retried"],
  ["succeeded", "succeeded"],
  ["failed", "failed"],
  ["cancelled", "cancelled"],
  ["expired", "expired"],
  ["lateSettlements", "late settlements"],
];

/** `stats`: health first, then the counters the server sent (unknown ones too). */
export function formatStats(response: StatsResponse, style: Style): string {
  const { stats, health } = response;
  const pairs: [string, string][] = [
    ["backend", String(health.backend)],
    ["health", String(health.status)],
  ];
  for (const [key, value] of Object.entries(health))
    if (key !== "backend" && key !== "status") pairs.push([key, compactJson(value, 200)]);
  const known = new Set<string>();
  for (const [key, label] of STAT_LABELS) {
    known.add(key);
    if (stats[key] !== undefined) pairs.push([label, String(stats[key])]);
  }
  for (const [key, value] of Object.entries(stats))
    if (!known.has(key)) pairs.push([key, compactJson(value, 200)]);
  return keyValues(pairs, style);
}

/** `dlq replay` / `dlq purge`: what was (or would be) done, one id a line. */
export function formatOutcome(
  verb: "replay" | "purge",
  outcome: DeadLetterResult,
  style: Style,
  requested?: readonly string[],
): string {
  const n = outcome.ids.length;
  const tasks = `${n} dead letter${n === 1 ? "" : "s"}`;
  const past = verb === "replay" ? "Replayed" : "Purged";
  const lines = [
    outcome.dryRun
      ? `Would ${verb} ${tasks} (dry run: nothing changed; add --apply to ${verb}).`
      : `${past} ${tasks}.`,
    ...outcome.ids.map((id) => `  ${sanitize(id)}`),
  ];
  if (outcome.skipped.length > 0) {
    lines.push(
      `Skipped ${outcome.skipped.length} (their timed-out handler is still running; retry later):`,
      ...outcome.skipped.map((id) => `  ${style.dim(sanitize(id))}`),
    );
  }
  // The server ignores ids that are not dead letters; say so rather than stay silent.
  const missing = (requested ?? []).filter(
    (id) => !outcome.ids.includes(id) && !outcome.skipped.includes(id),
  );
  if (missing.length > 0)
    lines.push(
      `Not in the dead-letter queue (${missing.length}):`,
      ...missing.map((id) => `  ${style.dim(sanitize(id))}`),
    );
  return lines.join("\n");
}

/** One `tail` line: finish time, status, name, id, attempts, value or error. */
export function formatResultLine(result: TaskResult, style: Style): string {
  const outcome =
    result.error !== undefined
      ? describeError(result.error)
      : result.value !== undefined
        ? compactJson(result.value, 120)
        : "";
  const status = style.status(result.status, result.status.padEnd(9));
  const attempts = `attempts=${result.attempts}`;
  return [formatTime(result.finishedAt), status, sanitize(result.name), sanitize(result.id)]
    .concat(attempts, sanitize(outcome))
    .filter((part) => part !== "")
    .join("  ");
}

/** The stderr line for a refused request: message, then code, field and request id. */
export function formatApiError(error: ApiError): string {
  const details = [`code ${error.code}`, `HTTP ${error.status}`];
  if (error.field !== undefined) details.push(`field ${error.field}`);
  if (error.requestId !== undefined) details.push(`request id ${error.requestId}`);
  return `error: ${sanitize(error.message)} (${details.join(", ")})`;
}

function detail(task: TaskSnapshot): string {
  if (task.error !== undefined) return describeError(task.error);
  if (task.value !== undefined) return compactJson(task.value, 40);
  if (task.runAt !== undefined && task.status !== "running") return `due ${formatTime(task.runAt)}`;
  return "";
}

function describeError(error: { name: string; message: string; code?: string }): string {
  const code = error.code === undefined ? "" : ` [${error.code}]`;
  return sanitize(`${error.name}${code}: ${error.message}`);
}

/**
 * Names, messages and values come from task submitters: control characters would corrupt the
 * table or, on a terminal, smuggle escape sequences. Our own painting is applied after.
 */
function sanitize(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
  return text.replace(/[\x00-\x1f\x7f]/g, (char) => (char === "\t" ? " " : "?"));
}
